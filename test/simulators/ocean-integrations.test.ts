// The Ocean simulator's registration API is never more forgiving than Ocean's portal form (seed 001).
import { describe, expect, it } from 'vitest';
import { parseRegistration, publicView } from './ocean-integrations.ts';

const valid = {
  name: 'Cloud Connect clinic/accuro',
  type: 'eReferrals',
  requestUrl: 'https://clinic.example.org/ocean/webhook',
  payloadType: 'Cloud Connect v1',
  authentication: { type: 'apiKey', headerName: 'Referral-Integration-API-Key', key: 'k'.repeat(32) },
  sendCopyOfNewReferrals: true,
};

describe('parseRegistration', () => {
  it('accepts the registration of the portal form', () => {
    expect(parseRegistration(valid)).toEqual(valid);
  });
  it.each([
    ['refuses an unknown field', { ...valid, extra: 1 }, /unknown field/],
    ['refuses a missing field', { ...valid, sendCopyOfNewReferrals: undefined }, /lacks sendCopyOfNewReferrals/],
    ['refuses a plain http request URL', { ...valid, requestUrl: 'http://clinic.example.org/ocean/webhook' }, /https/],
    ['refuses a request URL with credentials', { ...valid, requestUrl: 'https://u:p@clinic.example.org/x' }, /credentials/],
    ['refuses a request URL that is not a URL', { ...valid, requestUrl: 'clinic' }, /not a URL/],
    ['refuses another integration type', { ...valid, type: 'eForms' }, /eReferrals/],
    ['refuses an unknown payload type', { ...valid, payloadType: 'FHIR R4' }, /payloadType/],
    ['refuses another authentication', { ...valid, authentication: { ...valid.authentication, type: 'basic' } }, /apiKey/],
    ['refuses a header name that is not a token', { ...valid, authentication: { ...valid.authentication, headerName: 'X Key' } }, /header/],
    ['refuses a key shorter than 32 characters', { ...valid, authentication: { ...valid.authentication, key: 'short' } }, /32 to 512/],
    ['refuses a key with spaces', { ...valid, authentication: { ...valid.authentication, key: `${'k'.repeat(32)} x` } }, /visible ASCII/],
    ['refuses an empty name', { ...valid, name: ' ' }, /name/],
    ['refuses a copy flag that is not a boolean', { ...valid, sendCopyOfNewReferrals: 'yes' }, /boolean/],
  ])('%s', (_name, body, message) => {
    let error: unknown;
    try {
      parseRegistration(body);
    } catch (e) {
      error = e;
    }
    expect((error as { status?: number }).status).toBe(400);
    expect(JSON.stringify((error as { reply: unknown }).reply)).toMatch(message);
  });
});

describe('publicView', () => {
  it('shows a registration without its key', () => {
    const view = publicView({
      ...parseRegistration(valid),
      id: 'int-1',
      siteNumber: '1',
      clientId: 'c',
      createdAt: 'now',
      updatedAt: 'now',
    });
    expect(JSON.stringify(view)).not.toContain(valid.authentication.key);
    expect(view).toMatchObject({ id: 'int-1', authentication: { type: 'apiKey', headerName: 'Referral-Integration-API-Key' } });
  });
});
