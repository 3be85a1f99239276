// Reminders end to end through the worker's real entry point (runWorker with --type Reminders: the
// pod's environment, the credentials directory, the Accuro adapter) against the Accuro and Ocean
// simulators over https. Ocean's reminder API does not deduplicate (test/simulators/ocean-reminders.ts):
// each reminder key must reach it once because the worker looks it up before sending. Clocks are injected.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeTestTls, type TestTls } from '../../../test/integration/tls.ts';
import { type AccuroSimulator, start as startAccuro } from '../../../test/simulators/accuro.ts';
import { type OceanSimulator, start as startOcean } from '../../../test/simulators/ocean.ts';
import { createAdapter } from '../../internal/emr/index.ts';
import type { AdapterFactory } from '../../internal/sitepod/emr-adapter.ts';
import { runWorker } from './cli.ts';
import { reminderKey } from './reminder-due.ts';
import { jobEnv as jobEnvOf, quietDeps } from './test-helpers.ts';

const SITE = '5151';
const TORONTO = 'America/Toronto';
const H = 3_600_000;
const volume = { providers: 2, patients: 12, appointmentsPerDay: 8, days: 2, startDate: '2030-05-06' };
// 2030-05-05 12:00 in Toronto (EDT): the 24 h reminders of the first clinic day up to noon are due.
const NOON_BEFORE = '2030-05-05T16:00:00.000Z';
const REMINDERS = {
  offsets: ['72h', '24h'],
  channel: 'SMS',
  templateId: 'appointment-reminder',
  quietHours: { start: '21:00', end: '08:00' },
};

let tls: TestTls;
let accuro: AccuroSimulator;
let ocean: OceanSimulator;
let dir: string;

beforeAll(async () => {
  tls = makeTestTls();
  const https = { cert: tls.cert, key: tls.key };
  [accuro, ocean] = await Promise.all([
    startAccuro({ seed: 31, volume, tls: https, timeZone: TORONTO }),
    startOcean({ seed: 31, tls: https }),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'cc-reminders-run-'));
  await writeFile(join(dir, 'ca.crt'), tls.ca);
});
afterAll(async () => {
  await Promise.all([accuro.stop(), ocean.stop()]);
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  ocean.reminders.delivered.length = 0;
});

const spec = () => ({
  siteRef: { name: 'clinic' },
  emr: { type: 'Accuro', accuro: { tenantId: accuro.tenantId, apiUrl: accuro.url, credentialsSecretRef: { name: 'accuro' } } },
});

async function remind(now: string, reminders: object = REMINDERS, adapterFactory?: AdapterFactory) {
  const env = await jobEnvOf({
    dir,
    tls,
    ocean,
    siteNumber: SITE,
    siteTimeZone: TORONTO,
    spec: spec(),
    credentials: accuro.credentials as never,
  });
  env.CLOUDCONNECT_REMINDERS = JSON.stringify(reminders);
  const deps = { ...quietDeps(now, 'unused'), ...(adapterFactory ? { adapterFactory } : {}) };
  const { exitCode, result } = await runWorker(['--integration', 'clinic/accuro', '--type', 'Reminders', '--run', 'rem-1'], env, deps);
  const termination = JSON.parse(await readFile(String(env.TERMINATION_MESSAGE_PATH), 'utf8')) as Record<string, unknown>;
  return { exitCode, result, termination };
}

/** Appointment indexes the EMR holds as booked, starting in (now, now + hours]. */
function bookedWithin(now: string, hours: number): number[] {
  const t = Date.parse(now);
  const out: number[] = [];
  for (let i = 0; i < accuro.appointments.count; i++) {
    const a = accuro.appointments.get(i);
    if (a.status === 'booked' && a.start.getTime() > t && a.start.getTime() <= t + hours * H) out.push(i);
  }
  return out;
}
const bookedWithin24h = (now: string) => bookedWithin(now, 24);

const keysDelivered = () => ocean.reminders.delivered.map((d) => d.reminderKey);

/** Deliveries for this appointment at its current start, by its reminder keys (Accuro's appointment id is the index + 1). */
function deliveriesFor(index: number) {
  const appointment = { id: String(index + 1), start: accuro.appointments.get(index).start.toISOString() };
  const keys = new Set([24, 72].map((h) => reminderKey(SITE, appointment, h * H)));
  return ocean.reminders.delivered.filter((d) => keys.has(d.reminderKey));
}

describe('a Reminders run', () => {
  it('sends each due reminder once, skips and counts a patient without a phone and one who opted out, and a re-run sends nothing again', async () => {
    // Every appointment of the two clinic days is within 72 h: the nearest due offset of each is sent.
    const due = bookedWithin(NOON_BEFORE, 72);
    expect(due.length).toBeGreaterThan(3);
    const [noPhone, optedOut] = due.map((i) => accuro.appointments.get(i).patientIndex).filter((p, i, all) => all.indexOf(p) === i);
    accuro.state.patients.view = (i) => ({ ...accuro.data.patient(i), ...(i === noPhone ? { phone: '' } : {}) });
    ocean.reminders.optOut(accuro.data.patient(optedOut ?? -1).phone);
    try {
      const patientOf = (i: number) => accuro.appointments.get(i).patientIndex;
      const reachable = due.filter((i) => patientOf(i) !== noPhone && patientOf(i) !== optedOut).length;
      const suppressed = due.filter((i) => patientOf(i) === optedOut).length;

      const first = await remind(NOON_BEFORE);
      expect(first.exitCode).toBe(0);
      expect(first.termination).toMatchObject({ result: 'Succeeded', type: 'Reminders', sent: reachable, failed: 0 });
      expect(first.termination.skippedReasons).toEqual({
        NoContact: due.filter((i) => patientOf(i) === noPhone).length,
        OptedOut: suppressed,
      });
      // Ocean holds one delivery per due appointment that had a phone (the opted-out ones suppressed by Ocean), each key once.
      expect(ocean.reminders.delivered.filter((d) => d.status === 'queued')).toHaveLength(reachable);
      expect(new Set(keysDelivered()).size).toBe(keysDelivered().length);
      for (const d of ocean.reminders.delivered) {
        const hoursAhead = (Date.parse(d.appointment.start) - Date.parse(NOON_BEFORE)) / H;
        expect(d.offsetMinutes).toBe(hoursAhead <= 24 ? 24 * 60 : 72 * 60);
        expect(d.channel).toBe('SMS');
      }

      const again = await remind(NOON_BEFORE);
      expect(again.termination).toMatchObject({ result: 'Succeeded', sent: 0, alreadySent: reachable + suppressed, failed: 0 });
      expect(keysDelivered()).toHaveLength(reachable + suppressed);
    } finally {
      accuro.state.patients.view = undefined;
    }
  });

  it('does not send a reminder twice when Ocean stored it but its answer was lost (504): the retry looks it up first', async () => {
    const due = bookedWithin(NOON_BEFORE, 72).length;
    ocean.reminders.loseAnswers = 1;
    try {
      const { termination } = await remind(NOON_BEFORE);
      expect(ocean.reminders.loseAnswers).toBe(0);
      // The lost one is found by the retry's look-up; the others are sent (or suppressed: the first test's opt-out stands).
      expect(termination).toMatchObject({ result: 'Succeeded', alreadySent: 1, failed: 0 });
      expect((termination.sent as number) + (termination.skipped as number)).toBe(due - 1);
      expect(ocean.reminders.delivered).toHaveLength(due);
      expect(new Set(keysDelivered()).size).toBe(due);
    } finally {
      ocean.reminders.loseAnswers = 0;
    }
  });

  it('sends nothing for a cancelled appointment, and one for the new time of an appointment moved (cancelled and booked again)', async () => {
    const [cancelled, moved] = bookedWithin24h(NOON_BEFORE);
    accuro.appointments.setStatus(cancelled ?? -1, 'cancelled');
    const old = accuro.appointments.get(moved ?? -1);
    accuro.appointments.setStatus(old.index, 'cancelled');
    const rebooked = accuro.appointments.add({
      patientIndex: old.patientIndex,
      providerIndex: old.providerIndex,
      start: new Date(Date.parse(NOON_BEFORE) + 5 * H),
      durationMinutes: 15,
    });
    const { termination } = await remind(NOON_BEFORE);
    expect(termination).toMatchObject({ result: 'Succeeded', failed: 0 });
    expect(ocean.reminders.delivered.length).toBeGreaterThan(0);
    expect(deliveriesFor(cancelled ?? -1)).toHaveLength(0);
    expect(deliveriesFor(old.index)).toHaveLength(0);
    expect(deliveriesFor(rebooked.index)).toHaveLength(1);
  });

  it('does not send a reminder for an appointment cancelled between the plan and the send', async () => {
    const [target] = bookedWithin24h(NOON_BEFORE);
    let listings = 0;
    // The real Accuro adapter, whose second listing (the one right before the sends) finds the appointment cancelled by the clinic.
    const cancelling: AdapterFactory = (type, config) => {
      const adapter = createAdapter(type, config);
      const list = adapter.listAppointments.bind(adapter);
      adapter.listAppointments = (from, to, providers) => {
        if (++listings === 2) accuro.appointments.setStatus(target ?? -1, 'cancelled');
        return list(from, to, providers);
      };
      return adapter;
    };
    const { termination } = await remind(NOON_BEFORE, REMINDERS, cancelling);
    expect(listings).toBe(2);
    expect(termination.skippedReasons).toMatchObject({ Cancelled: 1 });
    expect(ocean.reminders.delivered.length).toBeGreaterThan(0);
    expect(deliveriesFor(target ?? -1)).toHaveLength(0);
  });

  it('in quiet hours sends nothing and counts each due reminder as deferred; the first run after 08:00 sends them', async () => {
    // 23:30 in Toronto on 5 May: the reminders due for the next morning wait for 08:00.
    const late = '2030-05-06T03:30:00.000Z';
    const quiet = await remind(late);
    expect(quiet.termination).toMatchObject({ result: 'Succeeded', sent: 0 });
    expect((quiet.termination.skippedReasons as Record<string, number>).QuietHours).toBeGreaterThan(0);
    expect(ocean.reminders.delivered).toHaveLength(0);
    const morning = await remind('2030-05-06T12:00:00.000Z');
    expect(morning.termination.sent).toBeGreaterThan(0);
  });

  it('fails with a reason and counts the failures when Ocean refuses every delivery (an unknown template)', async () => {
    const { exitCode, termination } = await remind(NOON_BEFORE, { ...REMINDERS, templateId: 'no-such-template' });
    expect(exitCode).toBe(1);
    expect(termination).toMatchObject({ result: 'Failed', errorReason: 'OceanRejected', sent: 0 });
    expect(termination.failed).toBeGreaterThan(0);
    expect(ocean.reminders.delivered).toHaveLength(0);
  });

  it('refuses a reminders block that breaks the schema as InvalidConfiguration', async () => {
    const { exitCode, termination } = await remind(NOON_BEFORE, { ...REMINDERS, channel: 'Pigeon' });
    expect(exitCode).toBe(1);
    expect(termination).toMatchObject({ result: 'Failed', errorReason: 'InvalidConfiguration' });
  });
});
