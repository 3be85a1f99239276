// The exactly-once path made deterministic (relay-exactly-once.test.ts hits it only when a SIGKILL
// happens to land inside a post): the relay is killed while its post is in the EMR's hands, the EMR
// (which ignores Idempotency-Key, as real Accuro does) stores the document anyway, and the
// redelivered message is looked up in the EMR by the key written into its file name instead of being
// posted a second time.
import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { parseDeliveryRecord } from '../../operator/cmd/relay/redelivery.ts';
import { openDeliveryBucket, queueFigures } from '../../operator/internal/relayqueue/queue.ts';
import { referralAttachmentMessage } from '../simulators/ocean.ts';
import { eventually } from './operator-process.ts';
import { type RelayHarness, startRelayHarness } from './relay-harness.ts';

let h: RelayHarness;

beforeAll(async () => {
  h = await startRelayHarness({ namespace: 'relay-crash-lookup', env: { RELAY_ACK_WAIT_SECONDS: '5' } });
});

afterAll(async () => {
  await h?.dispose();
});

describe('a relay killed while the EMR is storing its post', () => {
  it('finds the document in the EMR after the redelivery and does not post it again', async () => {
    expect(h.accuro.state.honorIdempotencyKey).toBe(false);
    await h.startRelay();
    // A first message, so that the relay holds its token and the folder list: the next call it makes is the document post.
    expect((await h.ocean.deliverWebhook(h.webhookUrl, referralAttachmentMessage('oc-warm-1', h.patient(2)))).status).toBe(202);
    await eventually(async () => (await queueFigures(h.js, h.namespace, h.integration)).pending === 0 || undefined, 'the first message');
    // The EMR now takes 4 s to answer: the document is stored after the relay is gone.
    h.accuro.setFault({ slowMs: 4000 });
    const message = referralAttachmentMessage('oc-crash-1', h.patient(3), 'Consult letter');
    const key = h.idempotencyKey(message);
    expect((await h.ocean.deliverWebhook(h.webhookUrl, message)).status).toBe(202);
    const records = await openDeliveryBucket(h.js, h.namespace, h.integration);
    const stepOf = async () => parseDeliveryRecord((await records.get(key))?.json())?.steps[''];
    await eventually(async () => (await stepOf())?.state === 'posting' || undefined, 'the step marked in progress');
    // The request is on its way (the mark is written just before it); give it time to reach the EMR, then kill.
    await new Promise((r) => setTimeout(r, 1500));
    await h.kill('SIGKILL');
    const stored = await eventually(async () => h.accuro.documents.find((d) => d.idempotencyKey === key), 'the EMR to store it', 20_000);
    expect(await stepOf()).toMatchObject({ state: 'posting' });

    h.accuro.clearFaults();
    await h.startRelay();
    await eventually(async () => (await queueFigures(h.js, h.namespace, h.integration)).pending === 0 || undefined, 'the redelivery');
    expect(h.accuro.documents.filter((d) => d.idempotencyKey === key)).toHaveLength(1);
    expect(h.accuro.duplicates).toEqual([]);
    expect(await stepOf()).toMatchObject({ state: 'done', id: stored.id });
    expect(h.logs()).toMatch(/step found in the EMR after a redelivery/);
    // The lookup was the patient's document list, and no second post of it reached the EMR (two posts: the first message's and this one's).
    expect(h.accuro.requests.filter((r) => r.method === 'GET' && r.path === '/v1/patients/4/documents').length).toBeGreaterThan(0);
    expect(h.accuro.requests.filter((r) => r.method === 'POST' && r.path === '/v1/provider-portal/documents')).toHaveLength(2);
    expect(h.accuro.documents).toHaveLength(2);
  }, 120_000);
});

describe('a message whose delivery record already exists when it first reaches the relay', () => {
  // Ocean sending a message again after JetStream's duplicate window: a first delivery, so the relay
  // writes its record without reading it first (delivery-record.ts), and the create must find it.
  it('is not posted again when the record says its step is done, and needs no retry to find that out', async () => {
    if (!h.current()) await h.startRelay();
    const retries = async () => {
      const text = await (await fetch(`http://127.0.0.1:${h.metricsPort}/metrics`)).text();
      return Number(/^cloudconnect_relay_deliveries_total\{[^}]*result="retry"[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    const retriesBefore = await retries();
    const message = referralAttachmentMessage('oc-sent-again-1', h.patient(5), 'Consult letter');
    const key = h.idempotencyKey(message);
    // Written as the relay's own user (the operator's may not touch delivery records).
    const relayNc = await h.nats.connectAs(await h.nats.relayCreds(h.namespace, h.integration), {
      namespace: h.namespace,
      integration: h.integration,
    });
    onTestFinished(() => relayNc.close());
    const records = await openDeliveryBucket(jetstream(relayNc), h.namespace, h.integration);
    const earlier = { v: 1, steps: { '': { state: 'done', id: 'doc-from-an-earlier-sending', at: '2026-12-01T00:00:00.000Z' } } };
    await records.put(key, JSON.stringify(earlier));
    const posts = () => h.accuro.requests.filter((r) => r.method === 'POST' && r.path === '/v1/provider-portal/documents').length;
    const before = posts();
    expect((await h.ocean.deliverWebhook(h.webhookUrl, message)).status).toBe(202);
    await eventually(async () => (await queueFigures(h.js, h.namespace, h.integration)).pending === 0 || undefined, 'the delivery');
    expect(posts()).toBe(before);
    expect(h.accuro.documents.filter((d) => d.idempotencyKey === key)).toEqual([]);
    expect(parseDeliveryRecord((await records.get(key))?.json())).toEqual(earlier);
    // The create that found the record read it and decided at once: no DeliveryRecordUnavailable retry.
    expect(await retries()).toBe(retriesBefore);
  }, 60_000);
});
