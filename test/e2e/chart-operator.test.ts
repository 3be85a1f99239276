// The Helm chart on the real node: `helm install` runs the operator in the cluster from the image
// built here (2 replicas, leader election on a Lease, probes), its ServiceAccount logs in to Vault
// with kubernetes auth (the role NOTES.txt describes, written by test/cluster/vault-setup.ts), it
// reconciles a site end to end (key in Vault, ServiceAccount, Ready), a new leader takes over when
// the leader's pod is deleted and reconciles the next site, and `helm uninstall` (CRDs not kept),
// after the sites are deleted as charts/README.md says, leaves nothing of the release behind.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chartDir, run, toolPath } from '../chart/tools.ts';
import { apply, importedSite } from '../integration/fixtures.ts';
import { kubectl, kubectlOk } from '../integration/kubectl.ts';
import { eventually } from '../integration/operator-process.ts';
import { vaultRequest } from '../integration/vault.ts';
import { REAL_NODE } from './node.ts';

const RELEASE = 'cloudconnect-operator';
// Not cloudconnect-system: there the test setup keeps a ServiceAccount of its own (test/cluster/vault-setup.ts).
const SYSTEM = 'cloudconnect-chart';
const VAULT_ROLE = 'cloudconnect-operator-chart';
const ns = `e2e-chart-${Date.now().toString(36)}`;
const helm = (args: string[]) =>
  run(toolPath('helm'), [...args, '--namespace', SYSTEM], { env: { ...process.env, KUBECONFIG: inject('cluster').kubeconfig } });

interface Pod {
  metadata: { name: string };
  spec: { nodeName?: string };
  status: { phase?: string; conditions?: { type: string; status: string }[] };
}
const operatorPods = async (): Promise<Pod[]> =>
  JSON.parse(await kubectlOk(['get', 'pods', '-n', SYSTEM, '-l', `app.kubernetes.io/instance=${RELEASE}`, '-o', 'json'])).items;
const leader = async (): Promise<string> =>
  (await kubectlOk(['get', 'lease', RELEASE, '-n', SYSTEM, '-o', 'jsonpath={.spec.holderIdentity}'])).trim();
const siteReady = (name: string) => kubectlOk(['wait', '--for=condition=Ready', '--timeout=180s', '-n', ns, `oceansite/${name}`]);

beforeAll(async () => {
  // As the administrator does after NOTES.txt: a role for the release's ServiceAccount with the operator's policy.
  const role = await vaultRequest('POST', `auth/kubernetes/role/${VAULT_ROLE}`, {
    bound_service_account_names: [RELEASE],
    bound_service_account_namespaces: [SYSTEM],
    audience: 'vault',
    token_policies: ['cloudconnect-operator'],
    token_ttl: '15m',
  });
  if (role.status >= 300) throw new Error(`cannot write the Vault role: HTTP ${role.status}`);
  // Other files apply the CRDs with kubectl (and are done with them); the release installs its own.
  // Their sites may still carry the finalizer their (stopped) operators would have removed:
  // removed by hand, as charts/README.md says for an operator that is gone.
  const leftovers = await kubectl([
    'get',
    'oceansites',
    '-A',
    '-o',
    'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}',
  ]);
  for (const line of leftovers.stdout.split('\n').filter(Boolean)) {
    const [namespace = '', name = ''] = line.split('/');
    await kubectl(['patch', 'oceansite', name, '-n', namespace, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  }
  await kubectlOk([
    'delete',
    'crd',
    'oceansites.cloudconnect.dev',
    'emrintegrations.cloudconnect.dev',
    'syncschedules.cloudconnect.dev',
    '--ignore-not-found',
    '--timeout=120s',
  ]);
  const image = inject('image');
  const cut = image.lastIndexOf(':');
  const install = await helm([
    'install',
    RELEASE,
    chartDir,
    '--create-namespace',
    '--set',
    `image.repository=${image.slice(0, cut)}`,
    '--set',
    `image.tag=${image.slice(cut + 1)}`,
    '--set',
    `vault.address=${inject('cluster').podVaultAddr}`,
    '--set',
    `vault.role=${VAULT_ROLE}`,
    '--set',
    'crds.keep=false',
    '--wait',
    '--timeout',
    '300s',
  ]);
  if (install.code !== 0) throw new Error(`helm install failed: ${install.stderr}`);
  await kubectl(['create', 'namespace', ns]);
}, 600_000);

afterAll(async () => {
  await helm(['uninstall', RELEASE, '--wait']);
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
  // Other files apply the CRDs again as they need them.
});

describe('the chart installed on the real node', () => {
  it('runs two ready replicas of the image on the node, one of them leading', async () => {
    const pods = await operatorPods();
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.spec.nodeName).toBe(REAL_NODE);
      expect(pod.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    }
    const names = pods.map((p) => p.metadata.name);
    // (The Lease may still name a pod of an earlier release until one of these takes it.)
    const holder = await eventually(async () => {
      const h = await leader();
      return names.includes(h) ? h : undefined;
    }, 'one of the two pods holding the Lease');
    expect(names).toContain(holder);
  });

  it('reconciles a site end to end: its key in Vault, read by the operator logging in with kubernetes auth', async () => {
    for (const obj of importedSite({ namespace: ns, name: 'oak', siteNumber: '6161' })) await apply(obj);
    await siteReady('oak');
    const key = await vaultRequest('GET', `secret/metadata/cloudconnect/${ns}/oak/sek`);
    expect(key.status).toBe(200);
    expect((await kubectl(['get', 'serviceaccount', 'oak', '-n', ns])).code).toBe(0);
    const logs = await kubectlOk(['logs', '-n', SYSTEM, await leader()]);
    expect(logs).toContain('oak');
  });

  it('keeps reconciling after the leader pod is deleted: the other replica takes the Lease', async () => {
    const old = await leader();
    await kubectlOk(['delete', 'pod', old, '-n', SYSTEM, '--wait=false']);
    const next = await eventually(
      async () => {
        const holder = await leader();
        return holder && holder !== old ? holder : undefined;
      },
      'a new leader',
      120_000,
    );
    expect(next).not.toBe(old);
    for (const obj of importedSite({ namespace: ns, name: 'elm', siteNumber: '6162' })) await apply(obj);
    await siteReady('elm');
  });

  it('leaves nothing of the release behind on helm uninstall', async () => {
    // As charts/README.md says: the resources first, while the operator runs to finish them.
    await kubectlOk(['delete', 'oceansites', '--all', '-n', ns, '--timeout=120s']);
    const uninstall = await helm(['uninstall', RELEASE, '--wait', '--timeout', '180s']);
    expect(uninstall.code, uninstall.stderr).toBe(0);
    await eventually(async () => (await operatorPods()).length === 0 || undefined, 'the operator pods gone', 120_000);
    const kinds =
      'all,serviceaccounts,roles,rolebindings,clusterroles,clusterrolebindings,leases,configmaps,secrets,networkpolicies,poddisruptionbudgets,validatingadmissionpolicies,validatingadmissionpolicybindings,customresourcedefinitions';
    const labelled = await kubectlOk(['get', kinds, '-A', '-l', `app.kubernetes.io/instance=${RELEASE}`, '-o', 'name']);
    expect(labelled.trim()).toBe('');
    expect((await kubectl(['get', 'crd', 'oceansites.cloudconnect.dev'])).stderr).toContain('NotFound');
    // In the release namespace only what Kubernetes puts in every namespace, and the Lease the
    // operator itself took for leader election (charts/README.md, Uninstalling).
    const inNamespace = (await kubectlOk(['get', kinds.replace(',customresourcedefinitions', ''), '-n', SYSTEM, '-o', 'name']))
      .trim()
      .split('\n');
    const clusterWide = ['clusterrole', 'clusterrolebinding', 'validatingadmissionpolicy', 'validatingadmissionpolicybinding'];
    const namespaced = inNamespace.filter((n) => !clusterWide.some((k) => n.startsWith(`${k}.`)));
    expect(namespaced.sort()).toEqual(
      ['configmap/kube-root-ca.crt', `lease.coordination.k8s.io/${RELEASE}`, 'serviceaccount/default'].sort(),
    );
  });
});
