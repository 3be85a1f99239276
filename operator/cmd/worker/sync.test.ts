import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AccuroSimulator, start as startAccuro } from '../../../test/simulators/accuro.ts';
import { SIMULATOR_EGRESS } from '../../../test/simulators/egress.ts';
import { type OceanSimulator, start as startOcean } from '../../../test/simulators/ocean.ts';
import { AccuroAdapter } from '../../internal/emr/accuro.ts';
import { type EmrAdapter, EmrError } from '../../internal/emr/adapter.ts';
import { OceanClient, OceanError } from '../../internal/ocean/client.ts';
import { decryptBatch, type RecordKind, SekEncryptor } from '../../internal/sek/crypto.ts';
import { mapLimit, runSync, type SyncInput, type SyncProgress, withRetry } from './sync.ts';
import { syncWindow } from './sync-window.ts';

const SEK = 'sek-for-tests-6b1d0c4e9f2a8b7c5d3e1f0a9b8c7d6e';
const SITE = '4242';
// Three days from 2030-05-06 in the clinic's zone (Toronto, the simulator's default); the runs happen
// on the first day (05:30 EDT).
const ZONE = 'America/Toronto';
const volume = { providers: 4, patients: 300, appointmentsPerDay: 80, days: 3, startDate: '2030-05-06' };
const NOW = new Date('2030-05-06T09:30:00Z');

let emr: AccuroSimulator;
let ocean: OceanSimulator;

beforeAll(async () => {
  [emr, ocean] = await Promise.all([startAccuro({ seed: 5, volume }), startOcean({ seed: 5 })]);
});
afterAll(async () => {
  await Promise.all([emr.stop(), ocean.stop()]);
});
beforeEach(() => {
  emr.clearFaults();
  ocean.clearFaults();
  ocean.batches.length = 0;
  ocean.batchDuplicates.length = 0;
});

function accuro(fetchImpl?: typeof fetch): EmrAdapter {
  return new AccuroAdapter({
    baseUrl: emr.url,
    tenantId: emr.tenantId,
    credentials: { ...emr.credentials },
    timeoutMs: 5000,
    egress: SIMULATOR_EGRESS,
    timeZone: ZONE,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
}

function oceanClient(): OceanClient {
  return new OceanClient({ apiUrl: ocean.url, siteNumber: SITE, ...ocean.credentials, timeoutMs: 5000, egress: SIMULATOR_EGRESS });
}

function input(overrides: Partial<SyncInput> = {}): SyncInput {
  return {
    adapter: accuro(),
    type: 'Full',
    scheduleDaysToSync: 1,
    timeZone: ZONE,
    now: () => NOW,
    ocean: oceanClient(),
    encryptor: new SekEncryptor(SEK, SITE),
    run: 'cc-full-29000000',
    batchSize: 50,
    sleep: async () => undefined,
    ...overrides,
  };
}

interface Received {
  kind: RecordKind;
  batchId: string;
  records: Record<string, unknown>[];
}

/** What Ocean stored, decrypted with the SEK and checked against each upload's own metadata. */
function received(): Received[] {
  return ocean.batches.map((b) => {
    const body = b.body as { batchId: string; kind: RecordKind; count: number; envelope: unknown };
    expect(b.siteNumber).toBe(SITE);
    expect(b.idempotencyKey).toBe(body.batchId);
    const batch = decryptBatch(body.envelope, SEK, SITE, { batchId: body.batchId, kind: body.kind });
    expect(batch.records).toHaveLength(body.count);
    return { kind: body.kind, batchId: body.batchId, records: batch.records as Record<string, unknown>[] };
  });
}

const of = (batches: Received[], kind: RecordKind) => batches.filter((b) => b.kind === kind).flatMap((b) => b.records);

/** The simulator's own appointments in [from, to): indexes whose start falls in the window. */
function sourceAppointments(from: Date, to: Date): number[] {
  const { first, end } = emr.data.range(from, to);
  return Array.from({ length: end - first }, (_, i) => first + i);
}

describe('a Full sync from Accuro to Ocean', () => {
  it('uploads only ciphertext, and the SEK decrypts exactly the EMR source records', async () => {
    const progress: SyncProgress[] = [];
    const result = await runSync(input({ onProgress: (p) => progress.push(p) }));

    const window = syncWindow(NOW, 1, ZONE);
    const appointmentIndexes = sourceAppointments(window.from, window.to);
    const patientIndexes = [...new Set(appointmentIndexes.map((i) => emr.data.appointment(i).patientIndex))];
    expect(result).toEqual({
      result: 'Succeeded',
      type: 'Full',
      providers: 4,
      patients: patientIndexes.length,
      appointments: appointmentIndexes.length,
      batches: expect.any(Number),
      durationSeconds: 0,
    });
    expect(appointmentIndexes).toHaveLength(80);

    // Nothing Ocean stored can be read without the key: no synthetic name, health number, e-mail or phone.
    const stored = JSON.stringify(ocean.batches);
    expect(stored).not.toContain('-Sim');
    for (const i of patientIndexes) {
      const p = emr.data.patient(i);
      for (const value of [p.healthNumber, p.email, p.phone]) expect(stored).not.toContain(value);
    }
    expect(stored).not.toContain(SEK);

    const batches = received();
    // Referential order: providers, patients, appointments, then the manifest that closes the run.
    const order = batches.map((b) => b.kind).filter((k, i, all) => all[i - 1] !== k);
    expect(order).toEqual(['provider', 'patient', 'appointment', 'manifest']);
    expect(batches.every((b) => b.records.length <= 50)).toBe(true);
    expect(new Set(batches.map((b) => b.batchId)).size).toBe(batches.length);

    expect(of(batches, 'provider').map((p) => p['id'])).toEqual(['2001', '2002', '2003', '2004']);
    expect(of(batches, 'provider')[0]).toMatchObject({
      firstName: emr.data.provider(0).firstName,
      lastName: emr.data.provider(0).lastName,
    });

    const patients = of(batches, 'patient');
    expect(patients.map((p) => p['id']).sort()).toEqual(patientIndexes.map((i) => emr.patientId(i)).sort());
    for (const patient of patients) {
      const source = emr.data.patient(Number(patient['id']) - 1);
      expect(patient).toMatchObject({
        firstName: source.firstName,
        lastName: source.lastName,
        birthDate: source.birthDate,
        healthNumber: source.healthNumber,
        email: source.email,
        phone: source.phone,
      });
    }

    const appointments = of(batches, 'appointment');
    expect(appointments.map((a) => a['id'])).toEqual(appointmentIndexes.map((i) => String(i + 1)));
    const first = emr.data.appointment(appointmentIndexes[0] as number);
    expect(appointments[0]).toMatchObject({
      providerId: emr.providerId(first.providerIndex),
      patientId: emr.patientId(first.patientIndex),
      start: first.start.toISOString(),
    });

    const [manifest] = of(batches, 'manifest');
    expect(manifest).toEqual({
      run: 'cc-full-29000000',
      type: 'Full',
      // Midnight to midnight in Toronto (EDT, UTC-4).
      window: { from: '2030-05-06T04:00:00.000Z', to: '2030-05-07T04:00:00.000Z' },
      counts: { providers: 4, patients: patientIndexes.length, appointments: 80 },
      batches: batches.length - 1,
    });

    const total = 4 + patientIndexes.length + 80;
    expect(progress[0]).toEqual({ kind: 'provider', done: 0, total });
    expect(progress.at(-1)).toEqual({ kind: 'appointment', done: total, total });
    expect(progress.map((p) => p.done)).toEqual([...progress.map((p) => p.done)].sort((a, b) => a - b));
  });

  it('covers scheduleDaysToSync days and only the configured providers', async () => {
    const result = await runSync(input({ scheduleDaysToSync: 2, syncProviderIds: ['2002'] }));
    const window = syncWindow(NOW, 2, ZONE);
    const expected = sourceAppointments(window.from, window.to).filter((i) => emr.data.appointment(i).providerIndex === 1);
    expect(result).toMatchObject({ result: 'Succeeded', providers: 4, appointments: expected.length });
    const appointments = of(received(), 'appointment');
    expect(appointments.map((a) => a['id'])).toEqual(expected.map((i) => String(i + 1)));
    expect(appointments.every((a) => a['providerId'] === '2002')).toBe(true);
  });

  it('keeps only the appointments of the configured offices', async () => {
    expect(await runSync(input({ type: 'Appointments', syncOfficeIds: ['1'] }))).toMatchObject({ result: 'Succeeded', appointments: 80 });
    expect(await runSync(input({ type: 'Appointments', syncOfficeIds: ['2'] }))).toMatchObject({ result: 'Succeeded', appointments: 0 });
  });

  it('skips a patient the EMR no longer has, and still succeeds', async () => {
    const base = accuro();
    const window = syncWindow(NOW, 1, ZONE);
    const gone = emr.patientId(emr.data.appointment(sourceAppointments(window.from, window.to)[0] as number).patientIndex);
    const adapter: EmrAdapter = Object.assign(Object.create(base) as EmrAdapter, {
      getPatient: (id: string) =>
        id === gone ? Promise.reject(new EmrError('NotFound', 'Accuro GET /v1/patients/x: HTTP 404, not found')) : base.getPatient(id),
    });
    const warnings: Record<string, unknown>[] = [];
    const result = await runSync(input({ adapter, onWarning: (_m, fields) => warnings.push(fields) }));
    expect(result).toMatchObject({ result: 'Succeeded', skippedPatients: 1 });
    expect(of(received(), 'patient').some((p) => p['id'] === gone)).toBe(false);
    expect(warnings).toEqual([{ skippedPatients: 1 }]);
  });
});

describe('an Appointments sync', () => {
  it('uploads the appointment window only: no providers, no patients, no other days', async () => {
    const patientCalls = () => emr.requests.filter((r) => r.path.startsWith('/v1/patients/') || r.path === '/v1/providers').length;
    const before = patientCalls();
    const result = await runSync(input({ type: 'Appointments', run: 'cc-appointments-29000030' }));
    const window = syncWindow(NOW, 1, ZONE);
    const expected = sourceAppointments(window.from, window.to);
    expect(result).toMatchObject({ result: 'Succeeded', type: 'Appointments', providers: 0, patients: 0, appointments: expected.length });
    const batches = received();
    expect([...new Set(batches.map((b) => b.kind))]).toEqual(['appointment', 'manifest']);
    const appointments = of(batches, 'appointment');
    expect(appointments.map((a) => a['id'])).toEqual(expected.map((i) => String(i + 1)));
    for (const a of appointments) {
      const start = Date.parse(a['start'] as string);
      expect(start >= window.from.getTime() && start < window.to.getTime()).toBe(true);
    }
    // The EMR has three days; the window holds one.
    expect(emr.data.appointmentCount).toBe(3 * expected.length);
    expect(patientCalls() - before).toBe(0);
  });
});

describe('a failing sync', () => {
  it('fails with EmrUnreachable when the EMR starts answering 5xx mid-run, and sends no manifest', async () => {
    let calls = 0;
    // After the token, providers, appointments and some patients, the EMR breaks down for good.
    const breaking: typeof fetch = (url, init) => {
      calls += 1;
      if (calls === 12) emr.setFault({ serverError: 503 });
      return fetch(url, init);
    };
    const sleeps: number[] = [];
    const result = await runSync(input({ adapter: accuro(breaking), sleep: async (ms) => void sleeps.push(ms) }));
    expect(result).toMatchObject({ result: 'Failed', errorReason: 'EmrUnreachable', providers: 4 });
    expect(result.message).toMatch(/^Accuro GET \/v1\/patients\/\d+: HTTP 503/);
    expect(sleeps.length).toBeGreaterThan(0); // retried before giving up
    expect(sleeps.every((ms) => ms <= 30_000)).toBe(true);
    expect(received().some((b) => b.kind === 'manifest')).toBe(false);
  });

  it('fails with Expired when the EMR calls every token expired', async () => {
    emr.setFault({ tokenExpired: true });
    expect(await runSync(input())).toMatchObject({ result: 'Failed', errorReason: 'Expired', providers: 0, patients: 0, appointments: 0 });
    expect(ocean.batches).toHaveLength(0);
  });

  it('fails with Deauthorized when the API user was disabled', async () => {
    emr.setFault({ deauthorized: true });
    expect(await runSync(input())).toMatchObject({ result: 'Failed', errorReason: 'Deauthorized' });
  });

  it('fails with InvalidCredentials when the EMR refuses the credentials', async () => {
    emr.setFault({ rejectCredentials: true });
    expect(await runSync(input())).toMatchObject({ result: 'Failed', errorReason: 'InvalidCredentials' });
  });

  it('fails with RateLimited when the EMR asks to wait longer than the retry policy allows', async () => {
    emr.setFault({ rateLimit: { retryAfterSeconds: 120 } });
    const sleeps: number[] = [];
    expect(await runSync(input({ sleep: async (ms) => void sleeps.push(ms) }))).toMatchObject({
      result: 'Failed',
      errorReason: 'RateLimited',
    });
    expect(sleeps).toEqual([]);
  });

  it('waits out a short rate limit (Retry-After) and succeeds', async () => {
    emr.setFault({ rateLimit: { retryAfterSeconds: 2 } });
    const sleeps: number[] = [];
    const result = await runSync(
      input({
        type: 'Appointments',
        sleep: async (ms) => {
          sleeps.push(ms);
          emr.clearFaults();
        },
      }),
    );
    expect(result).toMatchObject({ result: 'Succeeded' });
    expect(sleeps).toEqual([2000]);
  });

  it('fails with OceanInvalidCredentials when Ocean refuses the client', async () => {
    ocean.setFault({ rejectCredentials: true });
    expect(await runSync(input({ type: 'Appointments' }))).toMatchObject({
      result: 'Failed',
      errorReason: 'OceanInvalidCredentials',
      appointments: 0,
    });
  });

  it('fails with OceanUnreachable after retrying an Ocean outage, without duplicating batches', async () => {
    ocean.setFault({ serverError: 502 });
    const sleeps: number[] = [];
    const result = await runSync(input({ type: 'Appointments', sleep: async (ms) => void sleeps.push(ms) }));
    expect(result).toMatchObject({ result: 'Failed', errorReason: 'OceanUnreachable' });
    expect(sleeps).toEqual([1000, 2000]);
  });

  it('retries an Ocean upload that failed in flight under the same idempotency key, so Ocean stores it once', async () => {
    const client = oceanClient();
    let first = true;
    const flaky: SyncInput['ocean'] = {
      upload: async (batch) => {
        const out = await client.upload(batch);
        if (first) {
          first = false;
          throw new OceanError('OceanUnreachable', 'Ocean POST /svc/v1/sites/4242/sync-batches: connection failed (ECONNRESET)');
        }
        return out;
      },
    };
    const result = await runSync(input({ type: 'Appointments', ocean: flaky }));
    expect(result).toMatchObject({ result: 'Succeeded' });
    expect(ocean.batchDuplicates).toHaveLength(1);
    expect(new Set(ocean.batches.map((b) => b.idempotencyKey)).size).toBe(ocean.batches.length);
  });
});

describe('sync helpers', () => {
  it('keeps at most `limit` calls in flight and stops at the first failure', async () => {
    let inFlight = 0;
    let peak = 0;
    const started: number[] = [];
    const failing = mapLimit([1, 2, 3, 4, 5, 6, 7, 8], 3, async (n) => {
      started.push(n);
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      if (n === 2) throw new Error('boom');
      return n;
    });
    await expect(failing).rejects.toThrow('boom');
    expect(peak).toBe(3);
    expect(started.length).toBeLessThan(8);
    expect(await mapLimit([1, 2, 3], 2, async (n) => n * 2)).toEqual([2, 4, 6]);
  });

  it('does not retry errors that another attempt cannot fix', async () => {
    let calls = 0;
    const attempt = () => {
      calls += 1;
      return Promise.reject(new EmrError('InvalidCredentials', 'no'));
    };
    await expect(withRetry(attempt, { attempts: 3, baseDelayMs: 1, maxDelayMs: 10 }, async () => undefined)).rejects.toThrow('no');
    expect(calls).toBe(1);
  });
});
