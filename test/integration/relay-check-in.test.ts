// The check-in settings ("Mark Arrived within N hours", "Walk-in") take effect in what each EMR
// simulator STORED, through the real path: Ocean's webhook → the relay process → NATS JetStream →
// the EMR simulator over https. The clinic is in Toronto (the EMR's wall clock for OSCAR and
// Accuro); the check-ins happen on a fixed day, on which the only appointments are the ones seeded
// here. The relay clock runs 60× faster, so a retry 1 minute after receipt comes 1 real second later.
// Settings change as they do in a cluster: the relay restarts with the new spec.
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmrSettings } from '../../operator/api/v1alpha1/index.ts';
import {
  deadLetterSubject,
  type RelayStatusRecord,
  relayQueueNames,
  STATUS_BUCKET,
  statusKey,
} from '../../operator/internal/relayqueue/contract.ts';
import { DEAD_REASON_HEADER, queueFigures, replayDeadLetters } from '../../operator/internal/relayqueue/queue.ts';
import { checkInMessage } from '../simulators/ocean.ts';
import { eventually } from './operator-process.ts';
import { type EmrRelay, FILING_EMRS, type FilingEmr, startEmrRelay } from './relay-emr.ts';

const SCALE = 60;
const clockEnv = {
  CLOUDCONNECT_RELAY_TIME_SCALE: String(SCALE),
  CLOUDCONNECT_RELAY_TIME_ORIGIN: new Date().toISOString(),
  CLOUDCONNECT_SITE_TIME_ZONE: 'America/Toronto',
};

/** The walk-in appointment type as the clinic names it for each EMR (FHIR: a code of HL7 v2-0276), and as the EMR stores it. */
const WALK_IN_TYPE: Record<FilingEmr, { setting: string; stored: string }> = {
  Accuro: { setting: 'Walk-in', stored: 'Walk-in' },
  OSCARPro: { setting: 'Walk-in', stored: 'Walk-in' },
  FHIR: { setting: 'WALKIN', stored: 'WALKIN' },
  PSSuite: { setting: 'Walk-in', stored: 'WALKIN' },
  MedAccess: { setting: 'Walk-in', stored: 'WALKIN' },
};

/** 10:00 in Toronto on 4 March 2031 (EST, UTC−5): a day with no generated appointments. */
const DAY = Date.parse('2031-03-04T15:00:00Z');
const at = (minutes: number) => new Date(DAY + minutes * 60_000);

describe.each(FILING_EMRS)('check-in in %s', (type) => {
  let r: EmrRelay;
  let n = 0;
  const id = (what: string) => `${type}-${what}-${++n}`;
  const deliver = async (message: Record<string, unknown>) => {
    expect((await r.harness.ocean.deliverWebhook(r.harness.webhookUrl, message)).status).toBe(202);
  };
  const restartWith = async (settings: EmrSettings) => {
    await r.harness.kill('SIGTERM');
    await r.harness.startRelay(r.specWith(settings));
  };
  const seed = (patientIndex: number, startMinutes: number, status: 'booked' | 'cancelled' = 'booked') =>
    r.emr.appointments.add({ patientIndex, providerIndex: 0, start: at(startMinutes), durationMinutes: 15, status }).index;
  const statusOf = (index: number) => r.emr.appointments.get(index).status;
  const walkIns = (settings: Partial<NonNullable<EmrSettings['walkIn']>> = {}): EmrSettings => ({
    markArrivedWithinHours: 2,
    walkIn: {
      enabled: true,
      providerId: r.emr.providerId(0),
      appointmentType: WALK_IN_TYPE[type].setting,
      durationMinutes: 20,
      ...settings,
    },
  });

  beforeAll(async () => {
    r = await startEmrRelay({ namespace: `check-in-${type.toLowerCase()}`, type, settings: { markArrivedWithinHours: 2 }, env: clockEnv });
    await r.harness.startRelay();
  }, 120_000);
  afterAll(async () => {
    await r?.dispose();
  });

  it('a check-in marks arrived the appointments starting within N hours, and no later one, no other patient’s, no cancelled one', async () => {
    const now = seed(1, 5);
    const late = seed(1, -20);
    const within = seed(1, 110);
    const later = seed(1, 125);
    const cancelled = seed(1, 30, 'cancelled');
    const otherPatient = seed(2, 10);
    const before = r.emr.appointments.changes.length;
    await deliver(checkInMessage(id('ci'), r.patient(1), at(0)));
    await eventually(async () => r.emr.appointments.changes.length - before >= 3 || undefined, 'the arrivals');
    // Give a wrong extra change the time to happen before asserting there is none.
    await eventually(
      async () => (await queueFigures(r.harness.js, r.harness.namespace, r.harness.integration)).pending === 0 || undefined,
      'the queue to drain',
    );
    expect([now, late, within].map(statusOf)).toEqual(['arrived', 'arrived', 'arrived']);
    expect([later, otherPatient].map(statusOf)).toEqual(['booked', 'booked']);
    expect(statusOf(cancelled)).toBe('cancelled');
    expect(
      r.emr.appointments.changes
        .slice(before)
        .map((c) => c.index)
        .sort(),
    ).toEqual([now, late, within].sort());
  });

  it('with markArrivedWithinHours 0, a check-in marks nothing', async () => {
    await restartWith({ markArrivedWithinHours: 0 });
    const soon = seed(3, 10);
    const before = r.emr.appointments.changes.length;
    await deliver(checkInMessage(id('ci'), r.patient(3), at(0)));
    const h = r.harness;
    // The webhook answered 202 once the message was stored: an empty queue means it was delivered (acked).
    await eventually(async () => (await queueFigures(h.js, h.namespace, h.integration)).pending === 0 || undefined, 'the delivery');
    expect((await queueFigures(h.js, h.namespace, h.integration)).deadLettered).toBe(0);
    expect(statusOf(soon)).toBe('booked');
    expect(r.emr.appointments.changes.length).toBe(before);
  });

  it('a walk-in check-in creates exactly one appointment of the configured provider, type and duration, arrived, even when delivered twice and retried after a failure', async () => {
    await restartWith(walkIns());
    const patient = r.patient(4);
    const message = checkInMessage(id('walk'), patient, at(17), { walkIn: true });
    const key = r.harness.idempotencyKey(message);
    // The EMR creates the appointment, then fails the status update: the relay retries the whole message.
    r.emr.setFault({ failStatusUpdates: 503 });
    await deliver(message);
    await deliver(message);
    await eventually(async () => r.emr.appointments.created().some((a) => a.idempotencyKey === key) || undefined, 'the walk-in');
    r.emr.setFault({ failStatusUpdates: null });
    await eventually(
      async () => r.emr.appointments.created().find((a) => a.idempotencyKey === key && a.status === 'arrived'),
      'the walk-in arrived',
    );
    const created = r.emr.appointments.created().filter((a) => a.patientIndex === 4);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({
      providerIndex: 0,
      appointmentType: WALK_IN_TYPE[type].stored,
      start: at(17),
      durationMinutes: 20,
      status: 'arrived',
      idempotencyKey: key,
      externalRef: key,
    });
    // The EMR ignores the key (strict, as real Accuro and OSCAR): the retry did not create again because
    // the relay's delivery record held the walk-in's id (delivery-record.ts), not because the EMR replayed.
    expect(r.emr.state.honorIdempotencyKey).toBe(false);
    expect(r.emr.appointments.replays).toEqual([]);
    expect(r.emr.appointments.ignoredRepeats).toEqual([]);
  }, 90_000);

  it('with walk-ins disabled, a walk-in check-in is dead-lettered with reason WalkInDisabled and the EMR is untouched', async () => {
    await restartWith({ markArrivedWithinHours: 2, walkIn: { enabled: false } });
    const h = r.harness;
    const booked = seed(5, 10);
    const count = r.emr.appointments.count;
    const changes = r.emr.appointments.changes.length;
    const deadBefore = (await queueFigures(h.js, h.namespace, h.integration)).deadLettered;
    await deliver(checkInMessage(id('walk'), r.patient(5), at(0), { walkIn: true }));
    await eventually(
      async () => (await queueFigures(h.js, h.namespace, h.integration)).deadLettered === deadBefore + 1 || undefined,
      'the dead letter',
    );
    const dead = await h.jsm.direct.getMessage(relayQueueNames(h.namespace, h.integration).deadStream, {
      last_by_subj: deadLetterSubject(h.namespace, h.integration),
    });
    expect(dead?.header.get(DEAD_REASON_HEADER)).toBe('WalkInDisabled');
    const kv = await new Kvm(h.js).open(STATUS_BUCKET);
    const record = await eventually(async () => {
      const s = (await kv.get(statusKey(h.namespace, h.integration)))?.json<RelayStatusRecord>();
      return s?.lastFailureReason === 'WalkInDisabled' ? s : undefined;
    }, 'the status record');
    expect(record.lastFailureReason).toBe('WalkInDisabled');
    expect(r.emr.appointments.count).toBe(count);
    expect(r.emr.appointments.changes.length).toBe(changes);
    expect(statusOf(booked)).toBe('booked');
  });

  it('once walk-ins are enabled, replaying the WalkInDisabled dead letter books the walk-in, arrived', async () => {
    await restartWith(walkIns());
    const h = r.harness;
    expect(r.emr.appointments.created().some((a) => a.patientIndex === 5)).toBe(false);
    expect(await replayDeadLetters(h.js, h.namespace, h.integration)).toBeGreaterThanOrEqual(1);
    const created = await eventually(
      async () => r.emr.appointments.created().find((a) => a.patientIndex === 5 && a.status === 'arrived'),
      'the replayed walk-in',
    );
    expect(created).toMatchObject({ providerIndex: 0, appointmentType: WALK_IN_TYPE[type].stored, start: at(0), durationMinutes: 20 });
  });
});
