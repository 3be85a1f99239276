// The egress sandbox end to end inside one process: HttpClient against real local servers.
import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SIMULATOR_EGRESS } from '../../../test/simulators/egress.ts';
import { addressCheck, EndpointNotAllowedError, parseCidrList } from './address-policy.ts';
import { guardedLookup } from './egress-agent.ts';
import { DEFAULT_EGRESS, EGRESS_ENV, egressEnv, egressFromEnv } from './egress-config.ts';
import { HttpClient, transportFailure } from './http.ts';
import { EmrError } from './remote-error.ts';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** A server on loopback; `hits` counts the requests it received. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    handler?.(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits };
}

async function failureOf(promise: Promise<unknown>): Promise<EmrError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EmrError);
  return error as EmrError;
}

describe('the egress sandbox', () => {
  it('refuses a loopback endpoint by default, and the server never sees the request', async () => {
    const server = await serve((_req, res) => res.end('{}'));
    const error = await failureOf(new HttpClient({ emr: 'Test' }).send(new URL(`${server.url}/token?secret=abc`)));
    expect(error).toMatchObject({ reason: 'EmrUnreachable', egress: 'EndpointNotAllowed' });
    expect(error.message).toMatch(/GET \/token: the endpoint resolves to 127\.0\.0\.1, a loopback address/);
    expect(error.message).not.toContain('secret=abc');
    expect(server.hits()).toBe(0);
  });

  it('refuses a host name that resolves to loopback, checking the resolved address', async () => {
    const server = await serve((_req, res) => res.end('{}'));
    const url = new URL(server.url.replace('127.0.0.1', 'localhost'));
    const error = await failureOf(new HttpClient({ emr: 'Test' }).send(url));
    expect(error.egress).toBe('EndpointNotAllowed');
    expect(server.hits()).toBe(0);
  });

  it('reaches loopback once the operator allows it', async () => {
    const server = await serve((_req, res) => res.end('{"ok":true}'));
    await expect(new HttpClient({ emr: 'Test', egress: SIMULATOR_EGRESS }).json(new URL(server.url))).resolves.toEqual({ ok: true });
  });

  it('stops an endless body at the cap (ResponseTooLarge) instead of buffering it', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const pump = () => {
        while (res.write(chunk));
        res.once('drain', pump);
      };
      pump();
    });
    const egress = { ...SIMULATOR_EGRESS, maxResponseBytes: 256 * 1024 };
    const error = await failureOf(new HttpClient({ emr: 'Test', egress }).send(new URL(`${server.url}/providers`)));
    expect(error).toMatchObject({ reason: 'InvalidResponse', egress: 'ResponseTooLarge' });
    expect(error.message).toBe('Test GET /providers: the response is larger than 262144 bytes (EGRESS_MAX_RESPONSE_BYTES)');
  });

  it('gives up on an endpoint that never answers (EndpointTimeout)', async () => {
    const server = await serve(() => undefined);
    const error = await failureOf(new HttpClient({ emr: 'Test', egress: SIMULATOR_EGRESS, timeoutMs: 200 }).send(new URL(server.url)));
    expect(error).toMatchObject({ reason: 'EmrUnreachable', egress: 'EndpointTimeout' });
    expect(server.hits()).toBe(1);
  });

  it('gives up on a body that trickles without end, at the whole-request deadline (EndpointTimeout)', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 20);
    });
    const error = await failureOf(new HttpClient({ emr: 'Test', egress: SIMULATOR_EGRESS, timeoutMs: 300 }).send(new URL(server.url)));
    expect(error).toMatchObject({ reason: 'EmrUnreachable', egress: 'EndpointTimeout' });
  });

  it('follows no redirect to another host: the answer is an error and the other host sees nothing', async () => {
    const other = await serve((_req, res) => res.end('{}'));
    const server = await serve((_req, res) => {
      res.writeHead(302, { location: `${other.url.replace('127.0.0.1', 'localhost')}/steal` });
      res.end();
    });
    const client = new HttpClient({ emr: 'Test', egress: SIMULATOR_EGRESS });
    await expect(client.request(new URL(server.url))).rejects.toMatchObject({ reason: 'InvalidResponse' });
    expect(other.hits()).toBe(0);
  });

  it('refuses a name when any address it resolves to is refused, so a rebinding answer gains nothing', async () => {
    const resolver = ((_host: string, _options: unknown, callback: (e: null, all: LookupAddress[]) => void) =>
      callback(null, [
        { address: '203.0.113.7', family: 4 },
        { address: '169.254.169.254', family: 4 },
      ])) as unknown as Parameters<typeof guardedLookup>[1];
    const lookup = guardedLookup(addressCheck({ allow: [], deny: [] }), resolver);
    const error = await new Promise<Error | null>((resolve) => lookup('emr.example.org', { all: true }, (e) => resolve(e)));
    expect(error).toBeInstanceOf(EndpointNotAllowedError);
    expect(error?.message).toContain('169.254.169.254, a link-local address');
  });

  it('passes a name whose addresses are all allowed', async () => {
    const resolver = ((_host: string, _options: unknown, callback: (e: null, all: LookupAddress[]) => void) =>
      callback(null, [{ address: '203.0.113.7', family: 4 }])) as unknown as Parameters<typeof guardedLookup>[1];
    const lookup = guardedLookup(addressCheck({ allow: [], deny: [] }), resolver);
    const answer = await new Promise<unknown[]>((resolve) => lookup('emr.example.org', {}, (...args) => resolve(args)));
    expect(answer).toEqual([null, '203.0.113.7', 4]);
  });
});

describe('transport failures', () => {
  const withCause = (cause: unknown) => Object.assign(new TypeError('fetch failed'), { cause });
  it.each([
    ['names a refused address EndpointNotAllowed', withCause(new EndpointNotAllowedError('10.0.0.1', 'private')), 'EndpointNotAllowed'],
    ['names the whole-request deadline EndpointTimeout', new DOMException('timed out', 'TimeoutError'), 'EndpointTimeout'],
    [
      'names the connect deadline EndpointTimeout',
      withCause(Object.assign(new Error('x'), { code: 'UND_ERR_CONNECT_TIMEOUT' })),
      'EndpointTimeout',
    ],
    [
      'names undici own size cap ResponseTooLarge',
      withCause(Object.assign(new Error('x'), { code: 'UND_ERR_RES_EXCEEDED_MAX_SIZE' })),
      'ResponseTooLarge',
    ],
    ['leaves a refused connection to EmrUnreachable alone', withCause(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), undefined],
  ] as const)('%s', (_name, error, egress) => {
    expect(transportFailure(error, { timeoutMs: 1000, maxResponseBytes: 1024 }).egress).toBe(egress);
  });
});

describe('the egress configuration', () => {
  it('defaults to nothing non-public, 16 MiB, 10 s to connect and 30 s per request', () => {
    expect(egressFromEnv({})).toEqual(DEFAULT_EGRESS);
  });

  it('names every bad variable at once', () => {
    expect(() =>
      egressFromEnv({
        [EGRESS_ENV.allow]: '127.0.0.0/8,localhost',
        [EGRESS_ENV.maxResponseBytes]: '12',
        [EGRESS_ENV.timeout]: 'forever',
      }),
    ).toThrow(
      /EGRESS_ALLOW_CIDRS must be comma-separated CIDRs.*EGRESS_MAX_RESPONSE_BYTES must be an integer.*EGRESS_TIMEOUT must be a duration/,
    );
  });

  it('passes to the pods only what differs from the default, in a form they read back the same', () => {
    expect(egressEnv(DEFAULT_EGRESS)).toEqual([]);
    const policy = { ...DEFAULT_EGRESS, allow: parseCidrList('127.0.0.0/8,::1').cidrs, maxResponseBytes: 4096, timeoutMs: 2000 };
    const env = egressEnv(policy);
    expect(env).toEqual([
      { name: 'EGRESS_ALLOW_CIDRS', value: '127.0.0.0/8,::1/128' },
      { name: 'EGRESS_MAX_RESPONSE_BYTES', value: '4096' },
      { name: 'EGRESS_TIMEOUT', value: '2s' },
    ]);
    expect(egressFromEnv(Object.fromEntries(env.map((e) => [e.name, e.value])))).toEqual({
      ...policy,
      allow: parseCidrList('127.0.0.0/8,::1/128').cidrs,
    });
  });
});
