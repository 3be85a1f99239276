import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Faults } from '../../../test/simulators/common.ts';
import { SIMULATOR_EGRESS } from '../../../test/simulators/egress.ts';
import { start, type TelusProduct, type TelusSimulator } from '../../../test/simulators/telus.ts';
import type { AdapterConfig, EmrErrorReason } from './adapter.ts';
import { TelusAdapter } from './telus.ts';
import { expectEmrError, expectFindsFiledRecordsByKey, PAST, samplePdf } from './test-helpers.ts';

const volume = { providers: 4, patients: 30, appointmentsPerDay: 250, days: 2, startDate: '2030-09-09' };
const from = new Date('2030-09-09T00:00:00Z');
const to = new Date('2030-09-11T00:00:00Z');

let sim: TelusSimulator;
let secrets: string[];

beforeAll(async () => {
  sim = await start({ seed: 5, volume });
  secrets = sim.instances.flatMap((i) => [i.instanceSecret, i.activationCode ?? '']).filter(Boolean);
});
afterAll(() => sim.stop());
beforeEach(() => {
  sim.clearFaults();
  // Strict, as the real EMRs: a repeated idempotency key makes a second record. Tests of the key path opt in.
  sim.state.honorIdempotencyKey = false;
});

function adapter(product: TelusProduct, overrides: Partial<AdapterConfig> = {}) {
  const instance = sim.instance(product);
  const credentials: Record<string, string> = { instanceSecret: instance.instanceSecret };
  if (instance.activationCode) credentials['activationCode'] = instance.activationCode;
  return new TelusAdapter(product, {
    baseUrl: sim.url,
    instanceId: instance.instanceId,
    credentials,
    timeoutMs: 2000,
    egress: SIMULATOR_EGRESS,
    ...overrides,
  });
}

const count = (path: string) => sim.requests.filter((r) => r.path === path).length;
const expectedCount = (keep: (providerIndex: number) => boolean) =>
  [...Array(sim.data.appointmentCount).keys()].filter((i) => keep(sim.data.providerIndexOf(i))).length;

describe.each(['PSSuite', 'MedAccess'] as const)('TELUS %s adapter against the TELUS simulator', (product) => {
  const appointmentsPath = () => `/api/v1/instances/${sim.instance(product).instanceId}/appointments`;

  it('lists providers', async () => {
    expect((await adapter(product).listProviders()).map((p) => p.id)).toEqual(['P1001', 'P1002', 'P1003', 'P1004']);
  });

  it('pages through all appointments', async () => {
    const before = count(appointmentsPath());
    const appointments = await adapter(product).listAppointments(from, to);
    expect(appointments).toHaveLength(500);
    expect(new Set(appointments.map((a) => a.id)).size).toBe(500);
    expect(count(appointmentsPath()) - before).toBe(3); // 200 + 200 + 100
    const first = sim.data.appointment(0);
    expect(appointments[0]).toMatchObject({
      id: '1',
      providerId: 'P1001',
      patientId: String(first.patientIndex + 1),
      start: first.start.toISOString(),
    });
    expect(appointments.some((a) => a.status === 'unknown')).toBe(false);
  });

  it('asks only for the given providers', async () => {
    const appointments = await adapter(product).listAppointments(from, to, ['P1002']);
    expect(appointments).toHaveLength(expectedCount((p) => p === 1));
    expect(appointments.every((a) => a.providerId === 'P1002')).toBe(true);
  });

  it('reads a patient by EMR id', async () => {
    const p = sim.data.patient(0);
    expect(await adapter(product).getPatient('1')).toMatchObject({
      id: '1',
      firstName: p.firstName,
      lastName: p.lastName,
      birthDate: p.birthDate,
      healthNumber: p.healthNumber,
    });
    await expectEmrError(adapter(product).getPatient('99999'), 'NotFound', secrets);
  });

  it('finds the document and the note it filed by the key written into them, in an EMR that ignores the key', async () => {
    await expectFindsFiledRecordsByKey(adapter(product), sim, '2', `telus-${product}`);
  });
  it('posts a document once even when it is delivered twice (a simulator that honours the key: leniency opted in)', async () => {
    sim.state.honorIdempotencyKey = true;
    const key = `telus-${product}-1`;
    const doc = { patientId: '2', title: 'Secure message', pdf: samplePdf(product), idempotencyKey: key, folder: 'Ocean' };
    const first = await adapter(product).postDocument(doc);
    const second = await adapter(product).postDocument(doc);
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ id: first.id, duplicate: true });
    expect(sim.documents.filter((d) => d.idempotencyKey === key)).toHaveLength(1);
    expect(sim.duplicates.filter((d) => d.idempotencyKey === key)).toHaveLength(1);
  });

  it('files a document in its folder and subfolder, and a chart note of the letter type once (a simulator that honours the key: leniency opted in)', async () => {
    sim.state.honorIdempotencyKey = true;
    const key = `telus-${product}-filing`;
    await adapter(product).postDocument({
      patientId: '3',
      title: 'Message',
      pdf: samplePdf(product),
      idempotencyKey: key,
      folder: 'Ocean',
      subfolder: 'Messages',
    });
    expect(sim.documents.find((d) => d.idempotencyKey === key)).toMatchObject({ folder: 'Ocean', subfolder: 'Messages' });
    const note = {
      patientId: '3',
      title: 'Secure message',
      text: 'Can I take it with food?',
      letterType: 'Ocean',
      idempotencyKey: `${key}-note`,
    };
    const first = await adapter(product).postNote(note);
    expect(await adapter(product).postNote(note)).toEqual({ id: first.id, duplicate: true });
    expect(sim.notes.filter((n) => n.idempotencyKey === `${key}-note`)).toEqual([
      expect.objectContaining({ patientId: '3', title: 'Secure message', text: 'Can I take it with food?', letterType: 'Ocean' }),
    ]);
  });

  it('renews its session once the EMR expired it', async () => {
    const a = adapter(product);
    await a.listProviders();
    sim.expireTokens();
    await expect(a.listProviders()).resolves.toHaveLength(4);
  });

  it('leaves out a provider the instance cannot see, and their appointments', async () => {
    sim.setFault({ hiddenProviderIds: ['P1004'] });
    expect((await adapter(product).listProviders()).map((p) => p.id)).not.toContain('P1004');
    const appointments = await adapter(product).listAppointments(from, to);
    expect(appointments).toHaveLength(expectedCount((p) => p !== 3));
    expect(appointments.some((a) => a.providerId === 'P1004')).toBe(false);
  });

  const faults: [string, Faults, EmrErrorReason, Partial<AdapterConfig>?][] = [
    ['reports InvalidCredentials when the EMR secret is rejected', { rejectCredentials: true }, 'InvalidCredentials'],
    ['reports Expired when sessions keep expiring', { tokenExpired: true }, 'Expired'],
    ['reports Deauthorized when the instance was revoked', { deauthorized: true }, 'Deauthorized'],
    ['reports EmrUnreachable when the API answers 5xx', { serverError: true }, 'EmrUnreachable'],
    ['reports EmrUnreachable when the API answers too slowly', { slowMs: 1000 }, 'EmrUnreachable', { timeoutMs: 150 }],
    ['reports RateLimited when the API answers 429', { rateLimit: { retryAfterSeconds: 2 } }, 'RateLimited'],
  ];
  it.each(faults)('%s, and recovers when the fault clears', async (_name, fault, reason, overrides) => {
    sim.setFault(fault);
    const error = await expectEmrError(adapter(product, overrides).authenticate(), reason, secrets);
    if (reason === 'RateLimited') expect(error.retryAfterMs).toBe(2000);
    await expectEmrError(adapter(product, overrides).listAppointments(from, to), reason, secrets);
    sim.clearFaults();
    await expect(adapter(product, overrides).authenticate()).resolves.toBeDefined();
  });

  it('reports Deauthorized when the instance is revoked while a session is open', async () => {
    const a = adapter(product);
    await a.authenticate();
    sim.setFault({ deauthorized: true });
    await expectEmrError(a.listProviders(), 'Deauthorized', secrets);
  });

  it('reports InvalidCredentials for an instance ID the API does not know', async () => {
    await expectEmrError(adapter(product, { instanceId: 'NOPE-0000' }).authenticate(), 'InvalidCredentials', secrets);
  });
});

describe('TELUS credential expiry', () => {
  it('reports the PS Suite activation code expiry as notAfter', async () => {
    const auth = await adapter('PSSuite').authenticate();
    expect(auth.notAfter?.toISOString()).toBe(sim.activationCodeExpiresAt().toISOString());
    sim.setFault({ credentialNotAfter: '2031-01-01T00:00:00Z' });
    expect((await adapter('PSSuite').authenticate()).notAfter?.toISOString()).toBe('2031-01-01T00:00:00.000Z');
  });

  it('reports Expired when the PS Suite activation code has expired, and recovers with a new expiry', async () => {
    sim.setFault({ credentialNotAfter: PAST });
    const error = await expectEmrError(adapter('PSSuite').authenticate(), 'Expired', secrets);
    expect(error.message).toMatch(/activation code/);
    sim.clearFaults();
    await expect(adapter('PSSuite').authenticate()).resolves.toMatchObject({ notAfter: sim.activationCodeExpiresAt() });
  });

  it('reports Expired when the activation code expires while a session is open', async () => {
    const a = adapter('PSSuite');
    await a.authenticate();
    sim.setFault({ credentialNotAfter: PAST });
    await expectEmrError(a.listProviders(), 'Expired', secrets);
  });

  it('reports InvalidCredentials when the PS Suite activation code is wrong', async () => {
    const instance = sim.instance('PSSuite');
    const credentials = { instanceSecret: instance.instanceSecret, activationCode: 'WRONG-CODE-0000' };
    await expectEmrError(adapter('PSSuite', { credentials }).authenticate(), 'InvalidCredentials', [
      ...secrets,
      credentials.activationCode,
    ]);
  });

  it('requires the activation code for PS Suite but not for Med Access', () => {
    expect(() => adapter('PSSuite', { credentials: { instanceSecret: 'x-secret-value' } })).toThrow(/activationCode/);
    expect(() => adapter('MedAccess', { credentials: { instanceSecret: 'x-secret-value' } })).not.toThrow();
  });

  it('reports no expiry for a Med Access secret that does not expire, and the expiry when it does', async () => {
    expect((await adapter('MedAccess').authenticate()).notAfter).toBeUndefined();
    sim.setFault({ credentialNotAfter: '2032-02-02T00:00:00Z' });
    expect((await adapter('MedAccess').authenticate()).notAfter?.toISOString()).toBe('2032-02-02T00:00:00.000Z');
    sim.setFault({ credentialNotAfter: PAST });
    await expectEmrError(adapter('MedAccess').authenticate(), 'Expired', secrets);
  });
});
