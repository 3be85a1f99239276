// The relay's webhook server (node:http, or node:https with RELAY_TLS_*): Ocean's POST /ocean/webhook
// and nothing else (/metrics and the probes are on their own port: admin-server.ts).
// Before the body is read (webhook-guard.ts): the API key in constant time (401), the content type
// (415), Content-Length (413) and the in-flight cap (503 + Retry-After); the body's size is checked
// again while it streams (413). Slow clients are cut off by the server's header and request
// timeouts, and the connections are capped. Then:
//   {challenge}          → 200 {challenge} (Ocean's handshake before it delivers)
//   an EMR-bound message → encrypted with the current SEK, published to JetStream with an id scoped
//                          to the integration and the message's content (message-id.ts: Ocean's
//                          retries are stored once, a forged reuse of an id shadows nothing), and
//                          answered 202 only after JetStream acknowledged the stored message
//   a malformed message  → 400 naming the field (never a value)
//   a message the integration's EMR cannot take (capability.ts) → 422 {error, emrType, messageType},
//                          counted as `unsupported`, never stored
//   a referral bundle    → on POST /ocean/fhir_bundles only (an integration with spec.eReferral):
//                          checked strictly (referral-bundle.ts: a FHIR R4 Bundle with a ServiceRequest;
//                          400/422 naming the element otherwise), then stored like a message under its
//                          Bundle.id, for delivery.ts to forward; or, with an EMR and no forward target,
//                          as the received referral it carries (referral-filing.ts), filed like Ocean's own
//   a message without an EMR (emr.type None, an eReferral endpoint only) → 422, never stored
//   any failure to store → 503, so Ocean retries later
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { EmrAdapterType } from '../../internal/emr/index.ts';
import { KEY_VERSION_HEADER, relaySubject } from '../../internal/relayqueue/contract.ts';
import { CONTENT_HASH_HEADER, MESSAGE_TYPE_HEADER, OCEAN_MESSAGE_ID_HEADER, RECEIVED_AT_HEADER } from '../../internal/relayqueue/queue.ts';
import { RELAY_MESSAGE_KIND, SekEncryptor } from '../../internal/sek/crypto.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { RelayClock } from '../../runtime/scaled-clock.ts';
import type { WebhookKeys } from './api-key.ts';
import { intakeRefusal } from './capability.ts';
import { contentHashOf, dedupIdOf } from './message-id.ts';
import { challengeOf, InvalidMessageError, parseOceanMessage, referralBundleMessage } from './messages.ts';
import { InvalidBundleError, parseReferralBundle } from './referral-bundle.ts';
import { referralToFile } from './referral-filing.ts';
import type { RelayMetrics } from './relay-metrics.ts';
import type { SekKeyring } from './sek-keyring.ts';
import { bodyLimit, checkRequestHead, FHIR_BUNDLES_PATH, type Refusal, tooLarge, type WebhookLimits } from './webhook-guard.ts';

/** How long a client may take, and how many connections it may hold. */
export interface WebhookServerLimits {
  /** Until the request's headers are in (slow-loris); 408 and closed after. */
  headersTimeoutMs: number;
  /** Until the whole request (headers and body) is in; 408 and closed after. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections; one more is closed at once. */
  maxConnections: number;
}

export interface IntakeOptions {
  js: JetStreamClient;
  namespace: string;
  integration: string;
  siteNumber: string;
  keyring: SekKeyring;
  clock: RelayClock;
  metrics: RelayMetrics;
  logger: Logger;
  /** The NATS server's largest message (its `max_payload`), when connected. */
  maxPayload?: () => number | undefined;
  /** Called after a message is stored (the status reporter writes soon). */
  onStored?: () => void;
  publishTimeoutMs?: number;
  /** The webhook keys last read from Vault (api-key-store.ts). */
  keys: () => WebhookKeys;
  limits: WebhookLimits;
  server: WebhookServerLimits;
  /** PEM certificate and key: the webhook is served over TLS. */
  tls?: { cert: string; key: string };
  /** The wall clock of the keys' grace period (the relay clock may be scaled in tests). */
  wallClock?: () => Date;
  /**
   * The integration's EMR type and custom-fields setting: messages it cannot take are refused
   * (capability.ts). Undefined: the integration has no EMR (an eReferral endpoint only), and every
   * message to /ocean/webhook is refused with 422.
   */
  emr?: { type: EmrAdapterType; customFields: boolean };
  /** What becomes of a bundle posted to /ocean/fhir_bundles: forwarded (spec.eReferral.forward), or filed in the EMR. */
  bundles?: 'forward' | 'file';
}

class HttpError extends Error {
  readonly status: number;
  /** Found while the body streamed (the rest of it is dropped). */
  readonly streaming: boolean;
  /** More fields of the JSON answer (names, never values of the message). */
  readonly details: Record<string, string> | undefined;
  constructor(status: number, message: string, streaming = false, details?: Record<string, string>) {
    super(message);
    this.status = status;
    this.streaming = streaming;
    this.details = details;
  }
}

/** What an unauthenticated request may still send after its 401 before its connection is cut. */
const UNAUTHENTICATED_DROP_BYTES = 64 * 1024;
/**
 * At least what an authenticated body refused with 413 while it streams may still send: the sender's
 * and our kernels buffer several MiB in flight (loopback, a LAN), and cutting the connection while
 * that arrives resets it before the client has read its 413.
 */
const STREAMING_413_DROP_BYTES = 16 * 1024 * 1024;

/**
 * Reads on and drops what the client still sends after it was refused, up to `cap` bytes, then cuts
 * the connection. Closing a socket with unread data resets it, and the client would lose the answer
 * (a 401 or 413 it should see); nothing dropped is kept, so this costs bandwidth, never memory, and
 * the request timeout bounds it too.
 */
function dropRest(req: IncomingMessage, cap: number): void {
  let dropped = 0;
  req.on('data', (more: Buffer) => {
    dropped += more.length;
    if (dropped > cap) req.socket.destroy();
  });
}

/** The body, refused with 413 as soon as it grows past the limit (what was read is dropped, the rest is never kept). */
function readBody(req: IncomingMessage, limit: { bytes: number; queue: boolean }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit.bytes) {
        req.off('data', onData);
        chunks.length = 0;
        dropRest(req, Math.max(limit.bytes, STREAMING_413_DROP_BYTES));
        reject(new HttpError(413, tooLarge(undefined, limit).message, true));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  options: { contentType?: string; headers?: Record<string, string> } = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    ...options.headers,
    'content-type': options.contentType ?? 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

type OceanMessage = ReturnType<typeof parseOceanMessage>;
type VersionedSek = Awaited<ReturnType<SekKeyring['current']>>;
type PublishAck = Awaited<ReturnType<JetStreamClient['publish']>>;

/** The intake of one integration: its options, subject, log fields and encryptors. */
interface Intake {
  o: IntakeOptions;
  /** Webhook requests admitted and not yet answered. */
  inFlight: number;
  subject: string;
  context: { namespace: string; integration: string };
  /** The encryptor of the keyring's current SEK, built on the first message (the relay restarts on a rotation). */
  sealer?: { version: number; encryptor: SekEncryptor };
}

/** Pure: the body as JSON, or a 400. */
function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not JSON');
  }
}

/** The EMR-bound message, or a 400 naming the field (counted as invalid). */
function parseMessage(intake: Intake, body: unknown): OceanMessage {
  let message: OceanMessage;
  try {
    message = parseOceanMessage(body);
  } catch (error) {
    if (error instanceof InvalidMessageError) {
      intake.o.metrics.webhook('invalid');
      throw new HttpError(400, error.message);
    }
    throw error;
  }
  if (message.type === 'referralBundle') {
    intake.o.metrics.webhook('invalid');
    throw new HttpError(400, `a referral bundle is posted as a FHIR Bundle to ${FHIR_BUNDLES_PATH}`);
  }
  return message;
}

/** A checked bundle as a received `referral` to file in the EMR (referral-filing.ts), checked as every message is. */
function referralMessageOf(id: string, bundle: Record<string, unknown>): OceanMessage {
  const r = referralToFile(bundle);
  const message = {
    messageId: id,
    type: 'referral',
    patient: { emrId: r.emrId },
    referral: { direction: 'received', title: r.title, text: r.text, pdf: r.pdf },
  };
  try {
    return parseOceanMessage(message);
  } catch (error) {
    if (error instanceof InvalidMessageError) throw new InvalidBundleError(422, `the referral to file: ${error.message}`);
    throw error;
  }
}

/**
 * An eReferral FHIR bundle as the message it is queued as: the bundle itself, to forward; or, to file
 * in the EMR, the received referral it carries. A 400/422 naming the element otherwise (counted as invalid).
 */
function parseBundle(intake: Intake, body: unknown): OceanMessage {
  try {
    const parsed = parseReferralBundle(body);
    if (intake.o.bundles === 'file') return referralMessageOf(parsed.id, parsed.bundle);
    return referralBundleMessage(parsed.id, parsed.bundle);
  } catch (error) {
    if (!(error instanceof InvalidBundleError)) throw error;
    intake.o.metrics.webhook('invalid');
    // The message names an element of the bundle, never a value.
    intake.o.logger.info('referral bundle refused', { ...intake.context, status: error.status, detail: error.message });
    throw new HttpError(error.status, error.message);
  }
}

/** A 422 (counted as unsupported) for a message to an integration without an EMR: nothing could file it. */
function checkHasEmr(intake: Intake, message: OceanMessage): void {
  if (intake.o.emr || message.type === 'referralBundle') return;
  intake.o.metrics.webhook('unsupported');
  throw new HttpError(
    422,
    `a ${message.type} message cannot be delivered: this integration has no EMR (emr.type None); it takes referral bundles at ${FHIR_BUNDLES_PATH} only`,
    false,
    {
      emrType: 'None',
      messageType: message.type,
    },
  );
}

/** A 422 (counted as unsupported, logged) when the integration's EMR cannot take the message: refused before it is stored. */
function checkCapability(intake: Intake, message: OceanMessage): void {
  const emr = intake.o.emr;
  const refusal = emr ? intakeRefusal(emr.type, message, emr) : undefined;
  if (!refusal) return;
  intake.o.metrics.webhook('unsupported');
  intake.o.logger.warn('message refused: the EMR cannot take it', {
    ...intake.context,
    messageId: message.messageId,
    type: message.type,
    emrType: refusal.emrType,
  });
  throw new HttpError(422, refusal.reason, false, { emrType: refusal.emrType, messageType: refusal.messageType });
}

/** The current SEK, or a 503 so Ocean retries. */
async function currentSek(intake: Intake): Promise<VersionedSek> {
  try {
    return await intake.o.keyring.current();
  } catch (error) {
    intake.o.logger.error('cannot read the SEK; answering 503 so Ocean retries', { ...intake.context, error: (error as Error).message });
    throw new HttpError(503, 'the encryption key is unavailable; retry later');
  }
}

function encryptorFor(intake: Intake, sek: VersionedSek): SekEncryptor {
  if (intake.sealer?.version !== sek.version) {
    intake.sealer = { version: sek.version, encryptor: new SekEncryptor(sek.value, intake.o.siteNumber) };
  }
  return intake.sealer.encryptor;
}

/** The message as it is stored: its encrypted envelope as JSON. */
function seal(encryptor: SekEncryptor, message: OceanMessage): string {
  // AAD = site, Ocean message id, kind: the ciphertext cannot be passed off as another message.
  return JSON.stringify(encryptor.encryptBatch({ batchId: message.messageId, kind: RELAY_MESSAGE_KIND }, [message]));
}

/** An authenticated message that the NATS server can never store: the installer must raise its max_payload. */
function logQueueTooSmall(intake: Intake, bytes: number | undefined, maxPayload: number): void {
  intake.o.logger.error('a message is larger than the NATS server accepts; raise its max_payload', {
    ...intake.context,
    ...(bytes === undefined ? {} : { bytes }),
    maxPayload,
  });
}

/** A 413 (counted as invalid, logged) when the stored message exceeds the NATS server's max_payload. */
function checkPayloadSize(intake: Intake, message: OceanMessage, stored: string): void {
  const limit = intake.o.maxPayload?.();
  // Headers take a few hundred bytes of the server's limit.
  if (limit !== undefined && Buffer.byteLength(stored) + 1024 > limit) {
    intake.o.metrics.webhook('invalid');
    intake.o.logger.error('a message is larger than the NATS server accepts; raise its max_payload', {
      ...intake.context,
      messageId: message.messageId,
      bytes: Buffer.byteLength(stored),
      maxPayload: limit,
    });
    throw new HttpError(413, `the encrypted message (${Buffer.byteLength(stored)} bytes) exceeds the queue's max_payload (${limit} bytes)`);
  }
}

/** Publishes the stored message with its id and headers; a 503 (logged) when JetStream does not acknowledge it. */
async function publish(intake: Intake, message: OceanMessage, stored: string, keyVersion: number): Promise<PublishAck> {
  const { o } = intake;
  const contentHash = contentHashOf(message, o.keys().idSalt);
  const h = natsHeaders();
  h.set(KEY_VERSION_HEADER, String(keyVersion));
  h.set(CONTENT_HASH_HEADER, contentHash);
  h.set(RECEIVED_AT_HEADER, o.clock.now().toISOString());
  h.set(OCEAN_MESSAGE_ID_HEADER, message.messageId);
  h.set(MESSAGE_TYPE_HEADER, message.type);
  try {
    return await o.js.publish(intake.subject, stored, {
      msgID: dedupIdOf(o.namespace, o.integration, message.messageId, contentHash),
      headers: h,
      timeout: o.publishTimeoutMs ?? 5000,
    });
  } catch (error) {
    o.metrics.webhook('unavailable');
    o.logger.warn('cannot store a message; answering 503 so Ocean retries', {
      ...intake.context,
      messageId: message.messageId,
      error: (error as Error).message,
    });
    throw new HttpError(503, 'the message could not be stored; retry later');
  }
}

/** Counts and logs the stored message, tells the status reporter, and answers 202. */
function acknowledge(intake: Intake, res: ServerResponse, message: OceanMessage, ack: PublishAck): void {
  const { o } = intake;
  o.metrics.webhook(ack.duplicate ? 'duplicate' : 'stored');
  o.logger.debug('message stored', {
    ...intake.context,
    messageId: message.messageId,
    type: message.type,
    seq: ack.seq,
    duplicate: ack.duplicate,
  });
  o.onStored?.();
  send(res, 202, { messageId: message.messageId, stored: true, duplicate: ack.duplicate });
}

/**
 * Answers a request refused on its head alone, at once; its body is never kept (dropRest): up to
 * 64 KiB more from a caller without the key, up to twice the body limit from one with it.
 */
function refuse(intake: Intake, req: IncomingMessage, res: ServerResponse, refusal: Refusal): void {
  if (refusal.result !== 'not_found') intake.o.metrics.webhook(refusal.result);
  intake.o.logger.debug('webhook request refused', { ...intake.context, status: refusal.status, result: refusal.result });
  const authenticated = refusal.result !== 'unauthorized' && refusal.result !== 'not_found';
  dropRest(req, authenticated ? 2 * intake.o.limits.maxBodyBytes : UNAUTHENTICATED_DROP_BYTES);
  send(res, refusal.status, { error: refusal.message }, refusal.headers ? { headers: refusal.headers } : {});
}

async function webhook(intake: Intake, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { o } = intake;
  const head = { method: req.method, path: (req.url ?? '/').split('?')[0] ?? '/', headers: req.headers };
  const maxPayload = o.maxPayload?.();
  const now = (o.wallClock ?? (() => new Date()))();
  const refusal = checkRequestHead(head, { keys: o.keys(), now, inFlight: intake.inFlight, maxPayload }, o.limits);
  const limit = bodyLimit(o.limits, maxPayload);
  if (refusal?.result === 'too_large' && limit.queue) logQueueTooSmall(intake, Number(head.headers['content-length']), limit.bytes);
  if (refusal) return refuse(intake, req, res, refusal);
  intake.inFlight++;
  res.once('close', () => intake.inFlight--);
  const body = parseJson(
    await readBody(req, limit).catch((error: unknown) => {
      if (limit.queue && error instanceof HttpError && error.status === 413) logQueueTooSmall(intake, undefined, limit.bytes);
      throw error;
    }),
  );
  const challenge = challengeOf(body);
  if (challenge !== undefined) {
    o.metrics.webhook('challenge');
    send(res, 200, { challenge });
    return;
  }
  const message = head.path === FHIR_BUNDLES_PATH ? parseBundle(intake, body) : parseMessage(intake, body);
  checkHasEmr(intake, message);
  checkCapability(intake, message);
  const sek = await currentSek(intake);
  const stored = seal(encryptorFor(intake, sek), message);
  checkPayloadSize(intake, message, stored);
  const ack = await publish(intake, message, stored, sek.version);
  acknowledge(intake, res, message, ack);
}

/** Answers a failed request with its status (500, logged with the stack, for our own bugs). */
function answerError(intake: Intake, res: ServerResponse, error: unknown): void {
  const status = error instanceof HttpError ? error.status : 500;
  // A 413 found while streaming (the queue-limit 413 after encryption is counted as invalid where it is raised).
  if (error instanceof HttpError && error.streaming && status === 413) intake.o.metrics.webhook('too_large');
  if (!(error instanceof HttpError))
    intake.o.logger.error('webhook error', {
      ...intake.context,
      errorName: (error as Error).name,
      stack: (error as Error).stack?.split('\n').slice(1).join('\n'),
    });
  if (!res.headersSent)
    send(res, status, error instanceof HttpError ? { error: error.message, ...error.details } : { error: 'internal error' });
  else res.destroy();
}

/** The webhook server: TLS when configured, its timeouts and connection cap set. */
export function createIntakeServer(o: IntakeOptions): Server {
  const intake: Intake = {
    o,
    inFlight: 0,
    subject: relaySubject(o.namespace, o.integration),
    context: { namespace: o.namespace, integration: o.integration },
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    webhook(intake, req, res).catch((error: unknown) => answerError(intake, res, error));
  };
  const timeouts = {
    headersTimeout: o.server.headersTimeoutMs,
    requestTimeout: o.server.requestTimeoutMs,
    keepAliveTimeout: o.server.keepAliveTimeoutMs,
    // Node checks the two timeouts above only this often (30 s by default).
    connectionsCheckingInterval: Math.min(1000, o.server.headersTimeoutMs),
  };
  const server: Server = o.tls ? createHttpsServer({ ...timeouts, ...o.tls }, handler) : createHttpServer(timeouts, handler);
  server.maxConnections = o.server.maxConnections;
  return server;
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}
