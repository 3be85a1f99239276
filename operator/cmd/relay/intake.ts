// The relay's HTTP side (node:http): Ocean's webhook, and /metrics, /healthz, /readyz.
// POST /ocean/webhook:
//   {challenge}          → 200 {challenge} (Ocean's handshake before it delivers)
//   an EMR-bound message → encrypted with the current SEK, published to JetStream with a message
//                          id (Ocean's retries of the same message are stored once), and answered
//                          202 only after JetStream acknowledged the stored message
//   a malformed message  → 400 naming the field (never a value)
//   any failure to store → 503, so Ocean retries later
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { KEY_VERSION_HEADER, relaySubject } from '../../internal/relayqueue/contract.ts';
import { MESSAGE_TYPE_HEADER, OCEAN_MESSAGE_ID_HEADER, RECEIVED_AT_HEADER } from '../../internal/relayqueue/queue.ts';
import { RELAY_MESSAGE_KIND, SekEncryptor } from '../../internal/sek/crypto.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { RelayClock } from '../../runtime/scaled-clock.ts';
import { challengeOf, InvalidMessageError, parseOceanMessage } from './messages.ts';
import type { RelayMetrics } from './relay-metrics.ts';
import type { SekKeyring } from './sek-keyring.ts';

const WEBHOOK_PATH = '/ocean/webhook';
/** Ocean's referral attachments are PDFs of a few MB at most; base64 and JSON add a third. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface IntakeOptions {
  js: JetStreamClient;
  namespace: string;
  integration: string;
  siteNumber: string;
  keyring: SekKeyring;
  clock: RelayClock;
  metrics: RelayMetrics;
  logger: Logger;
  ready: () => boolean;
  /** The NATS server's largest message (its `max_payload`), when connected. */
  maxPayload?: () => number | undefined;
  /** Called after a message is stored (the status reporter writes soon). */
  onStored?: () => void;
  publishTimeoutMs?: number;
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

type OceanMessage = ReturnType<typeof parseOceanMessage>;
type VersionedSek = Awaited<ReturnType<SekKeyring['current']>>;
type PublishAck = Awaited<ReturnType<JetStreamClient['publish']>>;

/** The intake of one integration: its options, subject, log fields and encryptors. */
interface Intake {
  o: IntakeOptions;
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
  try {
    return parseOceanMessage(body);
  } catch (error) {
    if (error instanceof InvalidMessageError) {
      intake.o.metrics.webhook('invalid');
      throw new HttpError(400, error.message);
    }
    throw error;
  }
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
  const h = natsHeaders();
  h.set(KEY_VERSION_HEADER, String(keyVersion));
  h.set(RECEIVED_AT_HEADER, o.clock.now().toISOString());
  h.set(OCEAN_MESSAGE_ID_HEADER, message.messageId);
  h.set(MESSAGE_TYPE_HEADER, message.type);
  try {
    return await o.js.publish(intake.subject, stored, {
      msgID: `${o.namespace}/${o.integration}/${message.messageId}`,
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

async function webhook(intake: Intake, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = parseJson(await readBody(req));
  const challenge = challengeOf(body);
  if (challenge !== undefined) {
    intake.o.metrics.webhook('challenge');
    send(res, 200, { challenge });
    return;
  }
  const message = parseMessage(intake, body);
  const sek = await currentSek(intake);
  const stored = seal(encryptorFor(intake, sek), message);
  checkPayloadSize(intake, message, stored);
  const ack = await publish(intake, message, stored, sek.version);
  acknowledge(intake, res, message, ack);
}

/** Routes a request: the webhook, /metrics, /healthz, /readyz; a 404 for anything else. */
async function route(intake: Intake, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { o } = intake;
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'POST' && path === WEBHOOK_PATH) return webhook(intake, req, res);
  if (req.method === 'GET' && path === '/metrics')
    return send(res, 200, await o.metrics.registry.metrics(), o.metrics.registry.contentType);
  if (req.method === 'GET' && path === '/healthz') return send(res, 200, 'ok', 'text/plain');
  if (req.method === 'GET' && path === '/readyz')
    return o.ready() ? send(res, 200, 'ok', 'text/plain') : send(res, 503, 'not ready', 'text/plain');
  throw new HttpError(404, `no route ${req.method} ${path}`);
}

/** Answers a failed request with its status (500, logged with the stack, for our own bugs). */
function answerError(intake: Intake, res: ServerResponse, error: unknown): void {
  const status = error instanceof HttpError ? error.status : 500;
  if (!(error instanceof HttpError))
    intake.o.logger.error('webhook error', {
      ...intake.context,
      errorName: (error as Error).name,
      stack: (error as Error).stack?.split('\n').slice(1).join('\n'),
    });
  if (!res.headersSent) send(res, status, { error: error instanceof HttpError ? error.message : 'internal error' });
  else res.destroy();
}

export function createIntakeServer(o: IntakeOptions): Server {
  const intake: Intake = {
    o,
    subject: relaySubject(o.namespace, o.integration),
    context: { namespace: o.namespace, integration: o.integration },
  };
  return createServer((req, res) => {
    route(intake, req, res).catch((error: unknown) => answerError(intake, res, error));
  });
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}
