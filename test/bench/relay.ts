// `make bench-relay`: sustained messages/s from the relay's webhook to the EMR simulator, with
// durable storage (a real nats-server, JetStream file store), and p50/p99 end-to-end latency (post
// sent → document stored in the EMR); then, on the same server in the same run, a raw JetStream
// loop (publish with ack + consume with explicit ack, same payload size, same concurrency) as the
// ceiling; prints the ratio; then the fair ceiling (fairCeiling below: the same publish, consume and
// EMR calls, nothing of ours) and the relay's ratio to it. A second relay phase paces the posts at half the sustained rate for
// the latency of the path itself (a burst's latency is mostly time waiting in the backlog). The relay runs in this process (startRelay: intake, SEK encryption,
// publish, consumer, decrypt, Accuro adapter), as does the Accuro simulator:
// the figures are for one machine's CPUs shared by both; the posting client
// runs in a worker thread (relay-poster.ts) as Ocean runs elsewhere. Ocean's challenge handshake is
// left out of the loop (Ocean shakes hands per webhook registration; the simulator's per-delivery
// handshake would double the HTTP calls). Asserts nothing about speed.
// Knobs: BENCH_MESSAGES (default 5000), BENCH_CONCURRENCY (posts in flight, default 32),
// BENCH_RELAY_CONCURRENCY (deliveries in flight, default 16), NATS_SERVER_BIN.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { contentHashOf } from '../../operator/cmd/relay/message-id.ts';
import { idempotencyKeyOf, type OceanMessage } from '../../operator/cmd/relay/messages.ts';
import { startRelay } from '../../operator/cmd/relay/relay.ts';
import { SekKeyring } from '../../operator/cmd/relay/sek-keyring.ts';
import { fixedWebhookKeys, newWebhookKeyRecord, TEST_SERVER_LIMITS, TEST_WEBHOOK_LIMITS } from '../../operator/cmd/relay/test-helpers.ts';
import { AccuroAdapter } from '../../operator/internal/emr/accuro.ts';
import { mintUserCreds } from '../../operator/internal/relayqueue/nats-auth.ts';
import { DEFAULT_RELAY_QUEUE_LIMITS, ensureIntegrationStreams, ensureStatusBucket } from '../../operator/internal/relayqueue/queue.ts';
import { createLogger } from '../../operator/runtime/logger.ts';
import { realClock } from '../../operator/runtime/scaled-clock.ts';
import { startNatsServer } from '../integration/nats.ts';
import { ACCURO_DEV_CREDENTIALS, start as startAccuro } from '../simulators/accuro.ts';
import { SIMULATOR_EGRESS } from '../simulators/egress.ts';
import { eFormNoteMessage, referralAttachmentMessage } from '../simulators/ocean.ts';
import type { PosterJob, PosterResult } from './relay-poster.ts';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? '5000');
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? '32');
const RELAY_CONCURRENCY = Number(process.env.BENCH_RELAY_CONCURRENCY ?? '16');
const log = (message: string) => process.stdout.write(`[bench-relay] ${message}\n`);
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

/** Posts from a worker thread (relay-poster.ts): Ocean's side of the webhook is not the relay's CPU. */
function postFromWorker(job: PosterJob): Promise<PosterResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./relay-poster.ts', import.meta.url), { workerData: job });
    worker.once('message', (result: PosterResult) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

async function inParallel(count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

/**
 * The fair ceiling: the same JetStream publish (the message JSON) and consume with the relay's
 * concurrency, and for each message the EMR calls the relay makes for it (an eForm: its note, then
 * its PDF; a referral attachment: its PDF) through the same adapter to the same simulator; nothing
 * else (no webhook, no encryption, no filing plan, no status, no logging).
 */
async function fairCeiling(
  rawNc: Awaited<ReturnType<Awaited<ReturnType<typeof startNatsServer>>['connectAs']>>,
  bodies: { body: string }[],
): Promise<{ rate: number; ms: number; latencies: number[] }> {
  const js = jetstream(rawNc);
  const jsm = await jetstreamManager(rawNc);
  await jsm.streams.add({
    name: 'BENCH_FAIR',
    subjects: ['bench.fair'],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    max_bytes: 2 * 1024 ** 3,
  });
  await jsm.consumers.add('BENCH_FAIR', { durable_name: 'fair', ack_policy: AckPolicy.Explicit, max_ack_pending: RELAY_CONCURRENCY });
  const adapter = new AccuroAdapter({
    baseUrl: accuro.url,
    credentials: { ...ACCURO_DEV_CREDENTIALS },
    tenantId: accuro.tenantId,
    egress: SIMULATOR_EGRESS,
  });
  // Warm-up: the token and the folders, as the relay's warm-up did.
  await adapter.postDocument({ patientId: '1', title: 'warm', pdf: Buffer.from('%PDF-1.4 warm'), idempotencyKey: 'fair-warm' });
  accuro.state.resetDocuments();
  const latencies: number[] = [];
  let consumed = 0;
  const consumer = await js.consumers.get('BENCH_FAIR', 'fair');
  const messages = await consumer.consume({ max_messages: RELAY_CONCURRENCY * 2 });
  const perform = async (m: { data: Uint8Array; headers?: { get(k: string): string }; ack(): void }) => {
    const message = JSON.parse(Buffer.from(m.data).toString('utf8')) as OceanMessage;
    const key = `fair-${message.messageId}`;
    if (message.note) {
      if (message.note.text)
        await adapter.postNote({
          patientId: message.patient.emrId,
          title: message.note.title,
          text: message.note.text,
          idempotencyKey: `${key}-note`,
        });
      await adapter.postDocument({
        patientId: message.patient.emrId,
        title: message.note.title,
        pdf: Buffer.from(message.note.pdf, 'base64'),
        idempotencyKey: key,
      });
    } else if (message.attachment) {
      const a = message.attachment;
      await adapter.postDocument({
        patientId: message.patient.emrId,
        title: a.title,
        pdf: Buffer.from(a.data, 'base64'),
        idempotencyKey: key,
      });
    }
    m.ack();
    latencies.push(performance.now() - Number(m.headers?.get('t') ?? '0'));
  };
  const done = (async () => {
    const pending = new Set<Promise<void>>();
    for await (const m of messages) {
      const p = perform(m).finally(() => pending.delete(p));
      pending.add(p);
      if (pending.size >= RELAY_CONCURRENCY) await Promise.race(pending);
      if (++consumed >= bodies.length) break;
    }
    await Promise.all(pending);
  })();
  const { headers } = await import('@nats-io/transport-node');
  const t0 = performance.now();
  await inParallel(bodies.length, CONCURRENCY, async (i) => {
    const h = headers();
    h.set('t', String(performance.now()));
    await js.publish('bench.fair', Buffer.from((bodies[i] as { body: string }).body), { msgID: `fair-${i}`, headers: h });
  });
  await done;
  const ms = performance.now() - t0;
  latencies.sort((a, b) => a - b);
  return { rate: (bodies.length / ms) * 1000, ms, latencies };
}

const nats = await startNatsServer({ name: 'bench-relay' });
// No request budget (limits.ts leniency): the bench measures the relay against its ceiling, not an EMR's quota.
const accuro = await startAccuro({ volume: { providers: 2, patients: 500, appointmentsPerDay: 4, days: 1 }, limits: { rateLimit: false } });
// As in production: the operator provisions the streams (a burst-sized queue here), the relay connects as its own user.
const admin = await nats.connectAs(await nats.operatorCreds());
await ensureStatusBucket(jetstream(admin));
await ensureIntegrationStreams(jetstream(admin), 'bench', 'accuro', { ...DEFAULT_RELAY_QUEUE_LIMITS, workMaxBytes: 2 * 1024 ** 3 });
const nc = await nats.connectAs(await nats.relayCreds('bench', 'accuro'), { namespace: 'bench', integration: 'accuro' });
// The raw loop's own user, with every subject (a ceiling, not a tenant).
const rawNc = await nats.connectAs(
  (await mintUserCreds(nats.trust.signer, 'bench raw', { pub: { allow: ['>'] }, sub: { allow: ['>'] } })).creds,
);
try {
  log(
    `nats-server ${nats.url} (JetStream file store ${nats.storeDir}); ${MESSAGES} messages, ${CONCURRENCY} posts in flight, relay concurrency ${RELAY_CONCURRENCY}`,
  );
  const sek = randomBytes(32).toString('base64url');
  const webhookKey = newWebhookKeyRecord();
  const keyOf = (message: OceanMessage) =>
    idempotencyKeyOf('bench', 'accuro', message.messageId, contentHashOf(message, webhookKey.idSalt));
  const postHeaders = { 'content-type': 'application/json', [TEST_WEBHOOK_LIMITS.apiKeyHeader]: webhookKey.current };
  const relay = await startRelay({
    nc,
    namespace: 'bench',
    integration: 'accuro',
    siteNumber: '4242',
    keyring: new SekKeyring(async (version) => ({ value: sek, version: version ?? 1 })),
    adapter: new AccuroAdapter({
      baseUrl: accuro.url,
      credentials: { ...ACCURO_DEV_CREDENTIALS },
      tenantId: accuro.tenantId,
      egress: SIMULATOR_EGRESS,
    }),
    clock: realClock,
    logger: createLogger({ level: 'warn' }),
    port: 0,
    metricsPort: 0,
    webhookKeys: fixedWebhookKeys(webhookKey),
    limits: { ...TEST_WEBHOOK_LIMITS, maxInFlight: CONCURRENCY * 2 },
    server: TEST_SERVER_LIMITS,
    host: '127.0.0.1',
    concurrency: RELAY_CONCURRENCY,
    statusIntervalMs: 5000,
    defaultMetrics: false,
  });
  const url = `http://127.0.0.1:${relay.port}/ocean/webhook`;
  const bodies = Array.from({ length: MESSAGES }, (_, i) => {
    const p = accuro.data.patient(i % 500);
    const patient = { emrId: String((i % 500) + 1), firstName: p.firstName, lastName: p.lastName, birthDate: p.birthDate };
    const id = `bench-${i}`;
    const message = (i % 2 ? referralAttachmentMessage(id, patient) : eFormNoteMessage(id, patient)) as OceanMessage;
    return { id, key: keyOf(message), body: JSON.stringify(message) };
  });
  const payloadBytes = bodies.reduce((n, b) => n + b.body.length, 0) / bodies.length;

  // Warm-up (token, folders, JIT): 50 messages, not counted.
  await inParallel(50, 8, async (i) => {
    const r = await fetch(url, {
      method: 'POST',
      headers: postHeaders,
      body: JSON.stringify(eFormNoteMessage(`warm-${i}`, { emrId: '1', firstName: 'W', lastName: 'W', birthDate: '2000-01-01' })),
    });
    await r.arrayBuffer();
  });
  while (accuro.documents.length < 50) await new Promise((r) => setTimeout(r, 20));
  accuro.state.resetDocuments();

  const t0 = performance.now();
  const wall0 = Date.now();
  const burst = await postFromWorker({ url, headers: postHeaders, bodies, concurrency: CONCURRENCY });
  const sentAt = new Map(burst.sentAt);
  const intakeMs = burst.ms;
  while (accuro.documents.length < MESSAGES) await new Promise((r) => setTimeout(r, 10));
  const totalMs = performance.now() - t0;
  const latencies = accuro.documents
    .map((d) => Date.parse(d.receivedAt) - (sentAt.get(d.idempotencyKey ?? '') ?? wall0))
    .sort((a, b) => a - b);
  const relayRate = (MESSAGES / totalMs) * 1000;
  log(
    `relay: ${burst.accepted}/${MESSAGES} accepted (202 after the JetStream ack) in ${(intakeMs / 1000).toFixed(1)} s (${Math.round((MESSAGES / intakeMs) * 1000)} posts/s);`,
  );
  log(
    `relay: webhook → EMR ${Math.round(relayRate)} messages/s sustained (${(totalMs / 1000).toFixed(1)} s for ${MESSAGES}, ~${Math.round(payloadBytes)} B payloads), end-to-end p50 ${fmt(pct(latencies, 50))}, p99 ${fmt(pct(latencies, 99))} (a burst: includes the wait in the backlog), duplicates in the EMR ${accuro.duplicates.filter((d) => !d.honored).length}`,
  );

  // Below saturation: posts paced at half the sustained rate, so latency is the path, not the backlog.
  const paced = Math.min(MESSAGES, 2000);
  const pacedRate = Math.max(1, Math.round(relayRate / 2));
  accuro.state.resetDocuments();
  const pacedBodies = bodies.slice(0, paced).map((b, i) => {
    const message = { ...JSON.parse(b.body), messageId: `paced-${i}` } as OceanMessage;
    return { key: keyOf(message), body: JSON.stringify(message) };
  });
  const p0 = Date.now();
  const pacedRun = await postFromWorker({
    url,
    headers: postHeaders,
    bodies: pacedBodies,
    concurrency: CONCURRENCY,
    ratePerSecond: pacedRate,
  });
  const pacedSentAt = new Map(pacedRun.sentAt);
  while (accuro.documents.length < paced) await new Promise((r) => setTimeout(r, 10));
  const pacedLatencies = accuro.documents
    .map((d) => Date.parse(d.receivedAt) - (pacedSentAt.get(d.idempotencyKey ?? '') ?? p0))
    .sort((a, b) => a - b);
  log(
    `relay: paced at ${pacedRate} messages/s (half the sustained rate) for ${paced}: end-to-end p50 ${fmt(pct(pacedLatencies, 50))}, p99 ${fmt(pct(pacedLatencies, 99))}`,
  );
  await relay.stop();

  // The ceiling: raw JetStream on the same server, same payload size, same concurrency.
  const js = jetstream(rawNc);
  const jsm = await jetstreamManager(rawNc);
  await jsm.streams.add({
    name: 'BENCH_RAW',
    subjects: ['bench.raw'],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    max_bytes: 2 * 1024 ** 3,
  });
  await jsm.consumers.add('BENCH_RAW', { durable_name: 'raw', ack_policy: AckPolicy.Explicit, max_ack_pending: 20_000 });
  const payload = new Uint8Array(Math.round(payloadBytes * 1.4)); // the envelope: base64 of the encrypted payload plus fields
  const rawLatencies: number[] = [];
  let consumed = 0;
  const consumer = await js.consumers.get('BENCH_RAW', 'raw');
  const messages = await consumer.consume({ max_messages: RELAY_CONCURRENCY * 4 });
  const done = (async () => {
    for await (const m of messages) {
      rawLatencies.push(performance.now() - Number(m.headers?.get('t') ?? '0'));
      m.ack();
      if (++consumed >= MESSAGES) break;
    }
  })();
  const { headers } = await import('@nats-io/transport-node');
  const r0 = performance.now();
  await inParallel(MESSAGES, CONCURRENCY, async (i) => {
    const h = headers();
    h.set('t', String(performance.now()));
    await js.publish('bench.raw', payload, { msgID: `raw-${i}`, headers: h });
  });
  await done;
  const rawMs = performance.now() - r0;
  rawLatencies.sort((a, b) => a - b);
  const rawRate = (MESSAGES / rawMs) * 1000;
  log(
    `raw JetStream: publish+ack and consume+ack ${Math.round(rawRate)} messages/s (${(rawMs / 1000).toFixed(1)} s for ${MESSAGES}, ${payload.length} B), p50 ${fmt(pct(rawLatencies, 50))}, p99 ${fmt(pct(rawLatencies, 99))}`,
  );
  log(
    `ratio: the relay sustains ${(relayRate / rawRate).toFixed(2)}× the raw JetStream loop's rate (the rest is HTTP in and out, SEK encryption/decryption, and the EMR simulator, all on the same CPUs)`,
  );

  const fair = await fairCeiling(rawNc, bodies);
  log(
    `fair ceiling: publish + consume (${RELAY_CONCURRENCY} in flight) + the same EMR calls to the same simulator ${Math.round(fair.rate)} messages/s (${(fair.ms / 1000).toFixed(1)} s for ${MESSAGES}), p50 ${fmt(pct(fair.latencies, 50))}, p99 ${fmt(pct(fair.latencies, 99))}`,
  );
  log(
    `ratio: the relay sustains ${(relayRate / fair.rate).toFixed(2)}× the fair ceiling (what remains is ours: webhook intake, SEK encryption/decryption, parsing, filing, status, logging)`,
  );
} finally {
  await nc.close();
  await rawNc.close();
  await admin.close();
  await nats.dispose();
  await accuro.stop();
}
