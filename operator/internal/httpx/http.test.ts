import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SIMULATOR_EGRESS } from '../../../test/simulators/egress.ts';
import { documentFileName, normalizeSex } from '../emr/shared.ts';
import { classifyTokenError } from './bearer.ts';
import { HttpClient, type HttpResponse, joinUrl, oauthErrorCode, parseRetryAfter } from './http.ts';
import { type BearerToken, needsRenewal, TokenCache } from './token-cache.ts';

const now = new Date('2030-01-01T00:00:00Z');

const response = (status: number, body = '', headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers: new Headers(headers),
  body: Buffer.from(body),
  what: 'GET /x',
});

describe('HTTP error mapping', () => {
  const client = new HttpClient({ emr: 'Test', secrets: ['super-secret-value'], now: () => now });

  it.each([
    ['maps 429 to RateLimited', 429, 'RateLimited'],
    ['maps 500 to EmrUnreachable', 500, 'EmrUnreachable'],
    ['maps 503 to EmrUnreachable', 503, 'EmrUnreachable'],
    ['maps 401 to InvalidCredentials by default', 401, 'InvalidCredentials'],
    ['maps 403 to Deauthorized by default', 403, 'Deauthorized'],
    ['maps 404 to NotFound', 404, 'NotFound'],
    ['maps a redirect to InvalidResponse', 302, 'InvalidResponse'],
    ['maps 400 to InvalidResponse', 400, 'InvalidResponse'],
  ] as const)('%s', (_name, status, reason) => {
    expect(client.statusError(response(status)).reason).toBe(reason);
  });

  it('lets the adapter classify 401 and 403', () => {
    expect(client.statusError(response(401), () => ({ reason: 'Expired', detail: 'x' })).reason).toBe('Expired');
  });

  it('scrubs credential values from messages even when a server echoes them', () => {
    const error = client.error('InvalidCredentials', 'GET /x?key=super-secret-value Bearer abcdefghijklmnop');
    expect(error.message).not.toContain('super-secret-value');
    expect(error.message).not.toContain('abcdefghijklmnop');
  });

  it.each([
    ['reads Retry-After in seconds', '7', 7000],
    ['reads Retry-After as an HTTP date', 'Tue, 01 Jan 2030 00:00:30 GMT', 30000],
    ['treats a past HTTP date as now', 'Mon, 31 Dec 2029 00:00:00 GMT', 0],
    ['ignores a malformed Retry-After', 'soon', undefined],
  ] as const)('%s', (_name, value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it('reports a timeout as EmrUnreachable without the URL query', async () => {
    const slow = new HttpClient({
      emr: 'Test',
      timeoutMs: 20,
      fetch: (_input, init) =>
        new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason))),
    });
    await expect(slow.send(new URL('https://emr.example/x?token=abc123456'))).rejects.toMatchObject({
      reason: 'EmrUnreachable',
      message: expect.not.stringContaining('abc123456'),
    });
  });
});

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('extra certificate authorities', () => {
  it.skipIf(!hasOpenssl())('trusts a server certificate from a private CA only when given the CA bundle', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emr-ca-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ],
        { stdio: 'ignore' },
      );
      const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      const server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/metadata`);
      try {
        const egress = SIMULATOR_EGRESS;
        await expect(new HttpClient({ emr: 'Test', timeoutMs: 2000, egress }).send(url)).rejects.toMatchObject({
          reason: 'EmrUnreachable',
        });
        await expect(new HttpClient({ emr: 'Test', timeoutMs: 2000, egress, caBundle: cert }).json(url)).resolves.toEqual({ ok: true });
      } finally {
        server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('OAuth 2 error vocabulary', () => {
  it.each([
    ['maps invalid_client to InvalidCredentials', 401, { error: 'invalid_client' }, 'InvalidCredentials'],
    ['maps invalid_grant to InvalidCredentials', 400, { error: 'invalid_grant' }, 'InvalidCredentials'],
    ['maps an expired grant to Expired', 400, { error: 'invalid_grant', error_description: 'password expired' }, 'Expired'],
    ['maps unauthorized_client to Deauthorized', 400, { error: 'unauthorized_client' }, 'Deauthorized'],
    ['maps an unknown 403 to Deauthorized', 403, {}, 'Deauthorized'],
    ['maps invalid_request to InvalidCredentials', 400, { error: 'invalid_request' }, 'InvalidCredentials'],
  ] as const)('%s', (_name, status, body, reason) => {
    expect(classifyTokenError(response(status, JSON.stringify(body))).reason).toBe(reason);
  });

  it('reads the bearer error from WWW-Authenticate when the body has none', () => {
    expect(
      oauthErrorCode(response(401, '', { 'www-authenticate': 'Bearer realm="x", error="invalid_token", error_description="expired"' })),
    ).toEqual({
      error: 'invalid_token',
      description: 'expired',
    });
  });
});

describe('token cache', () => {
  const token = (issued: number, lifetimeS: number): BearerToken => ({
    value: 'v',
    issuedAt: new Date(issued),
    expiresAt: new Date(issued + lifetimeS * 1000),
  });

  it.each([
    ['keeps a fresh token', 0, 3600, 1000, false],
    ['renews at two thirds of the lifetime', 0, 3600, 2400_000, true],
    ['renews a minute before expiry at the latest', 0, 120, 60_000, true],
    ['renews an expired token', 0, 3600, 4000_000, true],
  ] as const)('%s', (_name, issued, lifetime, at, expected) => {
    expect(needsRenewal(token(issued, lifetime), new Date(at))).toBe(expected);
  });

  it('shares one renewal between concurrent callers and renews when due', async () => {
    let clock = 0;
    let calls = 0;
    const cache = new TokenCache(
      async () => {
        calls++;
        return token(clock, 3600);
      },
      () => new Date(clock),
    );
    await Promise.all([cache.get(), cache.get(), cache.get()]);
    expect(calls).toBe(1);
    clock = 3000_000;
    await cache.get();
    expect(calls).toBe(2);
    cache.invalidate();
    await cache.get();
    expect(calls).toBe(3);
  });
});

describe('helpers', () => {
  it('joins a base URL that has a path', () => {
    expect(joinUrl('https://h.example/oscar/', '/ws/services/x', { a: 1, b: undefined }).toString()).toBe(
      'https://h.example/oscar/ws/services/x?a=1',
    );
  });

  it('puts the idempotency key in a safe file name', () => {
    expect(documentFileName('Referral / "letter"', 'msg:1/2')).toBe('Referral  letter [msg12].pdf');
  });

  it.each([
    ['F', 'female'],
    ['male', 'male'],
    ['X', 'other'],
    ['U', 'unknown'],
  ])('maps sex %s to %s', (input, expected) => {
    expect(normalizeSex(input)).toBe(expected);
  });
});
