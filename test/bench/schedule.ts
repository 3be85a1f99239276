// `make bench-schedule`: 200 SyncSchedules and 200 plain Kubernetes CronJobs, in one local cluster
// and one run, in two passes: "same minute" (every schedule `* * * * *`, the stampede of a fleet
// whose syncs all start at :00 and :30) and "spread" (ours `H/5 * * * *`: the same fleet spread by
// Jenkins' H over 5 minutes, as the default `H/30` spreads it over 30; CronJobs still `* * * * *`, the
// reference). The bench watches Jobs and records when each one appears (ms, on the watch) against
// its minute's tick; prints p50/p99 for our controller and for kube-controller-manager's CronJob
// controller, and the ratio, per pass. BENCH_PASSES=same|spread runs one.
// Each pass has phases (BENCH_PHASES, default `apart,together`; `ours` or `cronjob` alone also work): "apart" measures each controller
// alone (the other's 200 schedules suspended), ours for BENCH_TICKS minutes and then the CronJobs',
// so neither pays for the other's Jobs and pods on the shared API server; "together" runs both at
// once, as a cluster would. A command that prints figures.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { kubectlFor, readClusterEnv } from '../cluster/state.ts';
import { makeTestTls } from '../integration/tls.ts';
import { ACCURO_DEV_CREDENTIALS, start as startAccuro } from '../simulators/accuro.ts';
import { LOOPBACK_ALLOW_CIDRS } from '../simulators/egress.ts';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const N = Number(process.env.BENCH_SCHEDULES ?? '200');
const TICKS = Number(process.env.BENCH_TICKS ?? '2');
const log = (m: string) => process.stdout.write(`[bench-schedule] ${m}\n`);

interface Pass {
  name: string;
  /** Our SyncSchedules' schedule. */
  ours: string;
  /** Minutes measured. */
  ticks: number;
}

const PASSES: Pass[] = [
  { name: 'same', ours: '* * * * *', ticks: TICKS },
  { name: 'spread', ours: 'H/5 * * * *', ticks: Math.max(TICKS, 5) },
].filter((p) => (process.env.BENCH_PASSES ?? 'same,spread').split(',').includes(p.name));

type Phase = 'ours' | 'cronjob' | 'together';

function phasesOf(): Phase[] {
  // `apart` is `ours,cronjob`; each may also be named alone (e.g. BENCH_PHASES=ours while working on our side).
  const wanted = (process.env.BENCH_PHASES ?? 'apart,together').split(',').flatMap((p) => (p === 'apart' ? ['ours', 'cronjob'] : [p]));
  const phases = (['ours', 'cronjob', 'together'] as const).filter((p) => wanted.includes(p));
  if (phases.length === 0) throw new Error(`BENCH_PHASES must name apart, together, ours or cronjob (got "${process.env.BENCH_PHASES}")`);
  return phases;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function main(): Promise<void> {
  for (const pass of PASSES) await measure(pass);
}

async function measure(pass: Pass): Promise<void> {
  const ns = `bench-schedule-${pass.name}-${Date.now().toString(36)}`;
  log(`=== pass "${pass.name}": our ${N} SyncSchedules "${pass.ours}", ${N} CronJobs "* * * * *" ===`);
  const reuse = process.env.BENCH_CLUSTER;
  const state = reuse ?? (await mkdtemp(join(tmpdir(), 'cloudconnect-bench-schedule-')));
  if (!reuse) {
    log(`starting a control plane in ${state}`);
    await run(join(root, 'test/cluster/up.sh'), [state], {
      env: { ...process.env, CLUSTER_PORT_BASE: process.env.CLUSTER_PORT_BASE ?? '47000' },
      maxBuffer: 1 << 26,
    });
  }
  const env = await readClusterEnv(state);
  const kubectl = kubectlFor(state);
  if (reuse) {
    // A reused cluster may still be deleting an earlier run's namespace (its Jobs and pods, for minutes):
    // that garbage collection would load the API server during this run's ticks.
    const earlier = (await kubectl(['get', 'namespaces', '-o', 'name']))
      .split('\n')
      .filter((n) => n.startsWith('namespace/bench-schedule-'));
    if (earlier.length > 0) {
      log(`waiting for ${earlier.length} earlier bench namespace(s) to be deleted`);
      await kubectl(['wait', '--for=delete', '--timeout=15m', ...earlier]).catch(() => '');
    }
  }
  const tls = makeTestTls();
  const accuro = await startAccuro({ tls: { cert: tls.cert, key: tls.key } });
  let operator: ReturnType<typeof spawn> | undefined;
  try {
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(root, 'crds')]);
    await kubectl(['wait', '--for=condition=Established', '-f', join(root, 'crds')]);
    await kubectl(['create', 'namespace', ns]).catch(() => '');
    const items: object[] = [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ca', namespace: ns }, stringData: { 'ca.crt': tls.ca } },
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'sek', namespace: ns },
        type: 'cloudconnect.dev/sek-import',
        stringData: { sek: randomBytes(32).toString('base64') },
      },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: ns }, stringData: { ...ACCURO_DEV_CREDENTIALS } },
      {
        apiVersion: 'cloudconnect.dev/v1alpha1',
        kind: 'OceanSite',
        metadata: { name: 'site', namespace: ns },
        spec: { siteNumber: '9', clinicalAdminEmail: 'a@b.example.org', encryptionKey: { importFrom: { secretRef: { name: 'sek' } } } },
      },
      {
        apiVersion: 'cloudconnect.dev/v1alpha1',
        kind: 'EmrIntegration',
        metadata: { name: 'emr', namespace: ns },
        spec: {
          siteRef: { name: 'site' },
          emr: {
            type: 'Accuro',
            accuro: { tenantId: accuro.tenantId, apiUrl: accuro.url, credentialsSecretRef: { name: 'creds' } },
            caBundleSecretRef: { name: 'ca' },
          },
        },
      },
    ];
    const phases = phasesOf();
    // Each phase applies the same objects with the other side's `suspend` set: an update, not a re-create.
    const scheduled = (phase: Phase): object[] => {
      const list = [...items];
      for (let i = 0; i < N; i++) {
        list.push({
          apiVersion: 'cloudconnect.dev/v1alpha1',
          kind: 'SyncSchedule',
          metadata: { name: `ours-${i}`, namespace: ns },
          spec: {
            integrationRef: { name: 'emr' },
            type: 'Appointments',
            schedule: pass.ours,
            concurrencyPolicy: 'Allow',
            suspend: phase === 'cronjob',
          },
        });
        list.push({
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          metadata: { name: `cron-${i}`, namespace: ns },
          spec: {
            schedule: '* * * * *',
            concurrencyPolicy: 'Allow',
            suspend: phase === 'ours',
            jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } },
          },
        });
      }
      return list;
    };
    const apply = (phase: Phase) =>
      kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: scheduled(phase) }));
    await apply(phases[0] ?? 'together');
    log(`created ${N} SyncSchedules ("${pass.ours}") and ${N} CronJobs ("* * * * *")`);
    // BENCH_OPERATOR_NODE_ARGS as in bench-sites, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where a tick's time goes.
    const nodeArgs = (process.env.BENCH_OPERATOR_NODE_ARGS ?? '').split(' ').filter(Boolean);
    operator = spawn(join(root, 'node_modules/.bin/node'), [...nodeArgs, 'operator/main.ts'], {
      cwd: root,
      env: {
        ...process.env,
        KUBECONFIG: join(state, 'kubeconfig'),
        VAULT_ADDR: env.VAULT_ADDR,
        VAULT_TOKEN: env.VAULT_TOKEN,
        METRICS_BIND_ADDRESS: '127.0.0.1:0',
        LEADER_ELECT: 'false',
        LOG_LEVEL: 'error',
        SYNCSCHEDULE_WORKERS: process.env.SYNCSCHEDULE_WORKERS ?? '5',
        EGRESS_ALLOW_CIDRS: LOOPBACK_ALLOW_CIDRS,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await kubectl(['wait', '--for=condition=Ready', '--timeout=120s', '-n', ns, 'emrintegration/emr']);
    await kubectl(['wait', '--for=condition=Ready', '--timeout=120s', '-n', ns, '--all', 'syncschedules']);

    const seen = new Map<string, number>();
    const kc = new KubeConfig();
    kc.loadFromFile(join(state, 'kubeconfig'));
    const watch = new Watch(kc);
    // client-node ends a quiet watch after 30 s: reconnect until done (Jobs are keyed by name, so a
    // replayed ADDED after a reconnect is ignored; it would only ever make a latency look longer).
    let done = false;
    let req: AbortController | undefined;
    const connect = async (): Promise<void> => {
      if (done) return;
      req = await watch.watch(
        `/apis/batch/v1/namespaces/${ns}/jobs`,
        {},
        (type, obj: { metadata?: { name?: string } }) => {
          if (type === 'ADDED' && obj.metadata?.name && !seen.has(obj.metadata.name)) seen.set(obj.metadata.name, Date.now());
        },
        () => void connect(),
      );
    };
    await connect();
    const results: { phase: Phase; ours: number[]; theirs: number[] }[] = [];
    for (const [i, phase] of phases.entries()) {
      if (i > 0) await apply(phase);
      const firstTick = Math.ceil((Date.now() + 5000) / 60_000) * 60_000;
      const ticks = Array.from({ length: pass.ticks }, (_, t) => firstTick + t * 60_000);
      log(`phase "${phase}": measuring ${pass.ticks} tick(s) from ${new Date(firstTick).toISOString()}`);
      await new Promise((r) => setTimeout(r, ticks[ticks.length - 1]! + 58_000 - Date.now()));
      const ours: number[] = [];
      const theirs: number[] = [];
      const perTick = new Map<number, number[]>(ticks.map((t) => [t, []]));
      for (const [name, at] of seen) {
        const tick = ticks.filter((t) => t <= at + 2000).pop();
        if (tick === undefined || at - tick > 59_000) continue;
        if (name.startsWith('ours-')) ours.push(at - tick);
        else if (name.startsWith('cron-')) theirs.push(at - tick);
        perTick.get(tick)?.push(at - tick);
      }
      // Each tick on its own line: a slow first tick (a cold operator) or one disturbed by something else shows here.
      for (const [tick, values] of perTick)
        log(
          `  tick ${new Date(tick).toISOString()}: ${values.length} Jobs, p50 ${percentile(values, 50)} ms, p99 ${percentile(values, 99)} ms`,
        );
      results.push({ phase, ours, theirs });
    }
    done = true;
    req?.abort();

    const oursExpected = pass.ours.startsWith('H/') ? Math.round((N * pass.ticks) / 5) : N * pass.ticks;
    const figures = (label: string, values: number[]) =>
      values.length === 0
        ? `${label}: no runs`
        : `${label}: ${values.length} runs, min ${Math.min(...values)} ms, p50 ${percentile(values, 50)} ms, p99 ${percentile(values, 99)} ms, max ${Math.max(...values)} ms`;
    log(
      `--- results, pass "${pass.name}" (Job seen on a watch − its minute's tick, ms; ${pass.ticks} ticks per phase, our SYNCSCHEDULE_WORKERS=${process.env.SYNCSCHEDULE_WORKERS ?? '5'}, the CronJob controller's --concurrent-cron-job-syncs=5; ~${oursExpected} runs expected per side) ---`,
    );
    for (const { phase, ours, theirs } of results) {
      if (phase !== 'cronjob') log(figures(`[${phase}] SyncSchedule (this operator)`, ours));
      if (phase !== 'ours') log(figures(`[${phase}] CronJob (kube-controller-manager)`, theirs));
    }
    const p99 = (phase: Phase, side: 'ours' | 'theirs') => percentile(results.find((r) => r.phase === phase)?.[side] ?? [], 99);
    if (phases.includes('ours') && phases.includes('cronjob'))
      log(`ratio of p99, each alone (ours / CronJob): ${(p99('ours', 'ours') / p99('cronjob', 'theirs')).toFixed(2)}`);
    if (phases.includes('together'))
      log(`ratio of p99, together (ours / CronJob): ${(p99('together', 'ours') / p99('together', 'theirs')).toFixed(2)}`);
  } finally {
    // The site's finalizer needs the operator: delete it first (a reused cluster could not delete the namespace otherwise).
    if (reuse && operator) await kubectl(['delete', 'oceansite', '--all', '-n', ns, '--timeout=60s']).catch(() => undefined);
    operator?.kill('SIGTERM');
    await accuro.stop();
    if (reuse) {
      // A reused cluster gets its state back: the schedules, CronJobs and their Jobs go with the namespace.
      log(`deleting namespace ${ns}`);
      await kubectl(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
    } else {
      await run(join(root, 'test/cluster/down.sh'), [state]);
    }
  }
}

await main();
