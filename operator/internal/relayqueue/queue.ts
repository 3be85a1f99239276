// The relay's JetStream objects and the operations both sides need. The operator provisions them
// (ensureStatusBucket once, ensureIntegrationStreams per EmrIntegration, with the limits of its
// configuration); a relay only binds to them (its NATS user may create nothing but its own durable
// consumer, ensureRelayConsumer). Dead-lettering, replaying dead letters (the operator's replay
// annotation) and the figures of one integration are here too. Names come from contract.ts; the
// headers below extend it.
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { type MsgHdrs, headers as natsHeaders } from '@nats-io/transport-node';
import { KEY_VERSION_HEADER, relayQueueNames, STATUS_BUCKET } from './contract.ts';

/** When the relay accepted the message (ISO 8601, relay clock); the retry schedule counts from it. */
export const RECEIVED_AT_HEADER = 'Cloudconnect-Received-At';
/** Ocean's message id (not PHI); the EMR idempotency key is derived from it. */
export const OCEAN_MESSAGE_ID_HEADER = 'Cloudconnect-Ocean-Message-Id';
/** 128-bit hash of the message's content (operator/cmd/relay/message-id.ts; not PHI): scopes the de-duplication id and the EMR idempotency key. */
export const CONTENT_HASH_HEADER = 'Cloudconnect-Content-Hash';
/** eFormNote | referralAttachment | demographicUpdate (not PHI). */
export const MESSAGE_TYPE_HEADER = 'Cloudconnect-Message-Type';
/** On a dead letter: the failure reason (an EmrErrorReason or a relay reason) and when. */
export const DEAD_REASON_HEADER = 'Cloudconnect-Dead-Reason';
export const DEAD_AT_HEADER = 'Cloudconnect-Dead-At';
/** On a replayed message: when it was first received. */
export const FIRST_RECEIVED_AT_HEADER = 'Cloudconnect-First-Received-At';

const NS = 1_000_000;
/** Publishes with the same Nats-Msg-Id within this window are stored once (Ocean retries a webhook it saw fail). */
const DUPLICATE_WINDOW_MS = 2 * 60 * 60_000;
/** The status bucket: one small record per integration. */
const STATUS_BUCKET_MAX_BYTES = 64 * 1024 * 1024;
const STATUS_VALUE_MAX_BYTES = 4096;

/** Per-integration limits (the operator's RELAY_QUEUE_* and RELAY_DEAD_LETTER_* variables). */
export interface RelayQueueLimits {
  /** Bytes of the work stream; at the limit intake answers 503 for this integration only. */
  workMaxBytes: number;
  /** Messages of the work stream; likewise. */
  workMaxMessages: number;
  /** Bytes of the dead-letter stream; past it the oldest dead letters are dropped. */
  deadMaxBytes: number;
  /** A dead letter is dropped this long after it was dead-lettered. */
  deadMaxAgeMs: number;
  /** 1 on a single node; 3 on a clustered JetStream (R3). */
  replicas?: number;
}

export const DEFAULT_RELAY_QUEUE_LIMITS: RelayQueueLimits = {
  workMaxBytes: 256 * 1024 * 1024,
  workMaxMessages: 100_000,
  deadMaxBytes: 64 * 1024 * 1024,
  deadMaxAgeMs: 14 * 24 * 60 * 60_000,
};

async function ensureStream(jsm: JetStreamManager, config: Parameters<JetStreamManager['streams']['add']>[0]): Promise<void> {
  try {
    await jsm.streams.info(config.name);
    await jsm.streams.update(config.name, config);
  } catch (error) {
    if (!/stream not found/i.test((error as Error).message) && (error as { code?: number }).code !== 404) throw error;
    await jsm.streams.add(config);
  }
}

/** The operator: creates (or opens) the shared status bucket. Idempotent. */
export async function ensureStatusBucket(js: JetStreamClient, options: { replicas?: number } = {}): Promise<KV> {
  return new Kvm(js).create(STATUS_BUCKET, {
    history: 1,
    replicas: options.replicas ?? 1,
    storage: StorageType.File,
    max_bytes: STATUS_BUCKET_MAX_BYTES,
    maxValueSize: STATUS_VALUE_MAX_BYTES,
  });
}

/** A relay: the status bucket, bound without any stream call (its user may only get and put its own key). */
export function openStatusBucket(js: JetStreamClient): Promise<KV> {
  return new Kvm(js).open(STATUS_BUCKET, { allow_direct: true });
}

const HOUR_MS = 60 * 60_000;
/** The retry schedule's length (operator/cmd/relay/schedule.ts): a message is delivered or dead-lettered within it. */
const SCHEDULE_MS = 96 * HOUR_MS;

/**
 * How long a delivery record is kept: a message's schedule, then its time as a dead letter, then a
 * replay's new schedule, plus a day. A record dropped earlier (age, or the oldest past the byte limit)
 * costs a lookup in the EMR on a later redelivery, never a duplicate (decideRedelivery).
 */
function deliveryRecordMaxAgeMs(limits: RelayQueueLimits): number {
  return SCHEDULE_MS + limits.deadMaxAgeMs + SCHEDULE_MS + 24 * HOUR_MS;
}

/** Bytes of the delivery-record bucket: a record is a few hundred bytes, a message usually far more: a sixteenth of the work stream, at least 1 MiB. */
function deliveryRecordMaxBytes(limits: RelayQueueLimits): number {
  return Math.max(1024 * 1024, Math.floor(limits.workMaxBytes / 16));
}

/**
 * The integration's delivery-record bucket, made as a KV bucket is (the stream KV_<bucket> on
 * $KV.<bucket>.>, one value per key, direct gets), but discarding the OLDEST record when full rather
 * than refusing new ones: a full bucket must never stop deliveries.
 */
async function ensureDeliveryBucket(
  jsm: JetStreamManager,
  namespace: string,
  integration: string,
  limits: RelayQueueLimits,
): Promise<void> {
  const bucket = relayQueueNames(namespace, integration).deliveryBucket;
  await ensureStream(jsm, {
    name: `KV_${bucket}`,
    subjects: [`$KV.${bucket}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: 1,
    max_bytes: deliveryRecordMaxBytes(limits),
    max_age: deliveryRecordMaxAgeMs(limits) * NS,
    max_msg_size: 4096,
    num_replicas: limits.replicas ?? 1,
    allow_rollup_hdrs: true,
    deny_delete: true,
    allow_direct: true,
  });
}

/** A relay: its delivery-record bucket, bound without any stream call (its user may only put and get its keys). */
export function openDeliveryBucket(js: JetStreamClient, namespace: string, integration: string): Promise<KV> {
  return new Kvm(js).open(relayQueueNames(namespace, integration).deliveryBucket, { allow_direct: true });
}

/** The operator: creates or updates one integration's work and dead-letter streams and its delivery-record bucket with `limits`. Idempotent. */
export async function ensureIntegrationStreams(
  js: JetStreamClient,
  namespace: string,
  integration: string,
  limits: RelayQueueLimits = DEFAULT_RELAY_QUEUE_LIMITS,
): Promise<void> {
  const jsm = await js.jetstreamManager();
  const n = relayQueueNames(namespace, integration);
  const num_replicas = limits.replicas ?? 1;
  // Work queue: a message is gone once acked (delivered or dead-lettered), so the stream's count is the backlog.
  await ensureStream(jsm, {
    name: n.workStream,
    subjects: [n.subject],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_bytes: limits.workMaxBytes,
    max_msgs: limits.workMaxMessages,
    num_replicas,
    duplicate_window: DUPLICATE_WINDOW_MS * NS,
    allow_direct: true,
  });
  // Bounded by age and size: past either, the oldest dead letter goes (the alert and the status say so first).
  await ensureStream(jsm, {
    name: n.deadStream,
    subjects: [n.deadSubject],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_bytes: limits.deadMaxBytes,
    max_age: limits.deadMaxAgeMs * NS,
    num_replicas,
    duplicate_window: Math.min(DUPLICATE_WINDOW_MS, limits.deadMaxAgeMs) * NS,
    allow_direct: true,
  });
  await ensureDeliveryBucket(jsm, namespace, integration, limits);
}

export interface ConsumerOptions {
  /** Real ms a delivery may take before JetStream hands the message out again. */
  ackWaitMs?: number;
  /** Messages handed out and not yet acked (including those waiting for a retry): the delivery window. */
  maxAckPending?: number;
}

/** The integration's durable pull consumer on its own work stream: explicit acks, no delivery limit (the schedule decides). */
export async function ensureRelayConsumer(
  js: JetStreamClient,
  namespace: string,
  integration: string,
  options: ConsumerOptions = {},
): Promise<string> {
  // No account-info round trip: a relay's user may not ask about the account.
  const jsm = await js.jetstreamManager(false);
  const n = relayQueueNames(namespace, integration);
  const config = {
    durable_name: n.consumer,
    filter_subject: n.subject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: (options.ackWaitMs ?? 60_000) * NS,
    max_deliver: -1,
    max_ack_pending: options.maxAckPending ?? 20_000,
  };
  try {
    await jsm.consumers.info(n.workStream, n.consumer);
    await jsm.consumers.update(n.workStream, n.consumer, { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending });
  } catch (error) {
    if (!/consumer not found/i.test((error as Error).message) && (error as { code?: number }).code !== 404) throw error;
    await jsm.consumers.add(n.workStream, config);
  }
  return n.consumer;
}

function copyHeaders(from: MsgHdrs | undefined, skip: string[] = []): MsgHdrs {
  const out = natsHeaders();
  if (!from) return out;
  for (const [key, values] of from) {
    if (skip.some((s) => s.toLowerCase() === key.toLowerCase())) continue;
    for (const value of values) out.append(key, value);
  }
  return out;
}

/** Moves a message to the dead-letter subject (still ciphertext, same headers plus the reason), then acks it. */
export async function deadLetter(
  js: JetStreamClient,
  msg: JsMsg,
  namespace: string,
  integration: string,
  reason: string,
  now: Date,
): Promise<void> {
  const h = copyHeaders(msg.headers, ['Nats-Msg-Id']);
  h.set(DEAD_REASON_HEADER, reason);
  h.set(DEAD_AT_HEADER, now.toISOString());
  const id = msg.headers?.get('Nats-Msg-Id') || `seq-${msg.seq}`;
  // The same id on a retry after a crash between publish and ack: stored once.
  await js.publish(relayQueueNames(namespace, integration).deadSubject, msg.data, { msgID: `dead:${id}`, headers: h });
  await msg.ackAck();
}

/**
 * Moves every dead letter of one integration back to its work subject, with a fresh receipt time
 * (a new 96-hour schedule) and its first receipt time kept; returns how many. The idempotency key
 * stays the message's own, so the relay's delivery record of it (or a lookup in the EMR) keeps what
 * did reach the EMR from being filed twice.
 */
export async function replayDeadLetters(
  js: JetStreamClient,
  namespace: string,
  integration: string,
  options: { now?: () => Date } = {},
): Promise<number> {
  const jsm = await js.jetstreamManager();
  const now = options.now ?? (() => new Date());
  const n = relayQueueNames(namespace, integration);
  let count = 0;
  let seq = 1;
  for (;;) {
    const stored = await jsm.direct.getMessage(n.deadStream, { next_by_subj: n.deadSubject, seq });
    if (!stored) break;
    const h = copyHeaders(stored.header, [
      DEAD_REASON_HEADER,
      DEAD_AT_HEADER,
      'Nats-Msg-Id',
      'Nats-Stream',
      'Nats-Sequence',
      'Nats-Time-Stamp',
      'Nats-Subject',
      'Nats-Last-Sequence',
      'Nats-Num-Pending',
    ]);
    if (!h.has(FIRST_RECEIVED_AT_HEADER)) h.set(FIRST_RECEIVED_AT_HEADER, stored.header.get(RECEIVED_AT_HEADER) || '');
    h.set(RECEIVED_AT_HEADER, now().toISOString());
    if (!h.has(KEY_VERSION_HEADER)) throw new Error(`dead letter ${stored.seq} has no ${KEY_VERSION_HEADER} header`);
    // The dead letter's sequence makes the replay its own message; a crash before the delete repeats the same id (deduplicated).
    await js.publish(n.subject, stored.data, {
      msgID: `replay:${n.deadStream}:${stored.seq}`,
      headers: h,
    });
    await jsm.streams.deleteMessage(n.deadStream, stored.seq, false);
    count++;
    seq = stored.seq + 1;
  }
  return count;
}

export interface QueueFigures {
  pending: number;
  oldestPendingSince?: string;
  deadLettered: number;
  oldestDeadLetterAt?: string;
}

/** Figures of one integration straight from its two streams (what survives any relay restart). */
export async function queueFigures(js: JetStreamClient, namespace: string, integration: string): Promise<QueueFigures> {
  // Called on every status write: skip the manager's account-info round trip (a relay's user may not make it).
  const jsm = await js.jetstreamManager(false);
  const n = relayQueueNames(namespace, integration);
  const [work, dead, oldest] = await Promise.all([
    jsm.streams.info(n.workStream),
    jsm.streams.info(n.deadStream),
    jsm.direct.getMessage(n.workStream, { next_by_subj: n.subject, seq: 1 }),
  ]);
  const pending = work.state.messages;
  const oldestAt = oldest ? oldest.header.get(RECEIVED_AT_HEADER) || oldest.time.toISOString() : undefined;
  const deadLettered = dead.state.messages;
  return {
    pending,
    ...(pending > 0 && oldestAt ? { oldestPendingSince: oldestAt } : {}),
    deadLettered,
    ...(deadLettered > 0 && dead.state.first_ts ? { oldestDeadLetterAt: new Date(dead.state.first_ts).toISOString() } : {}),
  };
}
