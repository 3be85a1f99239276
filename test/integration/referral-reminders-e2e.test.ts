// Reminders of a site without an integrated EMR end to end: a SyncSchedule with spec.siteRef, the
// real operator creating its run Jobs from the OceanSite alone, and the worker run as the kubelet
// would run the pod (kwok runs none): the site's Ocean Secret as files, a `vault`-audience token of
// the site's ServiceAccount with which it logs in to the real Vault and reads the SEK. The booked
// eReferral dates are in the Ocean simulator with each patient's contact sealed with the site's SEK.
// Each referral gets its reminder once per offset, a cancelled one none, a re-run nothing.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { referralContactBatch } from '../../operator/cmd/worker/referral-appointments.ts';
import { reminderKey } from '../../operator/cmd/worker/reminder-due.ts';
import { SekEncryptor } from '../../operator/internal/sek/crypto.ts';
import { OCEAN_DEV_CREDENTIALS, type OceanSimulator, start as startOcean } from '../simulators/ocean.ts';
import { apply, importedSite } from './fixtures.ts';
import { kubectl, kubectlOk, repoRoot } from './kubectl.ts';
import { eventually, type OperatorProcess, startOperator } from './operator-process.ts';
import { type RunJob, runJobs, runSiteAsPod } from './reminder-runs.ts';

const ns = `it-refrem-${Date.now().toString(36)}`;
const SITE_NUMBER = '8181';
const sek = randomBytes(32).toString('base64');
const H = 3_600_000;
// Far enough from now that no appointment starts during the test, inside the 72 h offset.
const base = Date.now();
const start = (hours: number) => new Date(base + hours * H).toISOString();
const PHONES = { a: '+1 416 555 0181', b: '+1 416 555 0182', c: '+1 416 555 0183' };
let ocean: OceanSimulator;
let operator: OperatorProcess | undefined;

function book(referralId: string, hours: number, phone: string, status: 'booked' | 'cancelled' = 'booked') {
  const envelope = new SekEncryptor(sek, SITE_NUMBER).encryptBatch({ batchId: referralContactBatch(referralId), kind: 'patient' }, [
    { phone },
  ]);
  ocean.referralBookings.book(SITE_NUMBER, { referralId, appointmentStart: start(hours), status, contact: { ...envelope } });
}

beforeAll(async () => {
  ocean = await startOcean({});
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`]);
  await kubectl(['create', 'namespace', ns]);
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'oak-ocean', namespace: ns },
    stringData: { clientId: OCEAN_DEV_CREDENTIALS.clientId, clientSecret: OCEAN_DEV_CREDENTIALS.clientSecret },
  });
  const [importSecret, site] = importedSite({ namespace: ns, name: 'oak', siteNumber: SITE_NUMBER, sek, timeZone: 'America/Toronto' }) as [
    object,
    { spec: Record<string, unknown> },
  ];
  await apply(importSecret);
  await apply({ ...site, spec: { ...site.spec, ocean: { credentialsSecretRef: { name: 'oak-ocean' } } } });
  book('ref-a', 30, PHONES.a);
  book('ref-b', 40, PHONES.b);
  book('ref-c', 50, PHONES.c, 'cancelled');
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'SyncSchedule',
    metadata: { name: 'oak-reminders', namespace: ns },
    // Runs on request only in this test (January 1st is far).
    spec: {
      siteRef: { name: 'oak' },
      type: 'Reminders',
      schedule: '0 0 1 1 *',
      reminders: { offsets: ['72h'], channel: 'SMS', templateId: 'appointment-reminder' },
    },
  });
  operator = await startOperator({
    OCEAN_API_URL: ocean.url,
    WORKER_VAULT_ADDR: inject('cluster').vaultAddr,
    WORKER_IMAGE: 'registry.example/cc:test',
  });
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=90s', '-n', ns, 'oceansite/oak']);
});

afterAll(async () => {
  await operator?.stop('SIGKILL');
  await ocean?.stop();
});

/** Asks for a run now and returns its Job once the operator created it. */
async function requestRun(value: string): Promise<RunJob> {
  await kubectlOk(['annotate', '--overwrite', '-n', ns, 'syncschedule/oak-reminders', `cloudconnect.dev/requestedAt=${value}`]);
  return eventually(
    async () => (await runJobs(ns, 'oak-reminders')).find((j) => j.name.includes('-manual-') && !seen.has(j.name)),
    'the requested run',
    60_000,
  );
}
const seen = new Set<string>();

describe("Reminders of a site without an integrated EMR (SyncSchedule spec.siteRef, Ocean's booked referral dates)", () => {
  it('send once per referral and offset, none for a cancelled referral, and nothing on a re-run', { timeout: 240_000 }, async () => {
    const first = await requestRun('ref-1');
    seen.add(first.name);
    expect(first.container.args).toEqual(['--site', `${ns}/oak`, '--type', 'Reminders', '--run', first.name]);
    expect(first.container.env.map((e) => e.name)).not.toContain('CLOUDCONNECT_INTEGRATION_SPEC');
    const run1 = await runSiteAsPod(ns, first, 'oak-ocean', 'oak');
    expect(run1.code, run1.output.slice(-2000)).toBe(0);
    expect(run1.result).toMatchObject({ result: 'Succeeded', sent: 2, failed: 0, site: `${ns}/oak` });

    const keyOf = (id: string, hours: number) => reminderKey(SITE_NUMBER, { id, start: start(hours) }, 72 * H);
    expect(ocean.reminders.delivered.map((d) => d.reminderKey).sort()).toEqual([keyOf('ref-a', 30), keyOf('ref-b', 40)].sort());
    expect(ocean.reminders.delivered.some((d) => 'phone' in d.recipient && d.recipient.phone === PHONES.c)).toBe(false);

    const second = await requestRun('ref-2');
    seen.add(second.name);
    const run2 = await runSiteAsPod(ns, second, 'oak-ocean', 'oak');
    expect(run2.code, run2.output.slice(-2000)).toBe(0);
    expect(run2.result).toMatchObject({ result: 'Succeeded', sent: 0, failed: 0, alreadySent: 2 });
    expect(ocean.reminders.delivered).toHaveLength(2);

    // No phone number in the runs' logs and termination messages, the schedule's status or the namespace's Events.
    const status = JSON.parse(await kubectlOk(['get', 'syncschedule', 'oak-reminders', '-n', ns, '-o', 'json'])).status;
    expect(status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Ready', status: 'True' })]));
    const events = await kubectlOk(['get', 'events', '-n', ns, '-o', 'json']);
    expect(events).toContain('RunStarted');
    for (const text of [JSON.stringify(status), events, run1.output, run1.message, run2.output, run2.message])
      for (const phone of Object.values(PHONES)) expect(text).not.toContain(phone);
  });
});
