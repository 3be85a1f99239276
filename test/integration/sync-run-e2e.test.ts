// A sync run end to end: the operator creates the Job; kwok plays the kubelet, so the test runs the
// worker command exactly as the pod spec describes it (its env, its args, the credentials Secret
// and the CA as files, a projected `vault`-audience token of the site's ServiceAccount). The worker
// logs in to Vault with that token, reads the SEK, syncs from the EMR simulator and uploads to the
// Ocean simulator, which must receive only ciphertext that decrypts with the SEK into the EMR's records.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decryptBatch } from '../../operator/internal/sek/crypto.ts';
import type { AccuroSimulator } from '../simulators/accuro.ts';
import { OCEAN_DEV_CREDENTIALS, type OceanSimulator, start as startOcean } from '../simulators/ocean.ts';
import { applyFullSync, finishAsKubelet, runPodsOnKubeletStandIn, setUpAccuroSite } from './fixtures.ts';
import { exitCodeOf, kubectlOk, repoRoot } from './kubectl.ts';
import { eventually, type OperatorProcess, startOperator } from './operator-process.ts';

const ns = `it-e2e-${Date.now().toString(36)}`;
const sek = randomBytes(32).toString('base64');
let accuro: AccuroSimulator;
let ocean: OceanSimulator;
let operator: OperatorProcess;
let tlsCa = '';

interface Container {
  args: string[];
  env: { name: string; value: string }[];
}

async function requestRun(token: string): Promise<{ name: string; container: Container; serviceAccount: string }> {
  await kubectlOk(['annotate', '--overwrite', '-n', ns, 'syncschedule/cedar-full', `cloudconnect.dev/requestedAt=${token}`]);
  return eventually(async () => {
    const jobs = JSON.parse(await kubectlOk(['get', 'jobs', '-n', ns, '-l', 'cloudconnect.dev/schedule=cedar-full', '-o', 'json']))
      .items as {
      metadata: { name: string };
      spec: { template: { spec: { serviceAccountName: string; containers: Container[] } } };
    }[];
    const job = jobs.find((j) => !seen.has(j.metadata.name));
    if (!job) return undefined;
    seen.add(job.metadata.name);
    return {
      name: job.metadata.name,
      container: job.spec.template.spec.containers[0]!,
      serviceAccount: job.spec.template.spec.serviceAccountName,
    };
  }, 'a new run Job');
}
const seen = new Set<string>();

/** Runs the worker the way the kubelet would run the container, with the pod's mounts as files. */
async function runAsPod(run: {
  container: Container;
  serviceAccount: string;
}): Promise<{ code: number; result: Record<string, unknown>; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cc-pod-'));
  const creds = join(dir, 'emr');
  mkdirSync(creds);
  const secret = JSON.parse(await kubectlOk(['get', 'secret', 'cedar-accuro-creds', '-n', ns, '-o', 'json'])).data as Record<
    string,
    string
  >;
  for (const [k, v] of Object.entries(secret)) writeFileSync(join(creds, k), Buffer.from(v, 'base64'));
  const token = (await kubectlOk(['create', 'token', run.serviceAccount, '-n', ns, '--audience', 'vault', '--duration', '10m'])).trim();
  writeFileSync(join(dir, 'token'), token);
  writeFileSync(join(dir, 'ca.crt'), tlsCa);
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', TERMINATION_MESSAGE_PATH: join(dir, 'termination-log') };
  for (const e of run.container.env) env[e.name] = e.value;
  env.CLOUDCONNECT_CREDENTIALS_DIR = creds;
  env.VAULT_SA_TOKEN_FILE = join(dir, 'token');
  env.CLOUDCONNECT_CA_BUNDLE_FILE = join(dir, 'ca.crt');
  return new Promise((resolve) => {
    execFile(
      join(repoRoot, 'node_modules/.bin/node'),
      ['operator/worker/main.ts', ...run.container.args],
      { cwd: repoRoot, env, maxBuffer: 1 << 26 },
      (error, stdout, stderr) => {
        const code = exitCodeOf(error);
        const terminationFile = join(dir, 'termination-log');
        resolve({
          code,
          result: { ...(JSON.parse(readFileSync(terminationFile, 'utf8')) as Record<string, unknown>), terminationFile },
          output: String(stdout) + String(stderr),
        });
      },
    );
  });
}

beforeAll(async () => {
  ocean = await startOcean({});
  const cedar = await setUpAccuroSite({
    namespace: ns,
    site: 'cedar',
    siteNumber: '3131',
    sek,
    // The clinic and its EMR (the simulator's default zone) are in Toronto.
    timeZone: 'America/Toronto',
    volume: { providers: 3, patients: 40, appointmentsPerDay: 25, days: 2 },
    extraCredentials: { oceanClientId: OCEAN_DEV_CREDENTIALS.clientId, oceanClientSecret: OCEAN_DEV_CREDENTIALS.clientSecret },
  });
  accuro = cedar.accuro;
  tlsCa = cedar.ca;
  await applyFullSync(ns, cedar, { site: 'cedar', integration: 'cedar-accuro', schedule: 'cedar-full' });
  operator = await startOperator({
    OCEAN_API_URL: ocean.url,
    WORKER_VAULT_ADDR: inject('cluster').vaultAddr,
    WORKER_IMAGE: 'registry.example/cloudconnect:test',
  });
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, 'emrintegration/cedar-accuro']);
});

afterAll(async () => {
  await operator?.stop();
  await accuro?.stop();
  await ocean?.stop();
});

describe('a Full sync run', () => {
  it('logs in to Vault as the site, and Ocean receives only ciphertext that decrypts into the EMR records', async () => {
    const run = await requestRun('e2e-1');
    // The Job tells the worker the site's zone: its days are Toronto's, and so is the EMR's wall clock.
    expect(run.container.env).toContainEqual({ name: 'CLOUDCONNECT_SITE_TIME_ZONE', value: 'America/Toronto' });
    const { code, result, output } = await runAsPod(run);
    expect(code, output.slice(-2000)).toBe(0);
    expect(result).toMatchObject({ result: 'Succeeded' });
    expect(result.patients).toBeGreaterThan(0);
    expect(result.appointments).toBeGreaterThan(0);

    const batches = ocean.batches.filter((b) => b.siteNumber === '3131');
    expect(batches.length).toBeGreaterThan(0);
    const stored = JSON.stringify(batches);
    const somePatient = accuro.data.patient(0);
    for (const plain of [somePatient.lastName, somePatient.firstName, sek]) expect(stored.includes(plain)).toBe(false);
    const records = batches.map((b) => decryptBatch(b.body.envelope, sek, '3131'));
    const count = (kind: string) => records.filter((r) => r.kind === kind).reduce((a, r) => a + r.records.length, 0);
    expect(count('patient')).toBe(result.patients);
    expect(count('appointment')).toBe(result.appointments);
    expect(count('provider')).toBe(result.providers);
    const patientIds = new Set(records.filter((r) => r.kind === 'patient').flatMap((r) => r.records.map((p) => (p as { id: string }).id)));
    const appointmentPatients = new Set(
      records.filter((r) => r.kind === 'appointment').flatMap((r) => r.records.map((a) => (a as { patientId: string }).patientId)),
    );
    expect([...appointmentPatients].every((id) => patientIds.has(id))).toBe(true);
    // Accuro's wall-clock times went up as the instants the clinic meant (read in Toronto, written with Z).
    const instants = new Map(
      Array.from({ length: accuro.data.appointmentCount }, (_, i) => [String(i + 1), accuro.data.appointment(i).start.toISOString()]),
    );
    for (const a of records.filter((r) => r.kind === 'appointment').flatMap((r) => r.records as { id: string; start: string }[]))
      expect(a.start).toBe(instants.get(a.id));
    expect(() => decryptBatch(batches[0]!.body.envelope, randomBytes(32).toString('base64'), '3131')).toThrow();
    expect(output.includes(sek)).toBe(false);
  });

  it('fails with a reason, not the operator, when the EMR answers 5xx mid-run', async () => {
    accuro.setFault({ serverError: true });
    try {
      const run = await requestRun('e2e-2');
      const { code, result } = await runAsPod(run);
      expect(code).toBe(1);
      expect(result).toMatchObject({ result: 'Failed', errorReason: 'EmrUnreachable' });
    } finally {
      accuro.clearFaults();
    }
    expect(operator.child.exitCode).toBeNull();
  });

  it('reports the result the worker wrote as its termination message in status and metrics', async () => {
    // The test plays the kubelet for this run: kwok leaves pods selecting this node label running
    // (test/cluster/up.sh), and the test writes the worker's termination message into the pod status.
    await runPodsOnKubeletStandIn(ns, 'cedar-accuro');
    const run = await requestRun('e2e-3');
    const { code, result, output } = await runAsPod(run);
    expect(code, output.slice(-2000)).toBe(0);
    await finishAsKubelet(ns, run.name, readFileSync(String(result.terminationFile), 'utf8'), code);
    const schedule = await eventually(
      async () => {
        const s = JSON.parse(await kubectlOk(['get', 'syncschedule', 'cedar-full', '-n', ns, '-o', 'json']));
        return s.status?.lastRun?.name === run.name ? s : undefined;
      },
      'the run reported in the schedule status',
      90_000,
    );
    expect(schedule.status.lastRun).toMatchObject({
      result: 'Succeeded',
      providers: result.providers,
      patients: result.patients,
      appointments: result.appointments,
    });
    const metrics = await operator.metrics();
    const records = (kind: string) =>
      Number(
        new RegExp(
          `cloudconnect_sync_records_total\\{namespace="${ns}",integration="cedar-accuro",type="Full",kind="${kind}"\\} (\\d+)`,
        ).exec(metrics)?.[1],
      );
    expect(records('patients')).toBe(result.patients);
    expect(records('appointments')).toBe(result.appointments);
    // The Sync Status panel of the integration follows.
    await eventually(async () => {
      const integration = JSON.parse(await kubectlOk(['get', 'emrintegration', 'cedar-accuro', '-n', ns, '-o', 'json']));
      return integration.status?.sync?.lastFullSyncTime === schedule.status.lastSuccessfulTime ? true : undefined;
    }, 'the integration showing the last full sync');
    expect(JSON.stringify(schedule.status)).not.toContain(sek);
  });

  it('that meets revoked access fails with that reason and flips the integration without waiting for its next check', async () => {
    accuro.setFault({ deauthorized: true });
    try {
      const run = await requestRun('e2e-4');
      const { code, result } = await runAsPod(run);
      expect(code).toBe(1);
      expect(result).toMatchObject({ result: 'Failed', errorReason: 'Deauthorized' });
      await finishAsKubelet(ns, run.name, readFileSync(String(result.terminationFile), 'utf8'), code);
      const schedule = await eventually(
        async () => {
          const s = JSON.parse(await kubectlOk(['get', 'syncschedule', 'cedar-full', '-n', ns, '-o', 'json']));
          return s.status?.lastRun?.name === run.name ? s : undefined;
        },
        'the failed run reported',
        90_000,
      );
      expect(schedule.status.lastRun).toMatchObject({ result: 'Failed', errorReason: 'Deauthorized' });
      const integration = await eventually(async () => {
        const i = JSON.parse(await kubectlOk(['get', 'emrintegration', 'cedar-accuro', '-n', ns, '-o', 'json']));
        const auth = (i.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Authenticated');
        return auth?.status === 'False' ? i : undefined;
      }, 'Authenticated=False after the failed run');
      // The re-check was asked for by the run, not by the integration's own interval.
      expect(integration.metadata.annotations['cloudconnect.dev/requestedAt']).toBe(`sync-run/${run.name}`);
      expect(integration.status.lastHandledRequestedAt).toBe(`sync-run/${run.name}`);
    } finally {
      accuro.clearFaults();
    }
  });
});
