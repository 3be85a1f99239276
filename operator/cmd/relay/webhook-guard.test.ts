import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { WebhookKeys } from './api-key.ts';
import { bodyLimit, checkRequestHead, type WebhookLimits } from './webhook-guard.ts';

const KEY = 'k'.repeat(43);
const keys: WebhookKeys = { current: KEY, idSalt: 's'.repeat(43) };
const limits: WebhookLimits = { apiKeyHeader: 'Referral-Integration-API-Key', maxBodyBytes: 1000, maxInFlight: 2, retryAfterSeconds: 5 };
const good: IncomingHttpHeaders = { 'referral-integration-api-key': KEY, 'content-type': 'application/json', 'content-length': '10' };
const state: { keys: WebhookKeys; now: Date; inFlight: number; maxPayload: number | undefined } = {
  keys,
  now: new Date('2030-01-01T00:00:00Z'),
  inFlight: 0,
  maxPayload: undefined,
};
const check = (headers: IncomingHttpHeaders, over: Partial<typeof state> = {}, method = 'POST', path = '/ocean/webhook') =>
  checkRequestHead({ method, path, headers }, { ...state, ...over }, limits);

describe('the webhook request head', () => {
  it('serves /ocean/fhir_bundles only for an integration with an eReferral endpoint, behind the same key', () => {
    const head = (headers: IncomingHttpHeaders) => ({ method: 'POST', path: '/ocean/fhir_bundles', headers });
    expect(checkRequestHead(head(good), state, limits)?.status).toBe(404);
    const eReferral = { ...limits, fhirBundles: true };
    expect(checkRequestHead(head(good), state, eReferral)).toBeUndefined();
    expect(checkRequestHead(head({ ...good, 'referral-integration-api-key': undefined }), state, eReferral)?.status).toBe(401);
  });

  it('lets an authenticated JSON post of an allowed size through', () => {
    expect(check(good)).toBeUndefined();
    expect(check({ ...good, 'content-type': 'application/fhir+json; charset=utf-8' })).toBeUndefined();
    expect(check({ ...good, 'content-length': undefined })).toBeUndefined();
  });

  it.each([
    ['refuses another path with 404', good, {}, 'POST', '/metrics', 404, 'not_found'],
    ['refuses a GET with 405', good, {}, 'GET', '/ocean/webhook', 405, 'not_found'],
    [
      'refuses a post without the key with 401',
      { ...good, 'referral-integration-api-key': undefined },
      {},
      'POST',
      '/ocean/webhook',
      401,
      'unauthorized',
    ],
    [
      'refuses a wrong key with 401',
      { ...good, 'referral-integration-api-key': 'x'.repeat(43) },
      {},
      'POST',
      '/ocean/webhook',
      401,
      'unauthorized',
    ],
    [
      'refuses the key in another header with 401',
      { ...good, 'referral-integration-api-key': undefined, authorization: KEY },
      {},
      'POST',
      '/ocean/webhook',
      401,
      'unauthorized',
    ],
    [
      'refuses a repeated key header with 401',
      { ...good, 'referral-integration-api-key': [KEY, KEY] as unknown as string },
      {},
      'POST',
      '/ocean/webhook',
      401,
      'unauthorized',
    ],
    ['refuses text/plain with 415', { ...good, 'content-type': 'text/plain' }, {}, 'POST', '/ocean/webhook', 415, 'unsupported_media_type'],
    [
      'refuses a post without a content type with 415',
      { ...good, 'content-type': undefined },
      {},
      'POST',
      '/ocean/webhook',
      415,
      'unsupported_media_type',
    ],
    [
      'refuses a declared body over the limit with 413',
      { ...good, 'content-length': '1001' },
      {},
      'POST',
      '/ocean/webhook',
      413,
      'too_large',
    ],
    [
      'refuses a declared body over the queue max_payload with 413',
      { ...good, 'content-length': '600' },
      { maxPayload: 500 },
      'POST',
      '/ocean/webhook',
      413,
      'too_large',
    ],
    ['refuses one more request than the in-flight cap with 503', good, { inFlight: 2 }, 'POST', '/ocean/webhook', 503, 'overloaded'],
  ] as const)('%s', (_name, headers, over, method, path, status, result) => {
    expect(check(headers as IncomingHttpHeaders, over, method, path)).toMatchObject({ status, result });
  });

  it('checks the key before anything that could tell a caller about the limits', () => {
    const noKey = { ...good, 'referral-integration-api-key': undefined };
    expect(check({ ...noKey, 'content-type': 'text/plain' })?.status).toBe(401);
    expect(check({ ...noKey, 'content-length': '99999999' })?.status).toBe(401);
    expect(check(noKey, { inFlight: 2 })?.status).toBe(401);
  });

  it('tells Ocean when to retry a 503', () => {
    expect(check(good, { inFlight: 5 })?.headers).toEqual({ 'retry-after': '5' });
  });

  it("names the queue's max_payload when it is the lower limit", () => {
    expect(bodyLimit(limits, 500)).toEqual({ bytes: 500, queue: true });
    expect(bodyLimit(limits, 5000)).toEqual({ bytes: 1000, queue: false });
    expect(check({ ...good, 'content-length': '600' }, { maxPayload: 500 })?.message).toBe(
      "the body (600 bytes) exceeds the queue's max_payload (500 bytes)",
    );
  });
});
