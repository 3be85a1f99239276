// "Sync Appointments for Provider(s)" and "Sync Appointments for Office(s)" end to end through the
// worker's real entry point (runWorker: the pod's environment, the credentials directory, the adapter
// the spec names) against each EMR simulator and the Ocean simulator over https: Ocean receives the
// appointments of the configured providers (and, for Accuro, offices) and no others; with none
// configured, every provider's. The clock is injected.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeTestTls, type TestTls } from '../../../test/integration/tls.ts';
import { ACCURO_DEV_CREDENTIALS, start as startAccuro } from '../../../test/simulators/accuro.ts';
import type { Simulator } from '../../../test/simulators/common.ts';
import { FHIR_DEV_CREDENTIALS, start as startFhir } from '../../../test/simulators/fhir.ts';
import { type OceanSimulator, start as startOcean } from '../../../test/simulators/ocean.ts';
import { OSCAR_DEV_CREDENTIALS, start as startOscar } from '../../../test/simulators/oscar.ts';
import { start as startTelus } from '../../../test/simulators/telus.ts';
import { decryptBatch, type RecordKind } from '../../internal/sek/crypto.ts';
import { runWorker } from './cli.ts';
import { jobEnv, quietDeps } from './test-helpers.ts';

const SEK = 'provider-filter-sek-0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const SITE = '4320';
const ZONE = 'America/Toronto';
// One clinic day with 12 providers (two Accuro offices: even providers in the first, odd in the second).
const volume = { providers: 12, patients: 60, appointmentsPerDay: 48, days: 1, startDate: '2030-05-06' };
const NOW = '2030-05-06T16:00:00Z';

type EmrType = 'Accuro' | 'OSCARPro' | 'FHIR' | 'PSSuite' | 'MedAccess';
interface Emr {
  sim: Simulator & { providerId(index: number): string };
  credentials: Record<string, string>;
  section: Record<string, unknown>;
}

let tls: TestTls;
let ocean: OceanSimulator;
let dir: string;
const emrs = new Map<EmrType, Emr>();
const stops: (() => Promise<void>)[] = [];

async function startEmr(type: EmrType): Promise<Emr> {
  const https = { cert: tls.cert, key: tls.key };
  if (type === 'Accuro') {
    const sim = await startAccuro({ seed: 31, volume, tls: https, timeZone: ZONE });
    return { sim, credentials: { ...ACCURO_DEV_CREDENTIALS }, section: { accuro: { tenantId: sim.tenantId, apiUrl: sim.url } } };
  }
  if (type === 'OSCARPro') {
    const sim = await startOscar({ seed: 32, volume, tls: https, timeZone: ZONE });
    return { sim, credentials: { ...OSCAR_DEV_CREDENTIALS }, section: { oscarPro: { serverUrl: sim.url } } };
  }
  if (type === 'FHIR') {
    const sim = await startFhir({ seed: 33, volume, tls: https });
    return { sim, credentials: { ...FHIR_DEV_CREDENTIALS }, section: { fhir: { baseUrl: sim.url, tokenUrl: sim.tokenUrl } } };
  }
  const sim = await startTelus({ seed: 34, volume, tls: https });
  const instance = sim.instance(type);
  const credentials: Record<string, string> = { instanceSecret: instance.instanceSecret };
  if (instance.activationCode) credentials['activationCode'] = instance.activationCode;
  const key = type === 'PSSuite' ? 'psSuite' : 'medAccess';
  return { sim, credentials, section: { [key]: { instanceId: instance.instanceId, apiUrl: sim.url } } };
}

beforeAll(async () => {
  tls = makeTestTls();
  ocean = await startOcean({ seed: 30, tls: { cert: tls.cert, key: tls.key } });
  dir = await mkdtemp(join(tmpdir(), 'cc-provider-run-'));
  await writeFile(join(dir, 'ca.crt'), tls.ca);
  for (const type of ['Accuro', 'OSCARPro', 'FHIR', 'PSSuite', 'MedAccess'] as const) {
    const emr = await startEmr(type);
    emrs.set(type, emr);
    stops.push(() => emr.sim.stop());
  }
});
afterAll(async () => {
  await Promise.all([...stops.map((stop) => stop()), ocean?.stop()]);
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  ocean.batches.length = 0;
});

/** The provider ids of the appointments Ocean received (decrypted), sorted by appointment id. */
function uploadedProviders(): string[] {
  const out: { id: string; providerId: string }[] = [];
  for (const b of ocean.batches) {
    const body = b.body as { batchId: string; kind: RecordKind; envelope: unknown };
    if (body.kind !== 'appointment') continue;
    const records = decryptBatch(body.envelope, SEK, SITE, { batchId: body.batchId, kind: body.kind }).records as {
      id: string;
      providerId: string;
    }[];
    out.push(...records);
  }
  return out.map((r) => r.providerId);
}

/** How many of the clinic day's appointments belong to providers whose index passes `keep`. */
function expectedCount(emr: Emr, keep: (providerIndex: number) => boolean): number {
  let n = 0;
  for (let i = 0; i < emr.sim.data.appointmentCount; i++) if (keep(emr.sim.data.appointment(i).providerIndex)) n++;
  return n;
}

async function run(type: EmrType, settings: Record<string, unknown>) {
  const emr = emrs.get(type);
  if (!emr) throw new Error(`no ${type} simulator`);
  const section = Object.fromEntries(
    Object.entries(emr.section).map(([k, v]) => [k, { ...(v as object), credentialsSecretRef: { name: 'creds' } }]),
  );
  const spec = { siteRef: { name: 'clinic' }, emr: { type, ...section }, settings: { scheduleDaysToSync: 1, ...settings } };
  const { exitCode, result } = await runWorker(
    ['--integration', `clinic/${type.toLowerCase()}`, '--type', 'Appointments', '--run', `providers-${type.toLowerCase()}`],
    await jobEnv({ dir, tls, ocean, siteNumber: SITE, siteTimeZone: ZONE, spec, credentials: emr.credentials }),
    quietDeps(NOW, SEK),
  );
  return { emr, exitCode, result };
}

describe.each(['Accuro', 'OSCARPro', 'FHIR', 'PSSuite', 'MedAccess'] as const)('a sync run of %s', (type) => {
  it('uploads the appointments of the configured providers and no others', async () => {
    const emr = emrs.get(type) as Emr;
    const configured = [emr.sim.providerId(1), emr.sim.providerId(4)];
    const { exitCode, result } = await run(type, { syncProviderIds: configured });
    expect(exitCode).toBe(0);
    const expected = expectedCount(emr, (p) => p === 1 || p === 4);
    expect(expected).toBeGreaterThan(0);
    expect(result).toMatchObject({ result: 'Succeeded', appointments: expected });
    const providers = uploadedProviders();
    expect(providers).toHaveLength(expected);
    expect(new Set(providers)).toEqual(new Set(configured));
  });

  it("with no provider configured uploads every provider's appointments", async () => {
    const emr = emrs.get(type) as Emr;
    const { exitCode, result } = await run(type, {});
    expect(exitCode).toBe(0);
    expect(result).toMatchObject({ result: 'Succeeded', appointments: emr.sim.data.appointmentCount });
    expect(new Set(uploadedProviders()).size).toBe(12);
  });
});

describe('a sync run of Accuro with offices configured', () => {
  it("uploads only the appointments of the configured office's providers", async () => {
    const emr = emrs.get('Accuro') as Emr;
    const accuro = emr.sim as Emr['sim'] & { officeId(index: number): string };
    const { exitCode, result } = await run('Accuro', { syncOfficeIds: [accuro.officeId(1)] });
    expect(exitCode).toBe(0);
    const odd = (p: number) => p % 2 === 1;
    expect(result).toMatchObject({ result: 'Succeeded', appointments: expectedCount(emr, odd) });
    const expectedProviders = Array.from({ length: 12 }, (_, i) => i)
      .filter(odd)
      .map((i) => emr.sim.providerId(i));
    expect(new Set(uploadedProviders())).toEqual(new Set(expectedProviders));
  });

  it('combines providers and offices: a configured provider outside the configured office uploads nothing', async () => {
    const emr = emrs.get('Accuro') as Emr;
    const accuro = emr.sim as Emr['sim'] & { officeId(index: number): string };
    const { exitCode, result } = await run('Accuro', {
      syncOfficeIds: [accuro.officeId(1)],
      syncProviderIds: [emr.sim.providerId(2), emr.sim.providerId(3)],
    });
    expect(exitCode).toBe(0);
    expect(result).toMatchObject({ result: 'Succeeded', appointments: expectedCount(emr, (p) => p === 3) });
    expect(new Set(uploadedProviders())).toEqual(new Set([emr.sim.providerId(3)]));
  });
});
