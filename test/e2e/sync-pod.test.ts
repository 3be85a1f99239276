// A sync run on the real node: the operator creates the Job, the kubelet runs the project's image,
// the pod logs in to Vault with the projected `vault`-audience token the kubelet issued, reads its
// site's SEK, syncs from the EMR simulator and uploads ciphertext to the Ocean simulator; the kubelet
// writes the worker's termination message and the operator reports it. A pod running as another
// site is refused that site's key.

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decryptBatch } from '../../operator/internal/sek/crypto.ts';
import { fingerprint } from '../../operator/internal/sek/identity.ts';
import { manualRunName } from '../../operator/internal/sitepod/sync-run.ts';
import { type AccuroSite, apply, applyFullSync, importedSite, setUpAccuroSite } from '../integration/fixtures.ts';
import { kubectlOk } from '../integration/kubectl.ts';
import { eventually, type OperatorProcess } from '../integration/operator-process.ts';
import { makeTestTls } from '../integration/tls.ts';
import { vaultRequest } from '../integration/vault.ts';
import { OCEAN_DEV_CREDENTIALS, type OceanSimulator, start as startOcean } from '../simulators/ocean.ts';
import { podExitAndLogs, REAL_NODE, runPod, startOperatorForNode } from './node.ts';

const ns = `e2e-sync-${Date.now().toString(36)}`;
let cedar: AccuroSite;
let ocean: OceanSimulator;
let operator: OperatorProcess;
let oceanCa = '';

beforeAll(async () => {
  const { nodeIp } = inject('cluster');
  // Ocean over https with a private CA, as the operator's OCEAN_CA_BUNDLE lets the workers trust.
  const oceanTls = makeTestTls([nodeIp]);
  oceanCa = oceanTls.ca;
  ocean = await startOcean({ host: nodeIp, tls: { cert: oceanTls.cert, key: oceanTls.key } });
  cedar = await setUpAccuroSite({
    namespace: ns,
    site: 'cedar',
    siteNumber: '4141',
    host: nodeIp,
    volume: { providers: 2, patients: 30, appointmentsPerDay: 20, days: 2 },
    extraCredentials: { oceanClientId: OCEAN_DEV_CREDENTIALS.clientId, oceanClientSecret: OCEAN_DEV_CREDENTIALS.clientSecret },
  });
  for (const obj of importedSite({ namespace: ns, name: 'birch', siteNumber: '4142' })) await apply(obj);
  await applyFullSync(ns, cedar, { site: 'cedar', integration: 'cedar-accuro', schedule: 'cedar-full' });
  // Requests may take longer than the shortest run deadline the API allows (60 s), so that the deadline test's run is stopped by the kubelet, not by a timeout.
  operator = await startOperatorForNode({ OCEAN_API_URL: ocean.url, OCEAN_CA_BUNDLE: oceanCa, EGRESS_TIMEOUT: '120s' });
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=120s', '-n', ns, 'oceansite/cedar', 'oceansite/birch']);
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=120s', '-n', ns, 'emrintegration/cedar-accuro']);
});

afterAll(async () => {
  await operator?.stop();
  await cedar?.accuro.stop();
  await ocean?.stop();
  await kubectlOk(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
});

describe('a sync Job on the real node', () => {
  it('runs the image, logs in to Vault with its kubelet-issued token, and Ocean receives ciphertext of the EMR records', async () => {
    await kubectlOk(['annotate', '--overwrite', '-n', ns, 'syncschedule/cedar-full', 'cloudconnect.dev/requestedAt=e2e-1']);
    const schedule = await eventually(
      async () => {
        const s = JSON.parse(await kubectlOk(['get', 'syncschedule', 'cedar-full', '-n', ns, '-o', 'json']));
        return s.status?.lastRun?.result ? s : undefined;
      },
      'the run finished and reported in the schedule status',
      240_000,
    );
    const lastRun = schedule.status.lastRun;
    const pod = await podExitAndLogs(ns, `job-name=${lastRun.name}`);
    expect(lastRun.result, pod.logs.slice(-3000)).toBe('Succeeded');
    expect(pod.nodeName).toBe(REAL_NODE);
    expect(pod.exitCode).toBe(0);
    expect(lastRun.patients).toBeGreaterThan(0);
    expect(lastRun.appointments).toBeGreaterThan(0);

    const batches = ocean.batches.filter((b) => b.siteNumber === '4141');
    const records = batches.map((b) => decryptBatch(b.body.envelope, cedar.sek, '4141'));
    const count = (kind: string) => records.filter((r) => r.kind === kind).reduce((a, r) => a + r.records.length, 0);
    expect(count('patient')).toBe(lastRun.patients);
    expect(count('appointment')).toBe(lastRun.appointments);
    const somePatient = cedar.accuro.data.patient(0);
    const stored = JSON.stringify(batches);
    for (const plain of [somePatient.lastName, cedar.sek]) expect(stored.includes(plain)).toBe(false);
    // `kubectl logs` works (the kubelet's serving certificate, the apiserver's kubelet client) and holds no key.
    expect(pod.logs.length).toBeGreaterThan(0);
    expect(pod.logs.includes(cedar.sek)).toBe(false);
  });

  it("refuses a pod running as another site the first site's key, and gives it its own", async () => {
    const { podVaultAddr } = inject('cluster');
    const script = `(async () => {
      const jwt = require('node:fs').readFileSync('/var/run/secrets/vault/token', 'utf8');
      const login = await fetch(process.env.VAULT_ADDR + '/v1/auth/kubernetes/login', { method: 'POST', body: JSON.stringify({ role: 'cloudconnect-sync', jwt }) });
      const token = (await login.json()).auth?.client_token;
      console.log('login', login.status);
      for (const site of ['cedar', 'birch']) {
        const r = await fetch(process.env.VAULT_ADDR + '/v1/secret/data/cloudconnect/${ns}/' + site + '/sek', { headers: { 'X-Vault-Token': token } });
        console.log(site, r.status);
      }
    })().catch((e) => { console.log('error', e.message); process.exit(1); });`;
    const pod = await runPod(ns, 'birch-probe', {
      serviceAccount: 'birch',
      command: ['/nodejs/bin/node', '-e', script],
      env: { VAULT_ADDR: podVaultAddr },
    });
    expect(pod.exitCode, pod.logs).toBe(0);
    expect(pod.logs).toContain('login 200');
    expect(pod.logs).toContain('cedar 403');
    expect(pod.logs).toContain('birch 200');
    // The victim is untouched: cedar's key still decrypts what cedar uploaded.
    const batch = ocean.batches.find((b) => b.siteNumber === '4141');
    expect(batch && decryptBatch(batch.body.envelope, cedar.sek, '4141').records.length).toBeGreaterThan(0);
  });

  it('reports a run the kubelet stopped at activeDeadlineSeconds as failed, with the reason', async () => {
    const lastRunName = async () =>
      JSON.parse(await kubectlOk(['get', 'syncschedule', 'cedar-full', '-n', ns, '-o', 'json'])).status?.lastRun?.name;
    const previous = await lastRunName();
    await kubectlOk([
      'patch',
      'emrintegration',
      'cedar-accuro',
      '-n',
      ns,
      '--type=merge',
      '-p',
      '{"spec":{"syncWorker":{"activeDeadlineSeconds":60}}}',
    ]);
    cedar.accuro.setFault({ slowMs: 100_000 });
    try {
      await kubectlOk(['annotate', '--overwrite', '-n', ns, 'syncschedule/cedar-full', 'cloudconnect.dev/requestedAt=e2e-deadline']);
      const lastRun = await eventually(
        async () => {
          const s = JSON.parse(await kubectlOk(['get', 'syncschedule', 'cedar-full', '-n', ns, '-o', 'json']));
          const run = s.status?.lastRun;
          return run?.name && run.name !== previous && run.result ? run : undefined;
        },
        'the run stopped by its deadline and reported',
        240_000,
      );
      expect(lastRun).toMatchObject({ result: 'Failed', errorReason: 'DeadlineExceeded' });
      const job = JSON.parse(await kubectlOk(['get', 'job', lastRun.name, '-n', ns, '-o', 'json']));
      expect(job.spec.activeDeadlineSeconds).toBe(60);
    } finally {
      cedar.accuro.clearFaults();
      await kubectlOk([
        'patch',
        'emrintegration',
        'cedar-accuro',
        '-n',
        ns,
        '--type=json',
        '-p',
        '[{"op":"remove","path":"/spec/syncWorker"}]',
      ]);
    }
  });

  it('switches a running sync pod to a SEK rotated mid-run: the kubelet refreshes the downward-API file the operator annotated', async () => {
    await kubectlOk(['patch', 'oceansite', 'cedar', '-n', ns, '--type=merge', '-p', '{"spec":{"encryptionKey":{"recheckInterval":"2s"}}}']);
    // A slow EMR keeps the run going long enough to rotate the key between its first and last batches.
    cedar.accuro.setFault({ slowMs: 2500 });
    const newSek = randomBytes(32).toString('base64');
    try {
      await kubectlOk(['annotate', '--overwrite', '-n', ns, 'syncschedule/cedar-full', 'cloudconnect.dev/requestedAt=e2e-rotation']);
      const run = manualRunName('cedar-full', 'e2e-rotation');
      const ofRun = () => ocean.batches.filter((b) => b.body.run === run);
      await eventually(async () => ofRun().length > 0 || undefined, 'the run uploading its first batch', 120_000);
      const rotated = await vaultRequest('POST', `secret/data/cloudconnect/${ns}/cedar/sek`, { data: { sek: newSek } });
      expect(rotated.status).toBe(200);
      const pod = await podExitAndLogs(ns, `job-name=${run}`, 300_000);
      expect(pod.exitCode, pod.logs.slice(-3000)).toBe(0);
      expect(pod.logs).toContain('SEK rotated during the run');
      const kids = ofRun().map((b) => (b.body.envelope as { kid?: string }).kid);
      expect(kids[0]).toBe(fingerprint(cedar.sek));
      expect(kids.at(-1)).toBe(fingerprint(newSek));
      // Each batch decrypts with the key version it names, and only with that one.
      for (const batch of ofRun()) {
        const key = (batch.body.envelope as { kid?: string }).kid === fingerprint(newSek) ? newSek : cedar.sek;
        expect(decryptBatch(batch.body.envelope as never, key, '4141').records.length).toBeGreaterThan(0);
      }
      expect(pod.logs.includes(newSek) || pod.logs.includes(cedar.sek)).toBe(false);
    } finally {
      cedar.accuro.clearFaults();
    }
  });
});
