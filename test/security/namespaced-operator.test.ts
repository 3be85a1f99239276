// A compromised operator installed in namespaced mode (chart value watchNamespaces) against the real
// apiserver: with the operator's own ServiceAccount token and exactly the chart's RBAC for one
// watched clinic, it tries to reach a clinic outside watchNamespaces: read or empty its Secrets,
// list Secrets cluster-wide, read or rewrite its OceanSite, grant itself a Role there, start a Job
// there, mint a token of the site's ServiceAccount (a Vault login as the site, hence its SEK). RBAC
// must refuse each one naming the verb and the namespace (or the cluster scope), and the victim's
// objects must be as they were. The same token reads the watched clinic's Secret, so the refusals
// come from the namespace, not from a broken token.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOne, renderChart } from '../chart/tools.ts';
import { apply } from '../integration/fixtures.ts';
import { kubectl, kubectlOk } from '../integration/kubectl.ts';
import { serviceAccountKubeconfig } from '../integration/service-account.ts';

const suffix = Date.now().toString(36);
const release = `sec-nsmode-${suffix}`;
const releaseNs = `sec-nsmode-op-${suffix}`;
const watched = `sec-nsmode-watched-${suffix}`;
const victim = `sec-nsmode-victim-${suffix}`;
/** The chart's ServiceAccount of the release (its full name: release and chart name). */
const operatorSa = `${release}-cloudconnect-operator`;
const operatorUser = `system:serviceaccount:${releaseNs}:${operatorSa}`;
let operatorKubeconfig = '';

/** kubectl as the operator's ServiceAccount (namespaced-mode RBAC only). */
const asOperator = (args: string[]) => kubectl(['--kubeconfig', operatorKubeconfig, ...args]);
const refusal = (verb: string, resource: string, where: string, group = '') =>
  `User "${operatorUser}" cannot ${verb} resource "${resource}" in API group "${group}" ${where}`;
const inVictim = `in the namespace "${victim}"`;
const manifests = mkdtempSync(join(tmpdir(), 'sec-nsmode-'));

/** kubectl arguments of a server-side apply of `object`: one PATCH, sent as is (kubectl patch would read the object first). */
function serverSideApply(object: { kind: string; metadata: { name: string; namespace: string }; [field: string]: unknown }): string[] {
  const file = join(manifests, `${object.kind}-${object.metadata.name}.json`);
  writeFileSync(file, JSON.stringify(object));
  return ['apply', '--server-side', '--force-conflicts', '--field-manager=attacker', '-f', file];
}

/** What a refused request must leave as it was: every object of the victim's namespace the operator could want. */
async function victimState(): Promise<unknown> {
  const list = JSON.parse(
    await kubectlOk(['get', 'secrets,oceansites,serviceaccounts,roles,rolebindings,jobs,events', '-n', victim, '-o', 'json']),
  ) as { items: { kind: string; metadata: { name: string; resourceVersion: string }; data?: unknown; spec?: unknown }[] };
  return list.items.map((o) => ({ kind: o.kind, name: o.metadata.name, rv: o.metadata.resourceVersion, data: o.data, spec: o.spec }));
}

let before: unknown;

beforeAll(async () => {
  for (const ns of [releaseNs, watched, victim]) await kubectlOk(['create', 'namespace', ns]);
  const rbac = await renderChart(
    [
      '--set-json',
      `watchNamespaces=${JSON.stringify([watched])}`,
      '--show-only',
      'templates/serviceaccount.yaml',
      '--show-only',
      'templates/clusterrole.yaml',
      '--show-only',
      'templates/role-leader-election.yaml',
    ],
    release,
    releaseNs,
  );
  await kubectlOk(['apply', '--server-side', '--field-manager=cloudconnect-security-test', '-f', '-'], rbac.yaml);
  expect(findOne(rbac.objects, 'ServiceAccount').metadata.name).toBe(operatorSa);
  operatorKubeconfig = await serviceAccountKubeconfig(operatorSa, releaseNs);

  for (const ns of [watched, victim]) {
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'fhir-credentials', namespace: ns },
      stringData: { clientId: 'FAKE-id', clientSecret: `FAKE-${randomBytes(8).toString('hex')}` },
    });
  }
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'sek-import', namespace: victim },
    type: 'cloudconnect.dev/sek-import',
    stringData: { sek: randomBytes(32).toString('base64') },
  });
  await apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'cedar', namespace: victim } });
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'OceanSite',
    metadata: { name: 'cedar', namespace: victim },
    spec: { siteNumber: '5151', clinicalAdminEmail: 'admin@victim.example.org' },
  });
  before = await victimState();
});

afterAll(async () => {
  for (const ns of [releaseNs, watched, victim]) await kubectl(['delete', 'namespace', ns, '--wait=false']);
});

describe('the operator installed for one namespace (watchNamespaces), compromised', () => {
  it('still reads the watched clinic’s Secret with the same token (the refusals below are about the namespace)', async () => {
    const r = await asOperator(['get', 'secret', 'fhir-credentials', '-n', watched, '-o', 'name']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('secret/fhir-credentials');
  });

  it.each([
    [
      'read the unwatched clinic’s credentials Secret',
      ['get', 'secret', 'fhir-credentials', '-n', victim],
      refusal('get', 'secrets', inVictim),
    ],
    ['list the unwatched clinic’s Secrets', ['get', 'secrets', '-n', victim], refusal('list', 'secrets', inVictim)],
    ['list the Secrets of every namespace', ['get', 'secrets', '--all-namespaces'], refusal('list', 'secrets', 'at the cluster scope')],
    [
      'overwrite the unwatched clinic’s import Secret with a key it knows (a patch, sent without a read first)',
      serverSideApply({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'sek-import', namespace: victim },
        type: 'cloudconnect.dev/sek-import',
        stringData: { sek: randomBytes(32).toString('base64') },
      }),
      refusal('patch', 'secrets', inVictim),
    ],
    [
      'list the unwatched clinic’s OceanSites',
      ['get', 'oceansites', '-n', victim],
      refusal('list', 'oceansites', inVictim, 'cloudconnect.dev'),
    ],
    [
      'watch the OceanSites of every namespace',
      ['get', '--raw', '/apis/cloudconnect.dev/v1alpha1/oceansites?watch=true&timeoutSeconds=1'],
      refusal('watch', 'oceansites', 'at the cluster scope', 'cloudconnect.dev'),
    ],
    [
      'change the unwatched clinic’s Clinical Administrator e-mail',
      serverSideApply({
        apiVersion: 'cloudconnect.dev/v1alpha1',
        kind: 'OceanSite',
        metadata: { name: 'cedar', namespace: victim },
        spec: { siteNumber: '5151', clinicalAdminEmail: 'attacker@example.org' },
      }),
      refusal('patch', 'oceansites', inVictim, 'cloudconnect.dev'),
    ],
    [
      'grant itself a Role on Secrets in the unwatched namespace',
      ['create', 'role', 'steal', '-n', victim, '--verb=get', '--resource=secrets'],
      refusal('create', 'roles', inVictim, 'rbac.authorization.k8s.io'),
    ],
    [
      'start a Job in the unwatched namespace',
      ['create', 'job', 'steal', '-n', victim, '--image=busybox', '--', 'true'],
      refusal('create', 'jobs', inVictim, 'batch'),
    ],
    [
      'mint a token of the unwatched site’s ServiceAccount (a Vault login as the site)',
      ['create', 'token', 'cedar', '-n', victim, '--audience=vault'],
      refusal('create', 'serviceaccounts/token', inVictim),
    ],
  ])('cannot %s', async (_attack, args, message) => {
    const r = await asOperator(args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
    expect(await victimState()).toEqual(before);
  });
});
