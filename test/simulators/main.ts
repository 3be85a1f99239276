// Starts all five simulators (for `make up` and manual testing) and prints one `KEY=value` line
// per simulator URL, then a READY line; stops them on SIGINT/SIGTERM.
//
//   node test/simulators/main.ts [--host 127.0.0.1] [--oscar-port N] [--accuro-port N]
//     [--fhir-port N] [--telus-port N] [--ocean-port N] [--seed N] [--providers N]
//     [--patients N] [--appointments-per-day N] [--days N] [--start-date YYYY-MM-DD]
//     [--time-zone IANA-zone] (the EMRs' wall clock; default America/Toronto)
//     [--credentials file.json]
//
// Ports default to 0 (any free port). Credentials default to the fixed fake development ones
// exported by each simulator module; `--credentials` takes a JSON file
// `{oscar?, accuro?: {...credentials, tenantId?}, fhir?, telus?: {instances}, ocean?}` so that a
// script can generate them and put the same values in Kubernetes Secrets. Credential values are
// never printed.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as accuro from './accuro.ts';
import type { Simulator } from './common.ts';
import type { Volume } from './fake-data.ts';
import * as fhir from './fhir.ts';
import * as ocean from './ocean.ts';
import * as oscar from './oscar.ts';
import * as telus from './telus.ts';

export interface StartAllOptions {
  host?: string;
  ports?: Partial<Record<'oscar' | 'accuro' | 'fhir' | 'telus' | 'ocean', number>>;
  seed?: number;
  volume?: Partial<Volume>;
  /** The EMRs' wall clock (their clinic's days and local times); default America/Toronto. */
  timeZone?: string;
  /** Serve every simulator over HTTPS with this certificate (PEM), as the real SaaS do. */
  tls?: { cert: string; key: string };
  credentials?: {
    oscar?: oscar.OscarCredentials;
    accuro?: accuro.AccuroCredentials & { tenantId?: string };
    fhir?: fhir.FhirCredentials;
    telus?: { instances: telus.TelusInstance[] };
    ocean?: ocean.OceanCredentials;
  };
}

export interface AllSimulators {
  oscar: oscar.OscarSimulator;
  accuro: accuro.AccuroSimulator;
  fhir: fhir.FhirSimulator;
  telus: telus.TelusSimulator;
  ocean: ocean.OceanSimulator;
  /** `KEY=value` lines: URLs and non-secret identifiers. */
  env(): string[];
  stop(): Promise<void>;
}

export async function startAll(options: StartAllOptions = {}): Promise<AllSimulators> {
  const common = {
    host: options.host ?? '127.0.0.1',
    seed: options.seed ?? 1,
    volume: options.volume ?? {},
    ...(options.timeZone ? { timeZone: options.timeZone } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
  };
  const c = options.credentials ?? {};
  const { tenantId, ...accuroCredentials } = c.accuro ?? { ...accuro.ACCURO_DEV_CREDENTIALS };
  const started: Simulator[] = [];
  const track = <T extends Simulator>(sim: T): T => {
    started.push(sim);
    return sim;
  };
  try {
    const sims = {
      oscar: track(await oscar.start({ ...common, port: options.ports?.oscar ?? 0, ...(c.oscar ? { credentials: c.oscar } : {}) })),
      accuro: track(
        await accuro.start({
          ...common,
          port: options.ports?.accuro ?? 0,
          credentials: accuroCredentials as accuro.AccuroCredentials,
          ...(tenantId ? { tenantId } : {}),
        }),
      ),
      fhir: track(await fhir.start({ ...common, port: options.ports?.fhir ?? 0, ...(c.fhir ? { credentials: c.fhir } : {}) })),
      telus: track(await telus.start({ ...common, port: options.ports?.telus ?? 0, ...(c.telus ? { instances: c.telus.instances } : {}) })),
      ocean: track(await ocean.start({ ...common, port: options.ports?.ocean ?? 0, ...(c.ocean ? { credentials: c.ocean } : {}) })),
    };
    return {
      ...sims,
      env: () => [
        `OSCAR_URL=${sims.oscar.url}`,
        `ACCURO_URL=${sims.accuro.url}`,
        `ACCURO_TENANT_ID=${sims.accuro.tenantId}`,
        `FHIR_URL=${sims.fhir.url}`,
        `TELUS_URL=${sims.telus.url}`,
        ...sims.telus.instances.map((i) => `TELUS_${i.product === 'PSSuite' ? 'PSSUITE' : 'MEDACCESS'}_INSTANCE_ID=${i.instanceId}`),
        `OCEAN_URL=${sims.ocean.url}`,
      ],
      stop: async () => {
        await Promise.all(started.map((s) => s.stop()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((s) => s.stop()));
    throw error;
  }
}

function int(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string' },
      'oscar-port': { type: 'string' },
      'accuro-port': { type: 'string' },
      'fhir-port': { type: 'string' },
      'telus-port': { type: 'string' },
      'ocean-port': { type: 'string' },
      seed: { type: 'string' },
      providers: { type: 'string' },
      patients: { type: 'string' },
      'appointments-per-day': { type: 'string' },
      days: { type: 'string' },
      'start-date': { type: 'string' },
      'time-zone': { type: 'string' },
      credentials: { type: 'string' },
    },
    strict: true,
  });
  const volume: Partial<Volume> = {};
  const set = <K extends keyof Volume>(key: K, value: Volume[K] | undefined) => {
    if (value !== undefined) volume[key] = value;
  };
  set('providers', int(values.providers, 'providers'));
  set('patients', int(values.patients, 'patients'));
  set('appointmentsPerDay', int(values['appointments-per-day'], 'appointments-per-day'));
  set('days', int(values.days, 'days'));
  set('startDate', values['start-date']);
  const ports: StartAllOptions['ports'] = {};
  for (const name of ['oscar', 'accuro', 'fhir', 'telus', 'ocean'] as const) {
    const port = int(values[`${name}-port`], `${name}-port`);
    if (port !== undefined) ports[name] = port;
  }
  const options: StartAllOptions = { ports, volume };
  if (values.host) options.host = values.host;
  if (values['time-zone']) options.timeZone = values['time-zone'];
  const seed = int(values.seed, 'seed');
  if (seed !== undefined) options.seed = seed;
  if (values.credentials) options.credentials = JSON.parse(readFileSync(values.credentials, 'utf8')) as StartAllOptions['credentials'];

  const sims = await startAll(options);
  for (const line of sims.env()) process.stdout.write(`${line}\n`);
  process.stdout.write('READY=1\n');
  const shutdown = () => {
    void sims.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    process.stderr.write(`simulators: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
