// The namespaced install mode (chart value watchNamespaces, operator variable WATCH_NAMESPACES): the
// chart's RBAC for two namespaces (a Role and RoleBinding in each, nothing cluster-wide) applied for
// real, and the real operator process running as the chart's ServiceAccount with only those rights.
// A site in each watched namespace becomes Ready (SEK imported, an integration's credentials labelled,
// its default SyncSchedules and relay made); a site in a third namespace, there before the operator
// started and changed while it runs, is never touched; and RBAC refuses the operator nothing, so it
// made no cluster-scoped list or watch (it holds no ClusterRole: any would be refused and logged).
// Vault: the operator logs in with the chart's policy (the global setup's role, as in every
// integration test); chart.test.ts checks the NOTES.txt Vault setup itself.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayName } from '../../operator/controller/emrintegration/relay/deployment.ts';
import { apply, importSecretState } from './fixtures.ts';
import { kubectl, kubectlOk, repoRoot } from './kubectl.ts';
import { type NatsServer, startNatsServer } from './nats.ts';
import { eventually, type OperatorProcess, startOperator } from './operator-process.ts';
import { applyOperatorRbac, serviceAccountKubeconfig } from './service-account.ts';

const suffix = Date.now().toString(36);
const release = `nsmode-${suffix}`;
const releaseNs = `nsmode-op-${suffix}`;
const watchedA = `nsmode-a-${suffix}`;
const watchedB = `nsmode-b-${suffix}`;
const unwatched = `nsmode-c-${suffix}`;
const REQUESTED_AT = 'cloudconnect.dev/requestedAt';
/** RBAC's refusal reads `User "system:serviceaccount:…" cannot <verb> resource "<resource>"`. */
const RBAC_REFUSAL = /cannot \w+ resource \\*"[\w./]+\\*"( in API group \\*"[\w.]*\\*")?( at the cluster scope)?/g;

let operator: OperatorProcess | undefined;
let nats: NatsServer | undefined;

const importSecret = (namespace: string) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'sek-import', namespace },
  type: 'cloudconnect.dev/sek-import',
  stringData: { sek: randomBytes(32).toString('base64') },
});
const site = (name: string, namespace: string) => ({
  apiVersion: 'cloudconnect.dev/v1alpha1',
  kind: 'OceanSite',
  metadata: { name, namespace },
  spec: {
    siteNumber: '4321',
    clinicalAdminEmail: 'admin@clinic.example.org',
    encryptionKey: { importFrom: { secretRef: { name: 'sek-import' } } },
  },
});
/** A FHIR integration whose EMR cannot be reached (nothing listens on port 1), with its credentials Secret. */
const fhirIntegration = (siteName: string, namespace: string) => [
  {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'fhir-credentials', namespace },
    stringData: { clientId: 'FAKE-id', clientSecret: 'FAKE-secret' },
  },
  {
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name: `${siteName}-fhir`, namespace },
    spec: {
      siteRef: { name: siteName },
      emr: { type: 'FHIR', fhir: { baseUrl: 'https://127.0.0.1:1/r4', credentialsSecretRef: { name: 'fhir-credentials' } } },
    },
  },
];

/** The API calls RBAC refused the operator, as it logged them. */
const refusals = () => [...new Set(operator?.output().match(RBAC_REFUSAL) ?? [])].map((d) => d.replace(/\\+"/g, '"'));

/** Waits like eventually(); a timeout names the API calls RBAC refused, if any (the likely cause here). */
const waitFor = <T>(fn: () => Promise<T | undefined | false>, what: string) =>
  eventually(fn, what).catch((error: Error) => {
    const denied = refusals();
    throw new Error(`${error.message}${denied.length ? `; RBAC refused: ${denied.join('; ')}` : ''}`);
  });

const jsonOf = async <T>(args: string[]) => JSON.parse(await kubectlOk([...args, '-o', 'json'])) as T;

beforeAll(async () => {
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '--field-manager=cloudconnect-chart-test', '-f', join(repoRoot, 'crds')]);
  await kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', '-f', join(repoRoot, 'crds')]);
  for (const ns of [releaseNs, watchedA, watchedB, unwatched]) await kubectlOk(['create', 'namespace', ns]);
  const rbac = await applyOperatorRbac(release, releaseNs, 'cloudconnect-chart-test', [watchedA, watchedB]);
  expect(rbac.objects.map((o) => `${o.kind} ${o.metadata.namespace}`).sort()).toEqual(
    [
      `Role ${releaseNs}`,
      `Role ${watchedA}`,
      `Role ${watchedB}`,
      `RoleBinding ${releaseNs}`,
      `RoleBinding ${watchedA}`,
      `RoleBinding ${watchedB}`,
      `ServiceAccount ${releaseNs}`,
    ].sort(),
  );
  const kubeconfig = await serviceAccountKubeconfig(rbac.serviceAccount, releaseNs);

  // The unwatched namespace's site and integration exist before the operator starts: a cluster-wide
  // first list would find them.
  await apply(importSecret(unwatched));
  await apply(site('cedar', unwatched));
  for (const obj of fhirIntegration('cedar', unwatched)) await apply(obj);

  nats = await startNatsServer({ name: release });
  operator = await startOperator({
    KUBECONFIG: kubeconfig,
    WATCH_NAMESPACES: `${watchedA},${watchedB}`,
    LEADER_ELECT: 'true',
    LEASE_NAMESPACE: releaseNs,
    LEASE_NAME: release,
    ...(await nats.operatorEnv()),
  });
});

afterAll(async () => {
  // Sites carry a finalizer: delete them while the operator runs, so their namespaces can go.
  for (const ns of [watchedA, watchedB]) await kubectl(['delete', 'oceansite', '--all', '-n', ns, '--timeout=60s']);
  await operator?.stop();
  await nats?.dispose();
  for (const ns of [releaseNs, watchedA, watchedB, unwatched]) await kubectl(['delete', 'namespace', ns, '--wait=false']);
});

describe('the operator in namespaced mode (WATCH_NAMESPACES, a Role per watched namespace, no ClusterRole)', () => {
  it('says which namespaces it watches and holds its Lease', async () => {
    await operator?.waitForLog(new RegExp(`"watching namespaces".*"namespaces":\\["${watchedA}","${watchedB}"\\]`));
    await waitFor(
      async () => (await kubectlOk(['get', 'lease', release, '-n', releaseNs, '-o', 'jsonpath={.spec.holderIdentity}'])) !== '',
      'the leader Lease',
    );
  });

  it('makes a site Ready in each watched namespace, with its integration labelled, scheduled and relayed', async () => {
    for (const [name, ns] of [
      ['alder', watchedA],
      ['birch', watchedB],
    ] as const) {
      await apply(importSecret(ns));
      await apply(site(name, ns));
    }
    for (const obj of fhirIntegration('birch', watchedB)) await apply(obj);
    for (const ns of [watchedA, watchedB])
      await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, 'oceansite', '--all']);
    for (const ns of [watchedA, watchedB]) expect(await importSecretState(ns, 'sek-import')).toBe('emptied');
    await waitFor(
      async () => (await kubectl(['get', 'deployment,service', relayName('birch-fhir'), '-n', watchedB])).code === 0,
      "the relay's Deployment and Service",
    );
    await waitFor(
      async () => (await kubectlOk(['get', 'syncschedules', '-n', watchedB, '-o', 'name'])).split('\n').filter(Boolean).length === 2,
      'the default SyncSchedules',
    );
    expect(
      await kubectlOk([
        'get',
        'secret',
        'fhir-credentials',
        '-n',
        watchedB,
        '-o',
        'jsonpath={.metadata.labels.cloudconnect\\.dev/credentials}',
      ]),
    ).toBe('true');
    expect(refusals()).toEqual([]);
  });

  it('leaves a site in an unwatched namespace untouched, even when it asks for work', async () => {
    // Work asked of the unwatched site, then of a watched one: once the watched site's request is
    // handled, the operator has had the unwatched one's change in front of it too, if it watched it.
    const now = String(Math.floor(Date.now() / 1000));
    await kubectlOk(['annotate', 'oceansite', 'cedar', '-n', unwatched, `${REQUESTED_AT}=${now}`, '--overwrite']);
    await kubectlOk(['annotate', 'oceansite', 'alder', '-n', watchedA, `${REQUESTED_AT}=${now}`, '--overwrite']);
    await waitFor(
      async () =>
        (await kubectlOk(['get', 'oceansite', 'alder', '-n', watchedA, '-o', 'jsonpath={.status.lastHandledRequestedAt}'])) === now,
      "the watched site's request handled",
    );

    const cedar = await jsonOf<{ metadata: { finalizers?: string[] }; status?: unknown }>(['get', 'oceansite', 'cedar', '-n', unwatched]);
    expect(cedar.metadata.finalizers).toBeUndefined();
    expect(cedar.status).toBeUndefined();
    const integration = await jsonOf<{ metadata: { finalizers?: string[] }; status?: unknown }>([
      'get',
      'emrintegration',
      'cedar-fhir',
      '-n',
      unwatched,
    ]);
    expect(integration.metadata.finalizers).toBeUndefined();
    expect(integration.status).toBeUndefined();
    expect(await importSecretState(unwatched, 'sek-import')).toBe('holding data');
    const credentials = await jsonOf<{ metadata: { labels?: Record<string, string> } }>([
      'get',
      'secret',
      'fhir-credentials',
      '-n',
      unwatched,
    ]);
    expect(credentials.metadata.labels).toBeUndefined();
    // Nothing the operator makes for a site: no ServiceAccount, schedules, relay, support RBAC or Event.
    expect((await kubectl(['get', 'serviceaccount', 'cedar', '-n', unwatched])).stderr).toContain('NotFound');
    expect(await kubectlOk(['get', 'syncschedules,deployments,services,jobs,roles,rolebindings', '-n', unwatched, '-o', 'name'])).toBe('');
    expect(await kubectlOk(['get', 'events', '-n', unwatched, '-o', 'name'])).toBe('');
    // The watched namespaces' counterparts exist, so the checks above could fail.
    expect((await kubectlOk(['get', 'serviceaccount', 'alder', '-n', watchedA, '-o', 'name'])).trim()).toBe('serviceaccount/alder');
    expect(await kubectlOk(['get', 'events', '-n', watchedA, '-o', 'name'])).not.toBe('');
    expect(refusals()).toEqual([]);
    expect(operator?.output()).not.toMatch(/cannot \w+ resource/);
  });
});
