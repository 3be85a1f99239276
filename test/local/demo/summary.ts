// The end of `make up`: what is running (helper processes, nodes, the demo's pods), the fleet view
// (`kubectl cloudconnect status -A`), where to look (metrics, mail, simulators, logs) and how long
// it took. Reads only what make up left in .local/.
//
//   node test/local/demo/summary.ts [--local .local] [--elapsed SECONDS]
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Kubectl, localAccess } from './kube.ts';
import { DEFAULT_LOCAL_DIR, DEMO_NAMESPACE, demoPaths } from './layout.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One line per pid file: name, pid, running or not. */
export function processLines(pidDir: string): string[] {
  if (!existsSync(pidDir)) return [];
  return readdirSync(pidDir)
    .filter((f) => f.endsWith('.pid'))
    .sort()
    .map((f) => {
      const pid = Number(readFileSync(join(pidDir, f), 'utf8').trim());
      const state = Number.isInteger(pid) && pid > 0 && alive(pid) ? 'running' : 'NOT running';
      return `  ${f.replace(/\.pid$/, '').padEnd(18)} pid ${String(pid).padEnd(8)} ${state}`;
    });
}

const indent = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

async function section(title: string, produce: () => Promise<string>): Promise<string> {
  const body = await produce().catch((error: unknown) => `(${error instanceof Error ? error.message : String(error)})`);
  return `${title}\n${indent(body || '(none)')}`;
}

function pluginStatus(env: Record<string, string>, localDir: string): Promise<string> {
  return new Promise((resolveOut) => {
    execFile(
      join(root, 'node_modules/.bin/node'),
      [join(root, 'operator/cmd/plugin/main.ts'), 'status', '-A'],
      { env: { ...process.env, KUBECONFIG: env['KUBECONFIG'] ?? join(localDir, 'kubeconfig') }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolveOut(error ? `${stdout}${stderr}` : String(stdout)),
    );
  });
}

export async function summary(localDir: string, elapsedSeconds: number | undefined, kubectl?: Kubectl): Promise<string> {
  const access = localAccess(localDir);
  const k = kubectl ?? access.kubectl;
  const mailDir = join(localDir, 'mail');
  const mails = existsSync(mailDir) ? readdirSync(mailDir).filter((f) => f.endsWith('.eml')).length : 0;
  const paths = demoPaths(localDir);
  const sims = existsSync(paths.simulatorsFile)
    ? (JSON.parse(readFileSync(paths.simulatorsFile, 'utf8')) as { urls: Record<string, string> }).urls
    : {};
  const parts = [
    '==================== Cloud Connect, running locally ====================',
    `processes (pid files in ${join(localDir, 'pids')}):\n${processLines(join(localDir, 'pids')).join('\n') || '  (none)'}`,
    await section('nodes:', () => k(['get', 'nodes', '-o', 'wide'])),
    await section(`pods in ${DEMO_NAMESPACE} (sync runs and relays):`, () => k(['get', 'pods', '-n', DEMO_NAMESPACE, '-o', 'wide'])),
    await section('kubectl cloudconnect status -A:', () => pluginStatus(access.env, localDir)),
    [
      'where to look:',
      `  metrics            ${access.env['METRICS_URL'] ?? '(unknown)'}`,
      `  mail to admins     ${mailDir}/ (${mails} message${mails === 1 ? '' : 's'})`,
      `  logs               ${join(localDir, 'logs')}/ (operator.log, demo-simulators.log, ...)`,
      ...Object.entries(sims).map(([name, url]) => `  ${`${name} simulator`.padEnd(18)} ${url}   (CA: ${paths.caFile})`),
      `  demo resources     ${paths.manifestsFile}`,
      '  send messages      make demo-send [COUNT=3]   (the simulated Ocean posts to every relay)',
      `  sync now           kubectl cloudconnect sync -n ${DEMO_NAMESPACE} demo-accuro --full   (a full sync ran at creation;`,
      '                     then appointments every 30 minutes at a minute drawn per schedule (H/30), the full sync at midnight)',
      '  use kubectl        . .local/env && kubectl cloudconnect status -A',
    ].join('\n'),
  ];
  if (elapsedSeconds !== undefined) parts.push(`make up took ${elapsedSeconds} s.`);
  return `${parts.join('\n\n')}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { local: { type: 'string' }, elapsed: { type: 'string' } }, strict: true });
  const elapsed = values.elapsed === undefined ? undefined : Number(values.elapsed);
  process.stdout.write(await summary(resolve(values.local ?? DEFAULT_LOCAL_DIR), elapsed));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    process.stderr.write(`demo summary: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
