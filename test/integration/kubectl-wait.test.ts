// What a user and a GitOps pipeline see with plain kubectl: the examples applied, `kubectl wait
// --for=condition=Ready` succeeding on every kind (and `Ready=false` where the examples' fictional
// EMR hosts cannot be reached), and `kubectl get` / `-o wide` showing each kind's printer columns.
// The examples are applied into this file's own namespace (their `clinic-maple` rewritten), plus
// one Accuro integration against the simulator so that a SyncSchedule can become Ready.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMR_INTEGRATION, KINDS, type KindDefinition, OCEAN_SITE, SYNC_SCHEDULE } from '../../operator/api/v1alpha1/index.ts';
import { ACCURO_DEV_CREDENTIALS, type AccuroSimulator, start as startAccuro } from '../simulators/accuro.ts';
import { kubectl, kubectlOk, repoRoot } from './kubectl.ts';
import { eventually, type OperatorProcess, startOperator } from './operator-process.ts';
import { makeTestTls } from './tls.ts';

const ns = `it-wait-${Date.now().toString(36)}`;
let accuro: AccuroSimulator;
let operator: OperatorProcess;
const apply = (o: object) => kubectlOk(['apply', '-f', '-'], JSON.stringify(o));

function examplesIn(namespace: string): string {
  const dir = join(repoRoot, 'examples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8').replaceAll('clinic-maple', namespace))
    .join('\n---\n');
}

/** Cells of a `kubectl get` table, cut at the header's column starts (names may contain spaces). */
function table(text: string): { header: string[]; rows: Record<string, string>[] } {
  const [headerLine = '', ...lines] = text.split('\n').filter((l) => l.trim() !== '');
  const header = headerLine.trim().split(/\s{2,}/);
  const starts = header.map((h) => headerLine.indexOf(h));
  const rows = lines.map((line) => Object.fromEntries(header.map((h, i) => [h, line.slice(starts[i], starts[i + 1]).trim()])));
  return { header, rows };
}

const columns = (kind: KindDefinition, wide: boolean) => [
  'NAME',
  ...kind.printerColumns.filter((c) => wide || !c.priority).map((c) => c.name.toUpperCase()),
];

beforeAll(async () => {
  const tls = makeTestTls();
  accuro = await startAccuro({ tls: { cert: tls.cert, key: tls.key } });
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`]);
  await kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', '-f', `${repoRoot}/crds`]);
  operator = await startOperator({ WORKER_IMAGE: 'registry.example/cloudconnect-operator:test' });
  await kubectlOk(['apply', '-f', '-'], examplesIn(ns));
  await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sim-ca', namespace: ns }, stringData: { 'ca.crt': tls.ca } });
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'sim-accuro-creds', namespace: ns },
    stringData: { ...ACCURO_DEV_CREDENTIALS },
  });
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name: 'sim-accuro', namespace: ns },
    spec: {
      siteRef: { name: 'maple' },
      emr: {
        type: 'Accuro',
        accuro: { tenantId: accuro.tenantId, apiUrl: accuro.url, credentialsSecretRef: { name: 'sim-accuro-creds' } },
        caBundleSecretRef: { name: 'sim-ca' },
      },
    },
  });
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'SyncSchedule',
    metadata: { name: 'sim-accuro-full', namespace: ns },
    spec: { integrationRef: { name: 'sim-accuro' }, type: 'Full', schedule: '0 0 * * *', timeZone: 'America/Toronto' },
  });
});

afterAll(async () => {
  await operator?.stop();
  await accuro?.stop();
});

describe('kubectl wait --for=condition=Ready', () => {
  it.each([
    ['an OceanSite whose SEK was imported', 'oceansite/maple'],
    ['a non-integrated EmrIntegration', 'emrintegration/maple-none'],
    ['an EmrIntegration authenticated against its EMR', 'emrintegration/sim-accuro'],
    ['a SyncSchedule of an authenticated integration', 'syncschedule/sim-accuro-full'],
  ])('succeeds on %s', async (_what, ref) => {
    const r = await kubectl(['wait', '--for=condition=Ready', '--timeout=90s', '-n', ns, ref]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('condition met');
  });

  it('succeeds with Ready=false on an integration whose EMR host cannot be reached, with the reason in status', async () => {
    await kubectlOk(['wait', '--for=condition=Ready=false', '--timeout=90s', '-n', ns, 'emrintegration/maple-accuro']);
    const reason = await kubectlOk([
      'get',
      '-n',
      ns,
      'emrintegration/maple-accuro',
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Ready")].reason}',
    ]);
    expect(reason).not.toBe('');
    expect(reason).not.toBe('Authenticated');
  });

  it('waits on a schedule blocked by its integration through its Ready reason', async () => {
    const r = await kubectl([
      'wait',
      '--for=jsonpath={.status.conditions[?(@.type=="Ready")].reason}=IntegrationNotReady',
      '--timeout=90s',
      '-n',
      ns,
      'syncschedule/maple-accuro-full',
    ]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('times out, exit code non-zero, on a resource that is not Ready', async () => {
    const r = await kubectl(['wait', '--for=condition=Ready', '--timeout=3s', '-n', ns, 'emrintegration/maple-accuro']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('timed out');
  });
});

describe('kubectl get', () => {
  it.each(KINDS.map((k) => [k.kind, k] as const))('shows the printer columns of %s', async (_kind, kind) => {
    const plain = table(await kubectlOk(['get', kind.plural, '-n', ns]));
    expect(plain.header).toEqual(columns(kind, false));
    const wide = table(await kubectlOk(['get', kind.plural, '-n', ns, '-o', 'wide']));
    expect(wide.header).toEqual(columns(kind, true));
  });

  it('fills the OceanSite columns: site number, Ready, reason, key version and fingerprint', async () => {
    const row = table(await kubectlOk(['get', OCEAN_SITE.plural, '-n', ns, '-o', 'wide'])).rows.find((r) => r.NAME === 'maple');
    expect(row).toMatchObject({ SITE: '4271', READY: 'True', 'KEY VERSION': '1' });
    expect(row?.FINGERPRINT).toMatch(/^[0-9a-f]{16}$/);
  });

  it('fills the EmrIntegration columns: EMR type, site, Ready and next sync', async () => {
    const row = await eventually(async () => {
      const r = table(await kubectlOk(['get', EMR_INTEGRATION.plural, '-n', ns])).rows.find((x) => x.NAME === 'sim-accuro');
      return r && r['NEXT SYNC'] !== '' && r['NEXT SYNC'] !== '<none>' ? r : undefined;
    }, 'the next sync column of sim-accuro');
    expect(row).toMatchObject({ EMR: 'Accuro', SITE: 'maple', READY: 'True' });
    expect(Number.isNaN(Date.parse(row['NEXT SYNC']!))).toBe(false);
    const none = table(await kubectlOk(['get', EMR_INTEGRATION.plural, '-n', ns])).rows.find((x) => x.NAME === 'maple-none');
    expect(none).toMatchObject({ EMR: 'None', READY: 'True', REASON: 'NonIntegrated' });
  });

  it('fills the SyncSchedule columns: integration, type, schedule, suspend, Ready and next sync', async () => {
    const rows = table(await kubectlOk(['get', SYNC_SCHEDULE.plural, '-n', ns])).rows;
    expect(rows.find((r) => r.NAME === 'sim-accuro-full')).toMatchObject({
      INTEGRATION: 'sim-accuro',
      TYPE: 'Full',
      SCHEDULE: '0 0 * * *',
      READY: 'True',
      REASON: 'Scheduled',
    });
    expect(rows.find((r) => r.NAME === 'maple-accuro-full')).toMatchObject({
      INTEGRATION: 'maple-accuro',
      READY: 'False',
      REASON: 'IntegrationNotReady',
    });
  });

  it('lists all three kinds through the cloudconnect category', async () => {
    const out = await kubectlOk(['get', 'cloudconnect', '-n', ns, '-o', 'name']);
    for (const ref of [
      'oceansite.cloudconnect.dev/maple',
      'emrintegration.cloudconnect.dev/maple-none',
      'syncschedule.cloudconnect.dev/sim-accuro-full',
    ])
      expect(out).toContain(ref);
  });
});
