// Support sites against the real apiserver, Vault and operator: a member of the support site
// `acme` (a client certificate for user support-user in group cloudconnect:support:acme, signed by
// the test cluster's CA as a cluster admin would issue it) tries every way to take over the clinic:
// lift its own expiresAt, change the Clinical Administrator's e-mail, turn off the key-access
// e-mails, set deletionPolicy Delete, delete the OceanSite, create an EmrIntegration, repoint
// accuro.apiUrl (so that the operator sends it the EMR password), read any Secret. Each must be
// refused, by RBAC (the operator's support Role) or by the chart's ValidatingAdmissionPolicy, and
// leave the object as it was; asking for a sync or an EMR check with cloudconnect.dev/requestedAt,
// reading the resources and Events, and the redacted support bundle must work. A second group with
// every verb on cloudconnect.dev (RBAC granted by someone else) shows that the policy holds alone.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { x as extractTar } from 'tar';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { renderChart } from '../chart/tools.ts';
import { type AccuroSite, accuroEmr, apply, setUpAccuroSite } from '../integration/fixtures.ts';
import { exitCodeOf, type KubectlResult, kubectl, kubectlOk, repoRoot } from '../integration/kubectl.ts';
import { eventually, type OperatorProcess, startOperator } from '../integration/operator-process.ts';
import { ACCURO_DEV_CREDENTIALS } from '../simulators/accuro.ts';

const run = promisify(execFile);
const ns = `sec-support-${Date.now().toString(36)}`;
const SITE = 'cedar';
const INTEGRATION = 'cedar-accuro';
const SCHEDULE = 'cedar-accuro-full';
const CREDENTIALS = `${SITE}-accuro-creds`;
const USER = 'support-user';
const GROUP = 'cloudconnect:support:acme';
const RELEASE = 'sec-support';
const POLICY = `${RELEASE}-cloudconnect-operator-support-requests-only`;
const REQUESTED_AT = 'cloudconnect.dev/requestedAt';
const dir = mkdtempSync(join(tmpdir(), 'cc-support-access-'));
const supportKubeconfig = join(dir, 'support.kubeconfig');

let cedar: AccuroSite;
let operator: OperatorProcess;

/** kubectl as the support member, with its own client certificate. */
const asSupport = (args: string[], stdin?: string) => kubectl(['--kubeconfig', supportKubeconfig, '-n', ns, ...args], stdin);
/** kubectl as another support site's member that someone granted every verb on cloudconnect.dev (impersonated by the admin). */
const asOverreach = (args: string[], stdin?: string) =>
  kubectl(['--as=overreaching-support', '--as-group=cloudconnect:support:overreach', '-n', ns, ...args], stdin);

const rbac = (verb: string, resource: string, group = 'cloudconnect.dev') =>
  `User "${USER}" cannot ${verb} resource "${resource}" in API group "${group}" in the namespace "${ns}"`;
const denied = (message: string) =>
  `ValidatingAdmissionPolicy '${POLICY}' with binding '${POLICY}' denied request: support members (cloudconnect:support:*) ${message}`;
const ONLY_REQUESTED_AT = 'they may only set the annotation cloudconnect.dev/requestedAt';

/** What a refused request must leave as it was (resourceVersion moves with the operator's status writes, generation does not). */
async function snapshot(kind: string, name: string): Promise<unknown> {
  const r = await kubectl(['get', kind, name, '-n', ns, '-o', 'json']);
  if (r.code !== 0) return r.stderr.includes('NotFound') ? 'absent' : r.stderr;
  const o = JSON.parse(r.stdout) as { metadata: Record<string, unknown>; spec?: unknown };
  const { generation, annotations, labels, finalizers, ownerReferences, deletionTimestamp } = o.metadata;
  return { generation, annotations, labels, finalizers, ownerReferences, deletionTimestamp, spec: o.spec };
}

/** A client certificate for USER in GROUP from the test cluster's CA, and a kubeconfig that uses only it. */
async function writeSupportKubeconfig(): Promise<void> {
  const pki = join(inject('cluster').stateDir, 'pki');
  const [key, csr, crt, ext] = ['key', 'csr', 'crt', 'ext'].map((e) => join(dir, `support.${e}`)) as [string, string, string, string];
  await run(
    'openssl',
    ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'].concat([
      '-keyout',
      key,
      '-out',
      csr,
      '-subj',
      `/O=${GROUP}/CN=${USER}`,
    ]),
  );
  writeFileSync(ext, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  await run(
    'openssl',
    ['x509', '-req', '-sha256', '-days', '1', '-in', csr, '-CA', join(pki, 'ca.crt'), '-CAkey', join(pki, 'ca.key')].concat([
      '-set_serial',
      `0x${randomBytes(16).toString('hex')}`,
      '-extfile',
      ext,
      '-out',
      crt,
    ]),
  );
  const admin = JSON.parse(await kubectlOk(['config', 'view', '--raw', '--minify', '--flatten', '-o', 'json']));
  const cluster = admin.clusters[0];
  const b64 = (file: string) => readFileSync(file).toString('base64');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [cluster],
    users: [{ name: USER, user: { 'client-certificate-data': b64(crt), 'client-key-data': b64(key) } }],
    contexts: [{ name: 'support', context: { cluster: cluster.name, user: USER, namespace: ns } }],
    'current-context': 'support',
  };
  writeFileSync(supportKubeconfig, JSON.stringify(config), { mode: 0o600 });
}

beforeAll(async () => {
  await writeSupportKubeconfig();
  cedar = await setUpAccuroSite({ namespace: ns, site: SITE, siteNumber: '7171' });
  // The chart's policy, rendered as `helm install` would (the release name only changes its name).
  const policy = await renderChart(['--show-only', 'templates/support-admission-policy.yaml'], RELEASE, ns);
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '--field-manager=support-access-test', '-f', '-'], policy.yaml);
  operator = await startOperator({ WORKER_IMAGE: 'registry.example/cloudconnect-operator:test' });
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=90s', '-n', ns, `oceansite/${SITE}`]);
  const expiresAt = new Date(Date.now() + 2 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const grant = {
    spec: {
      supportSites: [{ name: 'acme', expiresAt }],
      notifications: { emailOnKeyAccess: true },
      encryptionKey: { deletionPolicy: 'Retain' },
    },
  };
  await kubectlOk(['patch', 'oceansite', SITE, '-n', ns, '--type=merge', '-p', JSON.stringify(grant)]);
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name: INTEGRATION, namespace: ns },
    spec: { siteRef: { name: SITE }, emr: accuroEmr(cedar) },
  });
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=90s', '-n', ns, `emrintegration/${INTEGRATION}`]);
  await eventually(
    async () => (await kubectl(['get', 'syncschedule', SCHEDULE, '-n', ns])).code === 0,
    'the default Full schedule',
    40_000,
  );
  await eventually(async () => (await asSupport(['get', 'oceansite', SITE])).code === 0, 'the support RoleBinding');
  // The policy is in force once a refused change says so (the apiserver loads policies asynchronously).
  await eventually(async () => {
    const probe = await asSupport([
      'patch',
      'emrintegration',
      INTEGRATION,
      '--dry-run=server',
      '--type=merge',
      '-p',
      '{"metadata":{"labels":{"probe":"x"}}}',
    ]);
    return probe.stderr.includes(POLICY);
  }, 'the admission policy in force');
});

afterAll(async () => {
  await operator?.stop();
  await cedar?.accuro.stop();
  await kubectl(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', POLICY, '--ignore-not-found']);
});

describe('the support member', () => {
  it('is who the certificate says: support-user in cloudconnect:support:acme, nothing more', async () => {
    const who = JSON.parse((await asSupport(['auth', 'whoami', '-o', 'json'])).stdout);
    expect(who.status.userInfo.username).toBe(USER);
    expect(who.status.userInfo.groups).toEqual([GROUP, 'system:authenticated']);
  });
});

interface Attack {
  /** What the member tries, read after "the support member cannot …". */
  sentence: string;
  args: string[];
  stdin?: object;
  /** The object the attack aims at: it must be unchanged (or still absent) afterwards. */
  victim: [kind: string, name: string];
  /** The refusal kubectl prints: RBAC's 403, or the admission policy's message. */
  refusal: string;
}

const patch = (kind: string, name: string, body: object, ...flags: string[]) => [
  'patch',
  kind,
  name,
  '--type=merge',
  '-p',
  JSON.stringify(body),
  ...flags,
];
const evilIntegration = {
  apiVersion: 'cloudconnect.dev/v1alpha1',
  kind: 'EmrIntegration',
  metadata: { name: 'evil', namespace: ns },
  spec: {
    siteRef: { name: SITE },
    emr: {
      type: 'Accuro',
      accuro: { tenantId: 'CLINIC01', apiUrl: 'https://attacker.example', credentialsSecretRef: { name: CREDENTIALS } },
    },
  },
};

const ATTACKS: Attack[] = [
  {
    sentence: 'lift its own expiresAt',
    args: patch('oceansite', SITE, { spec: { supportSites: [{ name: 'acme' }] } }),
    victim: ['oceansite', SITE],
    refusal: rbac('patch', 'oceansites'),
  },
  {
    sentence: "change the Clinical Administrator's e-mail",
    args: patch('oceansite', SITE, { spec: { clinicalAdminEmail: 'attacker@attacker.example' } }),
    victim: ['oceansite', SITE],
    refusal: rbac('patch', 'oceansites'),
  },
  {
    sentence: 'turn off the key-access e-mails',
    args: patch('oceansite', SITE, { spec: { notifications: { emailOnKeyAccess: false } } }),
    victim: ['oceansite', SITE],
    refusal: rbac('patch', 'oceansites'),
  },
  {
    sentence: 'set deletionPolicy Delete',
    args: patch('oceansite', SITE, { spec: { encryptionKey: { deletionPolicy: 'Delete' } } }),
    victim: ['oceansite', SITE],
    refusal: rbac('patch', 'oceansites'),
  },
  {
    sentence: 'delete the OceanSite',
    args: ['delete', 'oceansite', SITE, '--wait=false'],
    victim: ['oceansite', SITE],
    refusal: rbac('delete', 'oceansites'),
  },
  {
    sentence: 'create an EmrIntegration pointing at its own host',
    args: ['create', '-f', '-'],
    stdin: evilIntegration,
    victim: ['emrintegration', 'evil'],
    refusal: rbac('create', 'emrintegrations'),
  },
  {
    sentence: "repoint accuro.apiUrl at its own host (the operator would send it the clinic's EMR password)",
    args: patch('emrintegration', INTEGRATION, { spec: { emr: { accuro: { apiUrl: 'https://attacker.example' } } } }),
    victim: ['emrintegration', INTEGRATION],
    refusal: denied(`may not change the spec; ${ONLY_REQUESTED_AT}`),
  },
  {
    sentence: 'repoint accuro.apiUrl while asking for an authentication check in the same patch',
    args: patch('emrintegration', INTEGRATION, {
      metadata: { annotations: { [REQUESTED_AT]: 'cover' } },
      spec: { emr: { accuro: { apiUrl: 'https://attacker.example' } } },
    }),
    victim: ['emrintegration', INTEGRATION],
    refusal: denied(`may not change the spec; ${ONLY_REQUESTED_AT}`),
  },
  {
    sentence: 'replace the EmrIntegration (update)',
    args: ['replace', '-f', '-'],
    stdin: { ...evilIntegration, metadata: { name: INTEGRATION, namespace: ns } },
    victim: ['emrintegration', INTEGRATION],
    refusal: rbac('update', 'emrintegrations'),
  },
  {
    sentence: 'replay the dead letters (another annotation than requestedAt)',
    args: ['annotate', '--overwrite', 'emrintegration', INTEGRATION, 'cloudconnect.dev/replayRequestedAt=now'],
    victim: ['emrintegration', INTEGRATION],
    refusal: denied('may set only the annotation cloudconnect.dev/requestedAt, not cloudconnect.dev/replayRequestedAt'),
  },
  {
    sentence: 'suspend the SyncSchedule while asking for a sync',
    args: patch('syncschedule', SCHEDULE, { metadata: { annotations: { [REQUESTED_AT]: 'cover' } }, spec: { suspend: true } }),
    victim: ['syncschedule', SCHEDULE],
    refusal: denied(`may not change the spec; ${ONLY_REQUESTED_AT}`),
  },
  {
    sentence: 'label the SyncSchedule',
    args: ['label', 'syncschedule', SCHEDULE, 'owner=acme'],
    victim: ['syncschedule', SCHEDULE],
    refusal: denied('may not change labels, finalizers or owner references'),
  },
  {
    sentence: 'delete the SyncSchedule',
    args: ['delete', 'syncschedule', SCHEDULE, '--wait=false'],
    victim: ['syncschedule', SCHEDULE],
    refusal: rbac('delete', 'syncschedules'),
  },
  {
    sentence: "write the SyncSchedule's status",
    args: patch('syncschedule', SCHEDULE, { status: { lastHandledRequestedAt: 'forged' } }, '--subresource=status'),
    victim: ['syncschedule', SCHEDULE],
    refusal: rbac('patch', 'syncschedules/status'),
  },
  {
    sentence: 'read the credentials Secret',
    args: ['get', 'secret', CREDENTIALS, '-o', 'json'],
    victim: ['secret', CREDENTIALS],
    refusal: rbac('get', 'secrets', ''),
  },
  {
    sentence: 'list the Secrets of the namespace',
    args: ['get', 'secrets', '-o', 'json'],
    victim: ['secret', CREDENTIALS],
    refusal: rbac('list', 'secrets', ''),
  },
  {
    sentence: 'read any Secret, in any namespace',
    args: ['get', 'secrets', '--all-namespaces', '-o', 'json'],
    victim: ['secret', CREDENTIALS],
    refusal: `User "${USER}" cannot list resource "secrets" in API group "" at the cluster scope`,
  },
  {
    sentence: 'read the credentials through a pod it would start',
    args: [
      'run',
      'steal',
      '--image=busybox',
      '--restart=Never',
      `--overrides={"spec":{"volumes":[{"name":"c","secret":{"secretName":"${CREDENTIALS}"}}]}}`,
    ],
    victim: ['pod', 'steal'],
    refusal: rbac('create', 'pods', ''),
  },
];

describe('the support member cannot', () => {
  it.each(ATTACKS.map((a) => [a.sentence, a] as const))('%s', async (_sentence, { args, stdin, victim, refusal }) => {
    const before = await snapshot(...victim);
    const result = await asSupport(args, stdin ? JSON.stringify(stdin) : undefined);
    expect(result.code, result.stdout).not.toBe(0);
    expect(result.stderr).toContain('(Forbidden)');
    expect(result.stderr).toContain(refusal);
    expect(result.stdout).not.toContain(ACCURO_DEV_CREDENTIALS.apiPassword);
    expect(await snapshot(...victim)).toEqual(before);
  });

  it('replace the SyncSchedule with another cron (update), though it may update it to ask for a sync', async () => {
    const replace = async (edit: (s: { metadata: Record<string, Record<string, string>>; spec: Record<string, unknown> }) => void) =>
      eventually(async () => {
        const schedule = JSON.parse(await kubectlOk(['get', 'syncschedule', SCHEDULE, '-n', ns, '-o', 'json']));
        edit(schedule);
        const r = await asSupport(['replace', '-f', '-'], JSON.stringify(schedule));
        return r.stderr.includes('the object has been modified') ? undefined : r;
      }, 'a replace without a concurrent status write');
    const before = await snapshot('syncschedule', SCHEDULE);
    const refused = await replace((s) => {
      s.spec.schedule = '* * * * *';
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(denied(`may not change the spec; ${ONLY_REQUESTED_AT}`));
    expect(await snapshot('syncschedule', SCHEDULE)).toEqual(before);
    const allowed = await replace((s) => {
      s.metadata.annotations = { ...s.metadata.annotations, [REQUESTED_AT]: 'support-update-1' };
    });
    expect(allowed.code, allowed.stderr).toBe(0);
  });
});

describe('the support member can', () => {
  const getJson = async (args: string[]) => JSON.parse(await kubectlOk([...args, '-n', ns, '-o', 'json']));

  it('ask for a sync with kubectl cloudconnect sync (requestedAt on the SyncSchedule), and the operator starts it', async () => {
    const before = (await getJson(['get', 'syncschedule', SCHEDULE])) as { metadata: { generation: number }; spec: unknown };
    const { stdout, stderr, code } = await plugin(['sync', INTEGRATION, '--full', '--no-wait', '-n', ns]);
    expect(code, stdout + stderr).toBe(0);
    const token = /cloudconnect\.dev\/requestedAt=(\S+),/.exec(stderr)?.[1];
    expect(token, stderr).toBeDefined();
    const schedule = await eventually(async () => {
      const s = await getJson(['get', 'syncschedule', SCHEDULE]);
      return s.status?.lastHandledRequestedAt === token ? s : undefined;
    }, 'the operator acting on the request');
    expect(schedule.metadata.generation).toBe(before.metadata.generation);
    expect(schedule.spec).toEqual(before.spec);
    const jobs = (await getJson(['get', 'jobs', '-l', `cloudconnect.dev/schedule=${SCHEDULE}`])).items as { metadata: { name: string } }[];
    expect(jobs.map((j) => j.metadata.name)).toContainEqual(expect.stringMatching(new RegExp(`^${SCHEDULE}-manual-[0-9a-f]{8}$`)));
  });

  it('ask for an EMR authentication check (requestedAt on the EmrIntegration), and the operator does it', async () => {
    const r = await asSupport(['annotate', '--overwrite', 'emrintegration', INTEGRATION, `${REQUESTED_AT}=support-check-1`]);
    expect(r.code, r.stderr).toBe(0);
    await eventually(async () => {
      const i = await getJson(['get', 'emrintegration', INTEGRATION]);
      return i.status?.lastHandledRequestedAt === 'support-check-1';
    }, 'the operator acting on the request');
  });

  it.each([
    ['read the OceanSite with its status', ['get', 'oceansite', SITE, '-o', 'json'], '"clinicalAdminEmail"'],
    ['list the EmrIntegrations', ['get', 'emrintegrations', '-o', 'name'], `emrintegration.cloudconnect.dev/${INTEGRATION}`],
    ['list the SyncSchedules', ['get', 'syncschedules', '-o', 'name'], `syncschedule.cloudconnect.dev/${SCHEDULE}`],
    ['read a status subresource', ['get', 'syncschedule', SCHEDULE, '--subresource=status', '-o', 'json'], '"status"'],
    ['read the Events, its own grant among them', ['get', 'events', '-o', 'json'], 'SupportAccessGranted'],
    ['list the sync Jobs and Pods', ['get', 'jobs,pods', '-o', 'name'], `job.batch/${SCHEDULE}-manual-`],
  ])('%s', async (_sentence, args, expected) => {
    const r = await asSupport(args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(expected);
  });

  it('collect the support bundle, which records the Secrets it may not read in manifest.json and writes no secrets.yaml', async () => {
    const log = join(dir, 'operator.log');
    writeFileSync(log, operator.output());
    const archive = join(dir, 'bundle.tar.gz');
    const r = await plugin(['support-bundle', '-n', ns, '-o', archive, '--operator-log', log]);
    expect(r.code, r.stderr).toBe(0);
    const out = mkdtempSync(join(dir, 'bundle-'));
    await extractTar({ file: archive, cwd: out });
    const top = readdirSync(out).find((e) => e.startsWith('cloudconnect-support-'));
    const manifest = JSON.parse(readFileSync(join(out, top ?? '', 'manifest.json'), 'utf8')) as {
      files: string[];
      problems: string[];
      redaction: string[];
    };
    expect(manifest.problems).toEqual([`list Secrets: secrets is forbidden: ${rbac('list', 'secrets', '')}`]);
    expect(manifest.files).not.toContain('resources/secrets.yaml');
    for (const file of ['resources/oceansites.yaml', 'resources/emrintegrations.yaml', 'resources/syncschedules.yaml', 'events.yaml'])
      expect(manifest.files).toContain(file);
    for (const file of ['resources/jobs.yaml', 'resources/pods.yaml', 'resources/deployments.yaml', 'resources/serviceaccounts.yaml'])
      expect(manifest.files).toContain(file);
    expect(manifest.redaction.join('\n')).toContain('Secrets could not be listed');
  });
});

describe('a support group that someone granted every verb on cloudconnect.dev', () => {
  beforeAll(async () => {
    await apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'overreach', namespace: ns },
      rules: [{ apiGroups: ['cloudconnect.dev'], resources: ['*', '*/*'], verbs: ['*'] }],
    });
    await apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'overreach', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'overreach' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'cloudconnect:support:overreach' }],
    });
  });

  it.each([
    [
      'cannot lift the expiry of support access',
      patch('oceansite', SITE, { spec: { supportSites: [{ name: 'overreach' }] } }),
      `may not change the spec; ${ONLY_REQUESTED_AT}`,
    ],
    [
      'cannot change the Clinical Administrator e-mail',
      patch('oceansite', SITE, { spec: { clinicalAdminEmail: 'attacker@attacker.example' } }),
      `may not change the spec; ${ONLY_REQUESTED_AT}`,
    ],
    [
      'cannot remove the OceanSite finalizer',
      patch('oceansite', SITE, { metadata: { finalizers: null } }),
      'may not change labels, finalizers or owner references',
    ],
    [
      'cannot write the OceanSite status',
      patch('oceansite', SITE, { status: { lastHandledRequestedAt: 'forged' } }, '--subresource=status'),
      'may not write oceansites/status',
    ],
    ['cannot delete the OceanSite', ['delete', 'oceansite', SITE, '--wait=false'], `may not delete oceansites: ${ONLY_REQUESTED_AT}`],
    [
      'cannot delete the SyncSchedule',
      ['delete', 'syncschedule', SCHEDULE, '--wait=false'],
      `may not delete syncschedules: ${ONLY_REQUESTED_AT}`,
    ],
  ])('%s', async (_sentence, args, message) => {
    const [kind, name] = [args[1] ?? '', args[2] ?? ''];
    const before = await snapshot(kind, name);
    const r = await asOverreach(args);
    expect(r.code, r.stdout).not.toBe(0);
    expect(r.stderr).toContain(denied(message));
    expect(await snapshot(kind, name)).toEqual(before);
  });

  it('cannot create an EmrIntegration', async () => {
    const r = await asOverreach(['create', '-f', '-'], JSON.stringify(evilIntegration));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(denied(`may not create emrintegrations: ${ONLY_REQUESTED_AT}`));
    expect(await snapshot('emrintegration', 'evil')).toBe('absent');
  });

  it('can still ask for a sync', async () => {
    const r = await asOverreach(['annotate', '--overwrite', 'syncschedule', SCHEDULE, `${REQUESTED_AT}=overreach-1`]);
    expect(r.code, r.stderr).toBe(0);
  });
});

/** `kubectl cloudconnect …` as the support member: the plugin's main.ts with the support kubeconfig. */
function plugin(args: string[]): Promise<KubectlResult> {
  return new Promise((resolve) => {
    execFile(
      join(repoRoot, 'node_modules/.bin/node'),
      [join(repoRoot, 'operator/cmd/plugin/main.ts'), ...args],
      { cwd: repoRoot, env: { ...process.env, KUBECONFIG: supportKubeconfig, NO_COLOR: '1' }, maxBuffer: 1 << 26 },
      (error, stdout, stderr) => resolve({ code: exitCodeOf(error), stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}
