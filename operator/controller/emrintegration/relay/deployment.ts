// Pure: the relay's Deployment and Service for one EmrIntegration. The relay runs with the same
// identity as the sync Jobs (operator/controller/syncschedule/job.ts): the site's ServiceAccount with no API
// token mounted, a projected token with the `vault` audience for the Vault login, the credentials
// Secret mounted read-only, a restrictive security context, and the same environment names, plus the
// Vault path of its own NATS user (NATS_CREDS_PATH). Its pod template carries the SEK version, a
// salted hash of the credentials and the NATS user's KV version, so a SEK rotation, a credential
// change or a new NATS user rolls the relay. The webhook listens on its own port (`webhook`,
// authenticated with the key at RELAY_API_KEY_PATH, TLS when spec.webhook.tls names a Secret, mounted
// here) and /metrics and the probes on another (`metrics`). Unit-tested; the operator applies these
// objects as they are.
import { createHash } from 'node:crypto';
import type { V1Container, V1Deployment, V1EnvVar, V1Secret, V1Service, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { EmrIntegration, EmrIntegrationSpec, OceanSite } from '../../../api/v1alpha1/index.ts';
import { RUN_LABELS, SEK_VERSION_ANNOTATION, SITE_LABEL } from '../../../api/v1alpha1/index.ts';
import { controllerReference } from '../../../internal/kube/owner.ts';
import {
  SITE_CONTAINER_SECURITY_CONTEXT,
  type SitePodParts,
  type SitePodSettings,
  sitePodParts,
} from '../../../internal/sitepod/site-pod.ts';
import type { RelayNatsCredentials } from './nats-credentials.ts';
import { webhookKeyPath } from './webhook-key.ts';

/** What the operator's configuration says about every relay (operator/manager/config.ts reads it). */
export interface RelayDeploymentSettings extends SitePodSettings {
  image: string;
  /** NATS server(s) with JetStream, `nats://host:port[,nats://…]`. */
  natsUrl: string;
  /** The relay image's command (the project image's entrypoint runs the sync worker). */
  command: string[];
  /** PEM of the NATS server's CA (the operator's NATS_CA_FILE), passed to every relay as NATS_CA. */
  natsCa?: string;
}

const RELAY_APP = 'cloudconnect-relay';
/** The webhook port inside the pod (the relay's RELAY_PORT); the Service exposes it on port 80. */
export const RELAY_PORT = 8080;
/** /metrics, /healthz and /readyz inside the pod (RELAY_METRICS_PORT), port `metrics` of the Service too. */
export const RELAY_METRICS_PORT = 9090;
const TLS_DIR = '/var/run/secrets/cloudconnect/webhook-tls';
const EREFERRAL_DIR = '/var/run/secrets/cloudconnect/ereferral';
const EREFERRAL_CA_DIR = '/var/run/secrets/cloudconnect/ereferral-ca';
/** Salted hash of the eReferral target's Secret: a change rolls the relay. */
const EREFERRAL_CREDENTIALS_HASH_ANNOTATION = 'cloudconnect.dev/ereferral-credentials-hash';
export const RELAY_COMMAND = ['/nodejs/bin/node', 'operator/relay/main.ts'];
/** Salted hash of the credentials Secret's data: a change rolls the relay. */
export const CREDENTIALS_HASH_ANNOTATION = 'cloudconnect.dev/credentials-hash';
/** KV version of the relay's NATS user in Vault: a new user rolls the relay. */
export const NATS_CREDS_VERSION_ANNOTATION = 'cloudconnect.dev/nats-creds-version';
/** Hash of the whole desired object: the operator skips the apply when the live object carries it. */
export const DESIRED_HASH_ANNOTATION = 'cloudconnect.dev/desired-hash';
const RELAY_INSTANCE_LABEL = 'app.kubernetes.io/instance';

const DNS_1035_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The Deployment's and Service's name: `<integration>-relay` when that is a valid Service name
 * (a DNS-1035 label: at most 63 characters, no dots, starting with a letter); otherwise a
 * shortened form with a hash of the full name, so two integrations never share a relay.
 */
export function relayName(integration: string): string {
  const plain = `${integration}-relay`;
  if (DNS_1035_LABEL.test(plain)) return plain;
  const hash = createHash('sha256').update(integration).digest('hex').slice(0, 8);
  const stem = integration
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return `${stem ? `${stem}-` : 'relay-'}${hash}-relay`;
}

/**
 * A hash of the Secret's data, salted with its uid: a weak credential (an OSCAR PIN) cannot be
 * guessed from the annotation by someone who may read pods but not Secrets. `none` without a Secret.
 */
export function credentialsHash(secret: V1Secret | undefined): string {
  if (!secret) return 'none';
  const h = createHash('sha256')
    .update(secret.metadata?.uid ?? '')
    .update('\0');
  for (const key of Object.keys(secret.data ?? {}).sort())
    h.update(key)
      .update('\0')
      .update(secret.data?.[key] ?? '')
      .update('\0');
  return h.digest('hex').slice(0, 16);
}

/** The hash the operator compares to decide whether an apply is needed (computed without the annotation). */
function desiredHash(obj: object): string {
  return createHash('sha256').update(JSON.stringify(obj)).digest('hex').slice(0, 16);
}

function withDesiredHash<T extends { metadata?: { annotations?: Record<string, string> } }>(obj: T): T {
  const hash = desiredHash(obj);
  return { ...obj, metadata: { ...obj.metadata, annotations: { ...obj.metadata?.annotations, [DESIRED_HASH_ANNOTATION]: hash } } };
}

export interface RelayInput {
  integration: EmrIntegration;
  integrationSpec: EmrIntegrationSpec;
  site: OceanSite;
  /** The credentials Secret as read (its data is hashed, never copied). */
  credentials: V1Secret | undefined;
  /** The eReferral target's credentials Secret as read (hashed like the EMR's; spec.eReferral.forward). */
  eReferralCredentials?: V1Secret | undefined;
  settings: RelayDeploymentSettings;
  /** Where the relay's NATS user is in Vault (under the SEK mount), and its version. */
  natsCreds: RelayNatsCredentials;
}

function labelsOf(integration: EmrIntegration, site: OceanSite): Record<string, string> {
  const name = integration.metadata.name;
  return {
    'app.kubernetes.io/name': RELAY_APP,
    'app.kubernetes.io/managed-by': 'cloudconnect-operator',
    [RELAY_INSTANCE_LABEL]: relayName(name),
    // Label values hold at most 63 characters; the instance label always fits.
    ...(name.length <= 63 ? { [RUN_LABELS.integration]: name } : {}),
    ...(site.metadata.name.length <= 63 ? { [SITE_LABEL]: site.metadata.name } : {}),
  };
}

function selectorOf(integration: EmrIntegration): Record<string, string> {
  return { 'app.kubernetes.io/name': RELAY_APP, [RELAY_INSTANCE_LABEL]: relayName(integration.metadata.name) };
}

/** The relay container: the site pod's identity and CA, the webhook port, the integration's spec (without suspend). */
function relayContainer(input: RelayInput, pod: SitePodParts): V1Container {
  const { integration, integrationSpec: spec, settings } = input;
  const namespace = integration.metadata.namespace ?? '';
  const tls = spec.webhook?.tls !== undefined;
  return {
    name: 'relay',
    image: settings.image,
    command: settings.command,
    args: ['--integration', `${namespace}/${integration.metadata.name}`],
    ports: [
      { name: 'webhook', containerPort: RELAY_PORT, protocol: 'TCP' },
      { name: 'metrics', containerPort: RELAY_METRICS_PORT, protocol: 'TCP' },
    ],
    env: [
      // suspend is left out: it scales the Deployment, it need not also change the pod template.
      { name: 'CLOUDCONNECT_INTEGRATION_SPEC', value: JSON.stringify({ ...spec, suspend: undefined }) },
      ...pod.identityEnv,
      { name: 'NATS_URL', value: settings.natsUrl },
      { name: 'NATS_CREDS_PATH', value: input.natsCreds.path },
      ...(settings.natsCa ? [{ name: 'NATS_CA', value: settings.natsCa }] : []),
      { name: 'RELAY_PORT', value: String(RELAY_PORT) },
      { name: 'RELAY_METRICS_PORT', value: String(RELAY_METRICS_PORT) },
      { name: 'RELAY_API_KEY_PATH', value: webhookKeyPath(namespace, input.site.metadata.name, integration.metadata.name) },
      ...(tls
        ? [
            { name: 'RELAY_TLS_CERT_FILE', value: `${TLS_DIR}/tls.crt` },
            { name: 'RELAY_TLS_KEY_FILE', value: `${TLS_DIR}/tls.key` },
          ]
        : []),
      ...pod.caEnv,
      ...eReferralParts(spec).env,
    ],
    resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '384Mi' } },
    readinessProbe: { httpGet: { path: '/readyz', port: 'metrics' }, periodSeconds: 5, failureThreshold: 3 },
    livenessProbe: { httpGet: { path: '/healthz', port: 'metrics' }, periodSeconds: 20, failureThreshold: 3 },
    securityContext: SITE_CONTAINER_SECURITY_CONTEXT,
    volumeMounts: pod.volumeMounts([
      ...(tls ? [{ name: 'webhook-tls', mountPath: TLS_DIR, readOnly: true }] : []),
      ...eReferralParts(spec).mounts,
    ]),
  };
}

/**
 * The eReferral target's Secret and CA, mounted read-only (the Secret `optional`: a relay whose target
 * Secret is missing still queues bundles, and retries them once it exists), and their variables.
 */
function eReferralParts(spec: EmrIntegrationSpec): { env: V1EnvVar[]; volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const forward = spec.eReferral?.forward;
  if (!forward) return { env: [], volumes: [], mounts: [] };
  const ca = forward.caBundleSecretRef;
  const caKey = ca?.key ?? 'ca.crt';
  return {
    env: [
      { name: 'CLOUDCONNECT_EREFERRAL_CREDENTIALS_DIR', value: EREFERRAL_DIR },
      ...(ca ? [{ name: 'CLOUDCONNECT_EREFERRAL_CA_BUNDLE_FILE', value: `${EREFERRAL_CA_DIR}/ca.crt` }] : []),
    ],
    volumes: [
      { name: 'ereferral-credentials', secret: { secretName: forward.credentialsSecretRef.name, optional: true, defaultMode: 0o440 } },
      ...(ca
        ? [{ name: 'ereferral-ca', secret: { secretName: ca.name, items: [{ key: caKey, path: 'ca.crt' }], defaultMode: 0o444 } }]
        : []),
    ],
    mounts: [
      { name: 'ereferral-credentials', mountPath: EREFERRAL_DIR, readOnly: true },
      ...(ca ? [{ name: 'ereferral-ca', mountPath: EREFERRAL_CA_DIR, readOnly: true }] : []),
    ],
  };
}

export function buildRelayDeployment(input: RelayInput): V1Deployment {
  const { integration, integrationSpec: spec, site, settings } = input;
  const namespace = integration.metadata.namespace ?? '';
  const pod = sitePodParts({ namespace, integrationSpec: spec, site, settings });
  const labels = labelsOf(integration, site);
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: relayName(integration.metadata.name),
      namespace,
      labels,
      ownerReferences: [controllerReference(integration, 'EmrIntegration', true)],
    },
    spec: {
      // Suspended: no pod, so Ocean's webhook posts fail and Ocean keeps the messages and retries.
      replicas: spec.suspend ? 0 : 1,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorOf(integration) },
      // A new pod is ready before the old one goes: the webhook stays up through a roll, and two
      // relays briefly sharing the durable consumer deliver each message once (explicit acks).
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels,
          annotations: {
            [SEK_VERSION_ANNOTATION]: String(site.status?.encryptionKey?.version ?? 0),
            [CREDENTIALS_HASH_ANNOTATION]: credentialsHash(input.credentials),
            [NATS_CREDS_VERSION_ANNOTATION]: String(input.natsCreds.version),
            ...(spec.eReferral ? { [EREFERRAL_CREDENTIALS_HASH_ANNOTATION]: credentialsHash(input.eReferralCredentials) } : {}),
          },
        },
        spec: {
          ...pod.podSpec,
          terminationGracePeriodSeconds: 30,
          containers: [relayContainer(input, pod)],
          volumes: pod.volumes([
            ...eReferralParts(spec).volumes,
            ...(spec.webhook?.tls
              ? [
                  {
                    name: 'webhook-tls',
                    secret: {
                      secretName: spec.webhook.tls.secretRef.name,
                      items: [
                        { key: 'tls.crt', path: 'tls.crt' },
                        { key: 'tls.key', path: 'tls.key' },
                      ],
                      defaultMode: 0o440,
                    },
                  },
                ]
              : []),
          ]),
        },
      },
    },
  };
  return withDesiredHash(deployment);
}

/**
 * Ocean's webhook target: `http://<relay>.<namespace>.svc/ocean/webhook` (port 80), or `https://…`
 * (port 443) with spec.webhook.tls; port `metrics` (9090) is Prometheus's, never Ocean's.
 */
export function buildRelayService(input: Pick<RelayInput, 'integration' | 'site' | 'integrationSpec'>): V1Service {
  const { integration, site } = input;
  const servicePort = input.integrationSpec.webhook?.tls ? 443 : 80;
  return withDesiredHash<V1Service>({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: relayName(integration.metadata.name),
      namespace: integration.metadata.namespace ?? '',
      labels: labelsOf(integration, site),
      ownerReferences: [controllerReference(integration, 'EmrIntegration', true)],
    },
    spec: {
      type: 'ClusterIP',
      selector: selectorOf(integration),
      ports: [
        { name: 'webhook', port: servicePort, targetPort: 'webhook', protocol: 'TCP' },
        { name: 'metrics', port: RELAY_METRICS_PORT, targetPort: 'metrics', protocol: 'TCP' },
      ],
    },
  });
}
