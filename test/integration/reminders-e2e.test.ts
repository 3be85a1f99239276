// Patient reminders end to end: the real operator creates each Reminders run's Job; kwok plays the
// kubelet, so the test runs the worker command exactly as the pod spec describes it (its env, its
// args, the credentials Secret as files). The worker lists the Accuro simulator's schedule and asks
// the Ocean simulator, which does NOT deduplicate, to deliver each reminder. Across an operator
// replaced at the tick and every later run, each (appointment, offset) reaches Ocean exactly once;
// a cancelled appointment gets none; a patient without a phone and one who opted out are skipped
// and counted, in status.lastRun and in the metrics.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addCalendarDays, localDate } from '../../operator/runtime/zoned-time.ts';
import type { AccuroSimulator } from '../simulators/accuro.ts';
import { OCEAN_DEV_CREDENTIALS, type OceanSimulator, start as startOcean } from '../simulators/ocean.ts';
import { accuroEmr, apply, finishAsKubelet, runPodsOnKubeletStandIn, setUpAccuroSite } from './fixtures.ts';
import { kubectlOk } from './kubectl.ts';
import { eventually, type OperatorProcess, startOperator } from './operator-process.ts';
import { runJobs as jobsOf, type RunJob, runAsPod as runPod } from './reminder-runs.ts';

const ns = `it-rem-${Date.now().toString(36)}`;
const TORONTO = 'America/Toronto';
const IMAGE = 'registry.example/cloudconnect:test';
// Tomorrow's clinic day in Toronto: every appointment of it is less than 72 h away and none starts during the test.
const tomorrow = addCalendarDays(localDate(new Date(), TORONTO), 1);
let accuro: AccuroSimulator;
let ocean: OceanSimulator;
let tlsCa = '';
const operators: OperatorProcess[] = [];
const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));
const runJobs = () => jobsOf(ns, 'cedar-reminders');
const runAsPod = (run: RunJob) => runPod(ns, run, 'cedar-accuro-creds', tlsCa);
const getJson = async (args: string[]) => JSON.parse(await kubectlOk([...args, '-n', ns, '-o', 'json']));

/** The booked appointments of tomorrow, by index. */
function bookedTomorrow(): number[] {
  const out: number[] = [];
  for (let i = 0; i < accuro.appointments.count; i++) if (accuro.appointments.get(i).status === 'booked') out.push(i);
  return out;
}

let cancelled = -1;
let noPhone = -1;
let optedOut = -1;
let expectedSent = 0;

beforeAll(async () => {
  ocean = await startOcean({});
  const cedar = await setUpAccuroSite({
    namespace: ns,
    site: 'cedar',
    siteNumber: '6161',
    timeZone: TORONTO,
    volume: { providers: 2, patients: 15, appointmentsPerDay: 10, days: 1, startDate: tomorrow },
    extraCredentials: { oceanClientId: OCEAN_DEV_CREDENTIALS.clientId, oceanClientSecret: OCEAN_DEV_CREDENTIALS.clientSecret },
  });
  accuro = cedar.accuro;
  tlsCa = cedar.ca;
  // The clinic's schedule as the runs will find it: one appointment cancelled, one patient without a phone, one who replied STOP.
  const booked = bookedTomorrow();
  cancelled = booked[0] ?? -1;
  accuro.appointments.setStatus(cancelled, 'cancelled');
  // Other patients than the cancelled appointment's, so that its missing reminder is the cancellation's doing.
  const cancelledPatient = accuro.appointments.get(cancelled).patientIndex;
  const patients = [...new Set(booked.slice(1).map((i) => accuro.appointments.get(i).patientIndex))].filter((p) => p !== cancelledPatient);
  [noPhone = -1, optedOut = -1] = patients;
  accuro.state.patients.view = (i) => ({ ...accuro.data.patient(i), ...(i === noPhone ? { phone: '' } : {}) });
  ocean.reminders.optOut(accuro.data.patient(optedOut).phone);
  expectedSent = bookedTomorrow().filter((i) => ![noPhone, optedOut].includes(accuro.appointments.get(i).patientIndex)).length;

  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name: 'cedar-accuro', namespace: ns },
    spec: { siteRef: { name: 'cedar' }, emr: accuroEmr(cedar) },
  });
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'SyncSchedule',
    metadata: { name: 'cedar-reminders', namespace: ns },
    spec: {
      integrationRef: { name: 'cedar-accuro' },
      type: 'Reminders',
      schedule: '* * * * *',
      startingDeadlineSeconds: 300,
      // One offset: a second one could fall due between two runs of the test (the unit tests cover several).
      reminders: { offsets: ['72h'], channel: 'SMS', templateId: 'appointment-reminder' },
    },
  });
  operators.push(await startOperator({ OCEAN_API_URL: ocean.url, WORKER_VAULT_ADDR: inject('cluster').vaultAddr, WORKER_IMAGE: IMAGE }));
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, 'emrintegration/cedar-accuro']);
});

afterAll(async () => {
  for (const o of operators) await o.stop('SIGKILL');
  await accuro?.stop();
  await ocean?.stop();
});

describe('Reminders runs of a SyncSchedule', () => {
  it('send each reminder exactly once across an operator replaced at the tick and every later run', { timeout: 330_000 }, async () => {
    const first = await eventually(async () => (await runJobs())[0], 'the first scheduled run', 100_000);
    expect(first.container.args).toEqual(['--integration', `${ns}/cedar-accuro`, '--type', 'Reminders', '--run', first.name]);
    const tick = new Date(first.scheduledTime).getTime() + 60_000;
    const done = new Set<string>();
    const runAll = async () => {
      for (const job of await runJobs()) {
        if (done.has(job.name)) continue;
        done.add(job.name);
        const { code, result, output } = await runAsPod(job);
        expect(code, output.slice(-2000)).toBe(0);
        expect(result).toMatchObject({ result: 'Succeeded', failed: 0 });
      }
    };
    await runAll();

    // The new operator starts 3 s before the tick while the old one runs; the old one dies right after it.
    await sleepUntil(tick - 3_000);
    operators.push(await startOperator({ OCEAN_API_URL: ocean.url, WORKER_IMAGE: IMAGE }, { waitReady: false }));
    await sleepUntil(tick + 300);
    await operators[0]?.stop('SIGKILL');

    const expected = [tick - 60_000, tick, tick + 60_000].map((t) => new Date(t).toISOString());
    const jobs = await eventually(
      async () => {
        await runAll();
        const all = await runJobs();
        return expected.every((t) => all.some((j) => j.scheduledTime === t)) ? all : undefined;
      },
      'runs for the minute before, at and after the tick',
      150_000,
    );
    await runAll();
    for (const t of expected)
      expect(
        jobs.filter((j) => j.scheduledTime === t),
        `runs at ${t}`,
      ).toHaveLength(1);
    expect(done.size).toBeGreaterThanOrEqual(3);

    // Ocean got one delivery per key, though it would have stored every repeat.
    const keys = ocean.reminders.delivered.map((d) => d.reminderKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(ocean.reminders.delivered.filter((d) => d.status === 'queued')).toHaveLength(expectedSent);
    // None for the cancelled appointment: no delivery at its start for its patient's phone.
    const gone = accuro.appointments.get(cancelled);
    const phone = accuro.data.patient(gone.patientIndex).phone;
    expect(
      ocean.reminders.delivered.some(
        (d) => Date.parse(d.appointment.start) === gone.start.getTime() && 'phone' in d.recipient && d.recipient.phone === phone,
      ),
    ).toBe(false);
  });

  it('reports sent, skipped and failed in status.lastRun and the metrics, without a phone number or name', {
    timeout: 120_000,
  }, async () => {
    // A run on request, whose pod the test finishes as the kubelet would (kwok leaves it running).
    await runPodsOnKubeletStandIn(ns, 'cedar-accuro');
    ocean.reminders.delivered.length = 0; // Ocean forgets: every reminder is due again, the skips counted again
    await kubectlOk(['annotate', '--overwrite', '-n', ns, 'syncschedule/cedar-reminders', 'cloudconnect.dev/requestedAt=rem-status']);
    const run = await eventually(async () => (await runJobs()).find((j) => j.name.includes('-manual-')), 'the requested run', 60_000);
    const { code, result, message } = await runAsPod(run);
    expect(code).toBe(0);
    expect(result).toMatchObject({ sent: expectedSent, failed: 0 });
    expect(result.skipped).toBeGreaterThanOrEqual(2);
    await finishAsKubelet(ns, run.name, message, code);
    const schedule = await eventually(
      async () => {
        const s = await getJson(['get', 'syncschedule', 'cedar-reminders']);
        return s.status?.lastRun?.name === run.name ? s : undefined;
      },
      'the run reported in the schedule status',
      90_000,
    );
    expect(schedule.status.lastRun).toMatchObject({ result: 'Succeeded', sent: expectedSent, skipped: result.skipped, failed: 0 });
    const metrics = await (operators.at(-1) as OperatorProcess).metrics();
    const count = (outcome: string, reason: string) =>
      Number(
        new RegExp(
          `cloudconnect_reminders_total\\{namespace="${ns}",integration="cedar-accuro",outcome="${outcome}",reason="${reason}"\\} (\\d+)`,
        ).exec(metrics)?.[1],
      );
    expect(count('sent', '')).toBe(expectedSent);
    expect(count('skipped', 'NoContact')).toBeGreaterThanOrEqual(1);
    expect(count('skipped', 'OptedOut')).toBeGreaterThanOrEqual(1);
    const patient = accuro.data.patient(optedOut);
    for (const text of [JSON.stringify(schedule.status), metrics, message])
      for (const phi of [patient.phone, patient.lastName, patient.firstName]) expect(text).not.toContain(phi);
  });
});
