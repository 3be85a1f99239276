import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Faults } from '../../../test/simulators/common.ts';
import { SIMULATOR_EGRESS } from '../../../test/simulators/egress.ts';
import { type FhirSimulator, start } from '../../../test/simulators/fhir.ts';
import type { AdapterConfig, EmrErrorReason } from './adapter.ts';
import { documentReference, FhirAdapter, IDEMPOTENCY_SYSTEM, progressNoteReference } from './fhir.ts';
import { validateDocumentReference } from './fhir-validate.ts';
import { expectEmrError, expectFindsFiledRecordsByKey, genderOfSimulated, PAST, samplePdf } from './test-helpers.ts';

const volume = { providers: 4, patients: 30, appointmentsPerDay: 50, days: 2, startDate: '2030-07-01' };
const from = new Date('2030-07-01T00:00:00Z');
const to = new Date('2030-07-03T00:00:00Z');

let sim: FhirSimulator;
let secrets: string[];

beforeAll(async () => {
  // Small pages so that every search spans several of them.
  sim = await start({ seed: 11, volume, defaultCount: 10, maxCount: 30 });
  secrets = Object.values(sim.credentials);
});
afterAll(() => sim.stop());
beforeEach(() => {
  sim.clearFaults();
  // Strict, as the real EMRs: a repeated idempotency key makes a second record. Tests of the key path opt in.
  sim.state.honorIdempotencyKey = false;
});

const adapter = (overrides: Partial<AdapterConfig> = {}) =>
  new FhirAdapter({ baseUrl: sim.url, credentials: { ...sim.credentials }, timeoutMs: 2000, egress: SIMULATOR_EGRESS, ...overrides });

const count = (path: string) => sim.requests.filter((r) => r.path === path).length;

describe('FHIR adapter against the FHIR simulator', () => {
  it('authenticates, checks the capability statement and reports the token expiry', async () => {
    sim.setFault({ tokenLifetimeSeconds: 900 });
    const auth = await adapter().authenticate();
    expect(auth.notAfter!.getTime() - auth.notBefore!.getTime()).toBe(900_000);
    expect(count('/fhir/metadata')).toBeGreaterThan(0);
  });

  it('uses the token endpoint it is given', async () => {
    await expect(adapter({ tokenUrl: sim.tokenUrl }).authenticate()).resolves.toBeDefined();
    await expectEmrError(adapter({ tokenUrl: `${sim.origin}/elsewhere/token` }).authenticate(), 'NotFound', secrets);
  });

  it('lists practitioners across pages', async () => {
    sim.setFault({});
    const providers = await adapter().listProviders();
    expect(providers.map((p) => p.id)).toEqual(['prac-1', 'prac-2', 'prac-3', 'prac-4']);
    expect(providers[0]).toMatchObject({ firstName: sim.data.provider(0).firstName, lastName: sim.data.provider(0).lastName });
  });

  it('follows next links through every page of appointments', async () => {
    const before = count('/fhir/Appointment');
    const appointments = await adapter().listAppointments(from, to);
    expect(appointments).toHaveLength(100);
    expect(count('/fhir/Appointment') - before).toBe(4); // 100 at _count=30: 30 + 30 + 30 + 10
    const first = sim.data.appointment(0);
    expect(appointments[0]).toEqual({
      id: 'appt-1',
      providerId: 'prac-1',
      patientId: `pat-${first.patientIndex + 1}`,
      start: first.start.toISOString(),
      end: first.end.toISOString(),
      status: first.status,
    });
  });

  it('searches by practitioner and date range', async () => {
    const dayFrom = new Date('2030-07-02T09:00:00Z');
    const appointments = await adapter().listAppointments(dayFrom, to, ['prac-2', 'prac-4']);
    const expected = [...Array(sim.data.appointmentCount).keys()]
      .map((i) => sim.data.appointment(i))
      .filter((a) => (a.providerIndex === 1 || a.providerIndex === 3) && a.start >= dayFrom && a.start < to);
    expect(appointments.map((a) => a.id)).toEqual(expected.map((a) => `appt-${a.index + 1}`));
  });

  it('renews its token with the refresh token once the server expired it', async () => {
    const a = adapter();
    await a.listProviders();
    sim.expireTokens();
    await expect(a.listProviders()).resolves.toHaveLength(4);
  });

  it('reads a patient and finds the health number among the identifiers', async () => {
    const p = sim.data.patient(2);
    expect(await adapter().getPatient('pat-3')).toEqual({
      id: 'pat-3',
      firstName: p.firstName,
      lastName: p.lastName,
      birthDate: p.birthDate,
      sex: genderOfSimulated(p.sex),
      healthNumber: p.healthNumber,
      email: p.email,
      phone: p.phone,
    });
  });

  it('reports NotFound for a patient the EMR does not have', async () => {
    await expectEmrError(adapter().getPatient('pat-99999'), 'NotFound', secrets);
  });

  it('finds the document and the note it filed by the key written into them, in an EMR that ignores the key', async () => {
    await expectFindsFiledRecordsByKey(adapter(), sim, 'pat-5', 'fhir');
  });
  it('posts a valid DocumentReference once even when it is delivered twice (a simulator that honours the key: leniency opted in)', async () => {
    sim.state.honorIdempotencyKey = true;
    const doc = { patientId: 'pat-5', title: 'Referral letter', pdf: samplePdf('fhir'), idempotencyKey: 'fhir-msg-1', folder: 'Referrals' };
    const first = await adapter().postDocument(doc);
    const second = await adapter().postDocument(doc);
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ id: first.id, duplicate: true });
    const stored = sim.documents.filter((d) => d.idempotencyKey === 'fhir-msg-1');
    expect(stored).toHaveLength(1);
    expect(stored[0]?.content.equals(doc.pdf)).toBe(true);
    expect(sim.duplicates.filter((d) => d.idempotencyKey === 'fhir-msg-1')).toEqual([expect.objectContaining({ honored: true })]);
    const resource = sim.resources.get(first.id)!;
    expect(resource['type']).toMatchObject({ coding: [{ system: 'http://loinc.org', code: '51855-5' }] });
    expect(resource['identifier']).toEqual([{ system: IDEMPOTENCY_SYSTEM, value: 'fhir-msg-1' }]);
  });

  it('files a document in its folder and subfolder (the first and second category)', async () => {
    const doc = {
      patientId: 'pat-6',
      title: 'Message',
      pdf: samplePdf('fhir'),
      idempotencyKey: 'fhir-sub-1',
      folder: 'Ocean',
      subfolder: 'Messages',
    };
    await adapter().postDocument(doc);
    expect(sim.documents.find((d) => d.idempotencyKey === 'fhir-sub-1')).toMatchObject({ folder: 'Ocean', subfolder: 'Messages' });
  });

  it('files a chart note as a Progress note DocumentReference (LOINC 11506-3) once, its letter type as the category (a simulator that honours the key: leniency opted in)', async () => {
    sim.state.honorIdempotencyKey = true;
    const note = {
      patientId: 'pat-7',
      title: 'Secure message',
      text: 'Can I take it with food?',
      letterType: 'Ocean',
      idempotencyKey: 'fhir-note-1',
    };
    const first = await adapter().postNote(note);
    expect(await adapter().postNote(note)).toEqual({ id: first.id, duplicate: true });
    expect(sim.notes.filter((n) => n.idempotencyKey === 'fhir-note-1')).toEqual([
      expect.objectContaining({ patientId: 'pat-7', title: 'Secure message', text: 'Can I take it with food?', letterType: 'Ocean' }),
    ]);
    expect(sim.resources.get(first.id)?.['type']).toMatchObject({ coding: [{ system: 'http://loinc.org', code: '11506-3' }] });
    expect(validateDocumentReference(progressNoteReference(note, new Date('2030-01-01T00:00:00Z')))).toEqual([]);
  });

  it('builds DocumentReferences that pass the R4 validator', () => {
    const resource = documentReference(
      { patientId: 'pat-1', title: 'Note', pdf: samplePdf(), idempotencyKey: 'k' },
      new Date('2030-01-01T00:00:00Z'),
    );
    expect(validateDocumentReference(resource)).toEqual([]);
  });

  it('reports NotFound when the document is for a patient the EMR does not have', async () => {
    await expectEmrError(
      adapter().postDocument({ patientId: 'pat-99999', title: 'x', pdf: samplePdf(), idempotencyKey: 'fhir-missing' }),
      'NotFound',
      secrets,
    );
  });

  it('leaves out a practitioner the client cannot see, and their appointments', async () => {
    sim.setFault({ hiddenProviderIds: ['prac-3'] });
    expect((await adapter().listProviders()).map((p) => p.id)).toEqual(['prac-1', 'prac-2', 'prac-4']);
    const appointments = await adapter().listAppointments(from, to);
    expect(appointments).toHaveLength(76);
    expect(appointments.some((a) => a.providerId === 'prac-3')).toBe(false);
    expect(await adapter().listAppointments(from, to, ['prac-3'])).toEqual([]);
  });

  const faults: [string, Faults, EmrErrorReason, Partial<AdapterConfig>?][] = [
    ['reports InvalidCredentials when the FHIR server rejects the client', { rejectCredentials: true }, 'InvalidCredentials'],
    ['reports Expired when the FHIR server keeps calling its tokens expired', { tokenExpired: true }, 'Expired'],
    ['reports Expired when the client secret has expired', { credentialNotAfter: PAST }, 'Expired'],
    ['reports Deauthorized when the FHIR client was disabled', { deauthorized: true }, 'Deauthorized'],
    ['reports EmrUnreachable when the FHIR server answers 5xx', { serverError: true }, 'EmrUnreachable'],
    ['reports EmrUnreachable when the FHIR server answers too slowly', { slowMs: 1000 }, 'EmrUnreachable', { timeoutMs: 150 }],
    ['reports RateLimited when the FHIR server answers 429', { rateLimit: { retryAfterSeconds: 5 } }, 'RateLimited'],
  ];
  it.each(faults)('%s, and recovers when the fault clears', async (_name, fault, reason, overrides) => {
    sim.setFault(fault);
    const error = await expectEmrError(adapter(overrides).authenticate(), reason, secrets);
    if (reason === 'RateLimited') expect(error.retryAfterMs).toBe(5000);
    await expectEmrError(adapter(overrides).listAppointments(from, to), reason, secrets);
    sim.clearFaults();
    await expect(adapter(overrides).authenticate()).resolves.toBeDefined();
  });

  it('reports Deauthorized when the client is disabled while it holds a valid token', async () => {
    const a = adapter();
    await a.authenticate();
    sim.setFault({ deauthorized: true });
    await expectEmrError(a.listProviders(), 'Deauthorized', secrets);
  });

  it('reports InvalidCredentials when the client secret is wrong', async () => {
    const credentials = { ...sim.credentials, clientSecret: 'not-the-client-secret' };
    await expectEmrError(adapter({ credentials }).authenticate(), 'InvalidCredentials', [...secrets, credentials.clientSecret]);
  });

  it('refuses to follow a next link to another host', async () => {
    const a = new FhirAdapter({
      egress: SIMULATOR_EGRESS,
      baseUrl: sim.url,
      credentials: { ...sim.credentials },
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (!String(input).includes('/Practitioner')) return response;
        const bundle = (await response.json()) as { link: { relation: string; url: string }[] };
        bundle.link = [{ relation: 'next', url: 'https://elsewhere.example/fhir/Practitioner?page=2' }];
        return new Response(JSON.stringify(bundle), { status: 200, headers: { 'content-type': 'application/fhir+json' } });
      },
    });
    const error = await expectEmrError(a.listProviders(), 'InvalidResponse', secrets);
    expect(error.message).toMatch(/another host/);
  });
});
