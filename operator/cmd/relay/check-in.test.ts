import { describe, expect, it } from 'vitest';
import { checkInMessage } from '../../../test/simulators/ocean.ts';
import type { Appointment, AppointmentToCreate, EmrAdapter } from '../../internal/emr/adapter.ts';
import {
  appointmentsToMarkArrived,
  arrivalWindow,
  type CheckInSettings,
  checkInSettingsOf,
  DEFAULT_CHECK_IN,
  planCheckIn,
} from './check-in.ts';
import { deliverToEmr } from './deliver.ts';
import { finderOf, type GuardedStep, type StepGuard } from './delivery-record.ts';
import { DEFAULT_FILING } from './filing.ts';
import { parseOceanMessage } from './messages.ts';
import { decideRedelivery } from './redelivery.ts';
import { decideRetry, failureKind, RelayError } from './schedule.ts';

const AT = new Date('2030-05-06T14:00:00Z');
const min = (m: number) => new Date(AT.getTime() + m * 60_000).toISOString();
const appt = (id: string, startMinutes: number, patientId = 'p1', status: Appointment['status'] = 'booked'): Appointment => ({
  id,
  providerId: 'd1',
  patientId,
  start: min(startMinutes),
  end: min(startMinutes + 15),
  status,
});

describe('which appointments a check-in marks arrived', () => {
  const cases: [string, number, Appointment[], string[]][] = [
    ['one starting at the check-in is marked', 2, [appt('a', 0)], ['a']],
    ['one starting just before N hours after the check-in is marked', 2, [appt('a', 119)], ['a']],
    ['one starting exactly N hours after the check-in is not marked', 2, [appt('a', 120)], []],
    ['one starting later the same day is not marked', 2, [appt('a', 300)], []],
    ['one the patient is 30 minutes late for is marked', 2, [appt('a', -30)], ['a']],
    ['one that started 31 minutes before the check-in is not marked', 2, [appt('a', -31)], []],
    ["another patient's appointment in the window is never marked", 2, [appt('a', 10, 'p2')], []],
    ['a cancelled appointment in the window is never marked', 2, [appt('a', 10, 'p1', 'cancelled')], []],
    [
      'a no-show, a completed and an already arrived appointment are not marked',
      2,
      [appt('a', 5, 'p1', 'noshow'), appt('b', 6, 'p1', 'fulfilled'), appt('c', 7, 'p1', 'arrived')],
      [],
    ],
    ['with N = 0 nothing is marked', 0, [appt('a', 0), appt('b', 10)], []],
    ['with N = 24 an appointment 23 hours later is marked', 24, [appt('a', 23 * 60)], ['a']],
    ['several in the window are marked in start order', 3, [appt('c', 150), appt('a', 5), appt('b', 60)], ['a', 'b', 'c']],
  ];
  it.each(cases)('%s', (_name, hours, appointments, expected) => {
    expect(appointmentsToMarkArrived({ at: AT, hours, patientId: 'p1', appointments }).map((a) => a.id)).toEqual(expected);
  });

  it('the window is [check-in − 30 min, check-in + N h), and there is none when N is 0', () => {
    expect(arrivalWindow(AT, 2)).toEqual({ from: new Date(min(-30)), to: new Date(min(120)) });
    expect(arrivalWindow(AT, 0)).toBeUndefined();
  });
});

const WALK_INS: CheckInSettings = {
  markArrivedWithinHours: 2,
  walkIn: { enabled: true, providerId: 'd9', appointmentType: 'Walk-in', durationMinutes: 20 },
};

describe('what a check-in does', () => {
  const cases: [string, { at: string; walkIn?: boolean }, CheckInSettings, ReturnType<typeof planCheckIn>][] = [
    ['an ordinary check-in marks the window', { at: AT.toISOString() }, WALK_INS, { kind: 'markArrived', window: arrivalWindow(AT, 2) }],
    [
      'a walk-in with walk-ins enabled books the configured provider, type and duration at the check-in',
      { at: AT.toISOString(), walkIn: true },
      WALK_INS,
      { kind: 'walkIn', providerId: 'd9', appointmentType: 'Walk-in', start: AT, durationMinutes: 20 },
    ],
    [
      'a walk-in is booked even when marking is off (N = 0)',
      { at: AT.toISOString(), walkIn: true },
      { ...WALK_INS, markArrivedWithinHours: 0 },
      { kind: 'walkIn', providerId: 'd9', appointmentType: 'Walk-in', start: AT, durationMinutes: 20 },
    ],
    ['a walk-in with walk-ins disabled is refused', { at: AT.toISOString(), walkIn: true }, DEFAULT_CHECK_IN, { kind: 'walkInDisabled' }],
    [
      'walkIn: false is an ordinary check-in',
      { at: AT.toISOString(), walkIn: false },
      DEFAULT_CHECK_IN,
      { kind: 'markArrived', window: arrivalWindow(AT, 2) },
    ],
  ];
  it.each(cases)('%s', (_name, checkIn, settings, expected) => {
    expect(planCheckIn(checkIn, settings)).toEqual(expected);
  });

  it('the settings default as the CRD does: 2 hours, walk-ins off, 15 minutes', () => {
    expect(checkInSettingsOf(undefined)).toEqual(DEFAULT_CHECK_IN);
    expect(checkInSettingsOf({ markArrivedWithinHours: 0, walkIn: { enabled: true, providerId: ' 2001 ', appointmentType: ' ' } })).toEqual(
      {
        markArrivedWithinHours: 0,
        walkIn: { enabled: true, providerId: '2001', durationMinutes: 15 },
      },
    );
  });

  it('WalkInDisabled is dead-lettered at once (fatal), not retried for an hour', () => {
    expect(failureKind('WalkInDisabled')).toBe('fatal');
    expect(decideRetry({ receivedAt: AT, now: AT, failure: failureKind('WalkInDisabled') })).toEqual({ action: 'deadLetter' });
  });
});

describe('the checkIn message', () => {
  const patient = { emrId: '17', firstName: 'Ada', lastName: 'Sim', birthDate: '1980-02-03' };
  it('the simulator check-in and walk-in shapes are accepted', () => {
    expect(parseOceanMessage(checkInMessage('c1', patient, AT)).checkIn).toEqual({ at: AT.toISOString() });
    expect(parseOceanMessage(checkInMessage('c2', patient, AT, { walkIn: true })).checkIn).toEqual({ at: AT.toISOString(), walkIn: true });
  });
  const bad: [string, unknown, RegExp][] = [
    ['a check-in without its section is refused', { messageId: 'c', type: 'checkIn', patient }, /^checkIn is required/],
    [
      'a check-in time without a zone is refused',
      { messageId: 'c', type: 'checkIn', patient, checkIn: { at: '2030-05-06T09:00:00' } },
      /^checkIn\.at must be/,
    ],
    [
      'a check-in time that is not a date is refused',
      { messageId: 'c', type: 'checkIn', patient, checkIn: { at: '2030-13-45T99:00:00Z' } },
      /^checkIn\.at must be/,
    ],
    [
      'a walkIn that is not a boolean is refused',
      { messageId: 'c', type: 'checkIn', patient, checkIn: { at: AT.toISOString(), walkIn: 'yes' } },
      /^checkIn\.walkIn must be/,
    ],
  ];
  it.each(bad)('%s', (_name, body, message) => {
    expect(() => parseOceanMessage(body)).toThrow(message);
  });
  it('an error names the field, never its value', () => {
    expect(() => parseOceanMessage({ messageId: 'c', type: 'checkIn', patient, checkIn: { at: 'Ada-secret-value' } })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('Ada-secret-value') }),
    );
  });
});

describe('a check-in delivered to the EMR', () => {
  const patient = { emrId: 'p1', firstName: 'Ada', lastName: 'Sim', birthDate: '1980-02-03' };
  function recorder(appointments: Appointment[]) {
    const calls: string[] = [];
    const created: AppointmentToCreate[] = [];
    const adapter = {
      type: 'OSCARPro',
      listAppointments: async (from: Date, to: Date) => {
        calls.push(`list ${from.toISOString()} ${to.toISOString()}`);
        return appointments;
      },
      markArrived: async (id: string, key: string) => {
        calls.push(`arrived ${id} ${key}`);
      },
      createAppointment: async (a: AppointmentToCreate) => {
        created.push(a);
        return { id: 'w1', duplicate: false };
      },
    } as unknown as EmrAdapter;
    return { adapter, calls, created };
  }
  it('marks the window of the patient, each appointment under a key of its own', async () => {
    const r = recorder([appt('a', 10), appt('b', 200), appt('c', 20, 'p2')]);
    await deliverToEmr(r.adapter, parseOceanMessage(checkInMessage('c1', patient, AT)), 'ocean-k', DEFAULT_FILING, DEFAULT_CHECK_IN);
    expect(r.calls).toEqual([`list ${min(-30)} ${min(120)}`, 'arrived a ocean-k-arrived-a']);
  });
  it('with N = 0 the EMR is not even asked', async () => {
    const r = recorder([appt('a', 10)]);
    await deliverToEmr(r.adapter, parseOceanMessage(checkInMessage('c2', patient, AT)), 'ocean-k', DEFAULT_FILING, {
      ...DEFAULT_CHECK_IN,
      markArrivedWithinHours: 0,
    });
    expect(r.calls).toEqual([]);
  });
  it('a walk-in creates the appointment under the message key and marks it arrived', async () => {
    const r = recorder([]);
    await deliverToEmr(
      r.adapter,
      parseOceanMessage(checkInMessage('c3', patient, AT, { walkIn: true })),
      'ocean-k',
      DEFAULT_FILING,
      WALK_INS,
    );
    expect(r.created).toEqual([
      { patientId: 'p1', providerId: 'd9', appointmentType: 'Walk-in', start: AT, durationMinutes: 20, idempotencyKey: 'ocean-k' },
    ]);
    expect(r.calls).toEqual(['arrived w1 ocean-k-arrived']);
  });
  it('a walk-in is a guarded step: after a crash the appointment the guard finds in the EMR is marked arrived, and none is created again', async () => {
    const r = recorder([]);
    const steps: GuardedStep[] = [];
    const guard: StepGuard = async (step) => {
      steps.push(step);
      return { id: 'found-7' }; // what the record or the EMR lookup gave: post() is not called
    };
    const message = parseOceanMessage(checkInMessage('c5', patient, AT, { walkIn: true }));
    await deliverToEmr(r.adapter, message, 'ocean-k', DEFAULT_FILING, WALK_INS, guard);
    expect(steps).toEqual([
      {
        recordKey: 'ocean-k',
        part: 'walk-in',
        key: 'ocean-k',
        kind: 'appointment',
        patientId: 'p1',
        appointment: { providerId: 'd9', start: AT },
      },
    ]);
    expect(r.created).toEqual([]);
    expect(r.calls).toEqual(['arrived found-7 ocean-k-arrived']);
  });
  it('looks a walk-in up by its key, patient, provider and start; an adapter without the lookup leaves only posting (the window)', async () => {
    const step: GuardedStep = {
      recordKey: 'k',
      part: 'walk-in',
      key: 'k',
      kind: 'appointment',
      patientId: 'p1',
      appointment: { providerId: 'd9', start: AT },
    };
    const asked: unknown[] = [];
    const adapter = {
      findAppointmentByKey: async (q: unknown) => {
        asked.push(q);
        return { id: 'w3' };
      },
    } as unknown as EmrAdapter;
    expect(await finderOf(adapter, step)?.()).toEqual({ id: 'w3' });
    expect(asked).toEqual([{ patientId: 'p1', idempotencyKey: 'k', providerId: 'd9', start: AT }]);
    expect(finderOf({} as EmrAdapter, step)).toBeUndefined();
    expect(decideRedelivery({ record: undefined, part: 'walk-in', deliveryCount: 2, replayed: false, canLookUp: true })).toBe(
      'lookup-then-post',
    );
    expect(decideRedelivery({ record: undefined, part: 'walk-in', deliveryCount: 2, replayed: false, canLookUp: false })).toBe('post');
  });
  it('a walk-in with walk-ins disabled ends in WalkInDisabled and the EMR is not called', async () => {
    const r = recorder([appt('a', 10)]);
    const error = await deliverToEmr(r.adapter, parseOceanMessage(checkInMessage('c4', patient, AT, { walkIn: true })), 'k').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RelayError);
    expect((error as RelayError).reason).toBe('WalkInDisabled');
    expect([...r.calls, ...r.created]).toEqual([]);
  });
});
