// A real Prometheus (Debian's /usr/bin/prometheus) scrapes the operator running against the test
// control plane, with the chart's alerts.yaml as its rule file. Checked through its HTTP API: the
// rules are loaded and evaluate, every alert expression and every dashboard query parses and runs,
// and the dashboard queries whose series can exist here return series. A few resources make the
// series exist: an authenticated Accuro integration (simulator) with a finished sync run (the test
// plays the kubelet and writes the run's termination message), one whose EMR does not answer, and
// an OceanSite naming a Vault mount that does not exist (stalled: reconcile errors).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { alertsFile, loadDashboard, panelQueries, renderPanelList, substitute } from '../monitoring/dashboard.ts';
import type { AccuroSimulator } from '../simulators/accuro.ts';
import { OCEAN_DEV_CREDENTIALS } from '../simulators/ocean.ts';
import { accuroEmr, apply, finishAsKubelet, setUpAccuroSite } from './fixtures.ts';
import { kubectlOk } from './kubectl.ts';
import { eventually, freePort, type OperatorProcess, startOperator } from './operator-process.ts';

const ns = `it-prom-${Date.now().toString(36)}`;
const leaseName = `cloudconnect-${ns}`;
let accuro: AccuroSimulator;
let operator: OperatorProcess;
let prometheus: ChildProcess | undefined;
let prometheusOutput = '';
let promUrl = '';

/**
 * Dashboard queries whose series cannot exist in this test, and why. Everything else must return
 * at least one series.
 */
const CANNOT_EXIST: Record<string, string> = {
  'SEK accesses (24h)':
    'needs Vault audit entries of a foreign identity reading a SEK (AUDIT_LISTEN_ADDRESS, covered by oceansite-key-access.test.ts)',
  'Relay backlog': 'exported by the relay process (one per EmrIntegration), which this test does not run',
  'Oldest pending message age': 'exported by the relay process, not run here',
  'Deliveries by result': 'exported by the relay process, not run here',
  'Reminders by outcome (per hour)': 'needs a finished Reminders run (covered by reminders-e2e.test.ts)',
  'Reminders skipped or failed by reason (24h)': 'needs a finished Reminders run (covered by reminders-e2e.test.ts)',
};

interface PromAnswer<T> {
  status: 'success' | 'error';
  error?: string;
  errorType?: string;
  data: T;
}
interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function prom<T>(path: string, params: Record<string, string> = {}): Promise<PromAnswer<T>> {
  const res = await fetch(`${promUrl}${path}?${new URLSearchParams(params)}`);
  return (await res.json()) as PromAnswer<T>;
}

async function query(expr: string): Promise<PromAnswer<{ resultType: string; result: Sample[] }>> {
  return prom('/api/v1/query', { query: expr });
}

async function series(expr: string): Promise<Sample[]> {
  const answer = await query(expr);
  if (answer.status !== 'success') throw new Error(`${expr}: ${answer.errorType}: ${answer.error}`);
  return answer.data.result;
}

beforeAll(async () => {
  const cedar = await setUpAccuroSite({
    namespace: ns,
    site: 'cedar',
    siteNumber: '3232',
    sek: Buffer.alloc(32, 7).toString('base64'),
    extraCredentials: { oceanClientId: OCEAN_DEV_CREDENTIALS.clientId, oceanClientSecret: OCEAN_DEV_CREDENTIALS.clientSecret },
  });
  accuro = cedar.accuro;
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'OceanSite',
    metadata: { name: 'elm', namespace: ns },
    spec: {
      siteNumber: '3233',
      clinicalAdminEmail: 'admin@elm.example.org',
      encryptionKey: { vault: { mount: 'no-such-mount' } },
    },
  });
  const accuroSpec = (apiUrl: string) => accuroEmr(cedar, apiUrl);
  // kwok leaves pods that select this label running, so the test can write the run's result.
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name: 'cedar-accuro', namespace: ns },
    spec: {
      siteRef: { name: 'cedar' },
      emr: accuroSpec(accuro.url),
      syncWorker: { nodeSelector: { 'cloudconnect.dev/kubelet-stand-in': 'test' } },
    },
  });
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name: 'cedar-down', namespace: ns },
    spec: { siteRef: { name: 'cedar' }, emr: accuroSpec('https://127.0.0.1:9') },
  });
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'SyncSchedule',
    metadata: { name: 'cedar-full', namespace: ns },
    spec: { integrationRef: { name: 'cedar-accuro' }, type: 'Full', schedule: '0 0 * * *' },
  });
  operator = await startOperator({
    LEADER_ELECT: 'true',
    LEASE_NAME: leaseName,
    LEASE_NAMESPACE: 'kube-system',
    WORKER_IMAGE: 'registry.example/cloudconnect:test',
    LOG_LEVEL: 'info',
  });
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=90s', '-n', ns, 'emrintegration/cedar-accuro']);

  // One finished run, reported as the worker reports it, so the sync series exist.
  await kubectlOk(['annotate', '--overwrite', '-n', ns, 'syncschedule/cedar-full', 'cloudconnect.dev/requestedAt=prom-e2e']);
  const job = await eventually(async () => {
    const jobs = JSON.parse(await kubectlOk(['get', 'jobs', '-n', ns, '-l', 'cloudconnect.dev/schedule=cedar-full', '-o', 'json']))
      .items as { metadata: { name: string } }[];
    return jobs[0]?.metadata.name;
  }, 'the run Job');
  await finishAsKubelet(
    ns,
    job,
    JSON.stringify({ result: 'Succeeded', durationSeconds: 42, providers: 3, patients: 40, appointments: 50 }),
    0,
  );
  await eventually(
    async () => {
      const s = JSON.parse(await kubectlOk(['get', 'syncschedule', 'cedar-full', '-n', ns, '-o', 'json']));
      return s.status?.lastRun?.name === job && s.status?.lastSuccessfulTime ? true : undefined;
    },
    'the run reported in status',
    90_000,
  );
  await eventually(
    async () =>
      /^cloudconnect_resource_condition\{kind="OceanSite",namespace="[^"]+",name="elm",condition="Stalled"/m.test(await operator.metrics())
        ? true
        : undefined,
    'the stalled site in the metrics',
  );

  // Prometheus: loopback, temporary storage, the operator scraped every second, the chart's rules.
  const dir = mkdtempSync(join(tmpdir(), 'cc-prom-'));
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: [alertsFile],
    scrape_configs: [{ job_name: 'cloudconnect-operator', static_configs: [{ targets: [new URL(operator.metricsUrl).host] }] }],
  };
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config));
  prometheus = spawn(
    '/usr/bin/prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prometheus.stdout?.on('data', (d: Buffer) => (prometheusOutput += d.toString()));
  prometheus.stderr?.on('data', (d: Buffer) => (prometheusOutput += d.toString()));
  await eventually(async () => {
    if (prometheus?.exitCode !== null) throw new Error(`prometheus exited: ${prometheusOutput.slice(-2000)}`);
    return (await fetch(`${promUrl}/-/ready`)).ok ? true : undefined;
  }, 'Prometheus ready');
  // Enough scrapes for rates over [1m] (at least two samples of every counter).
  await eventually(async () => {
    const scrapes = await series('count_over_time(up{job="cloudconnect-operator"}[1m])');
    return Number(scrapes[0]?.value[1] ?? 0) >= 6 ? true : undefined;
  }, 'six scrapes of the operator');
}, 300_000);

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus!.once('exit', r));
    prometheus.kill('SIGTERM');
    await exited;
  }
  await operator?.stop();
  await accuro?.stop();
});

const alertRules = (parse(readFileSync(alertsFile, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap(
  (g) => g.rules,
);

describe('Prometheus scraping the operator', () => {
  it('scrapes it (up = 1) and sees Vault up', async () => {
    expect((await series('up{job="cloudconnect-operator"}'))[0]?.value[1]).toBe('1');
    expect((await series('cloudconnect_vault_up'))[0]?.value[1]).toBe('1');
  });

  it('loaded every alert rule from alerts.yaml, and each evaluates without error', async () => {
    const rules = await eventually(async () => {
      const answer = await prom<{ groups: { rules: { name: string; type: string; health: string; lastError?: string }[] }[] }>(
        '/api/v1/rules',
      );
      const all = answer.data.groups.flatMap((g) => g.rules);
      return all.length === alertRules.length && all.every((r) => r.health === 'ok') ? all : undefined;
    }, 'every rule evaluated with health ok');
    expect(rules.map((r) => r.name).sort()).toEqual(alertRules.map((r) => r.alert).sort());
    expect(rules.every((r) => r.type === 'alerting')).toBe(true);
  });

  it('runs every alert expression', async () => {
    for (const rule of alertRules) {
      const answer = await query(rule.expr);
      expect(answer.status, `${rule.alert}: ${answer.error}`).toBe('success');
    }
  });

  it('has the integration whose EMR does not answer pending for CloudConnectEmrAuthFailed, and not the authenticated one', async () => {
    const pending = await eventually(async () => {
      const answer = await prom<{ alerts: { labels: Record<string, string>; state: string }[] }>('/api/v1/alerts');
      const mine = answer.data.alerts.filter((a) => a.labels.alertname === 'CloudConnectEmrAuthFailed' && a.labels.namespace === ns);
      return mine.length > 0 ? mine : undefined;
    }, 'CloudConnectEmrAuthFailed pending');
    expect(pending.map((a) => [a.labels.name, a.labels.reason, a.state])).toEqual([['cedar-down', 'EmrUnreachable', 'pending']]);
  });

  it('runs every dashboard query, and those whose series can exist here return series', async () => {
    const dashboard = loadDashboard();
    const report: string[] = [];
    const empty: string[] = [];
    for (const q of panelQueries(dashboard)) {
      const expr = substitute(q.expr, { namespace: ns, rateInterval: '1m' });
      const answer = await query(expr);
      expect(answer.status, `${q.panel} ${q.refId}: ${answer.error}`).toBe('success');
      const n = answer.data.result.length;
      report.push(
        `${n > 0 ? `${n} series` : 'no series'}\t${q.panel} ${q.refId}${CANNOT_EXIST[q.panel] ? ` (cannot exist here: ${CANNOT_EXIST[q.panel]})` : ''}`,
      );
      if (n === 0 && !CANNOT_EXIST[q.panel]) empty.push(`${q.panel} ${q.refId}: ${expr}`);
    }
    console.log(`${renderPanelList(dashboard)}\n\nResults against the test cluster (namespace ${ns}):\n${report.join('\n')}`);
    expect(empty).toEqual([]);
  });

  it('shows the fleet by condition with this test’s resources', async () => {
    const fleet = await series(
      `count by (kind, condition, status, reason) (cloudconnect_resource_condition{namespace="${ns}", condition=~"Ready|Stalled"})`,
    );
    const rows = fleet.map((s) => `${s.metric.kind} ${s.metric.condition}=${s.metric.status} ${s.metric.reason}`);
    expect(rows).toContain('OceanSite Ready=True Succeeded');
    expect(rows).toContain('OceanSite Stalled=True KeyLocationNotAllowed');
    expect(rows).toContain('EmrIntegration Ready=True Succeeded');
    expect(rows).toContain('SyncSchedule Ready=True Scheduled');
  });
});
