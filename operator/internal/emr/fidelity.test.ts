// Each adapter against the service limits its simulator models strictly (test/simulators/limits.ts,
// README "Fidelity"): a request budget answered with 429 + Retry-After, page-size caps, tokens that
// expire in the middle of a paged listing, and a maximum document size. Clocks are the simulators'
// (injected): waiting out a Retry-After advances it; nothing here waits on the wall.
import { afterEach, describe, expect, it } from 'vitest';
import { start as startAccuro } from '../../../test/simulators/accuro.ts';
import type { Simulator, SimulatorOptions } from '../../../test/simulators/common.ts';
import { SIMULATOR_EGRESS } from '../../../test/simulators/egress.ts';
import { start as startFhir } from '../../../test/simulators/fhir.ts';
import { start as startOscar } from '../../../test/simulators/oscar.ts';
import { start as startTelus } from '../../../test/simulators/telus.ts';
import { failureKind } from '../../cmd/relay/schedule.ts';
import type { RateLimitWaits } from '../httpx/http.ts';
import { AccuroAdapter } from './accuro.ts';
import type { AdapterConfig, EmrAdapter } from './adapter.ts';
import { FhirAdapter } from './fhir.ts';
import { OscarProAdapter } from './oscar-pro.ts';
import { TelusAdapter } from './telus.ts';
import { expectEmrError, samplePdf } from './test-helpers.ts';

type Sim = Simulator & { credentials?: object; patientId(i: number): string; providerId?(i: number): string };
type Extra = Pick<AdapterConfig, 'rateLimitWaits'>;

interface Emr {
  type: EmrAdapter['type'];
  start(options: SimulatorOptions): Promise<Sim>;
  adapter(sim: Sim, extra?: Extra): EmrAdapter;
  /** The EMR renews its tokens (OSCAR's OAuth 1.0a access token is long-lived: revocation is tested in oscar-pro.test.ts). */
  renewsTokens: boolean;
}

const base = (sim: Sim, extra: Extra = {}) => ({
  baseUrl: sim.url,
  credentials: { ...(sim.credentials as Record<string, string>) },
  timeoutMs: 5000,
  egress: SIMULATOR_EGRESS,
  timeZone: 'America/Toronto',
  ...extra,
});

function telus(type: 'PSSuite' | 'MedAccess'): Emr {
  return {
    type,
    start: (o) => startTelus(o) as Promise<Sim>,
    adapter: (sim, extra) => {
      const instance = (sim as Awaited<ReturnType<typeof startTelus>>).instance(type);
      const credentials: Record<string, string> = { instanceSecret: instance.instanceSecret };
      if (instance.activationCode) credentials['activationCode'] = instance.activationCode;
      return new TelusAdapter(type, { ...base(sim, extra), credentials, instanceId: instance.instanceId });
    },
    renewsTokens: true,
  };
}

const EMRS: Emr[] = [
  {
    type: 'OSCARPro',
    start: (o) => startOscar(o) as Promise<Sim>,
    adapter: (sim, extra) => new OscarProAdapter(base(sim, extra)),
    renewsTokens: false,
  },
  {
    type: 'Accuro',
    start: (o) => startAccuro(o) as Promise<Sim>,
    adapter: (sim, extra) =>
      new AccuroAdapter({ ...base(sim, extra), tenantId: (sim as Awaited<ReturnType<typeof startAccuro>>).tenantId }),
    renewsTokens: true,
  },
  // The server caps _count at 20 (the adapter asks for 100): it must follow next links.
  {
    type: 'FHIR',
    start: (o) => startFhir({ ...o, maxCount: 20 }) as Promise<Sim>,
    adapter: (sim, extra) => new FhirAdapter(base(sim, extra)),
    renewsTokens: true,
  },
  telus('PSSuite'),
  telus('MedAccess'),
];

// 300 appointments over two days: several pages in every paged API (Accuro 50, FHIR 20, TELUS 200).
const volume = { providers: 3, patients: 40, appointmentsPerDay: 150, days: 2, startDate: '2030-05-06' };
const FROM = new Date('2030-05-06T04:00:00Z');
const TO = new Date('2030-05-08T04:00:00Z');
// The wall clock at the start (OSCAR compares OAuth timestamps with its clock); the data's days are fixed.
const T0 = Date.now();

/** A simulator whose clock the test moves. */
async function startWithClock(emr: Emr, options: SimulatorOptions = {}) {
  let now = T0;
  const sim = await emr.start({ seed: 11, volume, now: () => new Date(now), ...options });
  return { sim, advance: (ms: number) => (now += ms), setNow: (at: number) => (now = at) };
}

let running: Sim | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

const ids = (list: { id: string }[]) => list.map((a) => a.id).sort();

describe.each(EMRS)('$type against the strict service limits', (emr) => {
  it('lists every appointment while the EMR allows 1 call per 5 s: each 429 is waited out for its Retry-After, once, and the listing resumes at the refused page', async () => {
    const { sim, advance } = await startWithClock(emr);
    running = sim;
    const expected = ids(await emr.adapter(sim).listAppointments(FROM, TO));
    expect(expected.length).toBe(300);
    const callsUnlimited = sim.requests.length;

    sim.state.limits = { rateLimit: { requests: 1, windowSeconds: 5 } };
    const sleeps: number[] = [];
    const waits: RateLimitWaits = {
      attempts: 3,
      maxWaitMs: 30_000,
      sleep: async (ms) => {
        sleeps.push(ms);
        advance(ms);
      },
    };
    const before = sim.requests.length;
    const listed = ids(await emr.adapter(sim, { rateLimitWaits: waits }).listAppointments(FROM, TO));
    expect(listed).toEqual(expected);
    const refused = sim.state.limitCounter.refused;
    expect(refused).toBeGreaterThan(0);
    // One wait per refusal, each what the EMR asked (at most the 5 s window), and no call beyond the refused ones repeated.
    expect(sleeps).toHaveLength(refused);
    for (const ms of sleeps) expect(ms === 5000 || ms === 4000 || ms === 3000 || ms === 2000 || ms === 1000).toBe(true);
    expect(sim.requests.length - before).toBe(callsUnlimited + refused);
  });

  it('without waits, a 429 is RateLimited with the Retry-After the EMR gave, after one call', async () => {
    const { sim } = await startWithClock(emr, { limits: { rateLimit: { requests: 1, windowSeconds: 40 } } });
    running = sim;
    const error = await expectEmrError(emr.adapter(sim).listAppointments(FROM, TO), 'RateLimited', []);
    expect(error.retryAfterMs).toBe(40_000);
    expect(sim.state.limitCounter.refused).toBe(1);
  });

  it('refuses a document larger than the EMR takes with DocumentTooLarge, a terminal reason, and the EMR stores nothing', async () => {
    const { sim } = await startWithClock(emr, { limits: { maxDocumentBytes: 16 * 1024 } });
    running = sim;
    const big = Buffer.concat([samplePdf('big'), Buffer.alloc(32 * 1024, 0x41)]);
    const post = emr.adapter(sim).postDocument({ patientId: sim.patientId(1), title: 'Imaging report', pdf: big, idempotencyKey: 'k-big' });
    const error = await expectEmrError(post, 'DocumentTooLarge', []);
    expect(error.message).not.toMatch(/Imaging report/);
    expect(sim.documents).toEqual([]);
    expect(sim.state.limitCounter.tooLarge).toBe(1);
    expect(failureKind('DocumentTooLarge')).toBe('fatal');
    // Under the limit, the same EMR takes it.
    await expect(
      emr
        .adapter(sim)
        .postDocument({ patientId: sim.patientId(1), title: 'Imaging report', pdf: samplePdf('small'), idempotencyKey: 'k-small' }),
    ).resolves.toMatchObject({ duplicate: false });
  });
});

describe.each(EMRS.filter((e) => e.renewsTokens))('$type with short-lived tokens', (emr) => {
  it('renews short-lived tokens in the middle of a paged listing and loses no page', async () => {
    // The EMR's clock moves 1 s per answered call; its tokens live 3 s: each expires a few pages in.
    let sim: Sim | undefined;
    sim = await emr.start({ seed: 11, volume, now: () => new Date(T0 + (sim?.requests.length ?? 0) * 1000) });
    running = sim;
    const expected = ids(await emr.adapter(sim).listAppointments(FROM, TO));
    sim.setFault({ tokenLifetimeSeconds: 3 });
    const before = sim.requests.length;
    const listed = ids(await emr.adapter(sim).listAppointments(FROM, TO));
    expect(listed).toEqual(expected);
    // Renewed while listing (before expiry, or after the EMR refused the stale token once), never a call refused for good.
    const during = sim.requests.slice(before);
    expect(during.filter((r) => r.method === 'POST' && /token|session/i.test(r.path)).length).toBeGreaterThan(1);
    expect(during.filter((r) => r.status >= 400 && r.status !== 401)).toEqual([]);
  });
});

describe("every resource the FHIR adapter writes passes the server's own R4 validation (test/simulators/fhir-r4.ts)", () => {
  it('documents, notes, a walk-in and its check-in, demographic updates and custom fields', async () => {
    const sim = await startFhir({
      seed: 3,
      volume: { providers: 2, patients: 6, appointmentsPerDay: 2, days: 1, startDate: '2030-05-06' },
    });
    running = sim;
    expect(sim.r4.enabled).toBe(true);
    const adapter = new FhirAdapter(base(sim));
    const patientId = sim.patientId(2);
    await adapter.postDocument({
      patientId,
      title: 'Consult letter',
      pdf: samplePdf('c'),
      idempotencyKey: 'r4-doc',
      folder: 'Referrals',
      subfolder: 'Cardiology',
    });
    await adapter.postNote({
      patientId,
      title: 'Intake',
      text: 'Line one\n\nLine two',
      letterType: 'Progress note',
      idempotencyKey: 'r4-note',
    });
    const walkIn = await adapter.createAppointment({
      patientId,
      providerId: sim.providerId(1),
      appointmentType: 'WALKIN',
      start: new Date('2030-05-06T14:07:31.250Z'),
      durationMinutes: 20,
      idempotencyKey: 'r4-walk-in',
    });
    await adapter.markArrived(walkIn.id, 'r4-walk-in-arrived');
    await adapter.updateDemographics({
      patientId,
      changes: {
        firstName: 'Ann',
        lastName: 'Other-Sim',
        birthDate: '1980-02-29',
        sex: 'female',
        healthNumber: '1234567890',
        email: 'ann@example.invalid',
        phone: '555-0142',
      },
      idempotencyKey: 'r4-demo',
    });
    await adapter.updateCustomFields({ patientId, fields: [{ field: 'smokingStatus', value: 'never' }], idempotencyKey: 'r4-custom' });
    expect(sim.r4.refusals).toEqual([]);
    expect(sim.appointments.get(Number(walkIn.id.replace('appt-', '')) - 1).status).toBe('arrived');
    expect(sim.patientUpdates).toHaveLength(2);
  });
});
