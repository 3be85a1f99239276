// updateDemographics and updateCustomFields of every adapter against its EMR simulator, asserting
// what the simulator STORED (its patient store, test/simulators/patients.ts): only the given fields
// change, a repeated idempotency key is applied once, an unknown patient is NotFound, a value the
// EMR refuses changes nothing, a custom field the EMR does not define is NotFound naming it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start as startAccuro } from '../../../test/simulators/accuro.ts';
import type { Simulator } from '../../../test/simulators/common.ts';
import { SIMULATOR_EGRESS } from '../../../test/simulators/egress.ts';
import { start as startFhir } from '../../../test/simulators/fhir.ts';
import { start as startOscar } from '../../../test/simulators/oscar.ts';
import { start as startTelus } from '../../../test/simulators/telus.ts';
import { AccuroAdapter } from './accuro.ts';
import type { EmrAdapter } from './adapter.ts';
import { FhirAdapter } from './fhir.ts';
import { OscarProAdapter } from './oscar-pro.ts';
import { TelusAdapter } from './telus.ts';
import { expectEmrError } from './test-helpers.ts';

type Kind = 'Accuro' | 'OSCARPro' | 'FHIR' | 'PSSuite' | 'MedAccess';
interface Setup {
  sim: Simulator & { patientId(index: number): string };
  adapter: EmrAdapter;
  secrets: string[];
}

const volume = { providers: 1, patients: 6, appointmentsPerDay: 1, days: 1 };
const customFields = ['preferredPharmacy', 'smokingStatus'];

async function setUp(kind: Kind): Promise<Setup> {
  const common = { timeoutMs: 2000, egress: SIMULATOR_EGRESS, timeZone: 'America/Toronto' };
  if (kind === 'Accuro') {
    const sim = await startAccuro({ volume, customFields });
    const adapter = new AccuroAdapter({ ...common, baseUrl: sim.url, tenantId: sim.tenantId, credentials: { ...sim.credentials } });
    return { sim, adapter, secrets: Object.values(sim.credentials) };
  }
  if (kind === 'OSCARPro') {
    const sim = await startOscar({ volume, customFields });
    return {
      sim,
      adapter: new OscarProAdapter({ ...common, baseUrl: sim.url, credentials: { ...sim.credentials } }),
      secrets: Object.values(sim.credentials),
    };
  }
  if (kind === 'FHIR') {
    const sim = await startFhir({ volume, customFields });
    const adapter = new FhirAdapter({ ...common, baseUrl: sim.url, tokenUrl: sim.tokenUrl, credentials: { ...sim.credentials } });
    return { sim, adapter, secrets: Object.values(sim.credentials) };
  }
  const sim = await startTelus({ volume, customFields });
  const instance = sim.instance(kind);
  const credentials: Record<string, string> = { instanceSecret: instance.instanceSecret };
  if (instance.activationCode) credentials['activationCode'] = instance.activationCode;
  const adapter = new TelusAdapter(kind, { ...common, baseUrl: sim.url, instanceId: instance.instanceId, credentials });
  return { sim, adapter, secrets: Object.values(credentials) };
}

describe.each(['Accuro', 'OSCARPro', 'FHIR', 'PSSuite', 'MedAccess'] as const)('demographics in %s', (kind) => {
  let s: Setup;
  const stored = (index: number) => s.sim.state.patients.patient(index);
  const update = (index: number, changes: Record<string, string>, key: string) => {
    const call = s.adapter.updateDemographics?.bind(s.adapter);
    if (!call) throw new Error(`${kind} has no updateDemographics`);
    return call({ patientId: s.sim.patientId(index), changes, idempotencyKey: key });
  };
  const writeFields = (index: number, fields: { field: string; value: string }[], key: string) => {
    const call = s.adapter.updateCustomFields?.bind(s.adapter);
    if (!call) throw new Error(`${kind} has no updateCustomFields`);
    return call({ patientId: s.sim.patientId(index), fields, idempotencyKey: key });
  };

  beforeAll(async () => {
    s = await setUp(kind);
  });
  afterAll(async () => {
    await s?.sim.stop();
  });

  it('a demographic update changes exactly the given fields of the stored patient', async () => {
    const before = stored(1);
    const other = stored(2);
    expect(await update(1, { phone: '613-555-0199', lastName: 'Renamed-Sim', sex: 'F' }, 'k-demo-1')).toEqual({ duplicate: false });
    expect(stored(1)).toEqual({ ...before, phone: '613-555-0199', lastName: 'Renamed-Sim', sex: 'F' });
    expect(stored(2)).toEqual(other);
    // What the adapter reads back is what was stored.
    expect(await s.adapter.getPatient(s.sim.patientId(1))).toMatchObject({ phone: '613-555-0199', lastName: 'Renamed-Sim' });
  });

  it('the same update again (same idempotency key) is recognised and applied once', async () => {
    const updates = s.sim.state.patients.demographicUpdates.length;
    expect(await update(1, { phone: '613-555-0199', lastName: 'Renamed-Sim', sex: 'F' }, 'k-demo-1')).toEqual({ duplicate: true });
    expect(s.sim.state.patients.demographicUpdates).toHaveLength(updates);
  });

  it('the birth date and the health number go where the EMR keeps them', async () => {
    await update(
      3,
      { birthDate: '1990-01-02', healthNumber: '1234567890', firstName: 'Newfirst', email: 'new@example.invalid' },
      'k-demo-3',
    );
    expect(stored(3)).toMatchObject({
      birthDate: '1990-01-02',
      healthNumber: '1234567890',
      firstName: 'Newfirst',
      email: 'new@example.invalid',
    });
  });

  it('an unknown patient is NotFound', async () => {
    const patientId = kind === 'FHIR' ? 'pat-999' : '999';
    const call = s.adapter.updateDemographics?.({ patientId, changes: { phone: '613-555-0100' }, idempotencyKey: 'k-demo-x' });
    await expectEmrError(call ?? Promise.resolve(), 'NotFound', s.secrets);
  });

  it('a value the EMR refuses (a birth date that is no day of the calendar) fails and changes nothing', async () => {
    const before = stored(4);
    await expectEmrError(update(4, { birthDate: '1990-02-30' }, 'k-demo-4'), 'InvalidResponse', s.secrets);
    expect(stored(4)).toEqual(before);
  });

  it('custom fields are written (only those given) and stored for the patient', async () => {
    const patientId = s.sim.patientId(5);
    const before = stored(5);
    await writeFields(5, [{ field: 'smokingStatus', value: 'Never' }], 'k-cf-1');
    await writeFields(5, [{ field: 'preferredPharmacy', value: 'Sim Pharmacy' }], 'k-cf-2');
    expect(s.sim.state.patients.customFields(patientId)).toEqual({ smokingStatus: 'Never', preferredPharmacy: 'Sim Pharmacy' });
    expect(stored(5)).toEqual(before);
    expect(s.sim.state.patients.customFields(s.sim.patientId(4))).toEqual({});
  });

  it('the same custom field write again is applied once', async () => {
    const writes = s.sim.state.patients.customFieldUpdates.length;
    expect(await writeFields(5, [{ field: 'preferredPharmacy', value: 'Sim Pharmacy' }], 'k-cf-2')).toEqual({ duplicate: true });
    expect(s.sim.state.patients.customFieldUpdates).toHaveLength(writes);
  });

  it('a custom field the EMR does not define is NotFound naming it, and nothing is written', async () => {
    const patientId = s.sim.patientId(0);
    const error = await expectEmrError(
      writeFields(
        0,
        [
          { field: 'smokingStatus', value: 'Former' },
          { field: 'favouriteColour', value: 'Blue' },
        ],
        'k-cf-3',
      ),
      'NotFound',
      s.secrets,
    );
    expect(error.message).toContain('favouriteColour');
    expect(error.message).not.toContain('Blue');
    expect(s.sim.state.patients.customFields(patientId)).toEqual({});
  });

  it('a custom field the clinic defines later is written on the next try (the EMR is asked again)', async () => {
    s.sim.state.patients.defineCustomField('favouriteColour');
    await writeFields(0, [{ field: 'favouriteColour', value: 'Green' }], 'k-cf-4');
    expect(s.sim.state.patients.customFields(s.sim.patientId(0))).toEqual({ favouriteColour: 'Green' });
  });
});
