// Pure: the Job of one sync run. The worker runs under the site's ServiceAccount with no API token
// mounted, the credentials Secret mounted read-only, a projected token with the `vault` audience for
// the Vault login, and a restrictive security context. Unit-tested; the operator creates it as is.
import type { V1Container, V1Job, V1Volume } from '@kubernetes/client-node';
import type { EmrIntegration, EmrIntegrationSpec, OceanSite, SyncSchedule, SyncType } from '../../api/v1alpha1/index.ts';
import { RUN_LABELS, SEK_VERSION_ANNOTATION } from '../../api/v1alpha1/index.ts';
import { controllerReference } from '../../internal/kube/owner.ts';
import {
  KEY_VERSION_DIR,
  KEY_VERSION_FILE,
  SITE_CONTAINER_SECURITY_CONTEXT,
  type SitePodParts,
  type SitePodSettings,
  sitePodParts,
} from '../../internal/sitepod/site-pod.ts';

export interface WorkerSettings extends SitePodSettings {
  image: string;
  oceanApiUrl: string;
  /** PEM of extra CAs for the Ocean API (OCEAN_CA_BUNDLE), passed on to the worker. */
  oceanCaBundle?: string;
  defaultActiveDeadlineSeconds: number;
}

export interface RunJobInput {
  name: string;
  scheduledTime: Date;
  type: SyncType;
  schedule: SyncSchedule;
  /** Absent for a site's reminders schedule (spec.siteRef): the Job then mounts no EMR credentials. */
  integration?: EmrIntegration | undefined;
  integrationSpec?: EmrIntegrationSpec | undefined;
  site: OceanSite;
  settings: WorkerSettings;
}

/** The SEK version annotation as a file (KEY_VERSION_FILE), so a rotation reaches a running worker. */
const SEK_VERSION_VOLUME: V1Volume = {
  name: 'sek-version',
  downwardAPI: {
    items: [{ path: 'sek-version', fieldRef: { fieldPath: `metadata.annotations['${SEK_VERSION_ANNOTATION}']` } }],
    defaultMode: 0o444,
  },
};

export function buildRunJob(input: RunJobInput): V1Job {
  const { schedule, integration, integrationSpec: spec, site, settings } = input;
  const namespace = schedule.metadata.namespace ?? '';
  const pod = sitePodParts({ namespace, integrationSpec: spec, site, settings });
  const labels = {
    'app.kubernetes.io/name': 'cloudconnect-sync',
    'app.kubernetes.io/managed-by': 'cloudconnect-operator',
    [RUN_LABELS.schedule]: schedule.metadata.name,
    ...(integration ? { [RUN_LABELS.integration]: integration.metadata.name } : {}),
    [RUN_LABELS.site]: site.metadata.name,
    [RUN_LABELS.type]: input.type,
  };
  const worker = spec?.syncWorker ?? {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: input.name,
      namespace,
      labels,
      annotations: { [RUN_LABELS.scheduledTime]: input.scheduledTime.toISOString() },
      ownerReferences: [controllerReference(schedule, 'SyncSchedule', true)],
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
          ...pod.podSpec,
          ...(worker.nodeSelector ? { nodeSelector: worker.nodeSelector } : {}),
          ...(worker.priorityClassName ? { priorityClassName: worker.priorityClassName } : {}),
          containers: [runContainer(input, pod)],
          volumes: pod.volumes([SEK_VERSION_VOLUME, ...pod.ocean.volumes]),
        },
      },
    },
  };
}

/** The worker's container: its arguments, the pod contract's environment (pod-env.ts reads it), resources and mounts. */
function runContainer(input: RunJobInput, pod: SitePodParts): V1Container {
  const { integration, integrationSpec: spec, settings } = input;
  const namespace = input.schedule.metadata.namespace ?? '';
  const worker = spec?.syncWorker ?? {};
  // An integration's run names it; a site's reminders run names the site and carries no integration spec.
  const target = integration
    ? ['--integration', `${namespace}/${integration.metadata.name}`]
    : ['--site', `${namespace}/${input.site.metadata.name}`];
  return {
    name: 'sync',
    image: settings.image,
    args: [...target, '--type', input.type, '--run', input.name],
    env: [
      ...(spec ? [{ name: 'CLOUDCONNECT_INTEGRATION_SPEC', value: JSON.stringify(spec) }] : []),
      ...pod.identityEnv,
      { name: 'OCEAN_API_URL', value: settings.oceanApiUrl },
      ...(settings.oceanCaBundle ? [{ name: 'OCEAN_CA_BUNDLE', value: settings.oceanCaBundle }] : []),
      ...pod.ocean.env,
      // A Reminders run's spec.reminders (operator/cmd/worker/reminders-config.ts reads it).
      ...(input.schedule.spec.reminders ? [{ name: 'CLOUDCONNECT_REMINDERS', value: JSON.stringify(input.schedule.spec.reminders) }] : []),
      { name: 'CLOUDCONNECT_SEK_VERSION_FILE', value: KEY_VERSION_FILE },
      ...pod.caEnv,
    ],
    ...(worker.resources
      ? { resources: worker.resources as never }
      : { resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } } }),
    securityContext: SITE_CONTAINER_SECURITY_CONTEXT,
    terminationMessagePolicy: 'File',
    volumeMounts: pod.volumeMounts([{ name: 'sek-version', mountPath: KEY_VERSION_DIR, readOnly: true }, ...pod.ocean.mounts]),
  };
}
