// Pure: the Job of one sync run. The worker runs under the site's ServiceAccount with no API token
// mounted, the credentials Secret mounted read-only, a projected token with the `vault` audience for
// the Vault login, and a restrictive security context. Unit-tested; the operator creates it as is.
import type { V1Job } from '@kubernetes/client-node';
import type { EmrIntegration, EmrIntegrationSpec, OceanSite, SyncSchedule, SyncType } from '../api/v1alpha1/index.ts';
import { credentialsSecretName } from '../emrintegration/settings.ts';
import { keyLocation, siteIdentity, SYNC_AUDIENCE } from '../oceansite/identity.ts';
import { KEY_VERSION_DIR, KEY_VERSION_FILE, SEK_VERSION_ANNOTATION, SITE_LABEL } from '../oceansite/key-version-notice.ts';

export interface WorkerSettings {
  image: string;
  vaultAddress: string;
  vaultAuthMount: string;
  oceanApiUrl: string;
  defaultActiveDeadlineSeconds: number;
}

export const LABELS = {
  schedule: 'cloudconnect.dev/schedule',
  integration: 'cloudconnect.dev/integration',
  site: SITE_LABEL,
  type: 'cloudconnect.dev/sync-type',
  scheduledTime: 'cloudconnect.dev/scheduled-time',
} as const;

export const CREDENTIALS_DIR = '/var/run/secrets/cloudconnect/emr';
export const VAULT_TOKEN_DIR = '/var/run/secrets/cloudconnect/vault';
export const CA_DIR = '/var/run/secrets/cloudconnect/ca';

export interface RunJobInput {
  name: string;
  scheduledTime: Date;
  type: SyncType;
  schedule: SyncSchedule;
  integration: EmrIntegration;
  integrationSpec: EmrIntegrationSpec;
  site: OceanSite;
  settings: WorkerSettings;
}

export function buildRunJob(input: RunJobInput): V1Job {
  const { schedule, integration, integrationSpec: spec, site, settings } = input;
  const namespace = schedule.metadata.namespace ?? '';
  const identity = siteIdentity(namespace, site.metadata.name);
  const location = keyLocation(site.spec, namespace, site.metadata.name);
  const secretName = credentialsSecretName(spec);
  const labels = {
    'app.kubernetes.io/name': 'cloudconnect-sync',
    'app.kubernetes.io/managed-by': 'cloudconnect-operator',
    [LABELS.schedule]: schedule.metadata.name,
    [LABELS.integration]: integration.metadata.name,
    [LABELS.site]: site.metadata.name,
    [LABELS.type]: input.type,
  };
  const worker = spec.syncWorker ?? {};
  const ca = spec.emr.caBundleSecretRef;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: input.name,
      namespace,
      labels,
      annotations: { [LABELS.scheduledTime]: input.scheduledTime.toISOString() },
      ownerReferences: [
        { apiVersion: schedule.apiVersion, kind: 'SyncSchedule', name: schedule.metadata.name, uid: schedule.metadata.uid ?? '', controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: {
      // A failed run is not retried in place: the next scheduled run is the retry.
      backoffLimit: 0,
      activeDeadlineSeconds: worker.activeDeadlineSeconds ?? settings.defaultActiveDeadlineSeconds,
      template: {
        // The SEK version the pod starts with; the operator raises it on running pods at a rotation.
        metadata: { labels, annotations: { [SEK_VERSION_ANNOTATION]: String(site.status?.encryptionKey?.version ?? 0) } },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: identity.serviceAccount,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          ...(worker.nodeSelector ? { nodeSelector: worker.nodeSelector } : {}),
          ...(worker.priorityClassName ? { priorityClassName: worker.priorityClassName } : {}),
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'sync',
              image: settings.image,
              args: ['--integration', `${namespace}/${integration.metadata.name}`, '--type', input.type, '--run', input.name],
              env: [
                { name: 'CLOUDCONNECT_INTEGRATION_SPEC', value: JSON.stringify(spec) },
                { name: 'CLOUDCONNECT_SITE_NUMBER', value: site.spec.siteNumber },
                { name: 'CLOUDCONNECT_CREDENTIALS_DIR', value: CREDENTIALS_DIR },
                { name: 'VAULT_ADDR', value: settings.vaultAddress },
                { name: 'VAULT_AUTH_MOUNT', value: settings.vaultAuthMount },
                { name: 'VAULT_ROLE', value: identity.vaultRole },
                { name: 'VAULT_SA_TOKEN_FILE', value: `${VAULT_TOKEN_DIR}/token` },
                { name: 'SEK_MOUNT', value: location.mount },
                { name: 'SEK_PATH', value: location.path },
                { name: 'OCEAN_API_URL', value: settings.oceanApiUrl },
                { name: 'CLOUDCONNECT_SEK_VERSION_FILE', value: KEY_VERSION_FILE },
                ...(ca ? [{ name: 'CLOUDCONNECT_CA_BUNDLE_FILE', value: `${CA_DIR}/ca.crt` }] : []),
              ],
              ...(worker.resources ? { resources: worker.resources as never } : { resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } } }),
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
              terminationMessagePolicy: 'File',
              volumeMounts: [
                { name: 'tmp', mountPath: '/tmp' },
                { name: 'vault-token', mountPath: VAULT_TOKEN_DIR, readOnly: true },
                { name: 'sek-version', mountPath: KEY_VERSION_DIR, readOnly: true },
                ...(secretName ? [{ name: 'emr-credentials', mountPath: CREDENTIALS_DIR, readOnly: true }] : []),
                ...(ca ? [{ name: 'emr-ca', mountPath: CA_DIR, readOnly: true }] : []),
              ],
            },
          ],
          volumes: [
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            { name: 'vault-token', projected: { sources: [{ serviceAccountToken: { audience: SYNC_AUDIENCE, expirationSeconds: 600, path: 'token' } }] } },
            { name: 'sek-version', downwardAPI: { items: [{ path: 'sek-version', fieldRef: { fieldPath: `metadata.annotations['${SEK_VERSION_ANNOTATION}']` } }], defaultMode: 0o444 } },
            ...(secretName ? [{ name: 'emr-credentials', secret: { secretName, defaultMode: 0o440 } }] : []),
            ...(ca ? [{ name: 'emr-ca', secret: { secretName: ca.name, items: [{ key: ca.key ?? 'ca.crt', path: 'ca.crt' }], defaultMode: 0o444 } }] : []),
          ],
        },
      },
    },
  };
}
