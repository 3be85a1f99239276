import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AccuroSimulator, start } from '../../../test/simulators/accuro.ts';
import type { Faults } from '../../../test/simulators/common.ts';
import { SIMULATOR_EGRESS } from '../../../test/simulators/egress.ts';
import { AccuroAdapter } from './accuro.ts';
import type { AdapterConfig, EmrErrorReason } from './adapter.ts';
import { expectEmrError, expectFindsFiledRecordsByKey, genderOfSimulated, PAST, samplePdf } from './test-helpers.ts';

const volume = { providers: 5, patients: 40, appointmentsPerDay: 60, days: 2, startDate: '2030-05-06' };
const from = new Date('2030-05-06T00:00:00Z');
const to = new Date('2030-05-08T00:00:00Z');

let sim: AccuroSimulator;
let secrets: string[];

beforeAll(async () => {
  sim = await start({ seed: 3, volume });
  secrets = Object.values(sim.credentials);
});
afterAll(() => sim.stop());
beforeEach(() => {
  sim.clearFaults();
  // Strict, as the real EMRs: a repeated idempotency key makes a second record. Tests of the key path opt in.
  sim.state.honorIdempotencyKey = false;
});

const adapter = (overrides: Partial<AdapterConfig> = {}) =>
  new AccuroAdapter({
    baseUrl: sim.url,
    tenantId: sim.tenantId,
    credentials: { ...sim.credentials },
    timeoutMs: 2000,
    egress: SIMULATOR_EGRESS,
    // The simulator's clinic (and its wall-clock times) is in Toronto; time-zones.test.ts tries others.
    timeZone: 'America/Toronto',
    ...overrides,
  });

const count = (path: string) => sim.requests.filter((r) => r.path === path).length;

describe('Accuro adapter against the Accuro simulator', () => {
  it('authenticates as the API user and reports the token expiry as notAfter', async () => {
    const before = Date.now();
    const auth = await adapter().authenticate();
    expect(auth.apiUser).toBe(sim.credentials.apiUsername);
    expect(auth.notBefore!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(auth.notAfter!.getTime() - auth.notBefore!.getTime()).toBe(3600_000);
  });

  it('reports a shorter token lifetime when the EMR issues one', async () => {
    sim.setFault({ tokenLifetimeSeconds: 120 });
    const auth = await adapter().authenticate();
    expect(auth.notAfter!.getTime() - auth.notBefore!.getTime()).toBe(120_000);
  });

  it('lists providers with their offices, and the offices', async () => {
    const providers = await adapter().listProviders();
    expect(providers.map((p) => p.id)).toEqual(['2001', '2002', '2003', '2004', '2005']);
    expect(providers[0]?.officeIds).toEqual(['1']);
    expect(await adapter().listOffices()).toEqual([{ id: '1', name: 'Sim Office 1' }]);
  });

  it('follows lastId through several pages of at most 50 appointments', async () => {
    const before = count('/v2/materials/appointments');
    const appointments = await adapter().listAppointments(from, to);
    expect(appointments).toHaveLength(120);
    expect(new Set(appointments.map((a) => a.id)).size).toBe(120);
    expect(count('/v2/materials/appointments') - before).toBe(4); // 50 + 50 + 20 + an empty page
    const first = sim.data.appointment(0);
    expect(appointments[0]).toMatchObject({
      id: '1',
      providerId: '2001',
      patientId: String(first.patientIndex + 1),
      officeId: '1',
      start: first.start.toISOString(),
      end: first.end.toISOString(),
    });
    expect(appointments.some((a) => a.status === 'unknown')).toBe(false);
  });

  it('filters appointments to the asked providers', async () => {
    const appointments = await adapter().listAppointments(from, to, ['2002']);
    expect(appointments).toHaveLength(24);
    expect(appointments.every((a) => a.providerId === '2002')).toBe(true);
  });

  it('reuses its token between calls and renews it once the EMR expired it', async () => {
    const a = adapter();
    const before = count('/v1/token');
    await a.listProviders();
    await a.listOffices();
    expect(count('/v1/token') - before).toBe(1);
    sim.expireTokens();
    await a.listProviders();
    expect(count('/v1/token') - before).toBe(2);
  });

  it('reads a patient by EMR id', async () => {
    const p = sim.data.patient(4);
    expect(await adapter().getPatient('5')).toEqual({
      id: '5',
      firstName: p.firstName,
      lastName: p.lastName,
      birthDate: p.birthDate,
      sex: genderOfSimulated(p.sex),
      healthNumber: p.healthNumber,
      email: p.email,
      phone: p.phone,
    });
  });

  it("dates a document by the EMR's local day: at 23:30 in Toronto, not the next UTC day", async () => {
    const bodies: string[] = [];
    const capture: typeof fetch = async (url, init) => {
      const body = init?.body;
      if (Buffer.isBuffer(body) || typeof body === 'string') bodies.push(Buffer.from(body).toString('latin1'));
      return fetch(url, init);
    };
    const lateEvening = () => new Date('2030-05-07T03:30:00Z'); // 23:30 EDT on 6 May
    const a = adapter({ fetch: capture, now: lateEvening });
    await a.postDocument({ patientId: '7', title: 'Late note', pdf: samplePdf('accuro'), idempotencyKey: 'accuro-late-1' });
    expect(bodies.find((b) => b.includes('"documentDate"'))).toContain('"documentDate":"2030-05-06"');
  });

  it('reports NotFound for a patient the EMR does not have', async () => {
    await expectEmrError(adapter().getPatient('40000'), 'NotFound', secrets);
  });

  it('finds the document and the note it filed by the key written into them, in an EMR that ignores the key', async () => {
    await expectFindsFiledRecordsByKey(adapter(), sim, '7', 'accuro');
  });
  it('posts a document once, into the named folder, even when it is delivered twice (a simulator that honours the key: leniency opted in)', async () => {
    sim.state.honorIdempotencyKey = true;
    const doc = { patientId: '7', title: 'Consult note', pdf: samplePdf('accuro'), idempotencyKey: 'accuro-msg-1', folder: 'Referrals' };
    const first = await adapter().postDocument(doc);
    const second = await adapter().postDocument(doc);
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ id: first.id, duplicate: true });
    const stored = sim.documents.filter((d) => d.idempotencyKey === 'accuro-msg-1');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ patientId: '7', folder: 'Referrals', contentType: 'application/pdf', title: 'Consult note' });
    expect(stored[0]?.content.equals(doc.pdf)).toBe(true);
    expect(sim.duplicates.filter((d) => d.idempotencyKey === 'accuro-msg-1')).toHaveLength(1);
  });

  it('files a document into the named folder and sub-folder', async () => {
    const doc = {
      patientId: '8',
      title: 'Message',
      pdf: samplePdf('accuro'),
      idempotencyKey: 'accuro-sub-1',
      folder: 'ocean',
      subfolder: 'Messages',
    };
    await adapter().postDocument(doc);
    expect(sim.documents.find((d) => d.idempotencyKey === 'accuro-sub-1')).toMatchObject({ folder: 'Ocean', subfolder: 'Messages' });
  });

  it.each([
    [
      'a folder the EMR does not have is NotFound naming it, never filed in a default folder',
      { folder: 'Nowhere' },
      /no document folder "Nowhere"/,
    ],
    [
      'a sub-folder the folder does not have is NotFound naming both',
      { folder: 'Ocean', subfolder: 'Nowhere' },
      /folder "Ocean" has no sub-folder "Nowhere"/,
    ],
  ] as [string, { folder: string; subfolder?: string }, RegExp][])('%s', async (_name, where, message) => {
    const doc = {
      patientId: '8',
      title: 'Message',
      pdf: samplePdf('accuro'),
      idempotencyKey: `accuro-missing-${where.subfolder ?? where.folder}`,
      ...where,
    };
    const error = await expectEmrError(adapter().postDocument(doc), 'NotFound', secrets);
    expect(error.message).toMatch(message);
    expect(sim.documents.some((d) => d.idempotencyKey === doc.idempotencyKey)).toBe(false);
  });

  it('files an encounter note of the named letter type once, even when it is delivered twice (a simulator that honours the key: leniency opted in)', async () => {
    sim.state.honorIdempotencyKey = true;
    const note = {
      patientId: '9',
      title: 'Secure message',
      text: 'Can I take it with food?',
      letterType: 'ocean',
      idempotencyKey: 'accuro-note-1',
    };
    const first = await adapter().postNote(note);
    expect(await adapter().postNote(note)).toEqual({ id: first.id, duplicate: true });
    expect(sim.notes.filter((n) => n.idempotencyKey === 'accuro-note-1')).toEqual([
      expect.objectContaining({ patientId: '9', title: 'Secure message', text: 'Can I take it with food?', letterType: 'Ocean' }),
    ]);
  });

  it('refuses a letter type the EMR does not have as NotFound naming it', async () => {
    const note = { patientId: '9', title: 'x', text: 'y', letterType: 'Memo', idempotencyKey: 'accuro-note-2' };
    const error = await expectEmrError(adapter().postNote(note), 'NotFound', secrets);
    expect(error.message).toMatch(/no letter type "Memo"/);
    expect(sim.notes.some((n) => n.idempotencyKey === 'accuro-note-2')).toBe(false);
  });

  it('leaves out a provider the API user has no permission for, and their bookings, which the EMR hides from that user', async () => {
    sim.setFault({ hiddenProviderIds: ['2003'] });
    expect((await adapter().listProviders()).map((p) => p.id)).not.toContain('2003');
    const appointments = await adapter().listAppointments(from, to);
    expect(appointments).toHaveLength(96);
    expect(appointments.some((a) => a.providerId === '2003')).toBe(false);
  });

  const faults: [string, Faults, EmrErrorReason, Partial<AdapterConfig>?][] = [
    ['reports InvalidCredentials when Accuro rejects the client', { rejectCredentials: true }, 'InvalidCredentials'],
    ['reports Expired when Accuro keeps calling its tokens expired', { tokenExpired: true }, 'Expired'],
    ['reports Expired when the API user password has expired', { credentialNotAfter: PAST }, 'Expired'],
    ['reports Deauthorized when the API user was disabled', { deauthorized: true }, 'Deauthorized'],
    ['reports EmrUnreachable when Accuro answers 5xx', { serverError: 502 }, 'EmrUnreachable'],
    ['reports EmrUnreachable when Accuro answers too slowly', { slowMs: 1000 }, 'EmrUnreachable', { timeoutMs: 150 }],
    ['reports RateLimited when Accuro answers 429', { rateLimit: { retryAfterSeconds: 3 } }, 'RateLimited'],
  ];
  it.each(faults)('%s, and recovers when the fault clears', async (_name, fault, reason, overrides) => {
    sim.setFault(fault);
    const error = await expectEmrError(adapter(overrides).authenticate(), reason, secrets);
    if (reason === 'RateLimited') expect(error.retryAfterMs).toBe(3000);
    await expectEmrError(adapter(overrides).listAppointments(from, to), reason, secrets);
    sim.clearFaults();
    await expect(adapter(overrides).authenticate()).resolves.toMatchObject({ apiUser: sim.credentials.apiUsername });
  });

  it('reports Deauthorized when access is revoked while it holds a valid token', async () => {
    const a = adapter();
    await a.authenticate();
    sim.setFault({ deauthorized: true });
    await expectEmrError(a.listProviders(), 'Deauthorized', secrets);
  });

  const badSettings: [string, Partial<AdapterConfig> | Record<string, string>, EmrErrorReason][] = [
    ['reports InvalidCredentials when the API password is wrong', { apiPassword: 'wrong-password' }, 'InvalidCredentials'],
    ['reports InvalidCredentials when the client secret is wrong', { clientSecret: 'wrong-client-secret' }, 'InvalidCredentials'],
    ['reports InvalidCredentials when the subscription key is wrong', { subscriptionKey: 'wrong-subscription' }, 'InvalidCredentials'],
  ];
  it.each(badSettings)('%s', async (_name, patch, reason) => {
    const credentials = { ...sim.credentials, ...(patch as Record<string, string>) };
    await expectEmrError(adapter({ credentials }).authenticate(), reason, [...secrets, ...Object.values(credentials)]);
  });

  it('reports InvalidCredentials when the tenant ID is not the one Accuro issued', async () => {
    await expectEmrError(adapter({ tenantId: 'OTHERCLINIC' }).authenticate(), 'InvalidCredentials', secrets);
  });
});
