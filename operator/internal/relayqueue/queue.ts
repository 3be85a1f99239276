// The relay's JetStream objects and the operations both sides need: ensure the streams and the
// status bucket exist (the relay at start; the operator may too), the per-integration durable
// consumer, dead-lettering, and replaying dead letters (the operator's replay annotation calls
// replayDeadLetters). Names come from contract.ts; the headers below extend it.
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
import {
  DEAD_LETTER_STREAM,
  deadLetterSubject,
  KEY_VERSION_HEADER,
  RELAY_STREAM,
  relaySubject,
  STATUS_BUCKET,
  subjectToken,
} from './contract.ts';

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
const FIRST_RECEIVED_AT_HEADER = 'Cloudconnect-First-Received-At';

const NS = 1_000_000;
/** Publishes with the same Nats-Msg-Id within this window are stored once (Ocean retries a webhook it saw fail). */
const DUPLICATE_WINDOW_MS = 2 * 60 * 60_000;

export interface RelayStreamOptions {
  /** 1 on a single node; 3 on a clustered JetStream (R3). */
  replicas?: number;
}

async function ensureStream(jsm: JetStreamManager, config: Parameters<JetStreamManager['streams']['add']>[0]): Promise<void> {
  try {
    await jsm.streams.info(config.name);
    await jsm.streams.update(config.name, config);
  } catch (error) {
    if (!/stream not found/i.test((error as Error).message) && (error as { code?: number }).code !== 404) throw error;
    await jsm.streams.add(config);
  }
}

/** Creates (or updates) the work stream, the dead-letter stream and the status bucket. Idempotent. */
export async function ensureRelayStreams(js: JetStreamClient, options: RelayStreamOptions = {}): Promise<KV> {
  const jsm = await js.jetstreamManager();
  const num_replicas = options.replicas ?? 1;
  // Work queue: a message is gone once acked (delivered or dead-lettered), so the subject's count is the backlog.
  await ensureStream(jsm, {
    name: RELAY_STREAM,
    subjects: ['cloudconnect.relay.>'],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    num_replicas,
    duplicate_window: DUPLICATE_WINDOW_MS * NS,
    allow_direct: true,
  });
  await ensureStream(jsm, {
    name: DEAD_LETTER_STREAM,
    subjects: ['cloudconnect.relay-dead.>'],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    num_replicas,
    duplicate_window: DUPLICATE_WINDOW_MS * NS,
    allow_direct: true,
  });
  return new Kvm(js).create(STATUS_BUCKET, { history: 1, replicas: num_replicas, storage: StorageType.File });
}

function consumerName(namespace: string, integration: string): string {
  return `relay-${subjectToken(namespace)}-${subjectToken(integration)}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

export interface ConsumerOptions {
  /** Real ms a delivery may take before JetStream hands the message out again. */
  ackWaitMs?: number;
  /** Messages handed out and not yet acked (including those waiting for a retry): the delivery window. */
  maxAckPending?: number;
}

/** The integration's durable pull consumer: explicit acks, no delivery limit (the schedule decides). */
export async function ensureRelayConsumer(
  js: JetStreamClient,
  namespace: string,
  integration: string,
  options: ConsumerOptions = {},
): Promise<string> {
  const jsm = await js.jetstreamManager();
  const name = consumerName(namespace, integration);
  const config = {
    durable_name: name,
    filter_subject: relaySubject(namespace, integration),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: (options.ackWaitMs ?? 60_000) * NS,
    max_deliver: -1,
    max_ack_pending: options.maxAckPending ?? 20_000,
  };
  try {
    await jsm.consumers.info(RELAY_STREAM, name);
    await jsm.consumers.update(RELAY_STREAM, name, { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending });
  } catch (error) {
    if (!/consumer not found/i.test((error as Error).message) && (error as { code?: number }).code !== 404) throw error;
    await jsm.consumers.add(RELAY_STREAM, config);
  }
  return name;
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
  await js.publish(deadLetterSubject(namespace, integration), msg.data, { msgID: `dead:${id}`, headers: h });
  await msg.ackAck();
}

/**
 * Moves every dead letter of one integration back to its work subject, with a fresh receipt time
 * (a new 96-hour schedule) and its first receipt time kept; returns how many. The EMR idempotency key
 * stays the message's own, so a dead letter that did reach the EMR is not filed twice.
 */
export async function replayDeadLetters(
  js: JetStreamClient,
  namespace: string,
  integration: string,
  options: { now?: () => Date } = {},
): Promise<number> {
  const jsm = await js.jetstreamManager();
  const now = options.now ?? (() => new Date());
  const subject = deadLetterSubject(namespace, integration);
  let count = 0;
  let seq = 1;
  for (;;) {
    const stored = await jsm.direct.getMessage(DEAD_LETTER_STREAM, { next_by_subj: subject, seq });
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
    await js.publish(relaySubject(namespace, integration), stored.data, {
      msgID: `replay:${DEAD_LETTER_STREAM}:${stored.seq}`,
      headers: h,
    });
    await jsm.streams.deleteMessage(DEAD_LETTER_STREAM, stored.seq, false);
    count++;
    seq = stored.seq + 1;
  }
  return count;
}

/** Figures of one integration straight from the streams (what survives any relay restart). */
export async function queueFigures(
  js: JetStreamClient,
  namespace: string,
  integration: string,
): Promise<{ pending: number; oldestPendingSince?: string; deadLettered: number }> {
  // Called on every status write: skip the manager's account-info round trip (the calls below fail anyway without JetStream).
  const jsm = await js.jetstreamManager(false);
  const subject = relaySubject(namespace, integration);
  const dead = deadLetterSubject(namespace, integration);
  const [work, deadInfo, oldest] = await Promise.all([
    jsm.streams.info(RELAY_STREAM, { subjects_filter: subject }),
    jsm.streams.info(DEAD_LETTER_STREAM, { subjects_filter: dead }),
    jsm.direct.getMessage(RELAY_STREAM, { next_by_subj: subject, seq: 1 }),
  ]);
  const pending = work.state.subjects?.[subject] ?? 0;
  const oldestAt = oldest ? oldest.header.get(RECEIVED_AT_HEADER) || oldest.time.toISOString() : undefined;
  return {
    pending,
    ...(pending > 0 && oldestAt ? { oldestPendingSince: oldestAt } : {}),
    deadLettered: deadInfo.state.subjects?.[dead] ?? 0,
  };
}
