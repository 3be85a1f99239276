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

export const WEBHOOK_PATH = '/ocean/webhook';
/** Ocean's referral attachments are PDFs of a few MB at most; base64 and JSON add a third. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

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

export function createIntakeServer(o: IntakeOptions): Server {
  const subject = relaySubject(o.namespace, o.integration);
  const context = { namespace: o.namespace, integration: o.integration };
  // Encryptors per SEK version (one after start; a new one only if the keyring's current changes).
  const encryptors = new Map<number, SekEncryptor>();

  async function webhook(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'the body is not JSON');
    }
    const challenge = challengeOf(body);
    if (challenge !== undefined) {
      o.metrics.webhook('challenge');
      send(res, 200, { challenge });
      return;
    }
    let message: ReturnType<typeof parseOceanMessage>;
    try {
      message = parseOceanMessage(body);
    } catch (error) {
      if (error instanceof InvalidMessageError) {
        o.metrics.webhook('invalid');
        throw new HttpError(400, error.message);
      }
      throw error;
    }
    let sek: Awaited<ReturnType<SekKeyring['current']>>;
    try {
      sek = await o.keyring.current();
    } catch (error) {
      o.logger.error('cannot read the SEK; answering 503 so Ocean retries', { ...context, error: (error as Error).message });
      throw new HttpError(503, 'the encryption key is unavailable; retry later');
    }
    let encryptor = encryptors.get(sek.version);
    if (!encryptor) {
      encryptor = new SekEncryptor(sek.value, o.siteNumber);
      encryptors.set(sek.version, encryptor);
    }
    // AAD = site, Ocean message id, kind: the ciphertext cannot be passed off as another message.
    const stored = JSON.stringify(encryptor.encryptBatch({ batchId: message.messageId, kind: RELAY_MESSAGE_KIND }, [message]));
    const limit = o.maxPayload?.();
    // Headers take a few hundred bytes of the server's limit.
    if (limit !== undefined && Buffer.byteLength(stored) + 1024 > limit) {
      o.metrics.webhook('invalid');
      o.logger.error('a message is larger than the NATS server accepts; raise its max_payload', {
        ...context,
        messageId: message.messageId,
        bytes: Buffer.byteLength(stored),
        maxPayload: limit,
      });
      throw new HttpError(
        413,
        `the encrypted message (${Buffer.byteLength(stored)} bytes) exceeds the queue's max_payload (${limit} bytes)`,
      );
    }
    const h = natsHeaders();
    h.set(KEY_VERSION_HEADER, String(sek.version));
    h.set(RECEIVED_AT_HEADER, o.clock.now().toISOString());
    h.set(OCEAN_MESSAGE_ID_HEADER, message.messageId);
    h.set(MESSAGE_TYPE_HEADER, message.type);
    let ack: Awaited<ReturnType<JetStreamClient['publish']>>;
    try {
      ack = await o.js.publish(subject, stored, {
        msgID: `${o.namespace}/${o.integration}/${message.messageId}`,
        headers: h,
        timeout: o.publishTimeoutMs ?? 5000,
      });
    } catch (error) {
      o.metrics.webhook('unavailable');
      o.logger.warn('cannot store a message; answering 503 so Ocean retries', {
        ...context,
        messageId: message.messageId,
        error: (error as Error).message,
      });
      throw new HttpError(503, 'the message could not be stored; retry later');
    }
    o.metrics.webhook(ack.duplicate ? 'duplicate' : 'stored');
    o.logger.debug('message stored', {
      ...context,
      messageId: message.messageId,
      type: message.type,
      seq: ack.seq,
      duplicate: ack.duplicate,
    });
    o.onStored?.();
    send(res, 202, { messageId: message.messageId, stored: true, duplicate: ack.duplicate });
  }

  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const handle = async () => {
      if (req.method === 'POST' && path === WEBHOOK_PATH) return webhook(req, res);
      if (req.method === 'GET' && path === '/metrics')
        return send(res, 200, await o.metrics.registry.metrics(), o.metrics.registry.contentType);
      if (req.method === 'GET' && path === '/healthz') return send(res, 200, 'ok', 'text/plain');
      if (req.method === 'GET' && path === '/readyz')
        return o.ready() ? send(res, 200, 'ok', 'text/plain') : send(res, 503, 'not ready', 'text/plain');
      throw new HttpError(404, `no route ${req.method} ${path}`);
    };
    handle().catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      if (!(error instanceof HttpError))
        o.logger.error('webhook error', {
          ...context,
          errorName: (error as Error).name,
          stack: (error as Error).stack?.split('\n').slice(1).join('\n'),
        });
      if (!res.headersSent) send(res, status, { error: error instanceof HttpError ? error.message : 'internal error' });
      else res.destroy();
    });
  });
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}
