import { describe, expect, it } from 'vitest';
import type { Appointment } from '../../internal/emr/adapter.ts';
import { planReminders, reminderKey, stillDue } from './reminder-due.ts';

const H = 3_600_000;
const START = '2030-01-20T15:00:00.000Z'; // 10:00 in Toronto
const appt = (over: Partial<Appointment> = {}): Appointment => ({
  id: '41',
  providerId: '2001',
  patientId: '7',
  start: START,
  end: '2030-01-20T15:15:00.000Z',
  status: 'booked',
  ...over,
});
const at = (hoursBefore: number) => new Date(Date.parse(START) - hoursBefore * H);
const plan = (now: Date, appointments: Appointment[] = [appt()], extra: Partial<Parameters<typeof planReminders>[0]> = {}) =>
  planReminders({ appointments, offsetsMs: [72 * H, 24 * H], timeZone: 'America/Toronto', siteNumber: '3131', now, ...extra }).map(
    (d) => `${d.action}:${d.offsetMs / H}h`,
  );

describe('planReminders (which reminders are due at time T)', () => {
  it.each([
    ['nothing is due 80 hours before', 80, []],
    ['the 72 h reminder is due 72 hours before', 72, ['send:72h']],
    ['the 72 h reminder is still due 30 hours before (the run that sends it may come late)', 30, ['send:72h']],
    ['at 24 hours before only the 24 h reminder is sent; the 72 h one is superseded', 24, ['send:24h', 'superseded:72h']],
    ['one hour before, still the 24 h reminder', 1, ['send:24h', 'superseded:72h']],
    ['nothing once the appointment has started', 0, []],
  ] as const)('%s', (_name, hoursBefore, expected) => {
    expect(plan(at(hoursBefore))).toEqual(expected);
  });

  it.each(['cancelled', 'noshow', 'arrived', 'fulfilled', 'unknown'])('a %s appointment gets no reminder', (status) => {
    expect(plan(at(24), [appt({ status })])).toEqual([]);
  });

  it('only the providers selected get reminders', () => {
    const appointments = [appt(), appt({ id: '42', providerId: '2002' })];
    const decisions = planReminders({
      appointments,
      offsetsMs: [24 * H],
      providerIds: ['2002'],
      timeZone: 'UTC',
      siteNumber: '3131',
      now: at(10),
    });
    expect(decisions.map((d) => d.appointment.id)).toEqual(['42']);
  });

  it('inside quiet hours a due reminder is deferred to the end of the window, in the site zone', () => {
    // 23:00 in Toronto on 19 January, 16 hours before the 10:00 appointment.
    const decisions = planReminders({
      appointments: [appt()],
      offsetsMs: [24 * H],
      quietHours: { start: '21:00', end: '08:00' },
      timeZone: 'America/Toronto',
      siteNumber: '3131',
      now: new Date('2030-01-20T04:00:00Z'),
    });
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ action: 'deferred', until: new Date('2030-01-20T13:00:00Z') });
  });

  it('a reminder key is the same across runs and differs per site, appointment, start and offset', () => {
    const key = reminderKey('3131', appt(), 24 * H);
    expect(reminderKey('3131', appt(), 24 * H)).toBe(key);
    expect(key).toMatch(/^rem-[A-Za-z0-9_-]{32}$/);
    for (const other of [
      reminderKey('3132', appt(), 24 * H),
      reminderKey('3131', appt({ id: '42' }), 24 * H),
      reminderKey('3131', appt({ start: '2030-01-21T15:00:00.000Z' }), 24 * H),
      reminderKey('3131', appt(), 72 * H),
    ])
      expect(other).not.toBe(key);
  });

  it('a rescheduled appointment gets reminders for its new time under new keys', () => {
    const moved = appt({ start: '2030-01-22T15:00:00.000Z' });
    const before = planReminders({ appointments: [appt()], offsetsMs: [24 * H], timeZone: 'UTC', siteNumber: '1', now: at(20) });
    const after = planReminders({ appointments: [moved], offsetsMs: [24 * H], timeZone: 'UTC', siteNumber: '1', now: at(20) });
    expect(before.map((d) => d.action)).toEqual(['send']);
    expect(after).toEqual([]); // 68 hours before its new time: not yet
    const later = planReminders({
      appointments: [moved],
      offsetsMs: [24 * H],
      timeZone: 'UTC',
      siteNumber: '1',
      now: new Date(Date.parse(moved.start) - 20 * H),
    });
    expect(later[0]?.key).not.toBe(before[0]?.key);
  });
});

describe('stillDue (the appointment right before the send)', () => {
  it.each([
    ['unchanged', [appt()], true],
    ['cancelled since the plan', [appt({ status: 'cancelled' })], false],
    ['moved to another time', [appt({ start: '2030-01-21T15:00:00.000Z' })], false],
    ['gone from the schedule', [], false],
    ['the same instant written with an offset', [appt({ start: '2030-01-20T10:00:00-05:00' })], true],
  ] as const)('%s → %s', (_name, current, expected) => {
    expect(stillDue(appt(), current as unknown as Appointment[])).toBe(expected);
  });
});
