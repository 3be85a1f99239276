// The operator's side of Ocean's integration registration and client check, against the Ocean
// simulator (whose validation is strict: a body it accepts is the registration shape of seed 001).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SIMULATOR_EGRESS } from '../../../test/simulators/egress.ts';
import { type OceanSimulator, start } from '../../../test/simulators/ocean.ts';
import { OceanClient, OceanError } from './client.ts';
import { FHIR_PAYLOAD_TYPE, OceanIntegrations, RELAY_PAYLOAD_TYPE, type WebhookRegistration } from './integrations.ts';
import { oceanFailureReason, oceanSecretCredentials } from './site-credentials.ts';

const SITE = '2002';
let sim: OceanSimulator;

beforeAll(async () => {
  sim = await start({ siteNumbers: [SITE] });
});
afterAll(() => sim.stop());
beforeEach(() => {
  sim.clearFaults();
  sim.integrations.length = 0;
});

const client = (overrides: Partial<ConstructorParameters<typeof OceanClient>[0]> = {}) =>
  new OceanClient({ apiUrl: sim.url, siteNumber: SITE, ...sim.credentials, timeoutMs: 2000, egress: SIMULATOR_EGRESS, ...overrides });
const KEY = 'k'.repeat(43);
const registration: WebhookRegistration = {
  name: 'Cloud Connect clinic/accuro',
  requestUrl: 'https://clinic.example.org/ocean/webhook',
  headerName: 'Referral-Integration-API-Key',
  key: KEY,
};

describe('OceanIntegrations against the Ocean simulator', () => {
  it('registers the webhook as seed 001 describes it: eReferrals, API key in a header, a copy of new referrals', async () => {
    const made = await new OceanIntegrations(client()).create(registration);
    expect(made.requestUrl).toBe(registration.requestUrl);
    expect(sim.integrations).toEqual([
      expect.objectContaining({
        id: made.id,
        siteNumber: SITE,
        name: registration.name,
        type: 'eReferrals',
        requestUrl: registration.requestUrl,
        payloadType: RELAY_PAYLOAD_TYPE,
        authentication: { type: 'apiKey', headerName: registration.headerName, key: KEY },
        sendCopyOfNewReferrals: true,
      }),
    ]);
  });

  it('registers an eReferral endpoint with the FHIR payload type of the portal', async () => {
    await new OceanIntegrations(client()).create({ ...registration, payloadType: FHIR_PAYLOAD_TYPE });
    expect(sim.integrations.map((r) => r.payloadType)).toEqual(['FHIR v0.11.1']);
  });

  it('updates a registration in place with a new key', async () => {
    const ocean = new OceanIntegrations(client());
    const made = await ocean.create(registration);
    const newKey = 'n'.repeat(43);
    expect(await ocean.update(made.id, { ...registration, key: newKey })).toMatchObject({ id: made.id });
    expect(sim.integrations.map((r) => r.authentication.key)).toEqual([newKey]);
  });

  it('reads a registration back without its key, and says when Ocean no longer has it', async () => {
    const ocean = new OceanIntegrations(client());
    const made = await ocean.create(registration);
    expect(await ocean.get(made.id)).toEqual({ id: made.id, requestUrl: registration.requestUrl, headerName: registration.headerName });
    await ocean.remove(made.id);
    expect(sim.integrations).toEqual([]);
    expect(await ocean.get(made.id)).toBeUndefined();
    expect(await ocean.update(made.id, registration)).toBeUndefined();
    await expect(ocean.remove(made.id)).resolves.toBeUndefined();
  });

  it('fails with Ocean’s reason for a site the client may not act for, and stores nothing', async () => {
    const error = await new OceanIntegrations(client({ siteNumber: '9999' })).create(registration).catch((e: unknown) => e);
    expect(oceanFailureReason(error)).toBe('Deauthorized');
    expect(sim.integrations).toEqual([]);
  });

  it('never puts the key or the client secret in an error', async () => {
    const error = (await new OceanIntegrations(client())
      .create({ ...registration, requestUrl: 'http://clinic.example.org/ocean/webhook' })
      .catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(OceanError);
    expect(oceanFailureReason(error)).toBe('OceanRejected');
    expect(`${error.message}${error.stack}`).not.toContain(KEY);
    expect(`${error.message}${error.stack}`).not.toContain(sim.credentials.clientSecret);
  });
});

describe('OceanClient.authenticate', () => {
  it('reports the client secret expiry that Ocean gives', async () => {
    sim.setFault({ credentialNotAfter: '2099-01-01T00:00:00Z' });
    expect(await client().authenticate()).toEqual({ notAfter: new Date('2099-01-01T00:00:00Z') });
  });
  it('reports no expiry when Ocean gives none', async () => {
    expect(await client().authenticate()).toEqual({});
  });
  it.each([
    ['InvalidCredentials for a refused client', { rejectCredentials: true }, 'InvalidCredentials'],
    ['Expired for an expired client secret', { credentialNotAfter: '2000-01-01T00:00:00Z' }, 'Expired'],
    ['Deauthorized for a disabled client', { deauthorized: true }, 'Deauthorized'],
    ['OceanUnreachable when Ocean fails', { serverError: 503 }, 'OceanUnreachable'],
  ] as const)('says %s', async (_name, fault, reason) => {
    sim.setFault(fault);
    expect(
      oceanFailureReason(
        await client()
          .authenticate()
          .catch((e: unknown) => e),
      ),
    ).toBe(reason);
  });
});

describe('oceanSecretCredentials', () => {
  const secret = (data: Record<string, string>) => ({
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  });
  it('reads clientId and clientSecret, trimmed', () => {
    expect(oceanSecretCredentials(secret({ clientId: 'id-1\n', clientSecret: 'secret-1' }))).toEqual({
      credentials: { clientId: 'id-1', clientSecret: 'secret-1' },
    });
  });
  it('names the keys that are missing or empty', () => {
    expect(oceanSecretCredentials(secret({ clientId: 'id-1', clientSecret: ' ' }))).toEqual({ missing: ['clientSecret'] });
    expect(oceanSecretCredentials({})).toEqual({ missing: ['clientId', 'clientSecret'] });
  });
});
