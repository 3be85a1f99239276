// Attacks through a kiosk check-in (message type `checkIn`) against the real relay process, NATS and
// the OSCAR simulator over https (the EMR that takes wall-clock times). The attacker holds the webhook
// key (a compromised Ocean account or kiosk integration) and tries to make the EMR do more than the
// clinic's settings allow: book a walk-in for a provider, type or length of their choosing, mark
// another patient's appointment arrived, or read back what they sent through the refusal. Each test
// asserts the refusal or the settings' outcome AND that the victim (the other patient's appointment,
// the schedule) is untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayQueueNames } from '../../operator/internal/relayqueue/contract.ts';
import { queueFigures } from '../../operator/internal/relayqueue/queue.ts';
import { eventually } from '../integration/operator-process.ts';
import { type EmrRelay, startEmrRelay } from '../integration/relay-emr.ts';
import { checkInMessage } from '../simulators/ocean.ts';

const AT = new Date('2031-03-04T15:00:00Z');
const minutes = (m: number) => new Date(AT.getTime() + m * 60_000);

describe('a check-in from a key holder', () => {
  let r: EmrRelay;
  beforeAll(async () => {
    r = await startEmrRelay({
      namespace: 'check-in-attack',
      type: 'OSCARPro',
      settings: {
        markArrivedWithinHours: 2,
        walkIn: { enabled: true, providerId: '1001', appointmentType: 'Walk-in', durationMinutes: 15 },
      },
      env: { CLOUDCONNECT_SITE_TIME_ZONE: 'America/Toronto' },
    });
    await r.harness.startRelay();
  }, 120_000);
  afterAll(async () => {
    await r?.dispose();
  });
  const h = () => r.harness;
  const drained = () =>
    eventually(async () => (await queueFigures(h().js, h().namespace, h().integration)).pending === 0 || undefined, 'the queue to drain');

  it('cannot choose the walk-in provider, type, length or start: the EMR stores the configured ones', async () => {
    const message = checkInMessage('attack-walk-1', r.patient(6), AT, { walkIn: true });
    const forged = {
      ...message,
      checkIn: {
        ...(message['checkIn'] as object),
        providerId: '1002',
        appointmentType: 'Follow-up',
        durationMinutes: 240,
        start: minutes(600).toISOString(),
      },
      providerId: '1002',
      durationMinutes: 240,
    };
    expect((await h().ocean.deliverWebhook(h().webhookUrl, forged)).status).toBe(202);
    const created = await eventually(
      async () => r.emr.appointments.created().find((a) => a.patientIndex === 6 && a.status === 'arrived'),
      'the walk-in',
    );
    expect(created).toMatchObject({ providerIndex: 0, appointmentType: 'Walk-in', durationMinutes: 15, start: AT });
    expect(r.emr.appointments.created().filter((a) => a.patientIndex === 6)).toHaveLength(1);
  });

  it("cannot mark another patient's appointment arrived by naming it; only the checked-in patient's appointments change", async () => {
    const victim = r.emr.appointments.add({ patientIndex: 7, providerIndex: 0, start: minutes(10), durationMinutes: 15 }).index;
    const own = r.emr.appointments.add({ patientIndex: 8, providerIndex: 0, start: minutes(20), durationMinutes: 15 }).index;
    const before = r.emr.appointments.changes.length;
    const message = checkInMessage('attack-mark-1', r.patient(8), AT);
    const forged = {
      ...message,
      appointmentId: String(victim + 1),
      checkIn: { ...(message['checkIn'] as object), appointmentIds: [String(victim + 1)] },
    };
    expect((await h().ocean.deliverWebhook(h().webhookUrl, forged)).status).toBe(202);
    await eventually(async () => r.emr.appointments.get(own).status === 'arrived' || undefined, 'the own appointment');
    await drained();
    expect(r.emr.appointments.get(victim).status).toBe('booked');
    expect(r.emr.appointments.changes.slice(before).map((c) => c.index)).toEqual([own]);
  });

  it('is refused with 400 naming the field, never echoing the value, when its time has no zone; nothing is stored or changed', async () => {
    const seq = (await h().jsm.streams.info(relayQueueNames(h().namespace, h().integration).workStream)).state.last_seq;
    const count = r.emr.appointments.count;
    const changes = r.emr.appointments.changes.length;
    const body = { ...checkInMessage('attack-time-1', r.patient(9), AT), checkIn: { at: '2031-03-04T10:00:00 Ada Lovelace-Sim' } };
    const response = await fetch(h().webhookUrl, { method: 'POST', headers: h().authHeaders, body: JSON.stringify(body) });
    const text = await response.text();
    expect(response.status).toBe(400);
    expect(text).toContain('checkIn.at');
    expect(text).not.toContain('Lovelace');
    expect((await h().jsm.streams.info(relayQueueNames(h().namespace, h().integration).workStream)).state.last_seq).toBe(seq);
    expect(r.emr.appointments.count).toBe(count);
    expect(r.emr.appointments.changes.length).toBe(changes);
  });
});
