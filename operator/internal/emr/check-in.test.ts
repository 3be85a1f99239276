// Check-in and walk-ins (markArrived, createAppointment) of each adapter against its simulator, with
// the clinic in Auckland (UTC+12 in May) so that a wall-clock time read or written in the wrong zone
// lands hours away: what the simulator STORED is asserted (status, provider, type, start, duration,
// the external reference and the Idempotency-Key).
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { start as startAccuro } from '../../../test/simulators/accuro.ts';
import type { Simulator, SimulatorOptions } from '../../../test/simulators/common.ts';
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

const ZONE = 'Pacific/Auckland';

type Sim = Simulator & { credentials?: object; providerId(i: number): string; patientId(i: number): string };

interface Emr {
  type: EmrAdapter['type'];
  /** The walk-in appointment type as the clinic names it in the settings, and as the EMR stores it. */
  walkInType: string;
  storedType: string;
  start(options: SimulatorOptions): Promise<Sim>;
  adapter(sim: Sim): EmrAdapter;
  /** The appointment id the simulator gives index `i`. */
  idOf(i: number): string;
}

const base = (sim: Sim) => ({
  baseUrl: sim.url,
  credentials: { ...(sim.credentials as Record<string, string>) },
  timeoutMs: 5000,
  egress: SIMULATOR_EGRESS,
  timeZone: ZONE,
});
const plainId = (i: number) => String(i + 1);

function telus(type: 'PSSuite' | 'MedAccess'): Emr {
  return {
    type,
    walkInType: 'Walk-in',
    storedType: 'WALKIN',
    start: (o) => startTelus(o) as Promise<Sim>,
    adapter: (sim) => {
      const instance = (sim as Awaited<ReturnType<typeof startTelus>>).instance(type);
      const credentials: Record<string, string> = { instanceSecret: instance.instanceSecret };
      if (instance.activationCode) credentials['activationCode'] = instance.activationCode;
      return new TelusAdapter(type, { ...base(sim), credentials, instanceId: instance.instanceId });
    },
    idOf: plainId,
  };
}

const EMRS: Emr[] = [
  {
    type: 'OSCARPro',
    walkInType: 'Walk-in',
    storedType: 'Walk-in',
    start: (o) => startOscar(o) as Promise<Sim>,
    adapter: (sim) => new OscarProAdapter(base(sim)),
    idOf: plainId,
  },
  {
    type: 'Accuro',
    walkInType: 'Walk-in',
    storedType: 'Walk-in',
    start: (o) => startAccuro(o) as Promise<Sim>,
    adapter: (sim) => new AccuroAdapter({ ...base(sim), tenantId: (sim as Awaited<ReturnType<typeof startAccuro>>).tenantId }),
    idOf: plainId,
  },
  {
    type: 'FHIR',
    walkInType: 'WALKIN',
    storedType: 'WALKIN',
    start: (o) => startFhir(o) as Promise<Sim>,
    adapter: (sim) => new FhirAdapter(base(sim)),
    idOf: (i) => `appt-${i + 1}`,
  },
  telus('PSSuite'),
  telus('MedAccess'),
];

const volume = { providers: 2, patients: 10, appointmentsPerDay: 4, days: 1, startDate: '2030-05-06' };
/** 09:30 in Auckland on 6 May 2030 (21:30 UTC the day before). */
const NINE_THIRTY = new Date('2030-05-05T21:30:00Z');

describe.each(EMRS)('check-in in $type', (emr) => {
  let sim: Sim;
  let secrets: string[];
  beforeAll(async () => {
    sim = await emr.start({ seed: 5, volume, timeZone: ZONE });
    secrets = Object.values((sim.credentials ?? {}) as Record<string, string>);
  });
  afterAll(() => sim.stop());
  beforeEach(() => sim.clearFaults());

  it('marks an appointment arrived: the EMR stores the arrived status, and that change only', async () => {
    const seeded = sim.appointments.add({ patientIndex: 3, providerIndex: 1, start: NINE_THIRTY, durationMinutes: 15 });
    const before = sim.appointments.changes.length;
    await emr.adapter(sim).markArrived(emr.idOf(seeded.index), 'key-arrive-1');
    expect(sim.appointments.get(seeded.index).status).toBe('arrived');
    expect(sim.appointments.changes.slice(before)).toEqual([
      expect.objectContaining({ index: seeded.index, from: 'booked', to: 'arrived' }),
    ]);
  });

  it('lists a seeded appointment at the instant the clinic meant, for the patient it belongs to', async () => {
    const seeded = sim.appointments.add({
      patientIndex: 4,
      providerIndex: 0,
      start: new Date('2030-05-06T01:00:00Z'),
      durationMinutes: 20,
    });
    const listed = await emr.adapter(sim).listAppointments(new Date('2030-05-06T00:00:00Z'), new Date('2030-05-06T02:00:00Z'));
    expect(listed.find((a) => a.id === emr.idOf(seeded.index))).toMatchObject({
      patientId: sim.patientId(4),
      providerId: sim.providerId(0),
      start: '2030-05-06T01:00:00.000Z',
      status: 'booked',
    });
  });

  it('creates a walk-in once per idempotency key: provider, type, start in the clinic zone, duration and the key stored in it (a simulator that honours the key: leniency opted in)', async () => {
    sim.state.honorIdempotencyKey = true;
    onTestFinished(() => {
      sim.state.honorIdempotencyKey = false;
    });
    const adapter = emr.adapter(sim);
    const walkIn = {
      patientId: sim.patientId(2),
      providerId: sim.providerId(1),
      appointmentType: emr.walkInType,
      start: NINE_THIRTY,
      durationMinutes: 25,
      idempotencyKey: 'ocean-walkin-key-1',
    };
    const first = await adapter.createAppointment(walkIn);
    const second = await adapter.createAppointment(walkIn);
    expect(second).toEqual({ id: first.id, duplicate: true });
    expect(first.duplicate).toBe(false);
    const created = sim.appointments.created().filter((a) => a.externalRef === 'ocean-walkin-key-1');
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({
      patientIndex: 2,
      providerIndex: 1,
      appointmentType: emr.storedType,
      start: NINE_THIRTY,
      durationMinutes: 25,
      idempotencyKey: 'ocean-walkin-key-1',
      status: 'booked',
    });
    expect(emr.idOf(created[0]?.index ?? -1)).toBe(first.id);
    expect(sim.appointments.findByExternalRef('ocean-walkin-key-1').map((a) => a.index)).toEqual([created[0]?.index]);
  });

  it('finds the walk-in it created by the key stored in it, in an EMR that ignores the key: a second create makes a second appointment, the lookup returns the first', async () => {
    expect(sim.state.honorIdempotencyKey).toBe(false);
    const adapter = emr.adapter(sim);
    // A check-in's instant has seconds; the EMR may keep the start to the minute.
    const walkIn = {
      patientId: sim.patientId(6),
      providerId: sim.providerId(0),
      start: new Date(NINE_THIRTY.getTime() + 17_500),
      durationMinutes: 15,
      idempotencyKey: 'ocean-walkin-strict-1',
    };
    const first = await adapter.createAppointment(walkIn);
    const second = await adapter.createAppointment(walkIn);
    expect(second.id).not.toBe(first.id);
    expect(sim.appointments.ignoredRepeats.map((r) => r.idempotencyKey)).toContain('ocean-walkin-strict-1');
    const query = {
      patientId: walkIn.patientId,
      providerId: walkIn.providerId,
      start: walkIn.start,
      idempotencyKey: walkIn.idempotencyKey,
    };
    expect(await adapter.findAppointmentByKey?.(query)).toEqual({ id: first.id });
    expect(await adapter.findAppointmentByKey?.({ ...query, idempotencyKey: 'ocean-walkin-never-created' })).toBeUndefined();
  });

  it('refuses a walk-in of an appointment type the EMR does not have, and stores nothing', async () => {
    const before = sim.appointments.count;
    const create = emr.adapter(sim).createAppointment({
      patientId: sim.patientId(2),
      providerId: sim.providerId(0),
      appointmentType: 'Teleportation',
      start: NINE_THIRTY,
      durationMinutes: 15,
      idempotencyKey: 'ocean-walkin-key-2',
    });
    await expectEmrError(create, emr.type === 'FHIR' ? 'InvalidResponse' : 'NotFound', secrets);
    expect(sim.appointments.count).toBe(before);
  });

  it('refuses a walk-in for a provider the EMR does not have (4xx), and stores nothing', async () => {
    const before = sim.appointments.count;
    const create = emr.adapter(sim).createAppointment({
      patientId: sim.patientId(2),
      providerId: sim.providerId(7),
      start: NINE_THIRTY,
      durationMinutes: 15,
      idempotencyKey: 'ocean-walkin-key-3',
    });
    await expectEmrError(create, 'InvalidResponse', secrets);
    expect(sim.appointments.count).toBe(before);
  });

  it('reports NotFound for an appointment the EMR does not have', async () => {
    await expectEmrError(emr.adapter(sim).markArrived(emr.idOf(9999), 'key-arrive-2'), 'NotFound', secrets);
  });
});
