import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { EmrIntegration, OceanSite } from '../../../api/v1alpha1/index.ts';
import { SEK_VERSION_ANNOTATION, SITE_LABEL } from '../../../api/v1alpha1/index.ts';
import { CREDENTIALS_DIR } from '../../../internal/sitepod/site-pod.ts';
import {
  buildRelayDeployment,
  buildRelayService,
  CREDENTIALS_HASH_ANNOTATION,
  credentialsHash,
  DESIRED_HASH_ANNOTATION,
  NATS_CREDS_VERSION_ANNOTATION,
  RELAY_COMMAND,
  RELAY_METRICS_PORT,
  RELAY_PORT,
  type RelayInput,
  relayName,
} from './deployment.ts';

const site: OceanSite = {
  apiVersion: 'cloudconnect.dev/v1alpha1',
  kind: 'OceanSite',
  metadata: { name: 'maple', namespace: 'clinic', uid: 'u1' },
  spec: { siteNumber: '1234', clinicalAdminEmail: 'a@b.org' },
  status: { encryptionKey: { version: 3 } },
};
const integration: EmrIntegration = {
  apiVersion: 'cloudconnect.dev/v1alpha1',
  kind: 'EmrIntegration',
  metadata: { name: 'maple-accuro', namespace: 'clinic', uid: 'u2' },
  spec: {
    siteRef: { name: 'maple' },
    emr: {
      type: 'Accuro',
      accuro: { tenantId: 'MAPLE', credentialsSecretRef: { name: 'accuro-creds' } },
      caBundleSecretRef: { name: 'emr-ca' },
    },
  },
};
const secret: V1Secret = {
  metadata: { name: 'accuro-creds', uid: 's1', resourceVersion: '10' },
  data: { apiUsername: Buffer.from('maple-api').toString('base64'), apiPassword: Buffer.from('hunter2').toString('base64') },
};
const settings = {
  image: 'ghcr.io/example/cloudconnect:0.1.0',
  natsUrl: 'nats://nats.nats.svc:4222',
  vaultAddress: 'https://vault:8200',
  vaultAuthMount: 'kubernetes',
  vaultRole: 'cloudconnect-sync',
  sekMount: 'secret',
  command: RELAY_COMMAND,
};
const natsCreds = { path: 'cloudconnect/clinic/maple/relay/maple-accuro/nats', version: 3 };
const input: RelayInput = { integration, integrationSpec: integration.spec, site, credentials: secret, settings, natsCreds };

const deployment = buildRelayDeployment(input);
const pod = deployment.spec!.template.spec!;
const container = pod.containers[0]!;
const env = Object.fromEntries(container.env!.map((e) => [e.name, e.value]));
const podAnnotations = (i: RelayInput) => buildRelayDeployment(i).spec!.template.metadata!.annotations!;

describe('the relay Deployment', () => {
  it('runs one replica under the site ServiceAccount without an API token', () => {
    expect(deployment.metadata).toMatchObject({ name: 'maple-accuro-relay', namespace: 'clinic' });
    expect(deployment.spec!.replicas).toBe(1);
    expect(pod.serviceAccountName).toBe('maple');
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('scales to zero when the integration is suspended', () => {
    const suspended = buildRelayDeployment({ ...input, integrationSpec: { ...integration.spec, suspend: true } });
    expect(suspended.spec!.replicas).toBe(0);
    expect(suspended.spec!.template).toEqual(deployment.spec!.template);
  });

  it('is owned by its EmrIntegration as controller', () => {
    expect(deployment.metadata!.ownerReferences).toEqual([
      {
        apiVersion: 'cloudconnect.dev/v1alpha1',
        kind: 'EmrIntegration',
        name: 'maple-accuro',
        uid: 'u2',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });

  it('runs non-root, read-only, without privilege escalation or capabilities', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('mounts the credentials Secret and the CA read-only and a vault-audience token', () => {
    expect(pod.volumes).toEqual(
      expect.arrayContaining([{ name: 'emr-credentials', secret: { secretName: 'accuro-creds', defaultMode: 0o440 } }]),
    );
    expect(container.volumeMounts).toEqual(
      expect.arrayContaining([{ name: 'emr-credentials', mountPath: CREDENTIALS_DIR, readOnly: true }]),
    );
    expect(container.volumeMounts!.every((m) => m.readOnly || m.name === 'tmp')).toBe(true);
    const projected = pod.volumes!.find((v) => v.name === 'vault-token')!.projected!.sources![0]!.serviceAccountToken;
    expect(projected).toEqual({ audience: 'vault', expirationSeconds: 600, path: 'token' });
    expect(env.CLOUDCONNECT_CA_BUNDLE_FILE).toBe('/var/run/secrets/cloudconnect/ca/ca.crt');
  });

  it('runs the relay command of the project image for this integration', () => {
    expect(container.image).toBe('ghcr.io/example/cloudconnect:0.1.0');
    expect(container.command).toEqual(['/nodejs/bin/node', 'operator/relay/main.ts']);
    expect(container.args).toEqual(['--integration', 'clinic/maple-accuro']);
    expect(container.ports).toEqual([
      { name: 'webhook', containerPort: RELAY_PORT, protocol: 'TCP' },
      { name: 'metrics', containerPort: RELAY_METRICS_PORT, protocol: 'TCP' },
    ]);
  });

  it('probes the relay on its metrics port, never on the webhook (which needs the API key)', () => {
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(env.RELAY_METRICS_PORT).toBe(String(RELAY_METRICS_PORT));
  });

  it("tells the relay where its site's webhook key is, never the key", () => {
    expect(env.RELAY_API_KEY_PATH).toBe('cloudconnect/clinic/maple/relay/maple-accuro');
    expect(env.RELAY_TLS_CERT_FILE).toBeUndefined();
    expect(pod.volumes!.some((v) => v.name === 'webhook-tls')).toBe(false);
  });

  it('serves the webhook over TLS from the Secret spec.webhook.tls names, mounted read-only', () => {
    const tls = buildRelayDeployment({
      ...input,
      integrationSpec: { ...integration.spec, webhook: { tls: { secretRef: { name: 'relay-cert' } } } },
    });
    const tlsPod = tls.spec!.template.spec!;
    const tlsEnv = Object.fromEntries(tlsPod.containers[0]!.env!.map((e) => [e.name, e.value]));
    expect(tlsEnv).toMatchObject({
      RELAY_TLS_CERT_FILE: '/var/run/secrets/cloudconnect/webhook-tls/tls.crt',
      RELAY_TLS_KEY_FILE: '/var/run/secrets/cloudconnect/webhook-tls/tls.key',
    });
    expect(tlsPod.volumes).toContainEqual({
      name: 'webhook-tls',
      secret: {
        secretName: 'relay-cert',
        items: [
          { key: 'tls.crt', path: 'tls.crt' },
          { key: 'tls.key', path: 'tls.key' },
        ],
        defaultMode: 0o440,
      },
    });
    expect(tlsPod.containers[0]!.volumeMounts).toContainEqual({
      name: 'webhook-tls',
      mountPath: '/var/run/secrets/cloudconnect/webhook-tls',
      readOnly: true,
    });
    const service = buildRelayService({
      ...input,
      integrationSpec: { ...integration.spec, webhook: { tls: { secretRef: { name: 'relay-cert' } } } },
    });
    expect(service.spec!.ports![0]).toEqual({ name: 'webhook', port: 443, targetPort: 'webhook', protocol: 'TCP' });
  });

  it('tells the relay the worker settings with the same names, plus NATS and the port, with no secret value', () => {
    expect(env).toMatchObject({
      VAULT_ADDR: 'https://vault:8200',
      VAULT_AUTH_MOUNT: 'kubernetes',
      VAULT_ROLE: 'cloudconnect-sync',
      VAULT_SA_TOKEN_FILE: '/var/run/secrets/cloudconnect/vault/token',
      SEK_MOUNT: 'secret',
      SEK_PATH: 'cloudconnect/clinic/maple/sek',
      CLOUDCONNECT_SITE_NUMBER: '1234',
      // The site has no spec.timeZone: its days, and the EMR's wall clock, are UTC.
      CLOUDCONNECT_SITE_TIME_ZONE: 'UTC',
      CLOUDCONNECT_CREDENTIALS_DIR: CREDENTIALS_DIR,
      NATS_URL: 'nats://nats.nats.svc:4222',
      NATS_CREDS_PATH: 'cloudconnect/clinic/maple/relay/maple-accuro/nats',
      RELAY_PORT: '8080',
    });
    expect(JSON.parse(env.CLOUDCONNECT_INTEGRATION_SPEC!)).toMatchObject({ emr: { type: 'Accuro' } });
    expect(env.OCEAN_API_URL).toBeUndefined();
    expect(JSON.stringify(deployment)).not.toContain('hunter2');
    expect(JSON.stringify(deployment)).not.toContain(secret.data!.apiPassword);
  });

  it('carries the site label so the SEK rotation notice reaches its pod', () => {
    expect(deployment.spec!.template.metadata!.labels![SITE_LABEL]).toBe('maple');
    expect(deployment.spec!.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'cloudconnect-relay',
      'app.kubernetes.io/instance': 'maple-accuro-relay',
    });
    expect(deployment.spec!.template.metadata!.labels).toMatchObject(deployment.spec!.selector.matchLabels!);
  });
});

describe('what rolls the relay', () => {
  it('a new SEK version changes the pod template annotation', () => {
    expect(podAnnotations(input)[SEK_VERSION_ANNOTATION]).toBe('3');
    expect(podAnnotations({ ...input, site: { ...site, status: { encryptionKey: { version: 4 } } } })[SEK_VERSION_ANNOTATION]).toBe('4');
  });

  it('a change of the credentials changes the pod template annotation', () => {
    const changed = { ...secret, data: { ...secret.data, apiPassword: Buffer.from('hunter3').toString('base64') } };
    expect(podAnnotations({ ...input, credentials: changed })[CREDENTIALS_HASH_ANNOTATION]).not.toBe(
      podAnnotations(input)[CREDENTIALS_HASH_ANNOTATION],
    );
  });

  it('a label or annotation edit of the Secret does not', () => {
    const relabelled = {
      ...secret,
      metadata: { ...secret.metadata, resourceVersion: '11', labels: { 'cloudconnect.dev/credentials': 'true' } },
    };
    expect(podAnnotations({ ...input, credentials: relabelled })).toEqual(podAnnotations(input));
  });

  it('a new NATS user (a new KV version in Vault) rolls it', () => {
    expect(podAnnotations(input)[NATS_CREDS_VERSION_ANNOTATION]).toBe('3');
    expect(podAnnotations({ ...input, natsCreds: { ...natsCreds, version: 4 } })[NATS_CREDS_VERSION_ANNOTATION]).toBe('4');
  });

  it('the same credentials in another Secret hash differently (salted with its uid)', () => {
    expect(credentialsHash({ ...secret, metadata: { ...secret.metadata, uid: 's2' } })).not.toBe(credentialsHash(secret));
    expect(credentialsHash(undefined)).toBe('none');
  });

  it('the desired hash changes with the template and not otherwise', () => {
    const again = buildRelayDeployment(input);
    expect(again.metadata!.annotations![DESIRED_HASH_ANNOTATION]).toBe(deployment.metadata!.annotations![DESIRED_HASH_ANNOTATION]);
    const rotated = buildRelayDeployment({ ...input, site: { ...site, status: { encryptionKey: { version: 4 } } } });
    expect(rotated.metadata!.annotations![DESIRED_HASH_ANNOTATION]).not.toBe(deployment.metadata!.annotations![DESIRED_HASH_ANNOTATION]);
  });
});

describe('the relay Service', () => {
  const service = buildRelayService(input);

  it('exposes the webhook port and, apart, the metrics port of exactly this relay', () => {
    expect(service.metadata).toMatchObject({ name: 'maple-accuro-relay', namespace: 'clinic' });
    expect(service.spec!.selector).toEqual(deployment.spec!.selector.matchLabels);
    expect(service.spec!.ports).toEqual([
      { name: 'webhook', port: 80, targetPort: 'webhook', protocol: 'TCP' },
      { name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' },
    ]);
    expect(service.metadata!.ownerReferences![0]).toMatchObject({ kind: 'EmrIntegration', uid: 'u2', controller: true });
  });
});

describe('relay names', () => {
  it.each([
    ['keeps a short integration name', 'maple-accuro', 'maple-accuro-relay'],
    ['shortens a long name with a hash', 'a'.repeat(70), /^a{40}-[0-9a-f]{8}-relay$/],
    ['replaces dots, which a Service name may not hold', 'maple.accuro', /^maple-accuro-[0-9a-f]{8}-relay$/],
    ['starts with a letter when the name starts with a digit', '1clinic', /^clinic-[0-9a-f]{8}-relay$/],
  ])('%s', (_name, integrationName, expected) => {
    const name = relayName(integrationName);
    if (typeof expected === 'string') expect(name).toBe(expected);
    else expect(name).toMatch(expected);
    expect(name).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
  });

  it('gives different relays to names that shorten alike', () => {
    expect(relayName(`${'a'.repeat(70)}x`)).not.toBe(relayName(`${'a'.repeat(70)}y`));
  });
});

describe('the relay Deployment of an eReferral endpoint', () => {
  const none: EmrIntegration = {
    ...integration,
    metadata: { name: 'maple-referrals', namespace: 'clinic', uid: 'u3' },
    spec: {
      siteRef: { name: 'maple' },
      emr: { type: 'None' },
      eReferral: {
        forward: {
          url: 'https://referrals.example.org/in',
          credentialsSecretRef: { name: 'referral-target' },
          caBundleSecretRef: { name: 'referral-ca' },
        },
      },
    },
  };
  const target: V1Secret = { metadata: { name: 'referral-target', uid: 's9' }, data: { token: Buffer.from('t0k').toString('base64') } };
  const build = (t: V1Secret | undefined) =>
    buildRelayDeployment({ ...input, integration: none, integrationSpec: none.spec, credentials: undefined, eReferralCredentials: t });
  const d = build(target);
  const p = d.spec!.template.spec!;
  const c = p.containers[0]!;

  it("mounts the target's Secret (optional, so bundles queue while it is missing) and CA read-only, and no EMR Secret", () => {
    expect(p.volumes!.find((v) => v.name === 'ereferral-credentials')?.secret).toMatchObject({
      secretName: 'referral-target',
      optional: true,
    });
    expect(p.volumes!.find((v) => v.name === 'ereferral-ca')?.secret?.secretName).toBe('referral-ca');
    expect(p.volumes!.find((v) => v.name === 'emr-credentials')).toBeUndefined();
    expect(c.volumeMounts!.filter((m) => m.name.startsWith('ereferral')).every((m) => m.readOnly)).toBe(true);
    const e = Object.fromEntries(c.env!.map((x) => [x.name, x.value]));
    expect(e['CLOUDCONNECT_EREFERRAL_CREDENTIALS_DIR']).toBe('/var/run/secrets/cloudconnect/ereferral');
    expect(e['CLOUDCONNECT_EREFERRAL_CA_BUNDLE_FILE']).toBe('/var/run/secrets/cloudconnect/ereferral-ca/ca.crt');
  });

  it("rolls when the target's Secret changes, and never carries its value", () => {
    const other = build({ ...target, data: { token: Buffer.from('other').toString('base64') } });
    const key = 'cloudconnect.dev/ereferral-credentials-hash';
    expect(d.spec!.template.metadata!.annotations![key]).not.toBe(other.spec!.template.metadata!.annotations![key]);
    expect(JSON.stringify(d)).not.toContain('t0k');
    expect(JSON.stringify(d)).not.toContain(target.data!['token']);
  });
});
