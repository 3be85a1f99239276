// The Helm chart charts/cloudconnect-operator: helm lint, helm template with the defaults and with
// every option on, assertions on the rendered objects (security context, RBAC exactly as expected,
// replicas, PDB, CRDs from the generator, optional objects), the rendered output applied to the
// real apiserver with a server-side dry run (prometheus-operator's CRDs installed for the
// ServiceMonitor, PodMonitor and PrometheusRule), and the users' GitHub Actions workflow checked by actionlint.
// helm and actionlint are the pinned builds (test/cluster/go/*); a missing one fails with how to build it.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { relayName } from '../../operator/controller/emrintegration/relay/deployment.ts';
import { supportRole } from '../../operator/controller/oceansite/support-rbac.ts';
import { prometheusOperatorCrdFiles } from '../chart/prometheus-operator-crds.ts';
import { chartDir, findOne, type K8sObject, renderChart, repoRoot, run, toolPath } from '../chart/tools.ts';
import { importSecretState } from './fixtures.ts';
import { kubectl, kubectlOk } from './kubectl.ts';
import { type NatsServer, startNatsServer } from './nats.ts';
import { eventually, type OperatorProcess, startOperator } from './operator-process.ts';
import { applyOperatorRbac, serviceAccountKubeconfig } from './service-account.ts';
import { vaultRequest } from './vault.ts';

const NAMESPACE = 'chart-dry-run';
const WORKFLOW = join(repoRoot, 'charts/github-actions/e2e-kind.yaml');

/** Every option on: monitoring objects, NetworkPolicy, Vault CA and audit, SMTP by Secret, other images. */
const ALL_ON = [
  '--set',
  'crds.install=true',
  '--set',
  'metrics.serviceMonitor.enabled=true',
  '--set',
  'metrics.serviceMonitor.labels.release=prometheus',
  '--set',
  'metrics.relayPodMonitor.enabled=true',
  '--set',
  'metrics.prometheusRule.enabled=true',
  '--set',
  'metrics.dashboard.enabled=true',
  '--set',
  'networkPolicy.enabled=true',
  '--set-json',
  'networkPolicy.metricsFrom=[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"monitoring"}}}]',
  '--set-json',
  'networkPolicy.auditFrom=[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"vault"}}}]',
  '--set-json',
  'networkPolicy.egress=[{"to":[{"ipBlock":{"cidr":"0.0.0.0/0"}}],"ports":[{"port":443,"protocol":"TCP"}]}]',
  '--set',
  'vault.caSecret.name=vault-ca',
  '--set',
  'vault.audit.enabled=true',
  '--set-json',
  'vault.audit.allowedPeers=["10.42.7.0/24","10.42.8.15"]',
  '--set',
  'vault.audit.logFile.enabled=true',
  '--set',
  'vault.audit.logFile.claimName=vault-audit',
  '--set',
  'smtp.host=smtp.example.org',
  '--set',
  'smtp.existingSecret.name=smtp-credentials',
  '--set',
  'worker.image.repository=registry.example.org/cloudconnect-worker',
  '--set',
  'worker.image.tag=1.2.3',
  '--set',
  'relay.image.digest=sha256:0000000000000000000000000000000000000000000000000000000000000000',
  '--set',
  'relay.image.repository=registry.example.org/cloudconnect-relay',
  '--set',
  'relay.natsUrl=nats://nats.nats.svc:4222',
  '--set',
  'relay.natsReplicas=3',
  '--set',
  'serviceAccount.annotations.example\\.org/owner=platform',
  '--set',
  'priorityClassName=system-cluster-critical',
  '--set',
  'nats.deploy=true',
  '--set',
  'nats.replicas=3',
];

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** What the operator calls (charts/README.md lists the callers); nothing more. */
const EXPECTED_CLUSTER_RULES: Rule[] = [
  {
    apiGroups: ['cloudconnect.dev'],
    resources: ['oceansites', 'emrintegrations', 'syncschedules'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  },
  {
    apiGroups: ['cloudconnect.dev'],
    resources: ['oceansites/status', 'emrintegrations/status', 'syncschedules/status'],
    verbs: ['get', 'patch'],
  },
  { apiGroups: ['cloudconnect.dev'], resources: ['emrintegrations/finalizers', 'syncschedules/finalizers'], verbs: ['update'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'patch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch', 'create'] },
  { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'list', 'create', 'delete'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['list', 'patch'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'watch', 'create', 'delete'] },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['create', 'update', 'delete'] },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['list', 'create', 'delete'] },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list', 'watch', 'create', 'patch'] },
  { apiGroups: [''], resources: ['services'], verbs: ['list', 'watch', 'create', 'patch'] },
];

type Container = {
  name: string;
  image: string;
  command: string[];
  env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  securityContext: Record<string, unknown>;
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts: { name: string; mountPath: string }[];
};
type Deployment = K8sObject & {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        serviceAccountName: string;
        securityContext: Record<string, unknown>;
        containers: Container[];
        volumes: Record<string, unknown>[];
      };
    };
  };
};

const env = (c: Container, name: string) => c.env.find((e) => e.name === name);

let defaults: K8sObject[];
let allOn: { yaml: string; objects: K8sObject[] };

beforeAll(async () => {
  defaults = (await renderChart()).objects;
  allOn = await renderChart(ALL_ON, 'cc', NAMESPACE);
});

describe('helm lint', () => {
  it('passes with the defaults, with every option on and in namespaced mode', async () => {
    const helm = toolPath('helm');
    for (const args of [[], ALL_ON, ['--set-json', 'watchNamespaces=["clinic-maple","clinic-oak"]']]) {
      const out = await run(helm, ['lint', '--strict', chartDir, ...args]);
      expect(out.stdout + out.stderr).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(out.code).toBe(0);
    }
  });

  it('refuses values the schema does not know, naming the key', async () => {
    const out = await run(toolPath('helm'), ['template', 'cc', chartDir, '--set', 'replicas=3']);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/additional properties 'replicas' not allowed/);
  });

  it("refuses Vault's audit listener without the peers it may read from, saying why", async () => {
    const out = await run(toolPath('helm'), ['template', 'cc', chartDir, '--set', 'vault.audit.enabled=true']);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain("vault.audit.allowedPeers must list Vault's pod or host addresses");
  });

  it('refuses two replicas without leader election, saying why', async () => {
    const out = await run(toolPath('helm'), ['template', 'cc', chartDir, '--set', 'leaderElection.enabled=false']);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain('leaderElection.enabled=false needs replicaCount=1');
  });
});

describe('the Deployment with the defaults', () => {
  const deployment = () => findOne<Deployment>(defaults, 'Deployment');
  const container = () => deployment().spec.template.spec.containers[0]!;

  it('runs two replicas with leader election on a Lease in the release namespace', () => {
    expect(deployment().spec.replicas).toBe(2);
    expect(env(container(), 'LEADER_ELECT')?.value).toBe('true');
    expect(env(container(), 'LEASE_NAMESPACE')?.value).toBe('cloudconnect-system');
    expect(env(container(), 'POD_NAME')?.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
  });

  it('runs the operator program of the image, not the worker entrypoint', () => {
    expect(container().command).toEqual(['/nodejs/bin/node', 'operator/main.ts']);
    expect(container().image).toBe('ghcr.io/cloudconnect/cloudconnect-operator:0.1.0');
  });

  it('runs as non-root with seccomp RuntimeDefault at pod level', () => {
    expect(deployment().spec.template.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('has a read-only root filesystem, no privilege escalation and every capability dropped', () => {
    expect(container().securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container().volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
  });

  it('probes /healthz for liveness and /readyz (caches synced) for readiness on the metrics port', () => {
    expect(container().livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container().readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(env(container(), 'METRICS_BIND_ADDRESS')?.value).toBe('0.0.0.0:8080');
  });

  it('requests resources and limits memory', () => {
    expect(container().resources).toEqual({ requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } });
  });

  it('logs in to Vault with kubernetes auth and a projected token whose audience is Vault', () => {
    expect(env(container(), 'VAULT_ROLE')?.value).toBe('cloudconnect-operator');
    expect(env(container(), 'SEK_KV_MOUNT')?.value).toBe('secret');
    expect(env(container(), 'VAULT_TOKEN')).toBeUndefined();
    const volume = deployment().spec.template.spec.volumes.find((v) => v.name === 'vault-token');
    expect(volume).toEqual({
      name: 'vault-token',
      projected: { sources: [{ serviceAccountToken: { path: 'token', audience: 'vault', expirationSeconds: 600 } }] },
    });
  });

  it('runs sync workers from the operator image and deploys no relay without a NATS URL', () => {
    expect(env(container(), 'WORKER_IMAGE')?.value).toBe('ghcr.io/cloudconnect/cloudconnect-operator:0.1.0');
    expect(env(container(), 'NATS_URL')).toBeUndefined();
    expect(env(container(), 'RELAY_IMAGE')).toBeUndefined();
  });

  it('is covered by a PodDisruptionBudget selecting exactly its pods', () => {
    const pdb = findOne<K8sObject & { spec: { maxUnavailable: number; selector: { matchLabels: Record<string, string> } } }>(
      defaults,
      'PodDisruptionBudget',
    );
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual(deployment().spec.selector.matchLabels);
    expect(deployment().spec.template.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);
  });

  it('creates no optional object', () => {
    const kinds = defaults.map((o) => o.kind).sort();
    expect(kinds).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'CustomResourceDefinition',
      'CustomResourceDefinition',
      'Deployment',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ]);
  });
});

describe('RBAC', () => {
  it('lists exactly the verbs the operator uses, cluster-wide', () => {
    const role = findOne<K8sObject & { rules: Rule[] }>(defaults, 'ClusterRole');
    expect(role.rules).toEqual(EXPECTED_CLUSTER_RULES);
  });

  it('grants no wildcard, no escalate/bind/impersonate and no access to nodes or cluster-scoped RBAC', () => {
    const rules = findOne<K8sObject & { rules: Rule[] }>(defaults, 'ClusterRole').rules;
    for (const r of rules) {
      expect([...r.verbs, ...r.resources, ...r.apiGroups]).not.toContain('*');
      expect(r.verbs.filter((v) => ['escalate', 'bind', 'impersonate'].includes(v))).toEqual([]);
      expect(
        r.resources.filter((res) => ['nodes', 'clusterroles', 'clusterrolebindings', 'customresourcedefinitions'].includes(res)),
      ).toEqual([]);
    }
  });

  it('confines the Lease to the release namespace', () => {
    const role = findOne<K8sObject & { rules: Rule[] }>(defaults, 'Role');
    expect(role.metadata.namespace).toBe('cloudconnect-system');
    expect(role.rules).toEqual([{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }]);
  });

  it('binds both roles to the chart ServiceAccount the Deployment runs as', () => {
    const sa = findOne(defaults, 'ServiceAccount');
    const deployment = findOne<Deployment>(defaults, 'Deployment');
    expect(deployment.spec.template.spec.serviceAccountName).toBe(sa.metadata.name);
    for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
      const binding = findOne<K8sObject & { subjects: unknown[] }>(defaults, kind);
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: 'cloudconnect-system' }]);
    }
  });

  it('holds every rule of the support-site Role the operator writes (RBAC lets it grant only what it holds)', () => {
    const cluster = findOne<K8sObject & { rules: Rule[] }>(defaults, 'ClusterRole').rules;
    const site = { metadata: { name: 'maple', namespace: 'clinic-maple', uid: 'u' } } as Parameters<typeof supportRole>[0];
    const missing = (supportRole(site, 'clinic-maple', 'cloudconnect-support-maple').rules ?? []).flatMap((r) =>
      (r.apiGroups ?? []).flatMap((g) =>
        (r.resources ?? []).flatMap((res) => r.verbs.filter((v) => !grants(cluster, g, res, v)).map((v) => `${v} ${g}/${res}`)),
      ),
    );
    expect(missing).toEqual([]);
  });

  it('creates no RBAC when rbac.create is false', async () => {
    const { objects } = await renderChart(['--set', 'rbac.create=false']);
    expect(objects.filter((o) => o.apiVersion.startsWith('rbac.authorization.k8s.io'))).toEqual([]);
  });
});

type RbacObject = K8sObject & {
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace: string }[];
};
const WATCHED = ['clinic-maple', 'clinic-oak'];

describe('RBAC in namespaced mode (watchNamespaces)', () => {
  let namespaced: RbacObject[];
  const operatorRbac = (kind: string) => namespaced.filter((o) => o.kind === kind && o.metadata.name === 'cc-cloudconnect-operator');

  beforeAll(async () => {
    namespaced = (await renderChart(['--set-json', `watchNamespaces=${JSON.stringify(WATCHED)}`])).objects;
  });

  it("grants a Role in each watched namespace with exactly the cluster mode's rules", () => {
    const roles = operatorRbac('Role');
    expect(roles.map((r) => r.metadata.namespace)).toEqual(WATCHED);
    const cluster = findOne<RbacObject>(defaults, 'ClusterRole').rules;
    for (const role of roles) {
      expect(role.rules).toEqual(EXPECTED_CLUSTER_RULES);
      expect(role.rules).toEqual(cluster);
    }
  });

  it('binds each Role to the chart ServiceAccount in the release namespace', () => {
    const bindings = operatorRbac('RoleBinding');
    expect(bindings.map((b) => b.metadata.namespace)).toEqual(WATCHED);
    const sa = findOne(namespaced, 'ServiceAccount').metadata.name;
    for (const binding of bindings) {
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cc-cloudconnect-operator' });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa, namespace: 'cloudconnect-system' }]);
    }
  });

  it('creates no ClusterRole or ClusterRoleBinding, and keeps the Lease Role in the release namespace', () => {
    expect(namespaced.filter((o) => o.kind.startsWith('Cluster')).map((o) => o.kind)).toEqual([]);
    const lease = findOne<RbacObject>(namespaced, 'Role', 'cc-cloudconnect-operator-leader-election');
    expect(lease.metadata.namespace).toBe('cloudconnect-system');
    expect(lease.rules).toEqual([{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }]);
  });

  it('keeps the cluster-scoped install objects: the CRDs and the support-site admission policy', () => {
    const installed = (o: K8sObject) => !o.apiVersion.startsWith('rbac.authorization.k8s.io');
    expect(namespaced.filter(installed).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      defaults.filter(installed).map((o) => `${o.kind}/${o.metadata.name}`),
    );
  });

  it('tells the operator WATCH_NAMESPACES; cluster mode sets none', () => {
    const container = (objects: K8sObject[]) => findOne<Deployment>(objects, 'Deployment').spec.template.spec.containers[0]!;
    expect(env(container(namespaced), 'WATCH_NAMESPACES')).toEqual({ name: 'WATCH_NAMESPACES', value: 'clinic-maple,clinic-oak' });
    expect(env(container(defaults), 'WATCH_NAMESPACES')).toBeUndefined();
  });

  it('grants no Secret delete (nor any delete of Secrets by wildcard) in either mode', () => {
    for (const objects of [defaults, namespaced, allOn.objects]) {
      const rules = (objects as RbacObject[]).flatMap((o) => (o.kind.endsWith('Role') ? (o.rules ?? []) : []));
      expect(rules.length).toBeGreaterThan(0);
      const secretDelete = rules.filter(
        (r) =>
          (r.apiGroups.includes('') || r.apiGroups.includes('*')) &&
          (r.resources.includes('secrets') || r.resources.includes('*')) &&
          (r.verbs.includes('delete') || r.verbs.includes('deletecollection') || r.verbs.includes('*')),
      );
      expect(secretDelete).toEqual([]);
    }
  });

  it.each([
    ['a name that is not a namespace name', '["Clinic_Maple"]', /at '\/watchNamespaces\/0': 'Clinic_Maple' does not match pattern/],
    ['a namespace listed twice', '["clinic-maple","clinic-maple"]', /at '\/watchNamespaces': items at 0 and 1 are equal/],
  ])('refuses %s, naming watchNamespaces', async (_what, value, message) => {
    const out = await run(toolPath('helm'), ['template', 'cc', chartDir, '--set-json', `watchNamespaces=${value}`]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(message);
  });
});

/** Kubernetes client calls the operator makes → the permission each needs. A call missing here fails the scan below. */
const KINDS = ['oceansites', 'emrintegrations', 'syncschedules'];
const CALLS: Record<string, { group: string; resources: string[]; verbs: string[]; namespacedRole?: boolean }> = {
  listClusterCustomObject: { group: 'cloudconnect.dev', resources: KINDS, verbs: ['list'] },
  listNamespacedCustomObject: { group: 'cloudconnect.dev', resources: KINDS, verbs: ['list'] },
  getNamespacedCustomObject: { group: 'cloudconnect.dev', resources: KINDS, verbs: ['get'] },
  createNamespacedCustomObject: { group: 'cloudconnect.dev', resources: ['syncschedules'], verbs: ['create'] },
  patchNamespacedCustomObject: { group: 'cloudconnect.dev', resources: KINDS, verbs: ['patch'] },
  patchNamespacedCustomObjectStatus: { group: 'cloudconnect.dev', resources: KINDS.map((k) => `${k}/status`), verbs: ['patch'] },
  listSecretForAllNamespaces: { group: '', resources: ['secrets'], verbs: ['list'] },
  listNamespacedSecret: { group: '', resources: ['secrets'], verbs: ['list'] },
  readNamespacedSecret: { group: '', resources: ['secrets'], verbs: ['get'] },
  patchNamespacedSecret: { group: '', resources: ['secrets'], verbs: ['patch'] },
  createNamespacedEvent: { group: '', resources: ['events'], verbs: ['create'] },
  readNamespacedServiceAccount: { group: '', resources: ['serviceaccounts'], verbs: ['get'] },
  createNamespacedServiceAccount: { group: '', resources: ['serviceaccounts'], verbs: ['create'] },
  deleteNamespacedServiceAccount: { group: '', resources: ['serviceaccounts'], verbs: ['delete'] },
  listNamespacedPod: { group: '', resources: ['pods'], verbs: ['list'] },
  patchNamespacedPod: { group: '', resources: ['pods'], verbs: ['patch'] },
  listJobForAllNamespaces: { group: 'batch', resources: ['jobs'], verbs: ['list'] },
  listNamespacedJob: { group: 'batch', resources: ['jobs'], verbs: ['list'] },
  createNamespacedJob: { group: 'batch', resources: ['jobs'], verbs: ['create'] },
  deleteNamespacedJob: { group: 'batch', resources: ['jobs'], verbs: ['delete'] },
  createNamespacedRole: { group: 'rbac.authorization.k8s.io', resources: ['roles'], verbs: ['create'] },
  replaceNamespacedRole: { group: 'rbac.authorization.k8s.io', resources: ['roles'], verbs: ['update'] },
  deleteNamespacedRole: { group: 'rbac.authorization.k8s.io', resources: ['roles'], verbs: ['delete'] },
  listNamespacedRoleBinding: { group: 'rbac.authorization.k8s.io', resources: ['rolebindings'], verbs: ['list'] },
  createNamespacedRoleBinding: { group: 'rbac.authorization.k8s.io', resources: ['rolebindings'], verbs: ['create'] },
  deleteNamespacedRoleBinding: { group: 'rbac.authorization.k8s.io', resources: ['rolebindings'], verbs: ['delete'] },
  readNamespacedLease: { group: 'coordination.k8s.io', resources: ['leases'], verbs: ['get'], namespacedRole: true },
  createNamespacedLease: { group: 'coordination.k8s.io', resources: ['leases'], verbs: ['create'], namespacedRole: true },
  replaceNamespacedLease: { group: 'coordination.k8s.io', resources: ['leases'], verbs: ['update'], namespacedRole: true },
  // The relay's Deployment and Service by server-side apply: a patch that creates the object the first time (needs create too).
  listDeploymentForAllNamespaces: { group: 'apps', resources: ['deployments'], verbs: ['list'] },
  listNamespacedDeployment: { group: 'apps', resources: ['deployments'], verbs: ['list'] },
  patchNamespacedDeployment: { group: 'apps', resources: ['deployments'], verbs: ['patch', 'create'] },
  listServiceForAllNamespaces: { group: '', resources: ['services'], verbs: ['list'] },
  listNamespacedService: { group: '', resources: ['services'], verbs: ['list'] },
  patchNamespacedService: { group: '', resources: ['services'], verbs: ['patch', 'create'] },
};
/** Informer watch paths → the watch permission. */
const WATCHES: Record<string, { group: string; resources: string[] }> = {
  "'/api/v1/secrets'": { group: '', resources: ['secrets'] },
  "'/apis/batch/v1/jobs'": { group: 'batch', resources: ['jobs'] },
  "'/apis/apps/v1/deployments'": { group: 'apps', resources: ['deployments'] },
  "'/api/v1/services'": { group: '', resources: ['services'] },
  'kube.collectionPath': { group: 'cloudconnect.dev', resources: KINDS },
};

/** The operator's own code: not the plugin (runs as the user), the worker (the site's account) or the EMR adapters (HTTP to EMRs). */
function operatorSources(dir = join(repoRoot, 'operator')): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && !['plugin', 'worker', 'emr'].includes(entry.name)) out.push(...operatorSources(path));
    else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const grants = (rules: Rule[], group: string, resource: string, verb: string) =>
  rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));

describe('RBAC against the code', () => {
  const sources = operatorSources().map((f) => ({ file: f.slice(repoRoot.length), text: readFileSync(f, 'utf8') }));
  const calls = new Set(
    sources.flatMap((s) =>
      [
        ...s.text.matchAll(
          /\.((?:list|read|get|create|replace|patch|delete)\w*?(?:Namespaced|ForAllNamespaces|ClusterCustomObject)\w*)\(/g,
        ),
      ].map((m) => m[1]!),
    ),
  );

  it('knows every Kubernetes API call in operator/ (a new call must be added here and to the chart)', () => {
    expect(calls.size).toBeGreaterThan(20);
    expect([...calls].filter((c) => !(c in CALLS)).sort()).toEqual([]);
  });

  it('grants every call and every informer watch the operator makes', () => {
    const cluster = findOne<K8sObject & { rules: Rule[] }>(defaults, 'ClusterRole').rules;
    const lease = findOne<K8sObject & { rules: Rule[] }>(defaults, 'Role').rules;
    const missing: string[] = [];
    for (const call of calls) {
      const need = CALLS[call];
      if (!need) continue;
      for (const resource of need.resources) {
        for (const verb of need.verbs)
          if (!grants(need.namespacedRole ? lease : cluster, need.group, resource, verb)) missing.push(`${call}: ${verb} ${resource}`);
      }
    }
    for (const [path, need] of Object.entries(WATCHES)) {
      if (!sources.some((s) => s.text.includes(path))) continue;
      for (const resource of need.resources)
        if (!grants(cluster, need.group, resource, 'watch')) missing.push(`informer ${path}: watch ${resource}`);
    }
    expect(missing).toEqual([]);
  });
});

type AdmissionPolicy = K8sObject & {
  spec: {
    failurePolicy: string;
    matchConstraints: { resourceRules: { apiGroups: string[]; operations: string[]; resources: string[] }[] };
    matchConditions: { expression: string }[];
    validations: { expression: string; reason: string }[];
  };
};

describe('the support-site admission policy', () => {
  it('refuses, for cloudconnect:support:* groups only, every create, delete and change of any cloudconnect.dev kind but requestedAt', () => {
    const policy = findOne<AdmissionPolicy>(defaults, 'ValidatingAdmissionPolicy');
    expect(policy.apiVersion).toBe('admissionregistration.k8s.io/v1');
    expect(policy.spec.failurePolicy).toBe('Fail');
    expect(policy.spec.matchConstraints.resourceRules).toEqual([
      { apiGroups: ['cloudconnect.dev'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['*/*'] },
    ]);
    expect(policy.spec.matchConditions.map((c) => c.expression).join(' ')).toContain("g.startsWith('cloudconnect:support:')");
    expect(policy.spec.validations.map((v) => v.reason)).toEqual(policy.spec.validations.map(() => 'Forbidden'));
    expect(JSON.stringify(policy.spec)).toContain("'cloudconnect.dev/requestedAt'");
  });

  it('is bound everywhere, denying', () => {
    const policy = findOne<AdmissionPolicy>(defaults, 'ValidatingAdmissionPolicy');
    const binding = findOne<K8sObject & { spec: Record<string, unknown> }>(defaults, 'ValidatingAdmissionPolicyBinding');
    expect(binding.spec).toEqual({ policyName: policy.metadata.name, validationActions: ['Deny'] });
  });

  it('is left out when supportAccess.admissionPolicy is false', async () => {
    const { objects } = await renderChart(['--set', 'supportAccess.admissionPolicy=false']);
    expect(objects.filter((o) => o.apiVersion.startsWith('admissionregistration.k8s.io'))).toEqual([]);
  });
});

describe('CRDs', () => {
  it('are the generated ones (files/crds = crds/, written by operator/api/generate.ts), kept on uninstall', () => {
    const crds = defaults.filter((o) => o.kind === 'CustomResourceDefinition');
    const generated = readdirSync(join(repoRoot, 'crds')).filter((f) => f.endsWith('.yaml'));
    expect(crds.map((c) => c.metadata.name).sort()).toEqual(
      generated.map((f) => f.replace(/^cloudconnect\.dev_(.+)\.yaml$/, '$1.cloudconnect.dev')).sort(),
    );
    for (const file of generated) {
      const source = parse(readFileSync(join(repoRoot, 'crds', file), 'utf8')) as K8sObject & { spec: unknown };
      expect(readFileSync(join(chartDir, 'files/crds', file), 'utf8')).toBe(readFileSync(join(repoRoot, 'crds', file), 'utf8'));
      const rendered = crds.find((c) => c.metadata.name === source.metadata.name) as K8sObject & { spec: unknown };
      expect(rendered.spec).toEqual(source.spec);
      expect(rendered.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
    }
  });

  it('are skipped when crds.install is false', async () => {
    const { objects } = await renderChart(['--set', 'crds.install=false']);
    expect(objects.filter((o) => o.kind === 'CustomResourceDefinition')).toEqual([]);
    expect(objects.some((o) => o.kind === 'Deployment')).toBe(true);
  });

  it('lose the keep annotation when crds.keep is false', async () => {
    const { objects } = await renderChart(['--set', 'crds.keep=false']);
    for (const crd of objects.filter((o) => o.kind === 'CustomResourceDefinition'))
      expect(crd.metadata.annotations?.['helm.sh/resource-policy']).toBeUndefined();
  });
});

describe('every option on', () => {
  const deployment = () => findOne<Deployment>(allOn.objects, 'Deployment');
  const container = () => deployment().spec.template.spec.containers[0]!;

  it('scrapes the metrics Service through a ServiceMonitor with the extra label', () => {
    const sm = findOne<K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] } }>(
      allOn.objects,
      'ServiceMonitor',
    );
    const svc = findOne<K8sObject & { spec: { ports: { name: string }[] } }>(allOn.objects, 'Service', 'cc-cloudconnect-operator-metrics');
    expect(sm.metadata.labels?.release).toBe('prometheus');
    expect(svc.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(svc.spec.ports.map((p) => p.name)).toContain(sm.spec.endpoints[0]!.port);
  });

  it("scrapes every relay's metrics port (never its webhook port) through a PodMonitor", () => {
    const pm = findOne<
      K8sObject & {
        spec: {
          selector: { matchLabels: Record<string, string> };
          namespaceSelector: { any?: boolean };
          podMetricsEndpoints: { port: string }[];
        };
      }
    >(allOn.objects, 'PodMonitor');
    expect(pm.spec.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'cloudconnect-relay',
      'app.kubernetes.io/managed-by': 'cloudconnect-operator',
    });
    expect(pm.spec.namespaceSelector.any).toBe(true);
    expect(pm.spec.podMetricsEndpoints.map((e) => e.port)).toEqual(['metrics']);
  });

  it('ships files/alerts.yaml as the PrometheusRule groups', () => {
    const rule = findOne<K8sObject & { spec: { groups: unknown } }>(allOn.objects, 'PrometheusRule');
    const file = parse(readFileSync(join(chartDir, 'files/alerts.yaml'), 'utf8')) as { groups: unknown };
    expect(rule.spec.groups).toEqual(file.groups);
  });

  it('ships files/dashboard.json in the Grafana sidecar ConfigMap', () => {
    const cm = findOne<K8sObject & { data: Record<string, string> }>(allOn.objects, 'ConfigMap', 'cc-cloudconnect-operator-dashboard');
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    const file = join(chartDir, 'files/dashboard.json');
    expect(cm.data['cloudconnect-operator.json']).toBe(existsSync(file) ? readFileSync(file, 'utf8').replace(/\n+$/, '') : '');
  });

  it('takes the SMTP credentials from the Secret, never as values', () => {
    expect(env(container(), 'SMTP_HOST')?.value).toBe('smtp.example.org');
    expect(env(container(), 'SMTP_USER')?.valueFrom?.secretKeyRef).toEqual({ name: 'smtp-credentials', key: 'username' });
    expect(env(container(), 'SMTP_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({ name: 'smtp-credentials', key: 'password' });
    expect(env(container(), 'SMTP_PASSWORD')?.value).toBeUndefined();
  });

  it("trusts Vault's CA from the Secret and listens for Vault's audit device behind a Service", () => {
    expect(env(container(), 'VAULT_CACERT')?.value).toBe('/etc/cloudconnect/vault-ca/ca.crt');
    expect(env(container(), 'NODE_EXTRA_CA_CERTS')?.value).toBe('/etc/cloudconnect/vault-ca/ca.crt');
    expect(env(container(), 'AUDIT_LISTEN_ADDRESS')?.value).toBe('0.0.0.0:9090');
    expect(env(container(), 'AUDIT_ALLOWED_PEERS')?.value).toBe('10.42.7.0/24,10.42.8.15');
    findOne(allOn.objects, 'Service', 'cc-cloudconnect-operator-vault-audit');
  });

  it("catches up from Vault's file audit log, mounted read-only, keeping its position in a volume of its own", () => {
    expect(env(container(), 'AUDIT_LOG_FILE')?.value).toBe('/var/log/vault-audit/audit.log');
    expect(env(container(), 'AUDIT_STATE_FILE')?.value).toBe('/var/lib/cloudconnect/audit-state.json');
    expect(container().volumeMounts).toContainEqual({ name: 'vault-audit-log', mountPath: '/var/log/vault-audit', readOnly: true });
    expect(container().volumeMounts).toContainEqual({ name: 'audit-state', mountPath: '/var/lib/cloudconnect' });
    const volumes = deployment().spec.template.spec.volumes;
    expect(volumes).toContainEqual({ name: 'vault-audit-log', persistentVolumeClaim: { claimName: 'vault-audit', readOnly: true } });
    expect(volumes).toContainEqual({ name: 'audit-state', emptyDir: { sizeLimit: '1Mi' } });
  });

  it('uses the worker and relay images given, a digest winning over a tag', () => {
    expect(env(container(), 'WORKER_IMAGE')?.value).toBe('registry.example.org/cloudconnect-worker:1.2.3');
    expect(env(container(), 'RELAY_IMAGE')?.value).toBe(`registry.example.org/cloudconnect-relay@sha256:${'0'.repeat(64)}`);
  });

  it('tells the operator where NATS is and how the relay is judged', () => {
    expect(env(container(), 'NATS_URL')?.value).toBe('nats://nats.nats.svc:4222');
    expect(env(container(), 'NATS_REPLICAS')?.value).toBe('3');
    expect(env(container(), 'RELAY_STATUS_POLL_INTERVAL')?.value).toBe('30s');
    expect(env(container(), 'RELAY_QUEUE_MAX_BYTES')?.value).toBe('268435456');
    expect(env(container(), 'RELAY_QUEUE_MAX_MESSAGES')?.value).toBe('100000');
    expect(env(container(), 'RELAY_DEAD_LETTER_MAX_BYTES')?.value).toBe('67108864');
    expect(env(container(), 'RELAY_DEAD_LETTER_MAX_AGE')?.value).toBe('336h');
  });

  it('gives the operator the NATS account and only the signing key of the nats-auth Secret', () => {
    expect(env(container(), 'NATS_ACCOUNT')?.valueFrom?.secretKeyRef).toEqual({
      name: 'cc-cloudconnect-operator-nats-auth',
      key: 'account',
    });
    expect(env(container(), 'NATS_ACCOUNT_SIGNING_KEY_FILE')?.value).toBe('/var/run/secrets/cloudconnect/nats/signing-key');
    expect(container().volumeMounts).toContainEqual(
      expect.objectContaining({ name: 'nats-signing-key', mountPath: '/var/run/secrets/cloudconnect/nats' }),
    );
    const volume = (deployment().spec.template.spec as unknown as { volumes: { name: string; secret?: unknown }[] }).volumes.find(
      (v) => v.name === 'nats-signing-key',
    );
    expect(volume?.secret).toEqual({
      secretName: 'cc-cloudconnect-operator-nats-auth',
      defaultMode: 0o440,
      items: [{ key: 'signing-key', path: 'signing-key' }],
    });
    // Without a NATS URL, nothing of NATS is mounted.
    const plain = findOne<Deployment>(defaults, 'Deployment').spec.template.spec.containers[0]!;
    expect(plain.volumeMounts.map((m) => m.name)).not.toContain('nats-signing-key');
    expect(env(plain, 'NATS_ACCOUNT')).toBeUndefined();
  });

  it('deploys a three-node JetStream cluster for the relay, locked down, with room for referral PDFs', () => {
    const sts = findOne<
      K8sObject & {
        spec: {
          replicas: number;
          template: {
            metadata: { labels: Record<string, string> };
            spec: { securityContext: Record<string, unknown>; automountServiceAccountToken: boolean; containers: Container[] };
          };
        };
      }
    >(allOn.objects, 'StatefulSet');
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.template.metadata.labels['app.kubernetes.io/component']).toBe('nats');
    expect(sts.spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(sts.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(sts.spec.template.spec.containers[0]!.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    const config = findOne<K8sObject & { data: Record<string, string> }>(allOn.objects, 'ConfigMap', 'cc-cloudconnect-operator-nats').data[
      'nats.conf'
    ]!;
    expect(config).toContain('max_payload: 8MB');
    // Authentication is on: auth.conf beside nats.conf, and only that key of the nats-auth Secret (not the signing key).
    expect(config).toContain('include ./auth.conf');
    expect(config).not.toMatch(/^\s*tls \{/m);
    const volumes = (
      sts.spec.template.spec as unknown as { volumes: { name: string; projected?: { sources: Record<string, unknown>[] } }[] }
    ).volumes;
    expect(volumes.find((v) => v.name === 'config')?.projected?.sources).toEqual([
      { configMap: { name: 'cc-cloudconnect-operator-nats' } },
      { secret: { name: 'cc-cloudconnect-operator-nats-auth', items: [{ key: 'auth.conf', path: 'auth.conf' }] } },
    ]);
    expect(config.match(/nats:\/\/cc-cloudconnect-operator-nats-\d\.cc-cloudconnect-operator-nats-headless/g)).toHaveLength(3);
    // The operator's selector must not pick up the NATS pods (and the reverse).
    expect(deployment().spec.selector.matchLabels['app.kubernetes.io/component']).toBe('operator');
  });

  it("points the operator at the chart's own NATS when no URL is given", async () => {
    const { objects } = await renderChart(['--set', 'nats.deploy=true'], 'cc', NAMESPACE);
    const operator = findOne<Deployment>(objects, 'Deployment').spec.template.spec.containers[0]!;
    expect(env(operator, 'NATS_URL')?.value).toBe(`nats://cc-cloudconnect-operator-nats.${NAMESPACE}.svc:4222`);
    // With a TLS Secret: the server serves TLS, the operator connects with tls:// and trusts the CA given.
    const tls = await renderChart(
      ['--set', 'nats.deploy=true', '--set', 'nats.tls.secretName=nats-tls', '--set', 'relay.natsCaSecret.name=nats-ca'],
      'cc',
      NAMESPACE,
    );
    const tlsOperator = findOne<Deployment>(tls.objects, 'Deployment').spec.template.spec.containers[0]!;
    expect(env(tlsOperator, 'NATS_URL')?.value).toBe(`tls://cc-cloudconnect-operator-nats.${NAMESPACE}.svc:4222`);
    expect(env(tlsOperator, 'NATS_CA_FILE')?.value).toBe('/etc/cloudconnect/nats-ca/ca.crt');
    const tlsConfig = findOne<K8sObject & { data: Record<string, string> }>(tls.objects, 'ConfigMap', 'cc-cloudconnect-operator-nats').data[
      'nats.conf'
    ];
    expect(tlsConfig).toContain('cert_file: /etc/nats-tls/tls.crt');
    await expect(renderChart(['--set', 'nats.deploy=true', '--set', 'nats.replicas=2'])).rejects.toThrow(/nats.replicas|enum|schema/);
  });

  it('admits only the metrics and audit ports, from the given peers, and restricts egress with DNS open', () => {
    const np = findOne<
      K8sObject & {
        spec: {
          policyTypes: string[];
          ingress: { ports: { port: string }[]; from?: unknown[] }[];
          egress: { ports?: { port: number }[] }[];
        };
      }
    >(allOn.objects, 'NetworkPolicy');
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.ingress.map((r) => r.ports[0]!.port)).toEqual(['metrics', 'vault-audit']);
    expect(np.spec.ingress.every((r) => Array.isArray(r.from) && r.from.length === 1)).toBe(true);
    expect(np.spec.egress[0]!.ports?.map((p) => p.port)).toEqual([53, 53]);
  });
});

describe('the rendered chart on the real apiserver (server-side dry run)', () => {
  beforeAll(async () => {
    // prometheus-operator's CRDs are installed for real (cluster-wide, idempotent), our objects only in a dry run.
    for (const file of await prometheusOperatorCrdFiles()) {
      await kubectlOk(['apply', '--server-side', '--force-conflicts', '--field-manager=cloudconnect-chart-test', '-f', file]);
      await kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', '-f', file]);
    }
    const ns = await kubectl(['create', 'namespace', NAMESPACE]);
    if (ns.code !== 0 && !ns.stderr.includes('AlreadyExists')) throw new Error(ns.stderr);
  });

  const dryRun = async (yaml: string) => {
    const dir = await mkdtemp(join(tmpdir(), 'chart-'));
    await writeFile(join(dir, 'rendered.yaml'), yaml);
    return kubectl([
      'apply',
      '--dry-run=server',
      '--server-side',
      '--field-manager=cloudconnect-chart-test',
      '--force-conflicts',
      '--validate=strict',
      '-f',
      join(dir, 'rendered.yaml'),
    ]);
  };

  it('accepts the defaults', async () => {
    const { yaml, objects } = await renderChart([], 'cc', NAMESPACE);
    const out = await dryRun(yaml);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout.split('\n').filter((l) => l.includes('(server dry run)'))).toHaveLength(objects.length);
  });

  it('accepts every option on, ServiceMonitor, PodMonitor and PrometheusRule included', async () => {
    const out = await dryRun(allOn.yaml);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/servicemonitor\.monitoring\.coreos\.com\/\S+ serverside-applied \(server dry run\)/);
    expect(out.stdout).toMatch(/podmonitor\.monitoring\.coreos\.com\/\S+ serverside-applied \(server dry run\)/);
    expect(out.stdout).toMatch(/prometheusrule\.monitoring\.coreos\.com\/\S+ serverside-applied \(server dry run\)/);
    expect(out.stdout).toMatch(/networkpolicy\.networking\.k8s\.io\/\S+ serverside-applied \(server dry run\)/);
    expect(out.stdout.split('\n').filter((l) => l.includes('(server dry run)'))).toHaveLength(allOn.objects.length);
  });
});

describe('a real release on the test cluster (pods on the kwok node)', () => {
  const release = `rel-${Date.now().toString(36)}`;
  const ns = `chart-release-${Date.now().toString(36)}`;
  const helm = (args: string[]) =>
    run(toolPath('helm'), [...args, '--namespace', ns], { env: { ...process.env, KUBECONFIG: inject('cluster').kubeconfig } });

  afterAll(async () => {
    await helm(['uninstall', release, '--wait']);
    await kubectl(['delete', 'namespace', ns, '--wait=false']);
  });

  it('installs and becomes available, upgrades, and uninstalls without leaving cluster-wide objects', async () => {
    // The CRDs on the shared cluster were applied with kubectl, so this release leaves them alone.
    const install = await helm([
      'install',
      release,
      chartDir,
      '--create-namespace',
      '--set',
      'crds.install=false',
      '--wait',
      '--timeout',
      '120s',
    ]);
    expect(install.stderr).toBe('');
    expect(install.stdout).toContain('STATUS: deployed');
    const name = `${release}-cloudconnect-operator`;
    expect(await kubectlOk(['get', 'deployment', name, '-n', ns, '-o', 'jsonpath={.status.availableReplicas}'])).toBe('2');
    const upgrade = await helm([
      'upgrade',
      release,
      chartDir,
      '--reuse-values',
      '--set',
      'operator.logLevel=debug',
      '--wait',
      '--timeout',
      '120s',
    ]);
    expect(upgrade.stderr).toBe('');
    expect(
      await kubectlOk([
        'get',
        'deployment',
        name,
        '-n',
        ns,
        '-o',
        'jsonpath={.spec.template.spec.containers[0].env[?(@.name=="LOG_LEVEL")].value}',
      ]),
    ).toBe('debug');
    expect((await helm(['uninstall', release, '--wait'])).code).toBe(0);
    expect((await kubectl(['get', 'clusterrole', name])).stderr).toContain('NotFound');
    expect((await kubectl(['get', 'clusterrolebinding', name])).stderr).toContain('NotFound');
    expect((await kubectl(['get', 'validatingadmissionpolicy', `${name}-support-requests-only`])).stderr).toContain('NotFound');
    expect((await kubectl(['get', 'validatingadmissionpolicybinding', `${name}-support-requests-only`])).stderr).toContain('NotFound');
  });
});

describe("the operator running as the chart's ServiceAccount (only the chart's RBAC) and logging in to Vault as NOTES.txt says", () => {
  const suffix = Date.now().toString(36);
  const release = `rbac-${suffix}`;
  const releaseNs = `chart-rbac-${suffix}`;
  const siteNs = `chart-rbac-site-${suffix}`;
  let operator: OperatorProcess | undefined;
  let nats: NatsServer | undefined;

  beforeAll(async () => {
    await kubectlOk([
      'apply',
      '--server-side',
      '--force-conflicts',
      '--field-manager=cloudconnect-chart-test',
      '-f',
      join(repoRoot, 'crds'),
    ]);
    await kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', '-f', join(repoRoot, 'crds')]);
    for (const ns of [releaseNs, siteNs]) await kubectlOk(['create', 'namespace', ns]);
    const cluster = inject('cluster');
    // Vault exactly as NOTES.txt tells the installer: its policy and kubernetes-auth role, no root token.
    // (Rendered before the RBAC is applied: helm refuses to render over objects it does not own.)
    const notes = await run(
      toolPath('helm'),
      ['install', '--dry-run=client', release, chartDir, '-n', releaseNs, '--set', 'crds.install=false', '--set', `vault.role=${release}`],
      {
        env: { ...process.env, KUBECONFIG: cluster.kubeconfig },
      },
    );
    const policy = /<<'HCL'\n([\s\S]*?)\n\s*HCL\n/
      .exec(notes.stdout)?.[1]
      ?.split('\n')
      .map((l) => l.trim())
      .join('\n');
    const roleArgs = /vault write auth\/kubernetes\/role\/(\S+) \\\n([\s\S]*?ttl=\S+)/.exec(notes.stdout);
    if (!policy || !roleArgs) throw new Error(`NOTES.txt has no Vault policy or role:\n${notes.stdout}${notes.stderr}`);
    // No more than the keys: no policy or role writes, no other mount (what makes a compromised operator Vault root).
    expect([...policy.matchAll(/path "([^"]+)"/g)].map((m) => m[1])).toEqual([
      'secret/data/cloudconnect/*',
      'secret/metadata/cloudconnect/*',
      'sys/mounts/secret',
    ]);
    expect(roleArgs[1]).toBe(release);
    const role = Object.fromEntries(
      roleArgs[2]!
        .split(/[\s\\]+/)
        .filter((t) => t.includes('='))
        .map((t) => t.split('=') as [string, string]),
    );
    expect(role).toMatchObject({
      bound_service_account_names: `${release}-cloudconnect-operator`,
      bound_service_account_namespaces: releaseNs,
      audience: 'vault',
    });
    expect((await vaultRequest('PUT', `sys/policies/acl/${release}`, { policy })).status).toBe(204);
    expect((await vaultRequest('POST', `auth/kubernetes/role/${release}`, role)).status).toBe(204);
    const rbac = await applyOperatorRbac(release, releaseNs, 'cloudconnect-chart-test');
    const sa = rbac.serviceAccount;
    const kubeconfig = await serviceAccountKubeconfig(sa, releaseNs);

    const vaultToken = join(dirname(kubeconfig), 'vault-token');
    await writeFile(vaultToken, await kubectlOk(['create', 'token', sa, '-n', releaseNs, '--audience=vault', '--duration=1h']), {
      mode: 0o600,
    });

    nats = await startNatsServer({ name: release });
    operator = await startOperator({
      KUBECONFIG: kubeconfig,
      LEADER_ELECT: 'true',
      LEASE_NAMESPACE: releaseNs,
      LEASE_NAME: release,
      ...(await nats.operatorEnv()),
      VAULT_TOKEN: '',
      VAULT_ROLE: release,
      VAULT_AUTH_MOUNT: 'kubernetes',
      VAULT_SA_TOKEN_FILE: vaultToken,
    });
  });

  afterAll(async () => {
    await operator?.stop();
    await nats?.dispose();
    await kubectl(['delete', 'namespace', siteNs, '--wait=false']);
    await kubectl(['delete', 'namespace', releaseNs, '--wait=false']);
    await kubectl(['delete', 'clusterrole,clusterrolebinding', `${release}-cloudconnect-operator`]);
    await vaultRequest('DELETE', `auth/kubernetes/role/${release}`);
    await vaultRequest('DELETE', `sys/policies/acl/${release}`);
  });

  /** Waits like eventually(); a timeout names the API calls RBAC refused, if any (the likely cause here). */
  const waitFor = (fn: () => Promise<boolean>, what: string) =>
    eventually(fn, what).catch((error: Error) => {
      const denials = [
        ...new Set(operator!.output().match(/cannot \w+ resource \\*"[\w./]+\\*"( in API group \\*"[\w.]*\\*")?/g) ?? []),
      ].map((d) => d.replace(/\\+"/g, '"'));
      throw new Error(`${error.message}${denials.length ? `; RBAC refused: ${denials.join('; ')}` : ''}`);
    });

  it('holds the Lease, imports an SEK, labels credentials, creates default schedules and a relay, grants and withdraws support access, and cleans up a deleted site', async () => {
    const apply = (obj: object) => kubectlOk(['apply', '-f', '-'], JSON.stringify(obj));
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'sek-import', namespace: siteNs },
      type: 'cloudconnect.dev/sek-import',
      stringData: { sek: randomBytes(32).toString('base64') },
    });
    const site = {
      apiVersion: 'cloudconnect.dev/v1alpha1',
      kind: 'OceanSite',
      metadata: { name: 'rbac', namespace: siteNs },
      spec: {
        siteNumber: '4321',
        clinicalAdminEmail: 'admin@clinic.example.org',
        encryptionKey: { importFrom: { secretRef: { name: 'sek-import' } } },
        supportSites: [{ name: 'support-a' }],
      },
    };
    await apply(site);
    // An integration whose EMR cannot be reached (nothing listens on port 1): its credentials Secret
    // gets labelled, it gets default SyncSchedules, and a relay.
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'fhir-credentials', namespace: siteNs },
      stringData: { clientId: 'FAKE-id', clientSecret: 'FAKE-secret' },
    });
    await apply({
      apiVersion: 'cloudconnect.dev/v1alpha1',
      kind: 'EmrIntegration',
      metadata: { name: 'rbac-fhir', namespace: siteNs },
      spec: {
        siteRef: { name: 'rbac' },
        emr: { type: 'FHIR', fhir: { baseUrl: 'https://127.0.0.1:1/r4', credentialsSecretRef: { name: 'fhir-credentials' } } },
      },
    });
    await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', siteNs, 'oceansite/rbac']);
    await waitFor(
      async () => (await kubectl(['get', 'deployment,service', relayName('rbac-fhir'), '-n', siteNs])).code === 0,
      "the relay's Deployment and Service",
    );
    await waitFor(
      async () => (await kubectlOk(['get', 'syncschedules', '-n', siteNs, '-o', 'name'])).split('\n').filter(Boolean).length === 2,
      'the default SyncSchedules',
    );
    expect(
      await kubectlOk([
        'get',
        'secret',
        'fhir-credentials',
        '-n',
        siteNs,
        '-o',
        'jsonpath={.metadata.labels.cloudconnect\\.dev/credentials}',
      ]),
    ).toBe('true');
    expect(await kubectlOk(['get', 'lease', release, '-n', releaseNs, '-o', 'jsonpath={.spec.holderIdentity}'])).not.toBe('');
    expect(await importSecretState(siteNs, 'sek-import')).toBe('emptied');
    await waitFor(
      async () => (await kubectl(['get', 'rolebinding', 'cloudconnect-support-rbac-support-a', '-n', siteNs])).code === 0,
      'the support RoleBinding',
    );
    await apply({ ...site, spec: { ...site.spec, supportSites: [] } });
    await waitFor(
      async () => (await kubectl(['get', 'role', 'cloudconnect-support-rbac', '-n', siteNs])).stderr.includes('NotFound'),
      'the support Role to go',
    );
    await kubectlOk(['delete', 'oceansite', 'rbac', '-n', siteNs, '--timeout=60s']);
    expect((await kubectl(['get', 'serviceaccount', 'rbac', '-n', siteNs])).stderr).toContain('NotFound');
    // RBAC's refusal reads `User "system:serviceaccount:…" cannot <verb> resource "<resource>"`.
    expect(operator!.output()).not.toMatch(/cannot \w+ resource/);
  });
});

describe("the users' GitHub Actions workflow (charts/github-actions/e2e-kind.yaml)", () => {
  const shellcheck = () => {
    const path = ['/usr/bin/shellcheck', '/usr/local/bin/shellcheck'].find((p) => existsSync(p));
    if (!path) throw new Error('shellcheck is not installed (apt-get install shellcheck): actionlint needs it to check the run: scripts');
    return path;
  };

  it('passes actionlint, shell scripts included', async () => {
    const out = await run(toolPath('actionlint'), ['-shellcheck', shellcheck(), '-no-color', WORKFLOW]);
    expect(out.stdout + out.stderr).toBe('');
    expect(out.code).toBe(0);
  });

  it('would be caught by actionlint if it were broken (the check is real)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'workflow-'));
    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, readFileSync(WORKFLOW, 'utf8').replace('timeout-minutes: 45', 'timeout-minute: 45'));
    const out = await run(toolPath('actionlint'), ['-shellcheck', shellcheck(), '-no-color', broken]);
    expect(out.code).not.toBe(0);
    expect(out.stdout).toContain('timeout-minute');
  });

  it('installs the chart that lives in this repository and waits on Ready conditions', () => {
    const text = readFileSync(WORKFLOW, 'utf8');
    expect(text).toContain('helm install cloudconnect-operator charts/cloudconnect-operator');
    expect(text).toMatch(/kubectl -n clinic-maple wait --for=condition=Ready oceansite\/maple/);
  });
});
