// The integration's EMR adapter as a site pod builds it: from the spec in its environment, the
// mounted credentials (minus Ocean's keys) and the CA bundle file.
import { readFile } from 'node:fs/promises';
import { type AdapterConfig, type EmrAdapter, EmrError } from '../emr/adapter.ts';
import { createAdapter, type EmrAdapterType } from '../emr/index.ts';
import { adapterSettings } from '../emr/settings.ts';
import { OCEAN_CREDENTIAL_KEYS, type WorkerConfig, WorkerError } from './pod-env.ts';

export type AdapterFactory = (type: EmrAdapterType, config: AdapterConfig) => EmrAdapter;
/** createAdapter throws EmrError for missing keys, a plain Error for a spec without its section. */
function buildAdapter(factory: AdapterFactory, type: EmrAdapterType, config: AdapterConfig): EmrAdapter {
  try {
    return factory(type, config);
  } catch (error) {
    if (error instanceof EmrError) throw error;
    throw new WorkerError('InvalidConfiguration', error instanceof Error ? error.message : String(error));
  }
}

/** The integration's EMR adapter from the spec and the credentials (Ocean's keys are not the EMR's). */
export async function emrAdapterFromConfig(
  config: WorkerConfig,
  credentials: Record<string, string>,
  deps: { adapterFactory?: AdapterFactory; fetch?: typeof fetch; now: () => Date; rateLimitWaits?: AdapterConfig['rateLimitWaits'] },
): Promise<EmrAdapter> {
  const settings = adapterSettings(config.spec);
  const emrCredentials = Object.fromEntries(
    Object.entries(credentials).filter(([key]) => key !== OCEAN_CREDENTIAL_KEYS.clientId && key !== OCEAN_CREDENTIAL_KEYS.clientSecret),
  );
  const caBundle = config.caBundleFile ? await readFile(config.caBundleFile, 'utf8') : undefined;
  return buildAdapter(deps.adapterFactory ?? createAdapter, settings.type, {
    baseUrl: settings.baseUrl,
    credentials: emrCredentials,
    ...(settings.tenantId ? { tenantId: settings.tenantId } : {}),
    ...(settings.instanceId ? { instanceId: settings.instanceId } : {}),
    ...(settings.tokenUrl ? { tokenUrl: settings.tokenUrl } : {}),
    ...(caBundle ? { caBundle } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    egress: config.egress,
    timeZone: config.emrTimeZone,
    now: deps.now,
    ...(deps.rateLimitWaits ? { rateLimitWaits: deps.rateLimitWaits } : {}),
  });
}
