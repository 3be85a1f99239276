// A hostile clinic tries to send patient reminders for another clinic, against the real apiserver,
// the operator process, the worker and the Ocean and Accuro simulators: its Reminders SyncSchedule
// names the victim's integration with a namespace (refused at admission: references have no
// namespace field) and by the victim's name alone (looked up in the attacker's namespace only:
// IntegrationNotFound, no run); the same with spec.siteRef, the reminders schedule of a site without
// an integrated EMR (a namespace refused at admission; a name resolves to the attacker's own site,
// whose number and key the run gets). The victim is untouched: no run Job in either namespace for the
// attacker's schedule, no reminder in Ocean for the victim's site, the victim's integration
// unchanged. Then the attacker's own reminders run, and nothing it leaves behind (the operator's
// log, Events, status, metrics, the worker's log and termination message) holds a patient's name
// or phone number.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addCalendarDays, localDate } from '../../operator/runtime/zoned-time.ts';
import { type AccuroSite, accuroEmr, apply, setUpAccuroSite } from '../integration/fixtures.ts';
import { kubectl, kubectlOk } from '../integration/kubectl.ts';
import { eventually, everythingWritten, type OperatorProcess, startOperator } from '../integration/operator-process.ts';
import { runAsPod, runJobs } from '../integration/reminder-runs.ts';
import { OCEAN_DEV_CREDENTIALS, type OceanSimulator, start as startOcean } from '../simulators/ocean.ts';

const id = Date.now().toString(36);
const VICTIM = `rem-victim-${id}`;
const ATTACKER = `rem-attacker-${id}`;
const VICTIM_SITE_NUMBER = '8181';
const tomorrow = addCalendarDays(localDate(new Date(), 'America/Toronto'), 1);
const REMINDERS = { offsets: ['72h'], channel: 'SMS', templateId: 'appointment-reminder' };
let ocean: OceanSimulator;
let victim: AccuroSite;
let attacker: AccuroSite;
let operator: OperatorProcess;

const getJson = async (kind: string, namespace: string, name: string) =>
  JSON.parse(await kubectlOk(['get', kind, name, '-n', namespace, '-o', 'json']));

async function clinic(namespace: string, siteNumber: string): Promise<AccuroSite> {
  const site = await setUpAccuroSite({
    namespace,
    site: 'clinic',
    siteNumber,
    timeZone: 'America/Toronto',
    volume: { providers: 2, patients: 10, appointmentsPerDay: 6, days: 1, startDate: tomorrow },
    extraCredentials: { oceanClientId: OCEAN_DEV_CREDENTIALS.clientId, oceanClientSecret: OCEAN_DEV_CREDENTIALS.clientSecret },
  });
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name: namespace === VICTIM ? 'victim-accuro' : 'attacker-accuro', namespace },
    spec: { siteRef: { name: 'clinic' }, emr: accuroEmr(site) },
  });
  return site;
}

const schedule = (name: string, integration: Record<string, string>) => ({
  apiVersion: 'cloudconnect.dev/v1alpha1',
  kind: 'SyncSchedule',
  metadata: { name, namespace: ATTACKER },
  spec: { integrationRef: integration, type: 'Reminders', schedule: '0 0 1 1 *', reminders: REMINDERS },
});

beforeAll(async () => {
  ocean = await startOcean({});
  victim = await clinic(VICTIM, VICTIM_SITE_NUMBER);
  attacker = await clinic(ATTACKER, '8282');
  operator = await startOperator({ OCEAN_API_URL: ocean.url, WORKER_VAULT_ADDR: inject('cluster').vaultAddr });
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', VICTIM, 'emrintegration/victim-accuro']);
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ATTACKER, 'emrintegration/attacker-accuro']);
});

afterAll(async () => {
  await operator?.stop();
  await Promise.all([victim?.accuro.stop(), attacker?.accuro.stop(), ocean?.stop()]);
});

describe("a clinic's Reminders schedule", () => {
  it("cannot name another clinic's integration by namespace: refused at admission", async () => {
    const r = await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify(schedule('steal-by-namespace', { name: 'victim-accuro', namespace: VICTIM })),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('unknown field "spec.integrationRef.namespace"');
    expect((await kubectl(['get', 'syncschedule', 'steal-by-namespace', '-n', ATTACKER])).code).not.toBe(0);
  });

  it("cannot reach another clinic's integration by its name: IntegrationNotFound, no run, the victim untouched", async () => {
    const before = await getJson('emrintegration', VICTIM, 'victim-accuro');
    await apply(schedule('steal-by-name', { name: 'victim-accuro' }));
    await kubectlOk(['annotate', '--overwrite', '-n', ATTACKER, 'syncschedule/steal-by-name', 'cloudconnect.dev/requestedAt=attack-1']);
    const ready = await eventually(async () => {
      const s = await getJson('syncschedule', ATTACKER, 'steal-by-name');
      const c = (s.status?.conditions ?? []).find((x: { type: string }) => x.type === 'Ready');
      return c?.reason === 'IntegrationNotFound' ? c : undefined;
    }, 'the schedule Ready=False IntegrationNotFound');
    expect(ready.status).toBe('False');
    // The operator had every chance to start the requested run; it started none, in either namespace.
    await eventually(
      async () => (await getJson('syncschedule', ATTACKER, 'steal-by-name')).status?.observedGeneration === 1 || undefined,
      'the schedule observed',
    );
    expect(await runJobs(ATTACKER, 'steal-by-name')).toEqual([]);
    expect(await runJobs(VICTIM, 'steal-by-name')).toEqual([]);
    expect(ocean.reminders.delivered.filter((d) => d.siteNumber === VICTIM_SITE_NUMBER)).toEqual([]);
    const after = await getJson('emrintegration', VICTIM, 'victim-accuro');
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect(after.spec).toEqual(before.spec);
  });

  it("cannot name another clinic's site (spec.siteRef) by namespace: refused at admission, the victim untouched", async () => {
    const before = await getJson('oceansite', VICTIM, 'clinic');
    const bad = {
      ...schedule('steal-site-by-namespace', {}),
      spec: { siteRef: { name: 'clinic', namespace: VICTIM }, type: 'Reminders', schedule: '0 0 1 1 *', reminders: REMINDERS },
    };
    const r = await kubectl(['apply', '-f', '-'], JSON.stringify(bad));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('unknown field "spec.siteRef.namespace"');
    expect((await kubectl(['get', 'syncschedule', 'steal-site-by-namespace', '-n', ATTACKER])).code).not.toBe(0);
    const after = await getJson('oceansite', VICTIM, 'clinic');
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect(after.spec).toEqual(before.spec);
  });

  it("reaches by a site's name (spec.siteRef) only its own namespace's site: the run is its own site's, with its own key", async () => {
    // Both clinics call their site `clinic`: the name alone resolves in the schedule's namespace.
    const own = {
      ...schedule('site-by-name', {}),
      spec: { siteRef: { name: 'clinic' }, type: 'Reminders', schedule: '0 0 1 1 *', reminders: REMINDERS },
    };
    await apply(own);
    await kubectlOk(['annotate', '--overwrite', '-n', ATTACKER, 'syncschedule/site-by-name', 'cloudconnect.dev/requestedAt=site-1']);
    const run = await eventually(async () => (await runJobs(ATTACKER, 'site-by-name'))[0], 'the requested run');
    const env = Object.fromEntries(run.container.env.map((e) => [e.name, e.value]));
    expect(run.container.args.slice(0, 2)).toEqual(['--site', `${ATTACKER}/clinic`]);
    expect(env['CLOUDCONNECT_SITE_NUMBER']).toBe('8282');
    expect(env['SEK_PATH']).toContain(`/${ATTACKER}/clinic/`);
    expect(JSON.stringify(run.container)).not.toContain(VICTIM);
    expect(await runJobs(VICTIM, 'site-by-name')).toEqual([]);
  });

  it("sends only its own clinic's reminders, and no patient name or phone number shows in logs, Events, status or metrics", async () => {
    await apply(schedule('own-reminders', { name: 'attacker-accuro' }));
    await kubectlOk(['annotate', '--overwrite', '-n', ATTACKER, 'syncschedule/own-reminders', 'cloudconnect.dev/requestedAt=own-1']);
    const run = await eventually(async () => (await runJobs(ATTACKER, 'own-reminders'))[0], 'the requested run');
    const pod = await runAsPod(ATTACKER, run, 'clinic-accuro-creds', attacker.ca);
    expect(pod.code, pod.output.slice(-2000)).toBe(0);
    const sent = pod.result.sent as number;
    expect(sent).toBeGreaterThan(0);
    expect(ocean.reminders.delivered.every((d) => d.siteNumber === '8282')).toBe(true);
    expect(ocean.reminders.delivered.filter((d) => d.status === 'queued')).toHaveLength(sent);

    // The patients who were reminded: their names and phone numbers, in the forms a log could hold them.
    const phones = new Set(ocean.reminders.delivered.map((d) => ('phone' in d.recipient ? d.recipient.phone : '')));
    const patients = Array.from({ length: 10 }, (_, i) => attacker.accuro.data.patient(i)).filter((p) => phones.has(p.phone));
    expect(patients.length).toBeGreaterThan(0);
    const written = [await everythingWritten(operator, ATTACKER, kubectlOk), pod.output, pod.message].join('\n');
    for (const p of patients)
      for (const phi of [p.firstName, p.lastName, p.phone, p.phone.replace(/[^0-9]/g, ''), p.email]) expect(written).not.toContain(phi);
  });
});
