import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { EmrIntegrationSpec, OceanSite } from '../../api/v1alpha1/index.ts';
import { EmrError } from '../../internal/emr/adapter.ts';
import { apiUserOf, failedCheck, lacksKeys, readyToCheck } from './auth-check.ts';

const now = new Date('2026-03-01T12:00:00Z');
const spec = { siteRef: { name: 'maple' }, emr: { type: 'Accuro' } } as unknown as EmrIntegrationSpec;
const siteWith = (ready: string | undefined) =>
  ({
    metadata: { name: 'maple' },
    spec: {},
    status: ready ? { conditions: [{ type: 'Ready', status: ready, reason: 'r', message: 'm', lastTransitionTime: '' }] } : undefined,
  }) as unknown as OceanSite;
const secret: V1Secret = { metadata: { name: 'creds' }, data: {} };

describe('whether a check can be made', () => {
  it.each([
    ['waits for the OceanSite to exist', undefined, secret, { reason: 'SiteNotReady', message: 'OceanSite maple does not exist' }],
    ['waits for the OceanSite to be Ready', siteWith('False'), secret, { reason: 'SiteNotReady', message: 'OceanSite maple is not Ready' }],
    [
      'waits for an OceanSite that has no status yet',
      siteWith(undefined),
      secret,
      { reason: 'SiteNotReady', message: 'OceanSite maple is not Ready' },
    ],
    [
      'says the credentials Secret does not exist',
      siteWith('True'),
      undefined,
      { reason: 'SecretNotFound', message: 'Secret creds named by spec.emr does not exist' },
    ],
  ] as const)('%s', (_n, site, credentials, failure) => {
    expect(readyToCheck({ spec, site, secret: credentials, secretName: 'creds' }, now)).toEqual({
      failed: { ok: false, at: now, ...failure },
    });
  });

  it('checks with the Secret once the site is Ready and the Secret exists', () => {
    expect(readyToCheck({ spec, site: siteWith('True'), secret, secretName: 'creds' }, now)).toEqual({ secret });
  });

  it.each([
    ['names the keys the Secret lacks', ['apiPassword', 'clientId'], 'Secret creds lacks the key(s) apiPassword, clientId'],
    ['lets a Secret with every key through', [], undefined],
  ] as const)('%s', (_n, missing, message) => {
    const check = lacksKeys('creds', missing, now);
    expect(check).toEqual(message ? { ok: false, at: now, reason: 'InvalidCredentials', message } : undefined);
  });
});

describe('a failed check', () => {
  it.each([
    ['keeps InvalidCredentials from the EMR', new EmrError('InvalidCredentials', 'rejected'), 'InvalidCredentials'],
    ['keeps Deauthorized when the EMR revoked access', new EmrError('Deauthorized', 'revoked'), 'Deauthorized'],
    ['keeps Expired from the EMR', new EmrError('Expired', 'expired'), 'Expired'],
    ['reports a rate-limited EMR as EmrUnreachable', new EmrError('RateLimited', 'slow down'), 'EmrUnreachable'],
    ['reports an error that is not the EMR’s as EmrUnreachable', new Error('socket hang up'), 'EmrUnreachable'],
    [
      'names a refused endpoint EndpointNotAllowed rather than EmrUnreachable',
      new EmrError('EmrUnreachable', 'resolves to 10.0.0.1', undefined, 'EndpointNotAllowed'),
      'EndpointNotAllowed',
    ],
    [
      'names an oversized answer ResponseTooLarge',
      new EmrError('InvalidResponse', 'too large', undefined, 'ResponseTooLarge'),
      'ResponseTooLarge',
    ],
    [
      'names a silent endpoint EndpointTimeout',
      new EmrError('EmrUnreachable', 'no answer', undefined, 'EndpointTimeout'),
      'EndpointTimeout',
    ],
  ] as const)('%s', (_n, error, reason) => {
    expect(failedCheck(error, now)).toEqual({ ok: false, at: now, reason, message: error.message });
  });
});

describe('a successful check', () => {
  it.each([
    ['takes the API user the EMR names', { apiUser: 'emr-user' }, { apiUsername: 'u' }, {}, 'emr-user'],
    ['else the apiUsername credential (Accuro)', {}, { apiUsername: 'u', clientId: 'c' }, {}, 'u'],
    ['else the clientKey credential (OSCAR Pro)', {}, { clientKey: 'k', clientId: 'c' }, {}, 'k'],
    ['else the clientId credential (FHIR)', {}, { clientId: 'c' }, {}, 'c'],
    ['else the TELUS instance', {}, {}, { instanceId: 'inst-7' }, 'inst-7'],
    ['is unknown otherwise', {}, {}, {}, undefined],
  ] as const)('%s', (_n, auth, credentials, settings, expected) => {
    expect(apiUserOf(auth, credentials, { type: 'Accuro', baseUrl: 'https://emr', ...settings })).toBe(expected);
  });
});
