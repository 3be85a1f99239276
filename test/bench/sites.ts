// `make bench-sites`: N OceanSites with import Secrets on a real local control plane + Vault;
// `make bench-fleet` (BENCH_INTEGRATIONS=1, BENCH_SITES=10000): each site also gets an EmrIntegration
// (its own credentials Secret) on one Accuro simulator served by this process, and a suspended Full
// SyncSchedule, so that no default schedule is made and the idle window has no ticks in it.
// Prints: time until all are Ready, API requests the operator made (from the kube-apiserver audit
// log, by the operator's own identity) and Vault requests, in total and per object, its peak RSS and
// its RSS and V8 heap when settled, then the writes it made to the API server and to Vault while
// everything stayed idle (target: 0). A command that prints figures, not a test.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { kubectlFor, readClusterEnv } from '../cluster/state.ts';
import { makeTestTls } from '../integration/tls.ts';
import { ACCURO_DEV_CREDENTIALS, type AccuroSimulator, start as startAccuro } from '../simulators/accuro.ts';
import { LOOPBACK_ALLOW_CIDRS } from '../simulators/egress.ts';
import { memoryCgroup, parseQuantity } from './memory-cgroup.ts';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const N = Number(process.env.BENCH_SITES ?? '1000');
const WITH_INTEGRATIONS = process.env.BENCH_INTEGRATIONS === '1';
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? '300');
const ns = 'bench-sites';
const operatorUser = 'system:serviceaccount:cloudconnect-system:cloudconnect-operator';

function log(message: string): void {
  process.stdout.write(`[bench-sites] ${message}\n`);
}

async function main(): Promise<void> {
  const reuse = process.env.BENCH_CLUSTER;
  const state = reuse ?? (await mkdtemp(join(tmpdir(), 'cloudconnect-bench-')));
  if (!reuse) {
    log(`starting a control plane in ${state}`);
    await run(join(root, 'test/cluster/up.sh'), [state], {
      env: { ...process.env, CLUSTER_AUDIT: '1', CLUSTER_PORT_BASE: process.env.CLUSTER_PORT_BASE ?? '46000' },
      maxBuffer: 1 << 26,
    });
  }
  const env = await readClusterEnv(state);
  const kubectl = kubectlFor(state);
  try {
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(root, 'crds')]);
    await kubectl(['wait', '--for=condition=Established', '-f', join(root, 'crds')]);
    // The operator gets an identity of its own so that its requests can be told apart.
    await kubectl(['create', 'namespace', 'cloudconnect-system']).catch(() => '');
    await kubectl(['create', 'namespace', ns]).catch(() => '');
    await kubectl(['create', 'serviceaccount', 'cloudconnect-operator', '-n', 'cloudconnect-system']).catch(() => '');
    await kubectl([
      'create',
      'clusterrolebinding',
      'cloudconnect-operator-bench',
      '--clusterrole=cluster-admin',
      `--serviceaccount=cloudconnect-system:cloudconnect-operator`,
    ]).catch(() => '');
    const token = (await kubectl(['create', 'token', 'cloudconnect-operator', '-n', 'cloudconnect-system', '--duration=2h'])).trim();
    const server = (await kubectl(['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}'])).trim();
    const kubeconfig = join(state, 'operator.kubeconfig');
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'local', cluster: { server, 'certificate-authority': join(state, 'pki/ca.crt') } }],
        users: [{ name: 'operator', user: { token } }],
        contexts: [{ name: 'operator', context: { cluster: 'local', user: 'operator' } }],
        'current-context': 'operator',
      }),
    );

    const accuro = WITH_INTEGRATIONS ? await startFleetEmr(kubectl) : undefined;
    log(
      `creating ${N} import Secrets and ${N} OceanSites${accuro ? ', EmrIntegrations, their Secrets and schedules' : ''} in namespace ${ns}`,
    );
    const createStart = performance.now();
    const batch = accuro ? 100 : 200;
    for (let i = 0; i < N; i += batch) {
      const items: object[] = [];
      for (let j = i; j < Math.min(N, i + batch); j++) {
        if (accuro) items.push(...integrationObjects(j, accuro));
        items.push({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: `site-${j}-sek`, namespace: ns },
          type: 'cloudconnect.dev/sek-import',
          stringData: { sek: randomBytes(32).toString('base64') },
        });
        items.push({
          apiVersion: 'cloudconnect.dev/v1alpha1',
          kind: 'OceanSite',
          metadata: { name: `site-${j}`, namespace: ns },
          spec: {
            siteNumber: String(10000 + j),
            clinicalAdminEmail: `admin${j}@clinic.example.org`,
            encryptionKey: { importFrom: { secretRef: { name: `site-${j}-sek` } } },
          },
        });
      }
      await kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
      if ((i + batch) % 1000 === 0 || i + batch >= N) log(`  ${Math.min(N, i + batch)}/${N} created`);
    }
    log(`created in ${((performance.now() - createStart) / 1000).toFixed(1)} s`);

    const auditLog = join(state, 'logs/kube-apiserver-audit.log');
    const auditLinesBefore = await countLines(auditLog);
    const vaultAudit = join(state, 'vault-audit.log');
    const vaultLinesBefore = await countLines(vaultAudit);
    const operatorLog = join(state, 'logs/bench-operator.log');
    const { openSync } = await import('node:fs');
    const out = openSync(operatorLog, 'a');
    const started = performance.now();
    const nodeArgs = (process.env.BENCH_OPERATOR_NODE_ARGS ?? '').split(' ').filter(Boolean);
    // As in a pod: the chart's memory limit (512Mi by default), from which Node sizes its heap.
    const limit = process.env.BENCH_OPERATOR_MEMORY_LIMIT ?? '512Mi';
    const cgroup = limit === 'none' ? undefined : await memoryCgroup(`cloudconnect-bench-${process.pid}`, parseQuantity(limit));
    log(
      cgroup
        ? `operator in a memory cgroup limited to ${limit}, as the chart's pod`
        : 'operator without a memory limit (BENCH_OPERATOR_MEMORY_LIMIT=none, or no writable cgroup here)',
    );
    const spawnArgs = cgroup?.wrap(join(root, 'node_modules/.bin/node'), [...nodeArgs, 'operator/main.ts']) ?? {
      command: join(root, 'node_modules/.bin/node'),
      args: [...nodeArgs, 'operator/main.ts'],
    };
    const child = spawn(spawnArgs.command, spawnArgs.args, {
      cwd: root,
      env: {
        ...process.env,
        KUBECONFIG: kubeconfig,
        VAULT_ADDR: env.VAULT_ADDR,
        VAULT_TOKEN: env.VAULT_TOKEN,
        METRICS_BIND_ADDRESS: '127.0.0.1:46080',
        LEADER_ELECT: 'false',
        LOG_LEVEL: 'warn',
        ...(process.env.BENCH_WORKERS ? { WORKERS: process.env.BENCH_WORKERS } : {}),
        ...(accuro ? { EGRESS_ALLOW_CIDRS: LOOPBACK_ALLOW_CIDRS } : {}),
      },
      stdio: ['ignore', out, out],
    });
    const kinds = accuro ? ['oceansites', 'emrintegrations'] : ['oceansites'];
    const counters = kinds.map((kind) => new ReadyWatch(state, kind));
    const readyNow = () => counters.reduce((sum, c) => sum + c.ready, 0);
    try {
      let lastLine = performance.now();
      while (readyNow() < N * kinds.length) {
        await new Promise((r) => setTimeout(r, 200));
        if (child.exitCode !== null) throw new Error(`operator exited ${child.exitCode}; see ${operatorLog}`);
        if (performance.now() - lastLine < (N > 2000 ? 20_000 : 5000)) continue;
        lastLine = performance.now();
        log(`  ${readyNow()}/${N * kinds.length} ${kinds.join(' + ')} Ready after ${((performance.now() - started) / 1000).toFixed(0)} s`);
      }
    } finally {
      for (const c of counters) c.stop();
    }
    const readySeconds = (performance.now() - started) / 1000;
    // Idle means idle: wait until the operator's work queues are empty before the window starts.
    let metrics: string;
    for (;;) {
      metrics = await (await fetch('http://127.0.0.1:46080/metrics')).text();
      const depth = sumOf(metrics, 'workqueue_depth')[''] ?? 0;
      const busy = sumOf(metrics, 'controller_runtime_active_workers')[''] ?? 0;
      if (depth === 0 && busy === 0) break;
      log(`  settling: ${depth} queued, ${busy} in progress`);
      await new Promise((r) => setTimeout(r, 2000));
    }
    const settledSeconds = (performance.now() - started) / 1000;
    const reconciles = sumOf(metrics, 'controller_runtime_reconcile_total', 'controller');
    const requests = await operatorRequests(auditLog, auditLinesBefore);
    const vaultRequests = await vaultRequestCount(vaultAudit, vaultLinesBefore);
    const rssMb = await peakRssMb(child.pid!);
    const settledMemory = await memoryNow(child.pid!);
    if (nodeArgs.some((a) => a.startsWith('--heapsnapshot-signal'))) {
      child.kill('SIGUSR2');
      log(`heap snapshot requested (SIGUSR2): written as Heap.*.heapsnapshot in ${root}`);
    }

    log(`idle for ${IDLE_SECONDS} s`);
    const idleAuditFrom = await countLines(auditLog);
    const idleVaultFrom = await countLines(vaultAudit);
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idle = await operatorRequests(auditLog, idleAuditFrom);
    const vaultWrites = await vaultWriteCount(vaultAudit, idleVaultFrom);
    const finalRss = await peakRssMb(child.pid!);
    const idleMemory = await memoryNow(child.pid!);
    const cgroupPeak = await cgroup?.peakMib();
    const exited = child.exitCode === null ? once(child, 'exit') : Promise.resolve();
    child.kill('SIGTERM');
    await exited;
    await cgroup?.remove();
    await accuro?.stop();

    const writes = (byVerb: Record<string, number>, exclude: (k: string) => boolean) =>
      Object.entries(byVerb)
        .filter(([k]) => /^(create|update|patch|delete)/.test(k) && !exclude(k))
        .reduce((a, [, v]) => a + v, 0);
    log('--- results ---');
    const objects = N * kinds.length;
    const apiTotal = Object.values(requests).reduce((a, b) => a + b, 0);
    log(`sites: ${N}${accuro ? `, integrations: ${N}` : ''}`);
    log(
      `time until all Ready: ${readySeconds.toFixed(1)} s (${(objects / readySeconds).toFixed(1)} objects/s); work queues empty after ${settledSeconds.toFixed(1)} s`,
    );
    log(
      `API requests by the operator until settled: ${apiTotal} (${(apiTotal / objects).toFixed(1)} per object) ${JSON.stringify(requests)}`,
    );
    log(`Vault requests until settled: ${vaultRequests} (${(vaultRequests / objects).toFixed(1)} per object)`);
    log(
      `reconciles until settled, per object of the kind: ${Object.entries(reconciles)
        .map(([controller, n]) => `${controller} ${n} (${(n / N).toFixed(1)})`)
        .join(', ')}`,
    );
    log(`operator peak RSS: ${Math.max(rssMb, finalRss).toFixed(0)} MiB (until settled: ${rssMb.toFixed(0)} MiB)`);
    log(`operator memory when settled: ${settledMemory}; after the idle window: ${idleMemory}`);
    if (cgroupPeak !== undefined)
      log(`operator's memory cgroup (limit ${limit}): peak ${cgroupPeak.toFixed(0)} MiB charged (RSS and page cache)`);
    log(
      `idle ${IDLE_SECONDS} s: API writes by the operator (excluding its Lease): ${writes(idle, (k) => k.endsWith(' leases'))} ${JSON.stringify(idle)}`,
    );
    log(`idle ${IDLE_SECONDS} s: Vault writes: ${vaultWrites}`);
  } finally {
    if (!reuse) await run(join(root, 'test/cluster/down.sh'), [state]);
  }
}

/**
 * Counts the objects of `kind` in the bench namespace whose Ready condition is True, from a kubectl
 * watch (one line per object and change; restarted when the API server ends it). Listing 10,000
 * objects every few seconds instead cost the API server and kubectl more CPU than the operator used,
 * on the same 2 cores.
 */
class ReadyWatch {
  private readonly readiness = new Map<string, boolean>();
  private child: ChildProcess | undefined;
  private stopped = false;
  private readonly state: string;
  private readonly kind: string;
  ready = 0;

  constructor(state: string, kind: string) {
    this.state = state;
    this.kind = kind;
    this.watch();
  }

  stop(): void {
    this.stopped = true;
    this.child?.kill();
  }

  private watch(): void {
    const template = '{.metadata.name}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}';
    const child = spawn(join(this.state, 'bin/kubectl'), ['get', this.kind, '-n', ns, '--watch', '-o', `jsonpath=${template}`], {
      env: { ...process.env, KUBECONFIG: join(this.state, 'kubeconfig') },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.child = child;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [name, status] = line.trim().split(' ');
      if (!name) return;
      const was = this.readiness.get(name) === true;
      const is = status === 'True';
      this.readiness.set(name, is);
      this.ready += Number(is) - Number(was);
    });
    child.on('exit', () => {
      if (!this.stopped) this.watch();
    });
  }
}

/** The sum of a metric's series in a Prometheus text page, by the value of `label` (all under '' without one). */
function sumOf(metrics: string, name: string, label?: string): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const [, labels = '', value] of metrics.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\d+)`, 'gm'))) {
    const key = label ? (new RegExp(`${label}="([^"]*)"`).exec(labels)?.[1] ?? '') : '';
    sums[key] = (sums[key] ?? 0) + Number(value);
  }
  return sums;
}

/** The fleet's EMR: one Accuro simulator over https, its CA in the namespace as `sim-ca`. */
async function startFleetEmr(kubectl: (args: string[], input?: string) => Promise<string>) {
  const tls = makeTestTls();
  // One API user per clinic, as a fleet has (a shared one is a CredentialConflict).
  const extraApiUsers = new Map(
    Array.from({ length: N }, (_, j) => [fleetApiUser(j), `fleet-password-${j}-${randomBytes(6).toString('hex')}`]),
  );
  // No request budget (limits.ts leniency): this one simulator stands for a fleet's EMRs, each with its own quota.
  const accuro = Object.assign(await startAccuro({ tls: { cert: tls.cert, key: tls.key }, extraApiUsers, limits: { rateLimit: false } }), {
    extraApiUsers,
  });
  const ca = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sim-ca', namespace: ns }, stringData: { 'ca.crt': tls.ca } };
  await kubectl(['apply', '-f', '-'], JSON.stringify(ca));
  return accuro;
}

/** Site j's EmrIntegration, its credentials Secret and a suspended Full SyncSchedule (so no default schedules). */
const fleetApiUser = (j: number) => `OceanAPIfleet${j}`;

function integrationObjects(j: number, accuro: AccuroSimulator & { extraApiUsers: Map<string, string> }): object[] {
  const name = `site-${j}-accuro`;
  const credentials = {
    ...ACCURO_DEV_CREDENTIALS,
    apiUsername: fleetApiUser(j),
    apiPassword: accuro.extraApiUsers.get(fleetApiUser(j)) ?? '',
  };
  return [
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${name}-creds`, namespace: ns }, stringData: credentials },
    {
      apiVersion: 'cloudconnect.dev/v1alpha1',
      kind: 'EmrIntegration',
      metadata: { name, namespace: ns },
      spec: {
        siteRef: { name: `site-${j}` },
        emr: {
          type: 'Accuro',
          accuro: { tenantId: accuro.tenantId, apiUrl: accuro.url, credentialsSecretRef: { name: `${name}-creds` } },
          caBundleSecretRef: { name: 'sim-ca' },
        },
      },
    },
    {
      apiVersion: 'cloudconnect.dev/v1alpha1',
      kind: 'SyncSchedule',
      metadata: { name: `${name}-full`, namespace: ns },
      spec: { integrationRef: { name }, type: 'Full', schedule: '0 0 * * *', suspend: true },
    },
  ];
}

/**
 * The JSON lines of an audit log from line `fromLine` on, read as a stream: at 10,000 sites the
 * apiserver's log outgrows what one string can hold. A missing file has no lines.
 */
async function* auditLines(file: string, fromLine = 0): AsyncGenerator<string> {
  let n = 0;
  const stream = createReadStream(file, 'utf8');
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) if (n++ >= fromLine && line) yield line;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const _ of auditLines(file)) n++;
  return n;
}

async function vaultRequestCount(file: string, fromLine: number): Promise<number> {
  let n = 0;
  for await (const l of auditLines(file, fromLine)) if (l.startsWith('{') && (JSON.parse(l) as { type?: string }).type === 'request') n++;
  return n;
}

async function operatorRequests(file: string, fromLine: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for await (const line of auditLines(file, fromLine)) {
    const e = JSON.parse(line) as { stage?: string; verb?: string; user?: { username?: string }; objectRef?: { resource?: string } };
    if (e.stage !== 'ResponseComplete' && e.stage !== 'ResponseStarted') continue;
    if (e.user?.username !== operatorUser) continue;
    const key = `${e.verb} ${e.objectRef?.resource ?? ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

async function vaultWriteCount(file: string, fromLine: number): Promise<number> {
  let n = 0;
  for await (const l of auditLines(file, fromLine)) {
    const e = JSON.parse(l) as { type?: string; request?: { operation?: string } };
    if (e.type === 'request' && ['create', 'update', 'delete'].includes(e.request?.operation ?? '')) n++;
  }
  return n;
}

/** RSS now, and the V8 heap from the operator's metrics (prom-client's default metrics). */
async function memoryNow(pid: number): Promise<string> {
  let rss = 0;
  try {
    rss = Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    // gone
  }
  const text = await fetch('http://127.0.0.1:46080/metrics')
    .then((r) => r.text())
    .catch(() => '');
  const mib = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 1024 / 1024;
  return `RSS ${rss.toFixed(0)} MiB, V8 heap used ${mib('nodejs_heap_size_used_bytes').toFixed(0)} of ${mib('nodejs_heap_size_total_bytes').toFixed(0)} MiB, external ${mib('nodejs_external_memory_bytes').toFixed(0)} MiB, ${await openSockets(pid)} open sockets`;
}

/** The sockets the process holds open (API server watches, Vault, EMR connections kept alive). */
async function openSockets(pid: number): Promise<number> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  const links = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
  return links.filter((l) => l.startsWith('socket:')).length;
}

async function peakRssMb(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

await main();
