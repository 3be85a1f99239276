// The operator's side of a site's Ocean client: the Secret named by OceanSite
// spec.ocean.credentialsSecretRef (keys clientId and clientSecret, as the Ocean Portal's "Manage
// OAuth Credentials" names them), always read from the site's own namespace, and the reasons the
// controllers show for an Ocean failure. Values are registered with the redactor as they are read.
import type { V1Secret } from '@kubernetes/client-node';
import { redactor } from '../../runtime/redact.ts';
import type { EgressPolicy } from '../httpx/egress-config.ts';
import { RemoteError } from '../httpx/remote-error.ts';
import { OceanClient, OceanError } from './client.ts';

/** Keys of the site's Ocean Secret (the pods read the same files from its mount). */
export const OCEAN_SECRET_KEYS = { clientId: 'clientId', clientSecret: 'clientSecret' } as const;

/** The operator's Ocean API settings (OCEAN_API_URL, OCEAN_CA_BUNDLE, the egress sandbox). */
export interface OceanApiSettings {
  apiUrl: string;
  caBundle?: string;
  egress?: EgressPolicy;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface OceanClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** The client from the Secret, or the keys it lacks (empty values count as missing). */
export function oceanSecretCredentials(secret: V1Secret): { credentials: OceanClientCredentials } | { missing: string[] } {
  const value = (key: string) => {
    const data = secret.data?.[key];
    return data ? Buffer.from(data, 'base64').toString('utf8').trim() : '';
  };
  const clientId = value(OCEAN_SECRET_KEYS.clientId);
  const clientSecret = value(OCEAN_SECRET_KEYS.clientSecret);
  if (clientId) redactor.register(clientId);
  if (clientSecret) redactor.register(clientSecret);
  const missing = Object.values(OCEAN_SECRET_KEYS).filter((k) => !value(k));
  return missing.length > 0 ? { missing } : { credentials: { clientId, clientSecret } };
}

export function siteOceanClient(settings: OceanApiSettings, siteNumber: string, credentials: OceanClientCredentials, now: () => Date) {
  return new OceanClient({
    apiUrl: settings.apiUrl,
    siteNumber,
    ...credentials,
    ...(settings.caBundle ? { caBundle: settings.caBundle } : {}),
    ...(settings.egress ? { egress: settings.egress } : {}),
    ...(settings.timeoutMs ? { timeoutMs: settings.timeoutMs } : {}),
    ...(settings.fetch ? { fetch: settings.fetch } : {}),
    now,
  });
}

export type OceanFailureReason =
  | 'InvalidCredentials'
  | 'Expired'
  | 'Deauthorized'
  | 'OceanUnreachable'
  | 'OceanRejected'
  | 'EndpointNotAllowed'
  | 'EndpointTimeout'
  | 'ResponseTooLarge';

/** Pure: the condition reason of what an Ocean call threw (the egress sandbox's reason first). */
export function oceanFailureReason(error: unknown): OceanFailureReason {
  if (error instanceof RemoteError && error.egress) return error.egress;
  if (!(error instanceof OceanError)) return error instanceof RemoteError ? 'OceanRejected' : 'OceanUnreachable';
  switch (error.reason) {
    case 'OceanInvalidCredentials':
      return 'InvalidCredentials';
    case 'OceanExpired':
      return 'Expired';
    case 'OceanDeauthorized':
      return 'Deauthorized';
    case 'OceanRejected':
      return 'OceanRejected';
    default:
      return 'OceanUnreachable';
  }
}
