import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SIMULATOR_EGRESS } from '../../../test/simulators/egress.ts';
import { type OceanSimulator, start } from '../../../test/simulators/ocean.ts';
import { SekEncryptor } from '../sek/crypto.ts';
import { OceanClient, OceanError, type OceanErrorReason, type SyncBatchUpload } from './client.ts';

const SITE = '1001';
let sim: OceanSimulator;

beforeAll(async () => {
  sim = await start({ siteNumbers: [SITE, '1002'] });
});
afterAll(() => sim.stop());
beforeEach(() => {
  sim.clearFaults();
  sim.batches.length = 0;
});

const encryptor = new SekEncryptor('ocean-client-test-sek-1234567890abcdef', SITE);
let n = 0;
function batch(): SyncBatchUpload {
  n += 1;
  const batchId = `run-1:appointment:${n}`;
  return {
    run: 'run-1',
    batchId,
    kind: 'appointment',
    count: 1,
    envelope: encryptor.encryptBatch({ batchId, kind: 'appointment' }, [{ id: String(n) }]),
  };
}

const client = (overrides: Partial<ConstructorParameters<typeof OceanClient>[0]> = {}) =>
  new OceanClient({ apiUrl: sim.url, siteNumber: SITE, ...sim.credentials, timeoutMs: 2000, egress: SIMULATOR_EGRESS, ...overrides });
const tokenCalls = () => sim.requests.filter((r) => r.path === '/svc/oauth2/token').length;

async function expectOceanError(promise: Promise<unknown>, reason: OceanErrorReason): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OceanError);
  expect((error as OceanError).reason).toBe(reason);
  const text = `${(error as Error).message}\n${(error as Error).stack ?? ''}`;
  for (const secret of Object.values(sim.credentials)) expect(text).not.toContain(secret);
}

describe('Ocean client against the Ocean simulator', () => {
  it('gets one token for many batches and posts each under its batch id as idempotency key', async () => {
    const c = client();
    const before = tokenCalls();
    const first = batch();
    const second = batch();
    expect(await c.upload(first)).toEqual({ batchId: 'batch-1', duplicate: false });
    expect(await c.upload(second)).toEqual({ batchId: 'batch-2', duplicate: false });
    expect(tokenCalls() - before).toBe(1);
    expect(sim.batches.map((b) => [b.siteNumber, b.idempotencyKey])).toEqual([
      [SITE, first.batchId],
      [SITE, second.batchId],
    ]);
    expect(sim.batches[0]?.body).toEqual(JSON.parse(JSON.stringify(first)));
  });

  it('recognises a replayed batch', async () => {
    const c = client();
    const b = batch();
    await c.upload(b);
    expect(await c.upload(b)).toMatchObject({ duplicate: true });
    expect(sim.batches).toHaveLength(1);
  });

  it('renews a token Ocean expired, once', async () => {
    const c = client();
    await c.upload(batch());
    const before = tokenCalls();
    sim.expireTokens();
    await c.upload(batch());
    expect(tokenCalls() - before).toBe(1);
  });

  const cases: {
    name: string;
    fault?: Parameters<OceanSimulator['setFault']>[0];
    overrides?: Partial<ConstructorParameters<typeof OceanClient>[0]>;
    reason: OceanErrorReason;
  }[] = [
    {
      name: 'says OceanInvalidCredentials when the client is refused',
      fault: { rejectCredentials: true },
      reason: 'OceanInvalidCredentials',
    },
    { name: 'says OceanDeauthorized when the client was disabled', fault: { deauthorized: true }, reason: 'OceanDeauthorized' },
    {
      name: 'says OceanExpired when the client secret expired',
      fault: { credentialNotAfter: '2000-01-01T00:00:00Z' },
      reason: 'OceanExpired',
    },
    { name: 'says OceanExpired when every token is refused as expired', fault: { tokenExpired: true }, reason: 'OceanExpired' },
    { name: 'says OceanUnreachable on a 5xx', fault: { serverError: 503 }, reason: 'OceanUnreachable' },
    { name: 'says OceanRateLimited on a 429', fault: { rateLimit: true }, reason: 'OceanRateLimited' },
    {
      name: 'says OceanDeauthorized for a site the client may not upload to',
      overrides: { siteNumber: '9999' },
      reason: 'OceanDeauthorized',
    },
    { name: 'says OceanUnreachable when nothing listens', overrides: { apiUrl: 'http://127.0.0.1:1' }, reason: 'OceanUnreachable' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      if (c.fault) sim.setFault(c.fault);
      await expectOceanError(client(c.overrides).upload(batch()), c.reason);
    });
  }
});
