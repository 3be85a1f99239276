// The relay harness (relay-harness.ts: a real relay process, nats-server, Vault, the Ocean simulator)
// pointed at any EMR simulator served over https with a throwaway CA (the relay trusts it through
// CLOUDCONNECT_CA_BUNDLE_FILE, as the operator mounts spec.emr.caBundleSecretRef), with the
// integration's Cloud Connect settings in its spec: what the filing tests need to assert what each
// EMR stored.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmrSettings } from '../../operator/api/v1alpha1/index.ts';
import { ACCURO_DEV_CREDENTIALS, start as startAccuro } from '../simulators/accuro.ts';
import type { Simulator } from '../simulators/common.ts';
import { FHIR_DEV_CREDENTIALS, start as startFhir } from '../simulators/fhir.ts';
import type { OceanPatient } from '../simulators/ocean.ts';
import { OSCAR_DEV_CREDENTIALS, start as startOscar } from '../simulators/oscar.ts';
import { start as startTelus } from '../simulators/telus.ts';
import { type RelayHarness, startRelayHarness } from './relay-harness.ts';
import { makeTestTls } from './tls.ts';

export type FilingEmr = 'Accuro' | 'OSCARPro' | 'FHIR' | 'PSSuite' | 'MedAccess';
export const FILING_EMRS: readonly FilingEmr[] = ['Accuro', 'OSCARPro', 'FHIR', 'PSSuite', 'MedAccess'];

export interface EmrRelay {
  harness: RelayHarness;
  emr: Simulator & { patientId(index: number): string; providerId(index: number): string };
  /** The integration spec (as the relay reads it) with other settings: pass it to `harness.startRelay` to change them. */
  specWith(settings: EmrSettings): Record<string, string>;
  /** A patient of the EMR simulator, as Ocean knows them. */
  patient(index: number): OceanPatient;
  dispose(): Promise<void>;
}

const VOLUME = { providers: 1, patients: 20, appointmentsPerDay: 1, days: 1 };

/** The EMR simulator (https), its credentials Secret's keys and the spec's emr section. */
async function startEmr(type: FilingEmr, tls: { cert: string; key: string }) {
  if (type === 'Accuro') {
    const sim = await startAccuro({ volume: VOLUME, tls });
    return { sim, credentials: { ...ACCURO_DEV_CREDENTIALS }, emr: { accuro: { tenantId: sim.tenantId, apiUrl: sim.url } } };
  }
  if (type === 'OSCARPro') {
    const sim = await startOscar({ volume: VOLUME, tls });
    return { sim, credentials: { ...OSCAR_DEV_CREDENTIALS }, emr: { oscarPro: { serverUrl: sim.url } } };
  }
  if (type === 'FHIR') {
    const sim = await startFhir({ volume: VOLUME, tls });
    return { sim, credentials: { ...FHIR_DEV_CREDENTIALS }, emr: { fhir: { baseUrl: sim.url, tokenUrl: sim.tokenUrl } } };
  }
  const sim = await startTelus({ volume: VOLUME, tls });
  const instance = sim.instance(type);
  const credentials: Record<string, string> = { instanceSecret: instance.instanceSecret };
  if (instance.activationCode) credentials['activationCode'] = instance.activationCode;
  const section = type === 'PSSuite' ? 'psSuite' : 'medAccess';
  return { sim, credentials, emr: { [section]: { instanceId: instance.instanceId, apiUrl: sim.url } } };
}

export async function startEmrRelay(options: {
  namespace: string;
  type: FilingEmr;
  settings: EmrSettings;
  env?: Record<string, string>;
}): Promise<EmrRelay> {
  const tls = makeTestTls();
  const { sim, credentials, emr } = await startEmr(options.type, tls);
  const dir = await mkdtemp(join(tmpdir(), 'cloudconnect-filing-'));
  const credentialsDir = join(dir, 'credentials');
  await mkdir(credentialsDir);
  for (const [key, value] of Object.entries(credentials)) await writeFile(join(credentialsDir, key), value);
  await writeFile(join(dir, 'ca.crt'), tls.ca);
  const section = Object.keys(emr)[0] ?? '';
  const specWith = (settings: EmrSettings) => {
    const spec = {
      siteRef: { name: 'cedar' },
      emr: { type: options.type, [section]: { ...(emr as Record<string, object>)[section], credentialsSecretRef: { name: 'creds' } } },
      settings,
    };
    return { CLOUDCONNECT_INTEGRATION_SPEC: JSON.stringify(spec) };
  };
  const harness = await startRelayHarness({
    namespace: options.namespace,
    patients: 5,
    env: {
      ...specWith(options.settings),
      CLOUDCONNECT_CREDENTIALS_DIR: credentialsDir,
      CLOUDCONNECT_CA_BUNDLE_FILE: join(dir, 'ca.crt'),
      ...options.env,
    },
  });
  return {
    harness,
    emr: sim,
    specWith,
    patient: (index) => {
      const p = sim.data.patient(index);
      return { emrId: sim.patientId(index), firstName: p.firstName, lastName: p.lastName, birthDate: p.birthDate };
    },
    dispose: async () => {
      await harness.dispose();
      await sim.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
