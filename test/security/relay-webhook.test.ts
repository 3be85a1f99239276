// Attacks on Ocean's webhook, against the real relay process (node operator/relay/main.ts), a real
// nats-server and the site's Vault: anyone who can reach `<integration>-relay` tries to file a
// document into the clinic's EMR without the key Ocean was registered with (seed 001), with a
// wrong or retired key, to exhaust the relay's memory with a huge body, its slots with many or slow
// requests, to read its metrics through the webhook port, and to shadow a real message by reusing
// its Ocean message id. Each refusal is asserted together with what the victim keeps: nothing is
// stored in JetStream (the stream's last sequence does not move), nothing reaches the EMR simulator
// but Ocean's own messages, and the relay still delivers Ocean's next message.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayQueueNames } from '../../operator/internal/relayqueue/contract.ts';
import { eventually } from '../integration/operator-process.ts';
import { type RelayHarness, startRelayHarness } from '../integration/relay-harness.ts';
import { makeTestTls } from '../integration/tls.ts';
import { eFormNoteMessage, referralAttachmentMessage } from '../simulators/ocean.ts';

const HEADER = 'Referral-Integration-API-Key';
const MAX_BODY = 1024 * 1024;
const MAX_IN_FLIGHT = 2;
const MAX_CONNECTIONS = 12;

let h: RelayHarness;
/** The key Ocean is registered with now (the rotation test changes it). */
let key: string;
/** The idempotency keys of the messages Ocean itself sent: the only documents the EMR may hold. */
const oceanKeys = new Set<string>();
let canaries = 0;

beforeAll(async () => {
  h = await startRelayHarness({
    namespace: 'sec-relay-webhook',
    env: {
      RELAY_MAX_BODY_BYTES: String(MAX_BODY),
      RELAY_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT),
      RELAY_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
      RELAY_HEADERS_TIMEOUT_SECONDS: '2',
      RELAY_REQUEST_TIMEOUT_SECONDS: '4',
    },
  });
  key = h.webhookKey.current;
  await h.startRelay();
}, 120_000);

afterAll(async () => {
  await h?.dispose();
});

const lastSeq = async () => (await h.jsm.streams.info(relayQueueNames(h.namespace, h.integration).workStream)).state.last_seq;

function post(headers: Record<string, string>, body: unknown): Promise<Response> {
  return fetch(h.webhookUrl, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

const withKey = (k: string = key): Record<string, string> => ({ 'content-type': 'application/json', [HEADER]: k });
const noKey = (): Record<string, string> => ({ 'content-type': 'application/json' });

/** Ocean delivers one more message (registered key): it reaches the EMR, and only Ocean's messages are there. */
async function victimStillServed(): Promise<void> {
  const message = eFormNoteMessage(`ocean-canary-${++canaries}`, h.patient(canaries));
  oceanKeys.add(h.idempotencyKey(message));
  expect((await h.ocean.deliverWebhook(h.webhookUrl, message)).status).toBe(202);
  await eventually(
    async () => h.accuro.documents.some((d) => d.idempotencyKey === h.idempotencyKey(message)) || undefined,
    'the canary in the EMR',
  );
  expect(h.accuro.documents.filter((d) => !oceanKeys.has(d.idempotencyKey ?? ''))).toEqual([]);
  expect((await fetch(`http://127.0.0.1:${h.metricsPort}/healthz`)).status).toBe(200);
}

interface RawExchange {
  socket: Socket;
  /** Everything the server sent, once it closed the connection (or `settleMs` after it last sent something). */
  response: Promise<string>;
}

/** A hand-written HTTP exchange, to send what fetch will not: a body that never ends, headers that never end. */
function raw(head: string): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port: h.port }, () => {
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      const response = new Promise<string>((done) => socket.on('close', () => done(text)));
      socket.on('error', () => undefined); // EPIPE/ECONNRESET once the server has answered and closed
      if (head) socket.write(head);
      resolve({ socket, response });
    });
    socket.once('error', reject);
  });
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);

function headFor(headers: Record<string, string>, extra: string): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  return `POST /ocean/webhook HTTP/1.1\r\nHost: relay\r\n${lines.join('')}${extra}\r\n`;
}

describe('a post without the key Ocean was registered with', () => {
  const forged = () => eFormNoteMessage(`forged-${randomBytes(4).toString('hex')}`, h.patient(9), 'Forged note');

  it.each([
    ['is refused with 401 when it has no key', () => noKey()],
    ['is refused with 401 when its key is wrong', () => withKey(randomBytes(32).toString('base64url'))],
    [
      'is refused with 401 when the key is sent as a bearer token instead of in the registered header',
      () => ({
        ...noKey(),
        authorization: `Bearer ${key}`,
      }),
    ],
    [
      'is refused with 401 when the key header carries the id salt (a value from the same Vault record)',
      () => withKey(h.webhookKey.idSalt),
    ],
    ['is refused with 401 when it carries only a prefix of the key', () => withKey(key.slice(0, -1))],
  ])('%s, and nothing is stored or filed', async (_name, headers) => {
    const before = await lastSeq();
    const response = await post(headers(), forged());
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toBe(`the API key in header ${HEADER} is missing or not valid`);
    expect(await lastSeq()).toBe(before);
    await victimStillServed();
  });

  it("is refused with 401 even for Ocean's challenge handshake", async () => {
    const response = await post(withKey('x'.repeat(43)), { challenge: 'abc' });
    expect(response.status).toBe(401);
    expect(await response.text()).not.toContain('abc');
  });

  it('is refused with 401 before its body is read, however large it says it is', async () => {
    const before = await lastSeq();
    const x = await raw(headFor(withKey('y'.repeat(43)), `Content-Length: ${64 * MAX_BODY}\r\n`));
    const text = await x.response;
    expect(statusOf(text)).toBe(401);
    expect(await lastSeq()).toBe(before);
  });
});

describe('an authenticated post that breaks the rules', () => {
  it('is refused with 415 when it is not JSON, and nothing is stored', async () => {
    const before = await lastSeq();
    const response = await post({ ...withKey(), 'content-type': 'text/plain' }, JSON.stringify(eFormNoteMessage('typed-1', h.patient(2))));
    expect(response.status).toBe(415);
    expect(await lastSeq()).toBe(before);
    await victimStillServed();
  });

  it('is refused with 413 from its Content-Length, before a byte of the body is read, and the relay stays healthy', async () => {
    const before = await lastSeq();
    const x = await raw(headFor(withKey(), `Content-Length: ${MAX_BODY + 1}\r\n`));
    // No body is sent at all: the answer can only come from the declared length.
    const text = await x.response;
    expect(statusOf(text)).toBe(413);
    expect(text).toContain(`is larger than ${MAX_BODY} bytes`);
    expect(await lastSeq()).toBe(before);
    await victimStillServed();
  });

  it('is refused with 413 while it streams when it declares no length (chunked), and the relay stays healthy', async () => {
    const before = await lastSeq();
    const x = await raw(headFor(withKey(), 'Transfer-Encoding: chunked\r\n'));
    let answered = false;
    x.socket.once('data', () => (answered = true));
    void x.response.then(() => (answered = true));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    // Up to 16 times the limit: the relay must cut it off long before.
    while (!answered && sent < 16 * MAX_BODY && !x.socket.destroyed) {
      const ok = x.socket.write(`${chunk.length.toString(16)}\r\n`) && x.socket.write(chunk) && x.socket.write('\r\n');
      sent += chunk.length;
      // As a real client, it notices an answer between writes (one that never looks is cut off after the limit again).
      await new Promise((r) => (ok ? setImmediate(r) : setTimeout(r, 5)));
    }
    const text = await x.response;
    expect(statusOf(text)).toBe(413);
    expect(sent).toBeGreaterThan(MAX_BODY);
    expect(await lastSeq()).toBe(before);
    await victimStillServed();
  });
});

describe('custom field answers crafted to reach elsewhere in the EMR', () => {
  it.each([
    ['a path', '../../v1/token'],
    ['a query', 'smokingStatus?uuid=OTHER'],
    ['a URL', 'https://attacker.example/x'],
    ['a header break', 'smokingStatus\r\nX-Injected: 1'],
  ])('a field name that is %s is refused with 400 without being quoted; nothing is stored or written', async (_what, field) => {
    const before = await lastSeq();
    const message = eFormNoteMessage('crafted-cf', h.patient(3), 'Intake', { customFields: [{ field, value: 'Never' }] });
    const response = await post(withKey(), message);
    expect(response.status).toBe(400);
    const body = await response.text();
    expect(body).toContain('customFields[0].field');
    for (const part of field.split(/[\r\n]+/)) expect(body).not.toContain(part);
    expect(await lastSeq()).toBe(before);
    expect(h.accuro.state.patients.customFieldUpdates).toEqual([]);
    await victimStillServed();
  });
});

describe('too many requests, and slow clients', () => {
  it('answers 503 with Retry-After beyond the in-flight cap, cuts the slow uploads off, then serves Ocean again', async () => {
    const before = await lastSeq();
    const slow = await Promise.all(
      Array.from({ length: MAX_IN_FLIGHT }, () => raw(headFor(withKey(), 'Content-Length: 100000\r\n').concat('{"messageId":'))),
    );
    const refused = await eventually(async () => {
      const r = await post(withKey(), { challenge: 'c1' });
      return r.status === 503 ? r : undefined;
    }, 'a 503 once the slow uploads hold every slot');
    expect(refused.headers.get('retry-after')).toBe('5');
    // The slow uploads never finish: the request timeout answers them 408 and closes them.
    for (const s of slow) expect(statusOf(await s.response)).toBe(408);
    expect(await lastSeq()).toBe(before);
    await victimStillServed();
  });

  it('does not let unauthenticated requests take the slots Ocean needs', async () => {
    const holder = await raw(headFor(withKey(), 'Content-Length: 100000\r\n'));
    const flood = await Promise.all(Array.from({ length: 10 }, () => post(noKey(), { challenge: 'x' })));
    expect(flood.map((r) => r.status)).toEqual(Array.from({ length: 10 }, () => 401));
    await victimStillServed();
    holder.socket.destroy();
  });

  it('cuts off a client that never finishes its headers (slow loris)', async () => {
    const x = await raw(`POST /ocean/webhook HTTP/1.1\r\nHost: relay\r\n${HEADER}: ${key}\r\n`);
    const text = await x.response;
    // Closed by the server (RELAY_HEADERS_TIMEOUT_SECONDS); Node answers 408 when it can.
    expect(x.socket.destroyed).toBe(true);
    expect([0, 408]).toContain(statusOf(text));
    await victimStillServed();
  });

  it('closes connections beyond the cap at once, and serves Ocean again once they are gone', async () => {
    const held: Socket[] = [];
    let closedAtOnce = -1;
    // Opened back to back, well within the headers timeout that would close idle ones on its own.
    while (closedAtOnce < 0 && held.length <= 2 * MAX_CONNECTIONS) {
      const x = await raw('');
      held.push(x.socket);
      const outcome = await Promise.race([x.response.then(() => 'closed'), new Promise((r) => setTimeout(() => r('open'), 50))]);
      if (outcome === 'closed') closedAtOnce = held.length;
    }
    expect(closedAtOnce).toBeGreaterThan(0);
    expect(closedAtOnce).toBeLessThanOrEqual(MAX_CONNECTIONS + 1);
    for (const s of held) s.destroy();
    await eventually(async () => (await post(withKey(), { challenge: 'back' })).status === 200 || undefined, 'the webhook answering again');
    await victimStillServed();
  });
});

describe('the metrics', () => {
  it('are not served on the webhook port, even with the key, and are on their own port', async () => {
    expect((await fetch(`http://127.0.0.1:${h.port}/metrics`, { headers: withKey() })).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${h.port}/healthz`)).status).toBe(404);
    const metrics = await (await fetch(`http://127.0.0.1:${h.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/cloudconnect_relay_webhook_requests_total\{[^}]*result="unauthorized"\} [1-9]/);
    expect(metrics).toMatch(/cloudconnect_relay_webhook_requests_total\{[^}]*result="too_large"\} [1-9]/);
    expect(metrics).not.toContain(key);
  });
});

describe('a message id reused by someone else', () => {
  it('does not make the real message be dropped as a duplicate, and a retry of the real one is still stored once', async () => {
    const id = 'oc-shared-1';
    // Posted first, with a valid key (a leaked key, or a holder of the previous key during its grace period).
    const forged = referralAttachmentMessage(id, h.patient(4), 'Forged referral');
    const forgedResponse = await post(withKey(), forged);
    expect(forgedResponse.status).toBe(202);
    oceanKeys.add(h.idempotencyKey(forged)); // authenticated, so filed; what matters is that it shadows nothing
    const real = referralAttachmentMessage(id, h.patient(4), 'Referral letter');
    oceanKeys.add(h.idempotencyKey(real));
    const first = await h.ocean.deliverWebhook(h.webhookUrl, real);
    expect(first.status).toBe(202);
    const seq = await lastSeq();
    // Ocean retries the real message (it did not see the answer): stored once.
    const retry = await post(withKey(), real);
    expect(await retry.json()).toMatchObject({ duplicate: true });
    expect(await lastSeq()).toBe(seq);
    await eventually(
      async () => h.accuro.documents.some((d) => d.idempotencyKey === h.idempotencyKey(real)) || undefined,
      'the real message in the EMR',
    );
    const filed = h.accuro.documents.filter((d) => d.idempotencyKey === h.idempotencyKey(real));
    expect(filed).toHaveLength(1);
    expect(filed[0]?.title).toBe('Referral letter');
    expect(h.idempotencyKey(real)).not.toBe(h.idempotencyKey(forged));
  });
});

describe('a rotated key', () => {
  it('is accepted at once; the previous key during its grace period only, then refused with 401 and nothing stored', async () => {
    const old = key;
    const next = randomBytes(32).toString('base64url');
    const rotated = { current: next, previous: old, idSalt: h.webhookKey.idSalt, rotatedAt: new Date().toISOString() };
    await h.writeWebhookKey({ ...rotated, previousValidUntil: new Date(Date.now() + 3_600_000).toISOString() });
    await eventually(async () => (await post(withKey(next), { challenge: 'n' })).status === 200 || undefined, 'the new key accepted');
    expect((await post(withKey(old), { challenge: 'o' })).status).toBe(200);
    key = next;
    h.ocean.registerWebhook(h.webhookUrl, { headerName: HEADER, key: next });

    await h.writeWebhookKey({ ...rotated, previousValidUntil: new Date(Date.now() - 1000).toISOString() });
    await eventually(async () => (await post(withKey(old), { challenge: 'o' })).status === 401 || undefined, 'the old key refused');
    const before = await lastSeq();
    expect((await post(withKey(old), eFormNoteMessage('after-grace-1', h.patient(6), 'Late note'))).status).toBe(401);
    expect(await lastSeq()).toBe(before);
    await victimStillServed();
    expect(h.logs()).toContain('"message":"webhook key rotated"');
  });
});

describe('the relay logs', () => {
  it('never contain a webhook key or the id salt', () => {
    const logs = h.logs();
    expect(logs).not.toContain(h.webhookKey.current);
    expect(logs).not.toContain(key);
    expect(logs).not.toContain(h.webhookKey.idSalt);
  });
});

describe('TLS', () => {
  it('serves the webhook over HTTPS with the configured certificate, still behind the key, and no plain HTTP', async () => {
    const tls = makeTestTls();
    const dir = await mkdtemp(join(tmpdir(), 'cc-relay-tls-'));
    await writeFile(join(dir, 'tls.crt'), tls.cert);
    await writeFile(join(dir, 'tls.key'), tls.key);
    await h.kill('SIGTERM');
    await h.startRelay({ RELAY_TLS_CERT_FILE: join(dir, 'tls.crt'), RELAY_TLS_KEY_FILE: join(dir, 'tls.key') });
    const https = (headers: Record<string, string>, body: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpsRequest(
          { host: '127.0.0.1', port: h.port, path: '/ocean/webhook', method: 'POST', ca: tls.ca, headers },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    expect(await https(withKey(), JSON.stringify({ challenge: 'tls-ok' }))).toEqual({ status: 200, text: '{"challenge":"tls-ok"}' });
    expect((await https(noKey(), JSON.stringify({ challenge: 'tls-no-key' }))).status).toBe(401);
    await expect(post(withKey(), { challenge: 'plain' })).rejects.toThrow();
    await rm(dir, { recursive: true, force: true });
  });
});

describe('a header name chosen in spec.webhook.keyHeader', () => {
  it('is the only header the key is accepted in', async () => {
    const spec = JSON.parse(h.env['CLOUDCONNECT_INTEGRATION_SPEC'] ?? '{}') as Record<string, unknown>;
    await h.kill('SIGTERM');
    await h.startRelay({ CLOUDCONNECT_INTEGRATION_SPEC: JSON.stringify({ ...spec, webhook: { keyHeader: 'X-Clinic-Ocean-Key' } }) });
    expect((await post(withKey(), { challenge: 'default-header' })).status).toBe(401);
    expect((await post({ 'content-type': 'application/json', 'x-clinic-ocean-key': key }, { challenge: 'custom' })).status).toBe(200);
  });
});
