// The expiry timeline of an EMR credential with an injected clock, shared by the reconciler and the
// TELUS simulator (PS Suite's mobile activation code expires): Authenticated → AuthExpiringSoon →
// Expired → re-authenticated after the Secret is edited. One e-mail per transition, not per check.

import { Writable } from 'node:stream';
import { KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CREDENTIALS_LABEL, EMR_INTEGRATION, type EmrIntegration, OCEAN_SITE, type OceanSite } from '../../operator/api/v1alpha1/index.ts';
import { EmrIntegrationReconciler } from '../../operator/controller/emrintegration/reconciler.ts';
import { Kube } from '../../operator/internal/kube/kube.ts';
import { Mailer } from '../../operator/internal/notify/mailer.ts';
import { fixedClock } from '../../operator/runtime/clock.ts';
import { SupervisedInformer } from '../../operator/runtime/informer.ts';
import { createLogger } from '../../operator/runtime/logger.ts';
import { OperatorMetrics } from '../../operator/runtime/metrics.ts';
import { SIMULATOR_EGRESS } from '../simulators/egress.ts';
import { start as startTelus, type TelusSimulator } from '../simulators/telus.ts';
import { kubectl, kubectlOk, repoRoot } from './kubectl.ts';
import { eventually } from './operator-process.ts';
import { startSmtpSink } from './smtp.ts';
import { makeTestTls } from './tls.ts';

const ns = `it-expiry-${Date.now().toString(36)}`;
const day = 86_400_000;
const t0 = new Date();
const clock = fixedClock(t0.toISOString());
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
let sim: TelusSimulator;
let reconciler: EmrIntegrationReconciler;
const informers: SupervisedInformer<never>[] = [];

async function status(): Promise<{
  conditions: { type: string; status: string; reason: string; message: string }[];
  auth: Record<string, string>;
}> {
  return JSON.parse(await kubectlOk(['get', 'emrintegration', 'pss', '-n', ns, '-o', 'json'])).status;
}

async function reconcileAt(offsetMs: number) {
  clock.set(new Date(t0.getTime() + offsetMs).toISOString());
  await reconciler.reconcile({ namespace: ns, name: 'pss' });
  // Let the informer see our own status write before the next step reads the cache.
  await new Promise((r) => setTimeout(r, 300));
  const s = await status();
  const c = (type: string) => s.conditions.find((x) => x.type === type);
  return { auth: s.auth, authenticated: c('Authenticated'), expiring: c('AuthExpiringSoon') };
}

beforeAll(async () => {
  const tls = makeTestTls();
  sim = await startTelus({ tls: { cert: tls.cert, key: tls.key }, now: () => clock.now(), activationCodeLifetimeSeconds: 30 * 86_400 });
  smtp = await startSmtpSink();
  const smtpPort = smtp.port;

  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`]);
  await kubectl(['create', 'namespace', ns]);
  const pss = sim.instance('PSSuite');
  const apply = (o: object) => kubectlOk(['apply', '-f', '-'], JSON.stringify(o));
  await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sim-ca', namespace: ns }, stringData: { 'ca.crt': tls.ca } });
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'pss-creds', namespace: ns },
    stringData: { instanceSecret: pss.instanceSecret, activationCode: pss.activationCode ?? '' },
  });
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'OceanSite',
    metadata: { name: 'elm', namespace: ns },
    spec: { siteNumber: '777', clinicalAdminEmail: 'admin@elm.example.org' },
  });
  // The site's own reconciler is tested elsewhere; here it is a Ready fixture.
  await kubectlOk([
    'patch',
    'oceansite',
    'elm',
    '-n',
    ns,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({
      status: {
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'Succeeded',
            message: 'fixture',
            lastTransitionTime: t0.toISOString().replace(/\.\d+Z$/, 'Z'),
          },
        ],
      },
    }),
  ]);
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name: 'pss', namespace: ns },
    spec: {
      siteRef: { name: 'elm' },
      emr: {
        type: 'PSSuite',
        psSuite: { instanceId: pss.instanceId, apiUrl: sim.url, credentialsSecretRef: { name: 'pss-creds' } },
        caBundleSecretRef: { name: 'sim-ca' },
      },
    },
  });

  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(inject('cluster').kubeconfig);
  const kube = new Kube(kubeConfig, clock);
  const quiet = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }) });
  const metrics = new OperatorMetrics({ defaultMetrics: false });
  const crInformer = <T>(plural: string, kind: typeof OCEAN_SITE) =>
    new SupervisedInformer<T & { metadata?: { name?: string } }>({
      kubeConfig,
      path: `/apis/cloudconnect.dev/v1alpha1/${plural}`,
      list: kube.listAll<T & { metadata?: { name?: string } }>(kind),
      resource: plural,
      logger: quiet,
      metrics,
    });
  const sites = crInformer<OceanSite>('oceansites', OCEAN_SITE);
  const integrations = crInformer<EmrIntegration>('emrintegrations', EMR_INTEGRATION);
  const secrets = new SupervisedInformer<V1Secret>({
    kubeConfig,
    path: '/api/v1/secrets',
    labelSelector: `${CREDENTIALS_LABEL}=true`,
    list: () => kube.core.listSecretForAllNamespaces({ labelSelector: `${CREDENTIALS_LABEL}=true` }),
    resource: 'secrets',
    logger: quiet,
    metrics,
  });
  for (const i of [sites, integrations, secrets]) {
    await i.start();
    informers.push(i as never);
  }
  await eventually(async () => integrations.get('pss', ns) !== undefined && sites.get('elm', ns)?.status !== undefined, 'caches filled');
  reconciler = new EmrIntegrationReconciler({
    kube,
    clock,
    logger: quiet,
    metrics,
    mailer: new Mailer({ host: '127.0.0.1', port: smtpPort, secure: false, from: 'cc@ops.example.org' }, quiet),
    integrations: integrations as never,
    sites: sites as never,
    secrets,
    enqueue: () => undefined,
    random: () => 0.5,
    // The simulator listens on loopback, which the egress sandbox refuses unless allowed (as the demo does).
    egress: SIMULATOR_EGRESS,
  });
});

afterAll(async () => {
  for (const i of informers) await i.stop();
  await sim?.stop();
  await smtp?.stop();
});

describe('an expiring PS Suite activation code', () => {
  it('is Authenticated with its expiry recorded while far from expiry', async () => {
    const s = await reconcileAt(0);
    expect(s.authenticated).toMatchObject({ status: 'True' });
    expect(s.expiring).toMatchObject({ status: 'False' });
    expect(new Date(s.auth.notAfter!).getTime()).toBe(sim.activationCodeExpiresAt().getTime());
  });

  it('turns AuthExpiringSoon True from the renewal time, saying when it expires, and mails once', async () => {
    const s = await reconcileAt(28 * day);
    expect(s.authenticated).toMatchObject({ status: 'True' });
    expect(s.expiring).toMatchObject({ status: 'True', reason: 'RenewalTimeReached' });
    expect(s.expiring!.message).toContain(s.auth.notAfter);
    await reconcileAt(28 * day + 2 * 3600_000);
    await eventually(async () => smtp.mails.length >= 1, 'the expiry e-mail');
    expect(smtp.mails.filter((m) => /expires soon/.test(m.subject))).toHaveLength(1);
  });

  it('turns Authenticated False with Expired past notAfter, and mails once', async () => {
    const s = await reconcileAt(31 * day);
    expect(s.authenticated).toMatchObject({ status: 'False', reason: 'Expired' });
    expect(s.expiring).toMatchObject({ status: 'False' });
    await reconcileAt(31 * day + 3600_000);
    await eventually(async () => smtp.mails.some((m) => /authentication failed/.test(m.subject)), 'the failure e-mail');
    expect(smtp.mails.filter((m) => /authentication failed/.test(m.subject))).toHaveLength(1);
  });

  it('is re-authenticated once a person puts a new activation code in the Secret', async () => {
    const pss = sim.instance('PSSuite');
    pss.activationCode = 'SIMACT-NEW-2026';
    sim.setFault({ credentialNotAfter: new Date(t0.getTime() + 120 * day).toISOString() });
    await kubectlOk([
      'patch',
      'secret',
      'pss-creds',
      '-n',
      ns,
      '--type=merge',
      '-p',
      JSON.stringify({ stringData: { activationCode: 'SIMACT-NEW-2026' } }),
    ]);
    await new Promise((r) => setTimeout(r, 500));
    const s = await reconcileAt(31 * day + 2 * 3600_000);
    expect(s.authenticated).toMatchObject({ status: 'True' });
    expect(s.expiring).toMatchObject({ status: 'False' });
    expect(new Date(s.auth.notAfter!).toISOString()).toBe(new Date(t0.getTime() + 120 * day).toISOString());
    expect(s.auth.failedAttempts).toBe(0);
  });
});
