// The demo part of `make up` (test/local/up.sh calls it once the operator runs): starts the demo
// simulators (https, demo CA, on --host) unless they run already, applies the demo clinic, waits
// for every demo integration to be Authenticated and Ready, has the simulated Ocean send a few
// messages to each relay, and prints the summary. Problems are reported, never hidden; the exit
// code is 1 only when the simulators cannot start or the demo cannot be applied.
//
//   node test/local/demo/up.ts [--host 127.0.0.1] [--local .local] [--elapsed S] [--ready-seconds 180]
//     [--relay-wait-seconds 120] [--count 3] [--simulators-only]
//
// --simulators-only starts (or keeps) the simulators and stops there: make up does that before it
// starts the operator, which needs the demo CA (OCEAN_CA_BUNDLE) for the sync pods' Ocean uploads.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { applyDemo } from './apply.ts';
import { type Kubectl, localAccess } from './kube.ts';
import { DEFAULT_LOCAL_DIR, DEMO_NAMESPACE, demoPaths } from './layout.ts';
import { DEMO_REMINDERS } from './manifests.ts';
import { integrationReadiness, type ReadinessRow } from './readiness.ts';
import { formatResult, sendDemoMessages } from './send.ts';
import { summary } from './summary.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const started = Date.now();
const log = (message: string): void => {
  process.stdout.write(`[demo ${String(Math.round((Date.now() - started) / 1000)).padStart(3)}s] ${message}\n`);
};

function running(pidFile: string): boolean {
  if (!existsSync(pidFile)) return false;
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts the launcher detached (pid file and log as make up's other helpers), and waits for READY. */
export async function startSimulators(localDir: string, host: string): Promise<void> {
  const pidFile = join(localDir, 'pids/demo-simulators.pid');
  const logFile = join(localDir, 'logs/demo-simulators.log');
  const sims = demoPaths(localDir).simulatorsFile;
  const sameHost = existsSync(sims) && (JSON.parse(readFileSync(sims, 'utf8')) as { host?: string }).host === host;
  if (running(pidFile) && sameHost) return log(`demo simulators already running (pid ${readFileSync(pidFile, 'utf8').trim()})`);
  if (running(pidFile)) {
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGTERM');
    await sleep(1000);
  }
  mkdirSync(join(localDir, 'pids'), { recursive: true });
  mkdirSync(join(localDir, 'logs'), { recursive: true });
  writeFileSync(logFile, '');
  const out = openSync(logFile, 'a');
  const child = spawn(join(root, 'node_modules/.bin/node'), ['test/local/demo/simulators.ts', '--host', host, '--local', localDir], {
    cwd: root,
    detached: true,
    stdio: ['ignore', out, out],
  });
  child.unref();
  writeFileSync(pidFile, `${child.pid}\n`);
  for (let i = 0; i < 150; i++) {
    const text = readFileSync(logFile, 'utf8');
    if (/^READY=1$/m.test(text)) return log(`demo simulators on https://${host} (pid ${child.pid}, CA ${demoPaths(localDir).caFile})`);
    if (child.exitCode !== null || !running(pidFile)) break;
    await sleep(200);
  }
  throw new Error(`the demo simulators did not start; see ${logFile}`);
}

async function waitReady(kubectl: Kubectl, seconds: number): Promise<ReadinessRow[]> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const rows = integrationReadiness(JSON.parse(await kubectl(['get', 'emrintegrations', '-n', DEMO_NAMESPACE, '-o', 'json'])));
    if ((rows.length > 0 && rows.every((r) => r.ok)) || Date.now() > deadline) return rows;
    await sleep(2000);
  }
}

/** Asks for a run of the demo's Reminders schedule and waits for its result: the line to print. */
async function runReminders(kubectl: Kubectl, seconds: number): Promise<string> {
  const get = async () =>
    JSON.parse(await kubectl(['get', 'syncschedule', DEMO_REMINDERS.name, '-n', DEMO_NAMESPACE, '-o', 'json'])) as {
      status?: { lastRun?: { name?: string; result?: string; sent?: number; skipped?: number; failed?: number; errorReason?: string } };
    };
  try {
    const before = (await get()).status?.lastRun?.name;
    const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await kubectl([
      'annotate',
      'syncschedule',
      DEMO_REMINDERS.name,
      '-n',
      DEMO_NAMESPACE,
      '--overwrite',
      `cloudconnect.dev/requestedAt=${at}`,
    ]);
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      const run = (await get()).status?.lastRun;
      if (run?.name && run.name !== before) {
        const counts = `sent ${run.sent ?? 0}, skipped ${run.skipped ?? 0}, failed ${run.failed ?? 0}`;
        return `${run.name}: ${run.result}${run.errorReason ? ` (${run.errorReason})` : ''}; ${counts} (kubectl cloudconnect status -n ${DEMO_NAMESPACE})`;
      }
      await sleep(2000);
    }
    return `no result within ${seconds} s (kubectl get syncschedule ${DEMO_REMINDERS.name} -n ${DEMO_NAMESPACE})`;
  } catch (error) {
    return `could not run: ${error instanceof Error ? error.message : String(error)}`;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      local: { type: 'string' },
      elapsed: { type: 'string', default: '0' },
      'ready-seconds': { type: 'string', default: '180' },
      'relay-wait-seconds': { type: 'string', default: '120' },
      count: { type: 'string', default: '3' },
      'simulators-only': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const localDir = resolve(values.local ?? DEFAULT_LOCAL_DIR);
  await startSimulators(localDir, values.host);
  if (values['simulators-only']) return;
  const { kubectl } = localAccess(localDir);
  const applied = await applyDemo(localDir, kubectl);
  log(`applied the demo clinic (namespace ${DEMO_NAMESPACE}: ${applied.resources} resources, ${applied.secrets} Secrets from memory)`);
  const rows = await waitReady(kubectl, Number(values['ready-seconds']));
  for (const r of rows) log(`  ${r.ok ? 'ok     ' : 'NOT YET'} ${r.name.padEnd(16)} ${r.type.padEnd(10)} ${r.detail}`);
  log(`${rows.filter((r) => r.ok).length} of ${rows.length} demo integrations Authenticated and Ready`);
  log(`the simulated Ocean sends ${values.count} messages to each relay (waiting up to ${values['relay-wait-seconds']} s for the relays)`);
  const results = await sendDemoMessages(localDir, {
    count: Number(values.count),
    waitSeconds: Number(values['relay-wait-seconds']),
    kvMount: 'secret',
    attempts: 2,
  }).catch((error: unknown) => {
    log(`sending failed: ${error instanceof Error ? error.message : String(error)}`);
    return [];
  });
  for (const r of results) log(`  ${formatResult(r)}`);
  log(`${results.filter((r) => r.delivered).length} of ${results.length} messages delivered (again: make demo-send)`);
  log(`patient reminders: a run of ${DEMO_REMINDERS.name} now (then every 15 minutes)`);
  log(`  ${await runReminders(kubectl, Number(values['relay-wait-seconds']))}`);
  const elapsed = Number(values.elapsed) + Math.round((Date.now() - started) / 1000);
  process.stdout.write(`\n${await summary(localDir, elapsed, kubectl)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
