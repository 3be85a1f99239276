// A message the EMR refuses for good reaches the dead-letter subject after the permanent-failure
// schedule (the first hour's attempts, simulated 600× faster), the relay's status record and log say
// so, and replayDeadLetters (what the operator's replay annotation calls) delivers it once the
// EMR accepts it again, under the message's own idempotency key.

import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deadLetterSubject,
  type RelayStatusRecord,
  relayQueueNames,
  STATUS_BUCKET,
  statusKey,
} from '../../operator/internal/relayqueue/contract.ts';
import {
  DEAD_AT_HEADER,
  DEAD_REASON_HEADER,
  queueFigures,
  RECEIVED_AT_HEADER,
  replayDeadLetters,
} from '../../operator/internal/relayqueue/queue.ts';
import { scaledClock } from '../../operator/runtime/scaled-clock.ts';
import { referralAttachmentMessage } from '../simulators/ocean.ts';
import { eventually } from './operator-process.ts';
import { type RelayHarness, startRelayHarness } from './relay-harness.ts';

const SCALE = 600; // one simulated hour = 6 real seconds
let h: RelayHarness;
const origin = Date.now();
const clock = scaledClock(origin, SCALE);

beforeAll(async () => {
  h = await startRelayHarness({
    namespace: 'relay-dead-letter',
    env: { CLOUDCONNECT_RELAY_TIME_SCALE: String(SCALE), CLOUDCONNECT_RELAY_TIME_ORIGIN: new Date(origin).toISOString() },
  });
  await h.startRelay();
});

afterAll(async () => {
  await h?.dispose();
});

async function status(): Promise<RelayStatusRecord | undefined> {
  const kv = await new Kvm(h.js).open(STATUS_BUCKET);
  const entry = await kv.get(statusKey(h.namespace, h.integration));
  return entry ? entry.json<RelayStatusRecord>() : undefined;
}

describe('a permanently failing message', () => {
  it('is dead-lettered after the first hour of attempts and delivered by a replay once the fault is cleared', async () => {
    h.accuro.setFault({ rejectDocuments: 422 });
    const message = referralAttachmentMessage('oc-refused-1', h.patient(3));
    const delivery = await h.ocean.deliverWebhook(h.webhookUrl, message);
    expect(delivery.status).toBe(202);

    const dead = await eventually(
      async () => (await queueFigures(h.js, h.namespace, h.integration)).deadLettered === 1 || undefined,
      'the dead letter',
      60_000,
    );
    expect(dead).toBe(true);
    const stored = await h.jsm.direct.getMessage(relayQueueNames(h.namespace, h.integration).deadStream, {
      next_by_subj: deadLetterSubject(h.namespace, h.integration),
      seq: 1,
    });
    expect(stored).not.toBeNull();
    expect(stored?.header.get(DEAD_REASON_HEADER)).toBe('InvalidResponse');
    const waited = Date.parse(stored?.header.get(DEAD_AT_HEADER) ?? '') - Date.parse(stored?.header.get(RECEIVED_AT_HEADER) ?? '');
    // Not before the one-hour attempt, and not hours later (the transient schedule would go on for 96 h).
    expect(waited).toBeGreaterThanOrEqual(60 * 60_000);
    expect(waited).toBeLessThan(2 * 60 * 60_000);
    const attempts = h.accuro.requests.filter((r) => r.method === 'POST' && r.path.includes('documents')).length;
    expect(attempts).toBeGreaterThanOrEqual(4); // at receipt, then 1, 5, 10, 20, 30, 45, 60 min (a late one may skip a point)
    expect(attempts).toBeLessThanOrEqual(8);
    expect(h.accuro.documents).toHaveLength(0);
    expect(await queueFigures(h.js, h.namespace, h.integration)).toEqual({
      pending: 0,
      deadLettered: 1,
      oldestDeadLetterAt: expect.stringMatching(/^\d{4}-/),
    });

    // What the operator reads (Event, e-mail, the Delivering condition) and the Warning log line.
    const record = await eventually(async () => {
      const s = await status();
      return s && s.deadLettered === 1 ? s : undefined;
    }, 'the status record to count the dead letter');
    expect(record.lastFailureReason).toBe('InvalidResponse');
    expect(h.logs()).toMatch(
      /"level":"warn","message":"message dead-lettered","messageId":"oc-refused-1","namespace":"relay-dead-letter","reason":"InvalidResponse"/,
    );

    // The cause is fixed; the replay delivers it (replayed on the relay's clock so its schedule starts afresh).
    h.accuro.clearFaults();
    expect(await replayDeadLetters(h.js, h.namespace, h.integration, { now: clock.now })).toBe(1);
    await eventually(async () => h.accuro.documents.length === 1 || undefined, 'the replayed message in the EMR', 30_000);
    expect(h.accuro.documents[0]?.idempotencyKey).toBe(h.idempotencyKey(message));
    expect(h.accuro.documents[0]?.title).toBe('Referral letter');
    const after = await eventually(async () => {
      const s = await status();
      return s && s.deadLettered === 0 && s.deliveredTotal === 1 ? s : undefined;
    }, 'the status record after the replay');
    expect(after.lastFailureReason).toBeUndefined();
    expect(after.pending).toBe(0);
    // A second replay finds nothing.
    expect(await replayDeadLetters(h.js, h.namespace, h.integration, { now: clock.now })).toBe(0);
  }, 120_000);
});
