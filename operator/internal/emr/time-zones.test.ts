// Each adapter against its simulator with the clinic in a zone far from UTC (Auckland, UTC+12 in
// May: the clinic's 07:00 is 19:00 UTC the day before) and across a DST change (Toronto): the
// appointments of a local day are that day's, at the instants the clinic meant. OSCAR and Accuro
// serve wall-clock times without an offset (read in AdapterConfig.timeZone); TELUS (our design) and
// FHIR serve them with the offset, which is kept whatever the configured zone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start as startAccuro } from '../../../test/simulators/accuro.ts';
import type { Simulator, SimulatorOptions } from '../../../test/simulators/common.ts';
import { SIMULATOR_EGRESS } from '../../../test/simulators/egress.ts';
import type { FakeData } from '../../../test/simulators/fake-data.ts';
import { start as startFhir } from '../../../test/simulators/fhir.ts';
import { start as startOscar } from '../../../test/simulators/oscar.ts';
import { start as startTelus } from '../../../test/simulators/telus.ts';
import { AccuroAdapter } from './accuro.ts';
import type { EmrAdapter } from './adapter.ts';
import { FhirAdapter } from './fhir.ts';
import { OscarProAdapter } from './oscar-pro.ts';
import { TelusAdapter } from './telus.ts';

const AUCKLAND = 'Pacific/Auckland';
const TORONTO = 'America/Toronto';

type Sim = Simulator & { data: FakeData; credentials?: object };

interface Emr {
  type: EmrAdapter['type'];
  /** Whether the EMR serves wall-clock times without an offset (read in the configured zone). */
  wallClock: boolean;
  start(options: SimulatorOptions): Promise<Sim>;
  adapter(sim: Sim, timeZone: string): EmrAdapter;
}

const base = (sim: Sim, timeZone: string) => ({
  baseUrl: sim.url,
  credentials: { ...(sim.credentials as Record<string, string>) },
  timeoutMs: 5000,
  egress: SIMULATOR_EGRESS,
  timeZone,
});

function telus(type: 'PSSuite' | 'MedAccess'): Emr {
  return {
    type,
    wallClock: false,
    start: (o) => startTelus(o) as Promise<Sim>,
    adapter: (sim, timeZone) => {
      const instance = (sim as Awaited<ReturnType<typeof startTelus>>).instance(type);
      const credentials: Record<string, string> = { instanceSecret: instance.instanceSecret };
      if (instance.activationCode) credentials['activationCode'] = instance.activationCode;
      return new TelusAdapter(type, { ...base(sim, timeZone), credentials, instanceId: instance.instanceId });
    },
  };
}

const EMRS: Emr[] = [
  {
    type: 'OSCARPro',
    wallClock: true,
    start: (o) => startOscar(o) as Promise<Sim>,
    adapter: (sim, tz) => new OscarProAdapter(base(sim, tz)),
  },
  {
    type: 'Accuro',
    wallClock: true,
    start: (o) => startAccuro(o) as Promise<Sim>,
    adapter: (sim, tz) => new AccuroAdapter({ ...base(sim, tz), tenantId: (sim as Awaited<ReturnType<typeof startAccuro>>).tenantId }),
  },
  { type: 'FHIR', wallClock: false, start: (o) => startFhir(o) as Promise<Sim>, adapter: (sim, tz) => new FhirAdapter(base(sim, tz)) },
  telus('PSSuite'),
  telus('MedAccess'),
];

/** The simulator's appointments of the given day indexes: [id, start, end], sorted by id. */
function clinicDay(emr: Emr, data: FakeData, dayIndexes: number[]): [string, string, string][] {
  const out: [string, string, string][] = [];
  for (let i = 0; i < data.appointmentCount; i++) {
    const a = data.appointment(i);
    if (dayIndexes.includes(a.dayIndex)) out.push([idOf(emr, i), a.start.toISOString(), a.end.toISOString()]);
  }
  return out.sort(([a], [b]) => a.localeCompare(b));
}

/** The appointment id each simulator gives index `i`. */
function idOf(emr: Emr, i: number): string {
  if (emr.type === 'FHIR') return `appt-${i + 1}`;
  return String(i + 1);
}

const listed = async (adapter: EmrAdapter, from: string, to: string) =>
  (await adapter.listAppointments(new Date(from), new Date(to)))
    .map((a): [string, string, string] => [a.id, a.start, a.end])
    .sort(([a], [b]) => a.localeCompare(b));

describe.each(EMRS)('$type adapter with the clinic away from UTC', (emr) => {
  let auckland: Sim;
  let toronto: Sim;
  beforeAll(async () => {
    [auckland, toronto] = await Promise.all([
      // Two clinic days from Monday 6 May 2030 (NZST, UTC+12).
      emr.start({
        seed: 31,
        timeZone: AUCKLAND,
        volume: { providers: 3, patients: 30, appointmentsPerDay: 12, days: 2, startDate: '2030-05-06' },
      }),
      // Saturday 9 and Sunday 10 March 2030: Toronto springs forward on the Sunday at 02:00.
      emr.start({
        seed: 32,
        timeZone: TORONTO,
        volume: { providers: 3, patients: 30, appointmentsPerDay: 12, days: 2, startDate: '2030-03-09' },
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([auckland.stop(), toronto.stop()]);
  });

  it('lists exactly the Auckland clinic day [12:00 UTC the day before, 12:00 UTC), its 07:00 being 19:00 UTC the day before', async () => {
    const got = await listed(emr.adapter(auckland, AUCKLAND), '2030-05-05T12:00:00Z', '2030-05-06T12:00:00Z');
    expect(got).toEqual(clinicDay(emr, auckland.data, [0]));
    expect(got.map(([, start]) => start).sort()[0]).toBe('2030-05-05T19:00:00.000Z');
  });

  it('reads the spring-forward Sunday in Toronto at EDT (07:00 is 11:00 UTC) and the Saturday before at EST (12:00 UTC)', async () => {
    const got = await listed(emr.adapter(toronto, TORONTO), '2030-03-09T05:00:00Z', '2030-03-11T04:00:00Z');
    expect(got).toEqual(clinicDay(emr, toronto.data, [0, 1]));
    const firstOf = (date: string) =>
      got
        .map(([, start]) => start)
        .filter((s) => s.startsWith(date))
        .sort()[0];
    expect(firstOf('2030-03-09')).toBe('2030-03-09T12:00:00.000Z');
    expect(firstOf('2030-03-10')).toBe('2030-03-10T11:00:00.000Z');
  });

  it(
    emr.wallClock
      ? 'reads wall-clock times in the configured zone: configured as UTC, the Auckland 07:00 comes out 12 hours late'
      : 'keeps the offset the EMR gives: configured as UTC, the Auckland 07:00 is still 19:00 UTC the day before',
    async () => {
      const got = await listed(emr.adapter(auckland, 'UTC'), '2030-05-05T00:00:00Z', '2030-05-08T00:00:00Z');
      const first = got.map(([, start]) => start).sort()[0];
      expect(first).toBe(emr.wallClock ? '2030-05-06T07:00:00.000Z' : '2030-05-05T19:00:00.000Z');
    },
  );
});
