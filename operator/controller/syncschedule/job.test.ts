import { describe, expect, it } from 'vitest';
import type { EmrIntegration, OceanSite, SyncSchedule } from '../../api/v1alpha1/index.ts';
import { SEK_VERSION_ANNOTATION, SITE_LABEL } from '../../api/v1alpha1/index.ts';
import { DEFAULT_EGRESS, egressFromEnv } from '../../internal/httpx/egress-config.ts';
import { configFromEnv, siteConfigFromEnv } from '../../internal/sitepod/pod-env.ts';
import { CREDENTIALS_DIR, KEY_VERSION_DIR, OCEAN_CREDENTIALS_DIR } from '../../internal/sitepod/site-pod.ts';
import { buildRunJob, type RunJobInput, type WorkerSettings } from './job.ts';

const site: OceanSite = {
  apiVersion: 'cloudconnect.dev/v1alpha1',
  kind: 'OceanSite',
  metadata: { name: 'maple', namespace: 'clinic', uid: 'u1' },
  spec: { siteNumber: '1234', clinicalAdminEmail: 'a@b.org' },
};
const integration: EmrIntegration = {
  apiVersion: 'cloudconnect.dev/v1alpha1',
  kind: 'EmrIntegration',
  metadata: { name: 'maple-accuro', namespace: 'clinic', uid: 'u2' },
  spec: {
    siteRef: { name: 'maple' },
    emr: { type: 'Accuro', accuro: { tenantId: 'MAPLE', credentialsSecretRef: { name: 'accuro-creds' } } },
    syncWorker: { nodeSelector: { pool: 'sync' } },
  },
};
const schedule: SyncSchedule = {
  apiVersion: 'cloudconnect.dev/v1alpha1',
  kind: 'SyncSchedule',
  metadata: { name: 'maple-full', namespace: 'clinic', uid: 'u3' },
  spec: { integrationRef: { name: 'maple-accuro' }, type: 'Full', schedule: '0 0 * * *' },
};
const settings: WorkerSettings = {
  image: 'ghcr.io/example/cloudconnect:0.1.0',
  vaultAddress: 'https://vault:8200',
  vaultAuthMount: 'kubernetes',
  vaultRole: 'cloudconnect-sync',
  sekMount: 'secret',
  oceanApiUrl: 'https://ocean.example',
  defaultActiveDeadlineSeconds: 3600,
};
/** The Job of the fixture's scheduled Full run, with `overrides` of its input. */
const runJob = (overrides: Partial<RunJobInput> = {}) =>
  buildRunJob({
    name: 'maple-full-29000000',
    scheduledTime: new Date('2026-11-24T05:00:00Z'),
    type: 'Full',
    schedule,
    integration,
    integrationSpec: integration.spec,
    site,
    settings,
    ...overrides,
  });
const job = runJob();
const pod = job.spec!.template.spec!;
const container = pod.containers[0]!;

describe("the sync run Job and the site's Ocean Secret", () => {
  const oceanSite: OceanSite = { ...site, spec: { ...site.spec, ocean: { credentialsSecretRef: { name: 'maple-ocean' } } } };
  const withOcean = runJob({ site: oceanSite }).spec?.template.spec;
  it('mounts the Secret named by spec.ocean.credentialsSecretRef read-only and names its directory', () => {
    expect(withOcean?.volumes).toContainEqual({ name: 'ocean-credentials', secret: { secretName: 'maple-ocean', defaultMode: 0o440 } });
    const c = withOcean?.containers[0];
    expect(c?.volumeMounts).toContainEqual({ name: 'ocean-credentials', mountPath: OCEAN_CREDENTIALS_DIR, readOnly: true });
    expect(c?.env).toContainEqual({ name: 'CLOUDCONNECT_OCEAN_CREDENTIALS_DIR', value: OCEAN_CREDENTIALS_DIR });
    expect(configFromEnv(Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value ?? '']))).oceanCredentialsDir).toBe(
      OCEAN_CREDENTIALS_DIR,
    );
  });
  it('mounts no Ocean Secret for a site that names none (the worker reads the EMR Secret as before)', () => {
    expect(pod.volumes?.map((v) => v.name)).not.toContain('ocean-credentials');
    expect(container.env?.map((e) => e.name)).not.toContain('CLOUDCONNECT_OCEAN_CREDENTIALS_DIR');
  });
});

describe('the sync run Job', () => {
  it('runs under the site ServiceAccount without an API token', () => {
    expect(pod.serviceAccountName).toBe('maple');
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('is owned by its SyncSchedule and not retried in place', () => {
    expect(job.metadata!.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'SyncSchedule', name: 'maple-full', uid: 'u3', controller: true }),
    ]);
    expect(job.spec!.backoffLimit).toBe(0);
    expect(pod.restartPolicy).toBe('Never');
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

  it('mounts the credentials Secret read-only and a vault-audience token', () => {
    expect(pod.volumes).toEqual(
      expect.arrayContaining([{ name: 'emr-credentials', secret: { secretName: 'accuro-creds', defaultMode: 0o440 } }]),
    );
    expect(container.volumeMounts).toEqual(
      expect.arrayContaining([{ name: 'emr-credentials', mountPath: CREDENTIALS_DIR, readOnly: true }]),
    );
    const projected = pod.volumes!.find((v) => v.name === 'vault-token')!.projected!.sources![0]!.serviceAccountToken;
    expect(projected).toEqual({ audience: 'vault', expirationSeconds: 600, path: 'token' });
  });

  it('tells the worker where the SEK is and which Vault role to use, with no secret value in the spec', () => {
    const env = Object.fromEntries(container.env!.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      VAULT_ROLE: 'cloudconnect-sync',
      SEK_MOUNT: 'secret',
      SEK_PATH: 'cloudconnect/clinic/maple/sek',
      CLOUDCONNECT_SITE_NUMBER: '1234',
      // A site without spec.timeZone counts its days in UTC.
      CLOUDCONNECT_SITE_TIME_ZONE: 'UTC',
    });
    expect(JSON.stringify(job)).not.toMatch(/password|apiPassword|clientSecret"\s*:/i);
  });

  it("passes the site's time zone, in which the worker counts the days to sync", () => {
    const toronto = runJob({ site: { ...site, spec: { ...site.spec, timeZone: 'America/Toronto' } } });
    const env = toronto.spec!.template.spec!.containers[0]!.env!;
    expect(env.find((e) => e.name === 'CLOUDCONNECT_SITE_TIME_ZONE')?.value).toBe('America/Toronto');
  });

  it('passes the Ocean CA bundle on only when the operator has one', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    const envOf = (j: ReturnType<typeof runJob>) => j.spec!.template.spec!.containers[0]!.env!;
    expect(envOf(job).find((e) => e.name === 'OCEAN_CA_BUNDLE')).toBeUndefined();
    const withCa = runJob({ settings: { ...settings, oceanCaBundle: pem } });
    expect(envOf(withCa).find((e) => e.name === 'OCEAN_CA_BUNDLE')?.value).toBe(pem);
  });

  it("reads the site's own key in the operator's mount, whatever the site's spec names", () => {
    const elsewhere = runJob({
      site: { ...site, spec: { ...site.spec, encryptionKey: { vault: { mount: 'other', path: 'cloudconnect/victim/oak/sek' } } } },
      settings: { ...settings, image: 'img', oceanApiUrl: 'https://o.example', sekMount: 'kv', defaultActiveDeadlineSeconds: 60 },
    });
    const env = Object.fromEntries(elsewhere.spec!.template.spec!.containers[0]!.env!.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ SEK_MOUNT: 'kv', SEK_PATH: 'cloudconnect/clinic/maple/sek' });
  });

  it('announces the SEK version the pod starts with and shows it to the worker as a file', () => {
    const withKey = runJob({
      name: 'maple-full-29000001',
      site: {
        ...site,
        status: {
          encryptionKey: { path: 'cloudconnect/clinic/maple/sek', version: 3, fingerprint: 'abcd', storedAt: '2026-11-01T00:00:00Z' },
        },
      },
      settings: { ...settings, image: 'img' },
    });
    const template = withKey.spec!.template;
    expect(template.metadata!.annotations).toEqual({ [SEK_VERSION_ANNOTATION]: '3' });
    const volume = template.spec!.volumes!.find((v) => v.name === 'sek-version')!;
    expect(volume.downwardAPI!.items).toEqual([
      { path: 'sek-version', fieldRef: { fieldPath: `metadata.annotations['${SEK_VERSION_ANNOTATION}']` } },
    ]);
    const c = template.spec!.containers[0]!;
    expect(c.volumeMounts).toEqual(expect.arrayContaining([{ name: 'sek-version', mountPath: KEY_VERSION_DIR, readOnly: true }]));
    expect(c.env).toEqual(expect.arrayContaining([{ name: 'CLOUDCONNECT_SEK_VERSION_FILE', value: `${KEY_VERSION_DIR}/sek-version` }]));
    expect(template.metadata!.labels![SITE_LABEL]).toBe('maple');
  });

  it('applies the integration pod overrides', () => {
    expect(pod.nodeSelector).toEqual({ pool: 'sync' });
    expect(container.args).toEqual(['--integration', 'clinic/maple-accuro', '--type', 'Full', '--run', 'maple-full-29000000']);
  });
});

describe('the sync run Job and the worker', () => {
  it("sets an environment the worker's configuration accepts, with the operator's settings", () => {
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
    const config = configFromEnv(env);
    expect(config).toMatchObject({
      siteNumber: '1234',
      oceanApiUrl: 'https://ocean.example',
      credentialsDir: CREDENTIALS_DIR,
      vault: { address: 'https://vault:8200', authMount: 'kubernetes', role: 'cloudconnect-sync' },
      keyVersionFile: `${KEY_VERSION_DIR}/sek-version`,
    });
    expect(config.spec.emr).toMatchObject({ type: 'Accuro', accuro: { tenantId: 'MAPLE' } });
    expect(config.egress).toEqual(DEFAULT_EGRESS);
  });

  it("passes the operator's egress sandbox on, so the worker refuses and caps what the operator does", () => {
    const egress = egressFromEnv({ EGRESS_ALLOW_CIDRS: '127.0.0.0/8', EGRESS_MAX_RESPONSE_BYTES: '4096', EGRESS_TIMEOUT: '5s' });
    const c = runJob({ settings: { ...settings, egress } }).spec?.template.spec?.containers[0];
    const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ EGRESS_ALLOW_CIDRS: '127.0.0.0/8', EGRESS_MAX_RESPONSE_BYTES: '4096', EGRESS_TIMEOUT: '5s' });
    expect(configFromEnv(env).egress).toEqual(egress);
  });
});

describe('the Reminders run Job', () => {
  const reminders = { offsets: ['72h', '24h'], channel: 'SMS' as const, templateId: 'appointment-reminder' };
  const remindersSchedule: SyncSchedule = {
    ...schedule,
    metadata: { ...schedule.metadata, name: 'maple-reminders' },
    spec: { integrationRef: { name: 'maple-accuro' }, type: 'Reminders', schedule: '*/15 * * * *', reminders },
  };

  it('runs the worker in its reminders mode with spec.reminders in CLOUDCONNECT_REMINDERS', () => {
    const container = runJob({ schedule: remindersSchedule, type: 'Reminders' }).spec?.template.spec?.containers[0];
    expect(container?.args).toEqual(['--integration', 'clinic/maple-accuro', '--type', 'Reminders', '--run', 'maple-full-29000000']);
    const env = container?.env?.find((e) => e.name === 'CLOUDCONNECT_REMINDERS');
    expect(JSON.parse(env?.value ?? '{}')).toEqual(reminders);
  });

  it('gives a sync run no reminders variable', () => {
    const env = runJob().spec?.template.spec?.containers[0]?.env ?? [];
    expect(env.map((e) => e.name)).not.toContain('CLOUDCONNECT_REMINDERS');
  });
});

describe('the Reminders run Job of a site without an integrated EMR (spec.siteRef)', () => {
  const reminders = { offsets: ['24h'], channel: 'SMS' as const, templateId: 'appointment-reminder' };
  const oak: OceanSite = {
    ...site,
    metadata: { name: 'oak', namespace: 'clinic', uid: 'u4' },
    spec: { ...site.spec, siteNumber: '4321', ocean: { credentialsSecretRef: { name: 'oak-ocean' } } },
  };
  const siteSchedule: SyncSchedule = {
    ...schedule,
    metadata: { ...schedule.metadata, name: 'oak-reminders' },
    spec: { siteRef: { name: 'oak' }, type: 'Reminders', schedule: '*/15 * * * *', reminders },
  };
  const siteJob = runJob({ schedule: siteSchedule, type: 'Reminders', integration: undefined, integrationSpec: undefined, site: oak });
  const siteJobPod = siteJob.spec?.template.spec;
  const siteContainer = siteJobPod?.containers[0];
  const env = Object.fromEntries((siteContainer?.env ?? []).map((e) => [e.name, e.value]));

  it('names the site, not an integration, to the worker', () => {
    expect(siteContainer?.args).toEqual(['--site', 'clinic/oak', '--type', 'Reminders', '--run', 'maple-full-29000000']);
    expect(siteJob.metadata?.labels).toMatchObject({ [SITE_LABEL]: 'oak' });
    expect(Object.keys(siteJob.metadata?.labels ?? {})).not.toContain('cloudconnect.dev/integration');
  });

  it('mounts no EMR credentials and passes no integration spec, only the Ocean Secret', () => {
    const secrets = (siteJobPod?.volumes ?? []).flatMap((v) => (v.secret?.secretName ? [v.secret.secretName] : []));
    expect(secrets).toEqual(['oak-ocean']);
    expect((siteContainer?.volumeMounts ?? []).map((m) => m.mountPath)).not.toContain(CREDENTIALS_DIR);
    expect(Object.keys(env)).not.toContain('CLOUDCONNECT_INTEGRATION_SPEC');
    expect(env['CLOUDCONNECT_OCEAN_CREDENTIALS_DIR']).toBe(OCEAN_CREDENTIALS_DIR);
  });

  it("runs as the site, with the site's SEK location and Vault role, as a sync run does", () => {
    expect(siteJobPod?.serviceAccountName).toBe('oak');
    expect(siteJobPod?.automountServiceAccountToken).toBe(false);
    expect(env).toMatchObject({
      SEK_PATH: 'cloudconnect/clinic/oak/sek',
      VAULT_ROLE: 'cloudconnect-sync',
      CLOUDCONNECT_SITE_NUMBER: '4321',
    });
    expect(siteJobPod?.volumes?.map((v) => v.name)).toContain('vault-token');
  });

  it("sets an environment the worker's site configuration accepts", () => {
    expect(siteConfigFromEnv(env)).toMatchObject({ siteNumber: '4321', oceanCredentialsDir: OCEAN_CREDENTIALS_DIR });
  });
});
