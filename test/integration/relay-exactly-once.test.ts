// Issue 7's main proof, made against the real EMRs' behaviour by issue 18: 10,000 EMR-bound messages
// posted by the Ocean simulator while the EMR simulator is down for two simulated hours (the relay
// runs on a clock 120× faster, injected through its environment), the relay process SIGKILLed three
// times and the nats-server killed and restarted once along the way; after recovery every message is
// in the EMR exactly once. The Accuro simulator IGNORES the Idempotency-Key header, as real Accuro
// does (its default, strict mode): a repeated post would be a second document or note, so exactly
// once rests on the relay's delivery records and its lookups in the EMR (delivery-record.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDeliveryRecord } from '../../operator/cmd/relay/redelivery.ts';
import { openDeliveryBucket, queueFigures } from '../../operator/internal/relayqueue/queue.ts';
import { scaledClock } from '../../operator/runtime/scaled-clock.ts';
import { eFormNoteMessage, referralAttachmentMessage } from '../simulators/ocean.ts';
import { eventually } from './operator-process.ts';
import { type RelayHarness, startRelayHarness } from './relay-harness.ts';

const MESSAGES = 10_000;
const SCALE = 120; // one simulated hour = 30 real seconds
const HOUR = 3_600_000;
const POST_CONCURRENCY = 24;

let h: RelayHarness;
const origin = Date.now();
const clock = scaledClock(origin, SCALE);
const simHoursSinceStart = () => (clock.now().getTime() - origin) / HOUR;

beforeAll(async () => {
  h = await startRelayHarness({
    namespace: 'relay-exactly-once',
    // Leniency opted in: 10,000 documents under the default request budget would take the EMR's
    // windows, not the relay's work, to deliver; 429s are proven in fidelity.test.ts and the relay's own tests.
    emrLimits: { rateLimit: false },
    env: {
      CLOUDCONNECT_RELAY_TIME_SCALE: String(SCALE),
      CLOUDCONNECT_RELAY_TIME_ORIGIN: new Date(origin).toISOString(),
      RELAY_ACK_WAIT_SECONDS: '10',
    },
  });
});

afterAll(async () => {
  await h?.dispose();
});

describe('10,000 messages through an EMR outage, relay crashes and a NATS restart', () => {
  it('are all in the EMR exactly once after recovery', async () => {
    const events: string[] = [];
    const note = (what: string) => events.push(`${simHoursSinceStart().toFixed(2)} h: ${what}`);
    // The EMR is down from the start for two simulated hours.
    h.accuro.setFault({ serverError: true });
    expect(h.accuro.state.honorIdempotencyKey).toBe(false);
    await h.startRelay();
    const ids = Array.from({ length: MESSAGES }, (_, i) => `oc-msg-${String(i).padStart(5, '0')}`);

    // Ocean posts everything (the challenge handshake each time), retrying a failed post as it does.
    let posted = 0;
    let failedPosts = 0;
    let crashedOnce = false;
    let natsRestarted = false;
    const disruption = async () => {
      if (!crashedOnce && posted >= MESSAGES * 0.3) {
        crashedOnce = true;
        note(`SIGKILL relay #1 after ${posted} posts`);
        await h.kill('SIGKILL');
        await h.startRelay();
      }
      if (!natsRestarted && posted >= MESSAGES * 0.6) {
        natsRestarted = true;
        note(`SIGKILL nats-server after ${posted} posts`);
        await h.nats.stop('SIGKILL');
        await new Promise((r) => setTimeout(r, 1000));
        await h.nats.restart();
        note('nats-server restarted on the same store');
      }
    };
    let next = 0;
    const payloads = new Map<string, Record<string, unknown>>();
    const poster = async () => {
      while (next < ids.length) {
        const i = next++;
        const id = ids[i] as string;
        const patient = h.patient(i % 200);
        const payload = i % 2 === 0 ? eFormNoteMessage(id, patient) : referralAttachmentMessage(id, patient);
        payloads.set(id, payload);
        const delivery = await h.ocean.deliverWebhook(h.webhookUrl, payload, {}, { attempts: 60, retryDelayMs: 500 });
        if (delivery.status !== 202) failedPosts++;
        posted++;
      }
    };
    const disruptor = (async () => {
      while (posted < ids.length) {
        await disruption();
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await Promise.all([...Array.from({ length: POST_CONCURRENCY }, poster), disruptor]);
    // Posts that failed while the relay or NATS was down were answered 5xx (or not at all) and retried by Ocean.
    const refused = h.ocean.webhookDeliveries.filter((d) => d.status !== 202);
    note(
      `all ${posted} posted; ${refused.length} deliveries failed and were retried (${refused.filter((d) => d.status === 503).length} answered 503)`,
    );
    expect(failedPosts).toBe(0);
    expect(refused.filter((d) => d.status === 503).length).toBeGreaterThan(0);
    expect(h.accuro.documents).toHaveLength(0);

    // Still within the outage: the second crash, with thousands of messages waiting for a retry.
    await eventually(async () => simHoursSinceStart() >= 1.2, 'one simulated hour and a bit', 120_000);
    const during = await queueFigures(h.js, h.namespace, h.integration);
    note(`SIGKILL relay #2 with ${during.pending} pending`);
    expect(during.pending).toBe(MESSAGES);
    await h.kill('SIGKILL');
    await h.startRelay();

    await eventually(async () => simHoursSinceStart() >= 2, 'two simulated hours', 120_000);
    h.accuro.clearFaults();
    note('EMR back');

    // The third crash while the backlog drains.
    await eventually(async () => h.accuro.documents.length >= MESSAGES * 0.3, 'a third of the backlog delivered', 180_000);
    note(`SIGKILL relay #3 after ${h.accuro.documents.length} documents`);
    await h.kill('SIGKILL');
    await h.startRelay();

    await eventually(
      async () => (await queueFigures(h.js, h.namespace, h.integration)).pending === 0 || undefined,
      'the queue to drain',
      240_000,
    );
    note(`drained: ${h.accuro.documents.length} documents, ${h.accuro.notes.length} notes, ${h.accuro.duplicates.length} repeated posts`);

    // What the relay did about the crashes (its log lines, one per step looked up in the EMR).
    const logs = h.logs();
    const found = (logs.match(/step found in the EMR after a redelivery/g) ?? []).length;
    const blind = (logs.match(/cannot look the step up in the EMR/g) ?? []).length;
    note(
      `${found} steps found in the EMR after a redelivery (each a duplicate against a relay without delivery records), ${blind} posted again without a lookup`,
    );
    process.stderr.write(`[relay-exactly-once] ${events.join('; ')}\n`);

    // The window a crash must hit to leave a step uncertain: from the EMR storing the document (its
    // clock, real time) to the relay recording it done (the relay's clock, scaled back to real time).
    const records = await openDeliveryBucket(h.js, h.namespace, h.integration);
    const windowsMs: number[] = [];
    for (let i = 0; i < h.accuro.documents.length; i += 200) {
      const chunk = h.accuro.documents.slice(i, i + 200);
      const entries = await Promise.all(chunk.map((d) => records.get(d.idempotencyKey ?? '')));
      entries.forEach((entry, j) => {
        const done = parseDeliveryRecord(entry?.json())?.steps[''];
        const doc = chunk[j];
        if (done?.state === 'done' && doc) windowsMs.push(origin + (Date.parse(done.at) - origin) / SCALE - Date.parse(doc.receivedAt));
      });
    }
    windowsMs.sort((a, b) => a - b);
    const pct = (p: number) => (windowsMs[Math.min(windowsMs.length - 1, Math.floor(p * windowsMs.length))] ?? Number.NaN).toFixed(1);
    note(`EMR stored → relay recorded done, over ${windowsMs.length} documents: p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${pct(1)} ms`);
    process.stderr.write(`[relay-exactly-once] ${events.join('; ')}\n`);
    // Every document the EMR holds is recorded done, with the EMR's id, in the relay's delivery records.
    expect(windowsMs).toHaveLength(MESSAGES);

    // Count in = count out, every message once, nothing dead: one document per message, one chart note per eForm.
    const keys = h.accuro.documents.map((d) => d.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toHaveLength(MESSAGES);
    const expected = new Set(ids.map((id) => h.idempotencyKey(payloads.get(id) ?? {})));
    expect(keys.filter((k) => k === undefined || !expected.has(k))).toEqual([]);
    const noteKeys = h.accuro.notes.map((n) => n.idempotencyKey);
    expect(new Set(noteKeys).size).toBe(noteKeys.length);
    expect(noteKeys).toHaveLength(MESSAGES / 2);
    const expectedNotes = new Set(ids.filter((_, i) => i % 2 === 0).map((id) => `${h.idempotencyKey(payloads.get(id) ?? {})}-note`));
    expect(noteKeys.filter((k) => k === undefined || !expectedNotes.has(k))).toEqual([]);
    // The EMR ignores the key, so a repeated post would be a second record: there was none.
    expect(h.accuro.duplicates).toEqual([]);
    expect(blind).toBe(0);
    const figures = await queueFigures(h.js, h.namespace, h.integration);
    expect(figures).toEqual({ pending: 0, deadLettered: 0 });
    // Three crashes and one NATS restart happened (the harness saw each relay start).
    expect((h.logs().match(/"message":"relay ready"/g) ?? []).length).toBe(4);
    expect(natsRestarted).toBe(true);
  }, 600_000);
});
