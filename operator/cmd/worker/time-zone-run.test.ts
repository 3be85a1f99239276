// "Schedule Days to Sync" end to end through the worker's real entry point (runWorker: the pod's
// environment, the credentials directory, the adapter the spec names) against the EMR and Ocean
// simulators over https: a run at 23:30 in Toronto, or in the hour clocks spring forward, uploads
// exactly the appointments of the clinic's local days, at the instants the EMR meant. Clocks are
// injected; nothing depends on the machine's zone or time.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeTestTls, type TestTls } from '../../../test/integration/tls.ts';
import { type AccuroSimulator, start as startAccuro } from '../../../test/simulators/accuro.ts';
import type { FakeData } from '../../../test/simulators/fake-data.ts';
import { type OceanSimulator, start as startOcean } from '../../../test/simulators/ocean.ts';
import { type OscarSimulator, start as startOscar } from '../../../test/simulators/oscar.ts';
import { decryptBatch, type RecordKind } from '../../internal/sek/crypto.ts';
import { runWorker } from './cli.ts';
import { jobEnv as jobEnvOf, quietDeps } from './test-helpers.ts';

const SEK = 'tz-test-sek-5d4c3b2a19f8e7d6c5b4a3928170f6e5';
const SITE = '4310';
const TORONTO = 'America/Toronto';
// Four clinic days in Toronto; clocks spring forward on Sunday 10 March 2030 at 02:00 EST.
const volume = { providers: 3, patients: 60, appointmentsPerDay: 24, days: 4, startDate: '2030-03-08' };

let tls: TestTls;
let accuro: AccuroSimulator;
let oscarRegina: OscarSimulator;
let ocean: OceanSimulator;
let dir: string;

beforeAll(async () => {
  tls = makeTestTls();
  const https = { cert: tls.cert, key: tls.key };
  [accuro, oscarRegina, ocean] = await Promise.all([
    startAccuro({ seed: 21, volume, tls: https, timeZone: TORONTO }),
    // An OSCAR server whose wall clock is Regina's (CST, UTC-6 all year: Saskatchewan keeps no DST),
    // for a Toronto site.
    startOscar({ seed: 22, volume, tls: https, timeZone: 'America/Regina' }),
    startOcean({ seed: 21, tls: https }),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'cc-tz-run-'));
  await writeFile(join(dir, 'ca.crt'), tls.ca);
});
afterAll(async () => {
  await Promise.all([accuro.stop(), oscarRegina.stop(), ocean.stop()]);
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  ocean.batches.length = 0;
});

/** The environment the operator gives a sync Job, for the site's zone and the spec. */
const jobEnv = (spec: unknown, credentials: object, siteTimeZone: string) =>
  jobEnvOf({ dir, tls, ocean, siteNumber: SITE, siteTimeZone, spec, credentials: credentials as Record<string, string> });

const accuroSpec = (days: number) => ({
  siteRef: { name: 'clinic' },
  emr: { type: 'Accuro', accuro: { tenantId: accuro.tenantId, apiUrl: accuro.url, credentialsSecretRef: { name: 'accuro' } } },
  settings: { scheduleDaysToSync: days },
});

const deps = (now: string) => quietDeps(now, SEK);

/** The appointments Ocean received (decrypted), as id → start. */
function uploadedAppointments(): Map<string, string> {
  const out = new Map<string, string>();
  for (const b of ocean.batches) {
    const body = b.body as { batchId: string; kind: RecordKind; envelope: unknown };
    if (body.kind !== 'appointment') continue;
    const records = decryptBatch(body.envelope, SEK, SITE, { batchId: body.batchId, kind: body.kind }).records as {
      id: string;
      start: string;
    }[];
    for (const r of records) out.set(r.id, r.start);
  }
  return out;
}

/** What the simulator's clinic has on the given day indexes: id (index + 1) → start instant. */
function clinicDays(data: FakeData, dayIndexes: number[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < data.appointmentCount; i++) {
    const a = data.appointment(i);
    if (dayIndexes.includes(a.dayIndex)) out.set(String(i + 1), a.start.toISOString());
  }
  return out;
}

const sorted = (m: Map<string, string>) => [...m.entries()].sort(([a], [b]) => Number(a) - Number(b));

describe('a sync run counts Schedule Days to Sync in the site time zone', () => {
  it.each([
    // name, now (UTC), days, the clinic's day indexes (0 = Fri 8 March)
    ['at 23:30 on Friday in Toronto (04:30 UTC Saturday) uploads Friday only', '2030-03-09T04:30:00Z', 1, [0]],
    ['at 00:30 on Saturday in Toronto uploads Saturday only', '2030-03-09T05:30:00Z', 1, [1]],
    ['at 23:30 on Friday in Toronto with 2 days uploads Friday and Saturday', '2030-03-09T04:30:00Z', 2, [0, 1]],
    ['at 03:30 EDT, the hour after clocks spring forward on Sunday, uploads Sunday only', '2030-03-10T07:30:00Z', 1, [2]],
    ['at 23:30 EDT on the spring-forward Sunday (03:30 UTC Monday) uploads Sunday only', '2030-03-11T03:30:00Z', 1, [2]],
    ['at 23:30 on Friday with 7 days uploads every clinic day from Friday on', '2030-03-09T04:30:00Z', 7, [0, 1, 2, 3]],
  ])('%s', async (_name, now, days, dayIndexes) => {
    const env = await jobEnv(accuroSpec(days), accuro.credentials, TORONTO);
    const { exitCode, result } = await runWorker(
      ['--integration', 'clinic/accuro', '--type', 'Appointments', '--run', 'tz-run'],
      env,
      deps(now),
    );
    expect(exitCode).toBe(0);
    const expected = clinicDays(accuro.data, dayIndexes);
    expect(result).toMatchObject({ result: 'Succeeded', appointments: expected.size });
    expect(sorted(uploadedAppointments())).toEqual(sorted(expected));
  });

  it('reads the EMR wall clock in spec.emr.timeZone (an OSCAR in Regina for a Toronto site) and uploads instants', async () => {
    const spec = {
      siteRef: { name: 'clinic' },
      emr: {
        type: 'OSCARPro',
        timeZone: 'America/Regina',
        oscarPro: { serverUrl: oscarRegina.url, credentialsSecretRef: { name: 'oscar' } },
      },
      settings: { scheduleDaysToSync: 1 },
    };
    // 23:30 on Friday in Toronto is 22:30 in Regina: the Toronto Friday holds Regina's Friday clinic (07:00-17:00 CST).
    const env = await jobEnv(spec, oscarRegina.credentials, TORONTO);
    const { exitCode } = await runWorker(['--integration', 'clinic/oscar', '--type', 'Appointments'], env, deps('2030-03-09T04:30:00Z'));
    expect(exitCode).toBe(0);
    const uploaded = uploadedAppointments();
    expect(sorted(uploaded)).toEqual(sorted(clinicDays(oscarRegina.data, [0])));
    // 07:00 in Regina (CST, UTC-6) is 13:00 UTC, written with its Z.
    expect([...uploaded.values()].sort()[0]).toBe('2030-03-08T13:00:00.000Z');
  });

  it('without spec.emr.timeZone reads the EMR in the site zone, which for that Regina OSCAR moves every time an hour early', async () => {
    const spec = {
      siteRef: { name: 'clinic' },
      emr: { type: 'OSCARPro', oscarPro: { serverUrl: oscarRegina.url, credentialsSecretRef: { name: 'oscar' } } },
      settings: { scheduleDaysToSync: 1 },
    };
    const env = await jobEnv(spec, oscarRegina.credentials, TORONTO);
    const { exitCode } = await runWorker(['--integration', 'clinic/oscar', '--type', 'Appointments'], env, deps('2030-03-09T04:30:00Z'));
    expect(exitCode).toBe(0);
    // 07:00 read as Toronto's (EST, UTC-5) is 12:00 UTC, not the 13:00 UTC the clinic meant.
    expect([...uploadedAppointments().values()].sort()[0]).toBe('2030-03-08T12:00:00.000Z');
  });
});
