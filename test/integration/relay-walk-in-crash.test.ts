// A walk-in check-in's appointment create under the same guard as the eForms' posts
// (relay-crash-lookup.test.ts): the relay is killed while the EMR (Accuro, which ignores
// Idempotency-Key on creates as the real one does) is creating the walk-in, the EMR creates it anyway,
// and the redelivered message finds the appointment by the key stored in its externalReference
// instead of creating a second one; then marks it arrived.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDeliveryRecord } from '../../operator/cmd/relay/redelivery.ts';
import { openDeliveryBucket, queueFigures } from '../../operator/internal/relayqueue/queue.ts';
import { checkInMessage, referralAttachmentMessage } from '../simulators/ocean.ts';
import { eventually } from './operator-process.ts';
import { type RelayHarness, startRelayHarness } from './relay-harness.ts';

let h: RelayHarness;
let spec: Record<string, string>;

beforeAll(async () => {
  h = await startRelayHarness({
    namespace: 'relay-walk-in-crash',
    env: { RELAY_ACK_WAIT_SECONDS: '5', CLOUDCONNECT_SITE_TIME_ZONE: 'America/Toronto' },
  });
  const current = JSON.parse(h.env['CLOUDCONNECT_INTEGRATION_SPEC'] ?? '{}') as Record<string, unknown>;
  const settings = { markArrivedWithinHours: 2, walkIn: { enabled: true, providerId: h.accuro.providerId(0), durationMinutes: 15 } };
  spec = { CLOUDCONNECT_INTEGRATION_SPEC: JSON.stringify({ ...current, settings }) };
});

afterAll(async () => {
  await h?.dispose();
});

describe('a relay killed while the EMR is creating a walk-in', () => {
  it('finds the appointment in the EMR after the redelivery, creates no second one, and marks the first arrived', async () => {
    expect(h.accuro.state.honorIdempotencyKey).toBe(false);
    await h.startRelay(spec);
    // A first message, so that the relay holds its token: the next call it makes is the create.
    expect((await h.ocean.deliverWebhook(h.webhookUrl, referralAttachmentMessage('oc-walk-warm', h.patient(2)))).status).toBe(202);
    await eventually(async () => (await queueFigures(h.js, h.namespace, h.integration)).pending === 0 || undefined, 'the first message');
    // The EMR now takes 4 s to answer: the walk-in is created after the relay is gone.
    h.accuro.setFault({ slowMs: 4000 });
    const message = checkInMessage('oc-walk-crash', h.patient(3), new Date(), { walkIn: true });
    const key = h.idempotencyKey(message);
    expect((await h.ocean.deliverWebhook(h.webhookUrl, message)).status).toBe(202);
    const records = await openDeliveryBucket(h.js, h.namespace, h.integration);
    const stepOf = async () => parseDeliveryRecord((await records.get(key))?.json())?.steps['walk-in'];
    await eventually(async () => (await stepOf())?.state === 'posting' || undefined, 'the create marked in progress');
    // The request is on its way (the mark is written just before it); give it time to reach the EMR, then kill.
    await new Promise((r) => setTimeout(r, 1500));
    await h.kill('SIGKILL');
    const walkIns = () => h.accuro.appointments.created().filter((a) => a.externalRef === key);
    const created = await eventually(async () => walkIns()[0], 'the EMR to create it', 20_000);
    expect(created.status).toBe('booked');
    expect(await stepOf()).toMatchObject({ state: 'posting' });

    h.accuro.clearFaults();
    await h.startRelay(spec);
    await eventually(async () => (await queueFigures(h.js, h.namespace, h.integration)).pending === 0 || undefined, 'the redelivery');
    expect(walkIns()).toHaveLength(1);
    expect(h.accuro.appointments.get(created.index).status).toBe('arrived');
    expect(h.accuro.appointments.ignoredRepeats).toEqual([]);
    expect(await stepOf()).toMatchObject({ state: 'done', id: String(created.index + 1) });
    expect(h.logs()).toMatch(/step found in the EMR after a redelivery/);
    // One create reached the EMR in all, and the lookup was the appointment listing.
    expect(h.accuro.requests.filter((r) => r.method === 'POST' && r.path === '/v1/scheduler/appointments')).toHaveLength(1);
    expect(h.accuro.requests.some((r) => r.method === 'GET' && r.path === '/v2/materials/appointments')).toBe(true);
    expect(h.accuro.appointments.created()).toHaveLength(1);
  }, 120_000);
});
