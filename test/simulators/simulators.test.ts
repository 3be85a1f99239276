// Tests of the simulators themselves (the adapters' tests against them live in operator/internal/emr/).

import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationHeader } from '../../operator/internal/httpx/oauth1.ts';
import { FakeData } from './fake-data.ts';
import { DEFAULT_RATE_LIMIT } from './limits.ts';
import { startAll } from './main.ts';
import { type OceanSimulator, start as startOcean } from './ocean.ts';
import { type OscarSimulator, start as startOscar } from './oscar.ts';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('fake data', () => {
  it('is the same clinic for the same seed and another clinic for another seed', () => {
    const a = new FakeData(42, { startDate: '2030-01-01' });
    const b = new FakeData(42, { startDate: '2030-01-01' });
    const c = new FakeData(43, { startDate: '2030-01-01' });
    expect(a.patient(17)).toEqual(b.patient(17));
    expect(a.appointment(33)).toEqual(b.appointment(33));
    expect([0, 1, 2, 3, 4].map((i) => c.patient(i).healthNumber)).not.toEqual([0, 1, 2, 3, 4].map((i) => a.patient(i).healthNumber));
  });

  it('generates 20,000 patients and 15,000 appointments lazily, on demand', () => {
    const data = new FakeData(1, { providers: 50, patients: 20_000, appointmentsPerDay: 5000, days: 3, startDate: '2030-01-01' });
    expect(data.appointmentCount).toBe(15_000);
    expect(data.patient(19_999).lastName).toMatch(/-Sim$/);
    const { first, end } = data.range(new Date('2030-01-02T00:00:00Z'), new Date('2030-01-03T00:00:00Z'));
    expect(end - first).toBe(5000);
    expect(data.appointment(first).start.toISOString().slice(0, 10)).toBe('2030-01-02');
  });

  it('orders appointments by start time so that an index is a cursor', () => {
    const data = new FakeData(9, { providers: 7, appointmentsPerDay: 90, days: 3, startDate: '2030-01-01' });
    for (let i = 1; i < data.appointmentCount; i++) expect(data.startMsOf(i)).toBeGreaterThanOrEqual(data.startMsOf(i - 1));
  });

  it.each([
    ['opens the Toronto clinic (the default zone) at 07:00 EST, 12:00 UTC, in winter', undefined, '2030-01-07', '2030-01-07T12:00:00.000Z'],
    [
      'opens the Toronto clinic at 07:00 EDT, 11:00 UTC, on the spring-forward Sunday',
      'America/Toronto',
      '2030-03-10',
      '2030-03-10T11:00:00.000Z',
    ],
    ['opens an Auckland clinic at 07:00 NZST, 19:00 UTC the day before', 'Pacific/Auckland', '2030-05-06', '2030-05-05T19:00:00.000Z'],
    ['opens a UTC clinic at 07:00 UTC', 'UTC', '2030-05-06', '2030-05-06T07:00:00.000Z'],
  ])('%s', (_name, zone, startDate, firstStart) => {
    const data = new FakeData(3, { providers: 2, appointmentsPerDay: 4, days: 1, startDate }, zone);
    expect(data.appointment(0).start.toISOString()).toBe(firstStart);
  });

  it('keeps the order across a 23-hour spring-forward day with one-minute slots all day long', () => {
    const data = new FakeData(9, { providers: 1, appointmentsPerDay: 1380, days: 3, startDate: '2030-03-09' }, 'America/Toronto');
    for (let i = 1; i < data.appointmentCount; i++) expect(data.startMsOf(i)).toBeGreaterThan(data.startMsOf(i - 1));
  });

  it('uses clearly synthetic names, fictional phone numbers and reserved e-mail domains', () => {
    const data = new FakeData(1, { patients: 50 });
    for (let i = 0; i < 50; i++) {
      const p = data.patient(i);
      expect(p.lastName).toMatch(/-Sim$/);
      expect(p.phone).toMatch(/^613-555-01\d\d$/);
      expect(p.email).toMatch(/@example\.invalid$/);
    }
  });
});

describe('simulator control API over HTTP', () => {
  let sim: OscarSimulator;
  beforeAll(async () => {
    sim = await startOscar({ volume: { startDate: '2030-01-01' } });
  });
  afterAll(() => sim.stop());

  it('sets, merges, reads and clears faults', async () => {
    const post = (body: unknown, method = 'POST') =>
      fetch(`${sim.origin}/_sim/faults`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ serverError: true, hiddenProviderIds: ['1001'] })).status).toBe(200);
    expect(sim.faults).toEqual({ serverError: true, hiddenProviderIds: ['1001'] });
    await post({ serverError: null, slowMs: 5 });
    expect(await (await fetch(`${sim.origin}/_sim/faults`)).json()).toEqual({ hiddenProviderIds: ['1001'], slowMs: 5 });
    await post({ deauthorized: true }, 'PUT');
    expect(sim.faults).toEqual({ deauthorized: true });
    await fetch(`${sim.origin}/_sim/faults`, { method: 'DELETE' });
    expect(sim.faults).toEqual({});
  });

  it.each([
    ['refuses an unknown fault', { explode: true }],
    ['refuses a fault of the wrong type', { slowMs: 'slow' }],
    ['refuses a status that is not 5xx', { serverError: 404 }],
  ])('%s', async (_name, body) => {
    const response = await fetch(`${sim.origin}/_sim/faults`, { method: 'POST', body: JSON.stringify(body) });
    expect(response.status).toBe(400);
    expect(sim.faults).toEqual({});
  });

  it('answers 5xx and 429 from the API but never from the control API', async () => {
    sim.setFault({ serverError: 500 });
    expect((await fetch(`${sim.url}/ws/services/providerService/providers_json`)).status).toBe(500);
    expect((await fetch(`${sim.origin}/_sim/health`)).status).toBe(200);
    sim.setFault({ serverError: null, rateLimit: { retryAfterSeconds: 9 } });
    const limited = await fetch(`${sim.url}/ws/services/providerService/providers_json`);
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '9']);
    sim.clearFaults();
  });

  it('lists documents without their content', async () => {
    const body = (await (await fetch(`${sim.origin}/_sim/documents`)).json()) as { documents: unknown[]; duplicates: unknown[] };
    expect(body).toEqual({ documents: [], notes: [], duplicates: [] });
  });
});

describe('the default request budget (limits.ts)', () => {
  const budget = DEFAULT_RATE_LIMIT.requests;
  const call = (sim: { url: string }) => fetch(`${sim.url}/ws/services/providerService/providers_json`);

  it(`is on with no limits set: call ${budget + 1} within ${DEFAULT_RATE_LIMIT.windowSeconds} s is refused with 429 and the seconds left, and the next window serves again`, async () => {
    let now = Date.parse('2030-01-01T12:00:00Z');
    const sim = await startOscar({ volume: { startDate: '2030-01-01' }, now: () => new Date(now) });
    try {
      const statuses = await Promise.all(Array.from({ length: budget }, async () => (await call(sim)).status));
      expect(statuses.filter((status) => status === 429)).toEqual([]);
      now += 4000;
      const refused = await call(sim);
      expect([refused.status, refused.headers.get('retry-after')]).toEqual([429, String(DEFAULT_RATE_LIMIT.windowSeconds - 4)]);
      expect(sim.state.limitCounter.refused).toBe(1);
      now += (DEFAULT_RATE_LIMIT.windowSeconds - 4) * 1000;
      expect((await call(sim)).status).not.toBe(429);
    } finally {
      await sim.stop();
    }
  });

  it('is off only where a test opts into leniency (rateLimit: false)', async () => {
    const sim = await startOscar({
      volume: { startDate: '2030-01-01' },
      now: () => new Date('2030-01-01T12:00:00Z'),
      limits: { rateLimit: false },
    });
    try {
      const statuses = await Promise.all(Array.from({ length: budget + 50 }, async () => (await call(sim)).status));
      expect(statuses.filter((status) => status === 429)).toEqual([]);
      expect(sim.state.limitCounter.refused).toBe(0);
    } finally {
      await sim.stop();
    }
  });
});

describe('OSCAR simulator OAuth 1.0a verification', () => {
  let sim: OscarSimulator;
  beforeAll(async () => {
    sim = await startOscar({ volume: { startDate: '2030-01-01' } });
  });
  afterAll(() => sim.stop());

  const signed = (url: URL, overrides: { nonce?: string; timestamp?: number; tokenSecret?: string } = {}) =>
    authorizationHeader({
      method: 'GET',
      url,
      credentials: {
        consumerKey: sim.credentials.clientKey,
        consumerSecret: sim.credentials.clientSecret,
        token: sim.credentials.accessToken,
        tokenSecret: overrides.tokenSecret ?? sim.credentials.tokenSecret,
      },
      ...(overrides.nonce ? { nonce: overrides.nonce } : {}),
      ...(overrides.timestamp ? { timestamp: overrides.timestamp } : {}),
    });

  const problem = async (response: Response) => /oauth_problem="([a-z_]+)"/.exec(response.headers.get('www-authenticate') ?? '')?.[1];

  it('accepts a correctly signed request with a query string', async () => {
    const url = new URL(`${sim.url}/ws/services/demographics/3?extra=a%20b`);
    const response = await fetch(url, { headers: { authorization: signed(url) } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-oauth-token-expires')).toBeTruthy();
  });

  it('refuses a signature made with the wrong secret', async () => {
    const url = new URL(`${sim.url}/ws/services/demographics/3`);
    const response = await fetch(url, { headers: { authorization: signed(url, { tokenSecret: 'wrong' }) } });
    expect([response.status, await problem(response)]).toEqual([401, 'signature_invalid']);
  });

  it('refuses a request signed for another URL', async () => {
    const url = new URL(`${sim.url}/ws/services/demographics/3`);
    const response = await fetch(new URL(`${sim.url}/ws/services/demographics/4`), { headers: { authorization: signed(url) } });
    expect(await problem(response)).toBe('signature_invalid');
  });

  it('refuses a replayed nonce and a stale timestamp', async () => {
    const url = new URL(`${sim.url}/ws/services/demographics/3`);
    const header = signed(url, { nonce: 'fixed-nonce-1' });
    expect((await fetch(url, { headers: { authorization: header } })).status).toBe(200);
    expect(await problem(await fetch(url, { headers: { authorization: header } }))).toBe('nonce_used');
    expect(await problem(await fetch(url, { headers: { authorization: signed(url, { timestamp: 1_000_000_000 }) } }))).toBe(
      'timestamp_refused',
    );
  });

  it('refuses an unsigned request', async () => {
    expect(await problem(await fetch(`${sim.url}/ws/services/demographics/3`))).toBe('parameter_absent');
  });

  // A signer written in the test, so that each mistake can be made on purpose: RFC 5849 §3.6 encodes
  // everything but unreserved characters; JavaScript's encodeURIComponent leaves !'()* as they are.
  const rfc3986 = (v: string) => encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const handSigned = (url: URL, mistake: { encode?: (v: string) => string; leaveOutQuery?: boolean } = {}) => {
    const encode = mistake.encode ?? rfc3986;
    const oauth: Record<string, string> = {
      oauth_consumer_key: sim.credentials.clientKey,
      oauth_nonce: randomBytes(8).toString('hex'),
      oauth_signature_method: 'HMAC-SHA1',
      oauth_timestamp: String(Math.floor(Date.now() / 1000)),
      oauth_token: sim.credentials.accessToken,
      oauth_version: '1.0',
    };
    const params = [...(mistake.leaveOutQuery ? [] : [...url.searchParams]), ...Object.entries(oauth)]
      .map(([k, v]) => [encode(k), encode(v)])
      .sort(([a = '', av = ''], [b = '', bv = '']) => byCodeUnits(a, b) || byCodeUnits(av, bv))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const base = ['GET', encode(`${url.origin}${url.pathname}`), encode(params)].join('&');
    const key = `${encode(sim.credentials.clientSecret)}&${encode(sim.credentials.tokenSecret)}`;
    oauth['oauth_signature'] = createHmac('sha1', key).update(base).digest('base64');
    return `OAuth ${Object.entries(oauth)
      .map(([k, v]) => `${rfc3986(k)}="${rfc3986(v)}"`)
      .join(', ')}`;
  };
  function byCodeUnits(a: string, b: string): number {
    if (a === b) return 0;
    return a < b ? -1 : 1;
  }
  const awkward = () => new URL(`${sim.url}/ws/services/demographics/3?q=${encodeURIComponent("it's (fine)!")}`);

  it('accepts a request signed by hand as RFC 5849 says (the control for the mistakes below)', async () => {
    const url = awkward();
    expect((await fetch(url, { headers: { authorization: handSigned(url) } })).status).toBe(200);
  });

  it("refuses a signature whose base string encodes the parameters with encodeURIComponent (!'() left unencoded)", async () => {
    const url = awkward();
    const response = await fetch(url, { headers: { authorization: handSigned(url, { encode: encodeURIComponent }) } });
    expect([response.status, await problem(response)]).toEqual([401, 'signature_invalid']);
  });

  it('refuses a signature that leaves the query parameters out of the base string', async () => {
    const url = awkward();
    const response = await fetch(url, { headers: { authorization: handSigned(url, { leaveOutQuery: true }) } });
    expect([response.status, await problem(response)]).toEqual([401, 'signature_invalid']);
  });
});

describe('Ocean simulator', () => {
  let sim: OceanSimulator;
  beforeAll(async () => {
    sim = await startOcean({ siteNumbers: ['1234'] });
  });
  afterAll(() => sim.stop());

  async function token(): Promise<string> {
    const response = await fetch(`${sim.url}/svc/oauth2/token?grant_type=client_credentials`, {
      method: 'POST',
      headers: { authorization: basic(sim.credentials.clientId, sim.credentials.clientSecret) },
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  const upload = (bearer: string, site: string, body: unknown, key?: string) =>
    fetch(`${sim.url}/svc/v1/sites/${site}/sync-batches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
      body: JSON.stringify(body),
    });

  it('issues a token for the client and stores an encrypted sync batch once per idempotency key', async () => {
    const bearer = await token();
    const payload = { alg: 'A256GCM', iv: 'aXY=', data: 'Y2lwaGVydGV4dA==' };
    expect((await upload(bearer, '1234', payload, 'batch-key-1')).status).toBe(202);
    const again = await upload(bearer, '1234', payload, 'batch-key-1');
    expect([again.status, again.headers.get('idempotent-replayed')]).toEqual([200, 'true']);
    expect(sim.batches).toHaveLength(1);
    expect(sim.batches[0]).toMatchObject({ siteNumber: '1234', body: payload });
    expect(sim.batchDuplicates).toHaveLength(1);
    const listed = (await (await fetch(`${sim.origin}/_sim/batches`)).json()) as { batches: unknown[] };
    expect(listed.batches).toHaveLength(1);
  });

  it('refuses wrong client credentials, unknown tokens and other sites', async () => {
    const bad = await fetch(`${sim.url}/svc/oauth2/token?grant_type=client_credentials`, {
      method: 'POST',
      headers: { authorization: basic('x', 'y') },
    });
    expect(bad.status).toBe(401);
    expect((await upload('nope', '1234', {})).status).toBe(401);
    expect((await upload(await token(), '9999', {})).status).toBe(403);
  });

  it.each([
    ['refuses the client while rejectCredentials is set', { rejectCredentials: true }, 401],
    ['refuses the client while it is deauthorized', { deauthorized: true }, 400],
    ['answers 503 while serverError is set', { serverError: true }, 503],
    ['answers 429 while rateLimit is set', { rateLimit: true }, 429],
  ] as const)('%s', async (_name, fault, status) => {
    sim.setFault(fault);
    const response = await fetch(`${sim.url}/svc/oauth2/token?grant_type=client_credentials`, {
      method: 'POST',
      headers: { authorization: basic(sim.credentials.clientId, sim.credentials.clientSecret) },
    });
    expect(response.status).toBe(status);
    sim.clearFaults();
  });

  it('reports an expired token on upload while tokenExpired is set', async () => {
    const bearer = await token();
    sim.setFault({ tokenExpired: true });
    const response = await upload(bearer, '1234', {});
    expect([response.status, response.headers.get('www-authenticate')]).toEqual([401, expect.stringContaining('invalid_token')]);
    sim.clearFaults();
  });

  it('delivers a webhook only after the receiver echoes the challenge', async () => {
    const received: unknown[] = [];
    const receiver = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(text) as { challenge?: string };
        received.push(body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body.challenge ? { challenge: body.challenge } : { ok: true }));
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const delivery = await sim.deliverWebhook(url, { resourceType: 'Bundle', type: 'message' });
    receiver.close();
    expect(delivery).toMatchObject({ challengeOk: true, status: 200 });
    expect(received).toHaveLength(2);
    expect(received[1]).toEqual({ resourceType: 'Bundle', type: 'message' });
  });
});

describe('starting all simulators', () => {
  it('starts the five simulators and prints URLs and identifiers but no credential', async () => {
    const sims = await startAll({ volume: { startDate: '2030-01-01' } });
    try {
      const env = sims.env();
      expect(env.map((l) => l.split('=')[0])).toEqual(
        expect.arrayContaining(['OSCAR_URL', 'ACCURO_URL', 'FHIR_URL', 'TELUS_URL', 'OCEAN_URL', 'ACCURO_TENANT_ID']),
      );
      const secrets = [
        ...Object.values(sims.oscar.credentials),
        ...Object.values(sims.accuro.credentials).filter((v) => !v.startsWith('OceanAPI')),
        ...Object.values(sims.fhir.credentials),
        ...Object.values(sims.ocean.credentials),
        ...sims.telus.instances.flatMap((i) => [i.instanceSecret, i.activationCode ?? '']),
      ].filter((v) => v.length > 0);
      for (const line of env) for (const secret of secrets) expect(line).not.toContain(secret);
      for (const sim of [sims.oscar, sims.accuro, sims.fhir, sims.telus, sims.ocean]) {
        expect((await fetch(`${sim.origin}/_sim/health`)).status).toBe(200);
      }
    } finally {
      await sims.stop();
    }
  });
});
