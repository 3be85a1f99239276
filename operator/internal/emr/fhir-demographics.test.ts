// FhirAdapter.updateDemographics against the FHIR simulator: read-modify-write of the Patient,
// only the changed fields touched, a repeat recognised, an unknown patient NotFound.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATOR_EGRESS } from '../../../test/simulators/egress.ts';
import {
  FHIR_DEV_CREDENTIALS,
  type FhirSimulator,
  CUSTOM_FIELD_URL as SIM_CUSTOM_FIELD_URL,
  start,
} from '../../../test/simulators/fhir.ts';
import type { EmrError } from './adapter.ts';
import { CUSTOM_FIELD_URL, FhirAdapter } from './fhir.ts';

let sim: FhirSimulator;
let adapter: FhirAdapter;

beforeAll(async () => {
  sim = await start({ volume: { providers: 1, patients: 5, appointmentsPerDay: 1, days: 1 } });
  adapter = new FhirAdapter({
    baseUrl: sim.url,
    tokenUrl: sim.tokenUrl,
    credentials: { ...FHIR_DEV_CREDENTIALS },
    egress: SIMULATOR_EGRESS,
  });
});
afterAll(async () => {
  await sim?.stop();
});

describe('a demographic update through FHIR', () => {
  it('changes only the fields given and keeps everything else the EMR holds', async () => {
    const before = await adapter.getPatient('pat-2');
    expect(
      await adapter.updateDemographics({
        patientId: 'pat-2',
        changes: { phone: '555-0199', lastName: 'Renamed-Sim' },
        idempotencyKey: 'ocean-u1',
      }),
    ).toEqual({ duplicate: false });
    const after = await adapter.getPatient('pat-2');
    expect(after).toEqual({ ...before, phone: '555-0199', lastName: 'Renamed-Sim' });
    expect(sim.patientUpdates).toHaveLength(1);
    expect(sim.patientUpdates[0]?.resource['address']).toBeDefined();
  });
  it('a repeated update (same idempotency key) is recognised and applied once', async () => {
    expect(
      await adapter.updateDemographics({
        patientId: 'pat-2',
        changes: { phone: '555-0199', lastName: 'Renamed-Sim' },
        idempotencyKey: 'ocean-u1',
      }),
    ).toEqual({ duplicate: true });
    expect(sim.patientUpdates).toHaveLength(1);
    expect(sim.patientUpdateDuplicates).toEqual([{ patientId: 'pat-2', requestId: 'ocean-u1' }]);
  });
  it('an unknown patient is NotFound', async () => {
    const error = await adapter
      .updateDemographics({ patientId: 'pat-99', changes: { phone: '555-0100' }, idempotencyKey: 'ocean-u2' })
      .catch((e: unknown) => e);
    expect((error as EmrError).reason).toBe('NotFound');
  });
  it('the health number and birth date go where FHIR keeps them', async () => {
    await adapter.updateDemographics({
      patientId: 'pat-3',
      changes: { healthNumber: '1234567890', birthDate: '1990-01-02', firstName: 'Newfirst' },
      idempotencyKey: 'ocean-u3',
    });
    const after = await adapter.getPatient('pat-3');
    expect(after).toMatchObject({ healthNumber: '1234567890', birthDate: '1990-01-02', firstName: 'Newfirst' });
  });
});

describe('custom fields through FHIR', () => {
  it('each field is a Patient extension whose url is CUSTOM_FIELD_URL + its name, with a valueString; the others are kept', async () => {
    await adapter.updateCustomFields({
      patientId: 'pat-4',
      fields: [{ field: 'smokingStatus', value: 'Never' }],
      idempotencyKey: 'ocean-c1',
    });
    await adapter.updateCustomFields({
      patientId: 'pat-4',
      fields: [{ field: 'preferredPharmacy', value: 'Sim Pharmacy' }],
      idempotencyKey: 'ocean-c2',
    });
    expect(CUSTOM_FIELD_URL).toBe(SIM_CUSTOM_FIELD_URL);
    const last = sim.patientUpdates.at(-1);
    expect(last?.patientId).toBe('pat-4');
    expect(last?.resource['extension']).toEqual([
      { url: `${SIM_CUSTOM_FIELD_URL}smokingStatus`, valueString: 'Never' },
      { url: `${SIM_CUSTOM_FIELD_URL}preferredPharmacy`, valueString: 'Sim Pharmacy' },
    ]);
  });
});
