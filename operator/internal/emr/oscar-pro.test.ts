import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Faults } from '../../../test/simulators/common.ts';
import { SIMULATOR_EGRESS } from '../../../test/simulators/egress.ts';
import { type OscarSimulator, start } from '../../../test/simulators/oscar.ts';
import type { AdapterConfig, EmrErrorReason } from './adapter.ts';
import { OscarProAdapter } from './oscar-pro.ts';
import { expectEmrError, expectFindsFiledRecordsByKey, genderOfSimulated, PAST, samplePdf } from './test-helpers.ts';

const volume = { providers: 6, patients: 50, appointmentsPerDay: 60, days: 2, startDate: '2030-03-04' };
const day1 = new Date('2030-03-04T00:00:00Z');
const day3 = new Date('2030-03-06T00:00:00Z');

let sim: OscarSimulator;
let secrets: string[];

beforeAll(async () => {
  sim = await start({ seed: 7, volume });
  secrets = Object.values(sim.credentials);
});
afterAll(() => sim.stop());
beforeEach(() => {
  sim.clearFaults();
  // Strict, as the real EMRs: a repeated idempotency key makes a second record. Tests of the key path opt in.
  sim.state.honorIdempotencyKey = false;
});

const adapter = (overrides: Partial<AdapterConfig> = {}) =>
  new OscarProAdapter({
    baseUrl: sim.url,
    credentials: { ...sim.credentials },
    timeoutMs: 2000,
    egress: SIMULATOR_EGRESS,
    // The simulator's clinic (and its wall-clock times) is in Toronto; time-zones.test.ts tries others.
    timeZone: 'America/Toronto',
    ...overrides,
  });

describe('OSCAR Pro adapter against the OSCAR simulator', () => {
  it('authenticates with a signed call and reports when the access token expires', async () => {
    const auth = await adapter().authenticate();
    expect(auth.notAfter?.toISOString()).toBe(sim.tokenExpiresAt().toISOString());
  });

  it('reports the credential expiry the server announces', async () => {
    sim.setFault({ credentialNotAfter: '2031-02-03T04:05:06Z' });
    expect((await adapter().authenticate()).notAfter?.toISOString()).toBe('2031-02-03T04:05:06.000Z');
  });

  it('lists the providers', async () => {
    const providers = await adapter().listProviders();
    expect(providers).toHaveLength(6);
    expect(providers[0]).toEqual({ id: '1001', firstName: sim.data.provider(0).firstName, lastName: sim.data.provider(0).lastName });
    expect(await adapter().listOffices()).toEqual([]);
  });

  it('lists every appointment of every provider over two days', async () => {
    const appointments = await adapter().listAppointments(day1, day3);
    expect(appointments).toHaveLength(120);
    const first = sim.data.appointment(0);
    expect(appointments[0]).toMatchObject({
      id: '1',
      providerId: '1001',
      patientId: String(first.patientIndex + 1),
      start: first.start.toISOString(),
      end: first.end.toISOString(),
    });
    expect(new Set(appointments.map((a) => a.status)).has('unknown')).toBe(false);
  });

  it('lists only the asked providers and only appointments starting within [from, to)', async () => {
    const from = new Date('2030-03-04T08:00:00Z');
    const to = new Date('2030-03-05T08:00:00Z');
    const appointments = await adapter().listAppointments(from, to, ['1002', '1004']);
    expect(appointments.length).toBeGreaterThan(0);
    for (const a of appointments) {
      expect(['1002', '1004']).toContain(a.providerId);
      expect(new Date(a.start) >= from && new Date(a.start) < to).toBe(true);
    }
    const expected = [...Array(sim.data.appointmentCount).keys()]
      .map((i) => sim.data.appointment(i))
      .filter((a) => (a.providerIndex === 1 || a.providerIndex === 3) && a.start >= from && a.start < to);
    expect(appointments).toHaveLength(expected.length);
  });

  it('reads a patient by EMR id', async () => {
    const p = sim.data.patient(9);
    expect(await adapter().getPatient('10')).toEqual({
      id: '10',
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
    await expectEmrError(adapter().getPatient('999999'), 'NotFound', secrets);
  });

  it('finds the document and the note it filed by the key written into them, in an EMR that ignores the key', async () => {
    await expectFindsFiledRecordsByKey(adapter(), sim, '3', 'oscar');
  });
  it('files a document with its folder as docType and subfolder as docSubClass, and an encounter note once (a simulator that honours the key: leniency opted in)', async () => {
    sim.state.honorIdempotencyKey = true;
    await adapter().postDocument({
      patientId: '4',
      title: 'Message',
      pdf: samplePdf('oscar'),
      idempotencyKey: 'oscar-sub-1',
      folder: 'Ocean',
      subfolder: 'Messages',
    });
    expect(sim.documents.find((d) => d.idempotencyKey === 'oscar-sub-1')).toMatchObject({ folder: 'Ocean', subfolder: 'Messages' });
    const note = {
      patientId: '4',
      title: 'Secure message',
      text: 'Can I take it with food?',
      letterType: 'Ocean',
      idempotencyKey: 'oscar-note-1',
    };
    const first = await adapter().postNote(note);
    expect(await adapter().postNote(note)).toEqual({ id: first.id, duplicate: true });
    // OSCAR has no letter types: the letter type is the note's encounter type.
    expect(sim.notes.filter((n) => n.idempotencyKey === 'oscar-note-1')).toEqual([
      expect.objectContaining({
        patientId: '4',
        title: 'Secure message',
        text: 'Can I take it with food?\n\n[oscar-note-1]',
        letterType: 'Ocean',
      }),
    ]);
  });

  it('posts a document once even when it is delivered twice (a simulator that honours the key: leniency opted in)', async () => {
    sim.state.honorIdempotencyKey = true;
    const doc = { patientId: '3', title: 'Referral letter', pdf: samplePdf(), idempotencyKey: 'oscar-msg-1' };
    const first = await adapter().postDocument(doc);
    const second = await adapter().postDocument(doc);
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ id: first.id, duplicate: true });
    const stored = sim.documents.filter((d) => d.idempotencyKey === 'oscar-msg-1');
    expect(stored).toHaveLength(1);
    expect(stored[0]?.content.equals(doc.pdf)).toBe(true);
    expect(sim.duplicates.filter((d) => d.idempotencyKey === 'oscar-msg-1')).toHaveLength(1);
  });

  it('leaves out a provider the API user cannot see, and their appointments', async () => {
    sim.setFault({ hiddenProviderIds: ['1003'] });
    const providers = await adapter().listProviders();
    expect(providers.map((p) => p.id)).not.toContain('1003');
    const appointments = await adapter().listAppointments(day1, day3, ['1001', '1002', '1003']);
    expect(appointments.length).toBeGreaterThan(0);
    expect(appointments.some((a) => a.providerId === '1003')).toBe(false);
  });

  const faults: [string, Faults, EmrErrorReason, Partial<AdapterConfig>?][] = [
    ['reports InvalidCredentials when OSCAR does not know the consumer key', { rejectCredentials: true }, 'InvalidCredentials'],
    ['reports Expired when OSCAR says the token expired', { tokenExpired: true }, 'Expired'],
    ['reports Expired when the access token is past its expiry', { credentialNotAfter: PAST }, 'Expired'],
    ['reports Deauthorized when the OSCAR token was revoked', { deauthorized: true }, 'Deauthorized'],
    ['reports EmrUnreachable when OSCAR answers 5xx', { serverError: true }, 'EmrUnreachable'],
    ['reports EmrUnreachable when OSCAR answers too slowly', { slowMs: 1000 }, 'EmrUnreachable', { timeoutMs: 150 }],
    ['reports RateLimited when OSCAR answers 429', { rateLimit: { retryAfterSeconds: 7 } }, 'RateLimited'],
  ];
  it.each(faults)('%s, and recovers when the fault clears', async (_name, fault, reason, overrides) => {
    sim.setFault(fault);
    const error = await expectEmrError(adapter(overrides).authenticate(), reason, secrets);
    if (reason === 'RateLimited') expect(error.retryAfterMs).toBe(7000);
    await expectEmrError(adapter(overrides).listAppointments(day1, day3, ['1001']), reason, secrets);
    sim.clearFaults();
    await expect(adapter(overrides).authenticate()).resolves.toBeDefined();
  });

  const badCredentials: [string, Partial<Record<string, string>>, EmrErrorReason][] = [
    [
      'reports InvalidCredentials when the consumer secret is wrong (bad signature)',
      { clientSecret: 'not-the-secret' },
      'InvalidCredentials',
    ],
    [
      'reports InvalidCredentials when the token secret is wrong (bad signature)',
      { tokenSecret: 'not-the-token-secret' },
      'InvalidCredentials',
    ],
    ['reports Deauthorized when the access token is not one OSCAR issued', { accessToken: 'unknown-token' }, 'Deauthorized'],
    ['reports InvalidCredentials when the consumer key is wrong', { clientKey: 'unknown-key' }, 'InvalidCredentials'],
  ];
  it.each(badCredentials)('%s', async (_name, patch, reason) => {
    const credentials = { ...sim.credentials, ...patch } as Record<string, string>;
    await expectEmrError(adapter({ credentials }).authenticate(), reason, [...secrets, ...Object.values(credentials)]);
  });

  it('reports InvalidCredentials without calling OSCAR when the Secret lacks a key', () => {
    const { tokenSecret: _omit, ...credentials } = sim.credentials;
    expect(() => adapter({ credentials })).toThrow(/tokenSecret/);
  });

  it('reports EmrUnreachable when nothing listens at the server URL', async () => {
    const gone = await start({ volume });
    await gone.stop();
    await expectEmrError(adapter({ baseUrl: gone.url }).authenticate(), 'EmrUnreachable', secrets);
  });
});
