// What every pod that runs as a site for one EmrIntegration shares — the sync Jobs
// (syncschedule/job.ts) and the relay (relay/deployment.ts): the site's ServiceAccount without an
// API token, a projected `vault`-audience token for the Vault login, the credentials Secret and the
// EMR's CA mounted read-only, the environment naming them, and a restrictive security context.
// Pure; one place, so the two pod kinds cannot drift apart.
import type { V1EnvVar, V1PodSecurityContext, V1PodSpec, V1SecurityContext, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { EmrIntegrationSpec, OceanSite } from '../../api/v1alpha1/index.ts';
import { credentialsSecretName } from '../emr/settings.ts';
import { type EgressPolicy, egressEnv } from '../httpx/egress-config.ts';
import { keyLocation, SYNC_AUDIENCE, siteServiceAccount } from '../sek/identity.ts';

export const CREDENTIALS_DIR = '/var/run/secrets/cloudconnect/emr';
/** Where the sync worker sees the site's Ocean Secret (OceanSite spec.ocean.credentialsSecretRef). */
export const OCEAN_CREDENTIALS_DIR = '/var/run/secrets/cloudconnect/ocean';
const VAULT_TOKEN_DIR = '/var/run/secrets/cloudconnect/vault';
const CA_DIR = '/var/run/secrets/cloudconnect/ca';
/** Where the worker container sees SEK_VERSION_ANNOTATION (downward API). */
export const KEY_VERSION_DIR = '/var/run/secrets/cloudconnect/key';
export const KEY_VERSION_FILE = `${KEY_VERSION_DIR}/sek-version`;

export const SITE_POD_SECURITY_CONTEXT: V1PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: 65532,
  runAsGroup: 65532,
  fsGroup: 65532,
  seccompProfile: { type: 'RuntimeDefault' },
};

export const SITE_CONTAINER_SECURITY_CONTEXT: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** The operator's settings every site pod is built from (the Job's and the relay's settings extend them). */
export interface SitePodSettings {
  vaultAddress: string;
  vaultAuthMount: string;
  /** The one kubernetes-auth role of every site's pods (VAULT_SYNC_ROLE). */
  vaultRole: string;
  /** The KV version 2 mount of every site's SEK (the operator's SEK_KV_MOUNT). */
  sekMount: string;
  /** The operator's egress sandbox, passed on so the pods refuse and cap what the operator does. */
  egress?: EgressPolicy;
}

export interface SitePodInput {
  namespace: string;
  /** Absent for a site without an integrated EMR (its reminders run): no EMR credentials, no EMR CA. */
  integrationSpec?: EmrIntegrationSpec | undefined;
  site: OceanSite;
  settings: SitePodSettings;
}

export interface SitePodParts {
  /** The pod spec's identity: the site's ServiceAccount without an API token, no service links, the security context. */
  podSpec: Pick<V1PodSpec, 'serviceAccountName' | 'automountServiceAccountToken' | 'enableServiceLinks' | 'securityContext'>;
  /** Site number, credentials directory, Vault login, SEK location and the egress settings that are not the default. */
  identityEnv: V1EnvVar[];
  /** The CA bundle file, when the integration names one. */
  caEnv: V1EnvVar[];
  /** tmp, the Vault token, then `extra`, then the credentials and the CA. */
  volumes(extra?: V1Volume[]): V1Volume[];
  volumeMounts(extra?: V1VolumeMount[]): V1VolumeMount[];
  /**
   * The site's Ocean Secret, for the pods that call Ocean (the sync Job; the relay calls no Ocean API
   * and does not get it): its env, volume and mount, all empty when the site names none (the worker
   * then reads the Ocean keys of the EMR Secret, the behaviour before spec.ocean).
   */
  ocean: { env: V1EnvVar[]; volumes: V1Volume[]; mounts: V1VolumeMount[] };
}

export function sitePodParts(input: SitePodInput): SitePodParts {
  const { namespace, integrationSpec: spec, site, settings } = input;
  // The site's own key and ServiceAccount, from its namespace and name: never from a spec field.
  const location = keyLocation(namespace, site.metadata.name, settings.sekMount);
  const secretName = spec ? credentialsSecretName(spec) : undefined;
  const ca = spec?.emr.caBundleSecretRef;
  // Always the site's own namespace: the reference has no namespace field.
  const oceanSecret = site.spec.ocean?.credentialsSecretRef?.name;
  return {
    ocean: oceanSecret
      ? {
          env: [{ name: 'CLOUDCONNECT_OCEAN_CREDENTIALS_DIR', value: OCEAN_CREDENTIALS_DIR }],
          volumes: [{ name: 'ocean-credentials', secret: { secretName: oceanSecret, defaultMode: 0o440 } }],
          mounts: [{ name: 'ocean-credentials', mountPath: OCEAN_CREDENTIALS_DIR, readOnly: true }],
        }
      : { env: [], volumes: [], mounts: [] },
    podSpec: {
      serviceAccountName: siteServiceAccount(site.metadata.name),
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: SITE_POD_SECURITY_CONTEXT,
    },
    identityEnv: [
      { name: 'CLOUDCONNECT_SITE_NUMBER', value: site.spec.siteNumber },
      // The clinic's days (the sync window) and, unless spec.emr.timeZone says otherwise, the EMR's wall clock.
      { name: 'CLOUDCONNECT_SITE_TIME_ZONE', value: site.spec.timeZone ?? 'UTC' },
      { name: 'CLOUDCONNECT_CREDENTIALS_DIR', value: CREDENTIALS_DIR },
      { name: 'VAULT_ADDR', value: settings.vaultAddress },
      { name: 'VAULT_AUTH_MOUNT', value: settings.vaultAuthMount },
      { name: 'VAULT_ROLE', value: settings.vaultRole },
      { name: 'VAULT_SA_TOKEN_FILE', value: `${VAULT_TOKEN_DIR}/token` },
      { name: 'SEK_MOUNT', value: location.mount },
      { name: 'SEK_PATH', value: location.path },
      ...(settings.egress ? egressEnv(settings.egress) : []),
    ],
    caEnv: ca ? [{ name: 'CLOUDCONNECT_CA_BUNDLE_FILE', value: `${CA_DIR}/ca.crt` }] : [],
    volumes: (extra = []) => [
      { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
      {
        name: 'vault-token',
        projected: { sources: [{ serviceAccountToken: { audience: SYNC_AUDIENCE, expirationSeconds: 600, path: 'token' } }] },
      },
      ...extra,
      ...(secretName ? [{ name: 'emr-credentials', secret: { secretName, defaultMode: 0o440 } }] : []),
      ...(ca
        ? [{ name: 'emr-ca', secret: { secretName: ca.name, items: [{ key: ca.key ?? 'ca.crt', path: 'ca.crt' }], defaultMode: 0o444 } }]
        : []),
    ],
    volumeMounts: (extra = []) => [
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'vault-token', mountPath: VAULT_TOKEN_DIR, readOnly: true },
      ...extra,
      ...(secretName ? [{ name: 'emr-credentials', mountPath: CREDENTIALS_DIR, readOnly: true }] : []),
      ...(ca ? [{ name: 'emr-ca', mountPath: CA_DIR, readOnly: true }] : []),
    ],
  };
}
