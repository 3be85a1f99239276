// kubectl-cloudconnect against the real control plane, run as its own process the way kubectl
// runs a plugin: status, sync (kwok completes the run's pod; a failed run is played by the test as
// the kubelet), support-bundle (extracted and grepped for the SEK, the EMR passwords and the
// simulator's patient names) and validate (server-side dry run of the examples and of the
// invalid corpus; offline when the cluster cannot be reached) and card (planted SEK and passwords absent).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x as extractTar } from 'tar';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ACCURO_DEV_CREDENTIALS, type AccuroSimulator, start as startAccuro } from '../simulators/accuro.ts';
import { finishAsKubelet, runPodsOnKubeletStandIn } from './fixtures.ts';
import { exitCodeOf, type KubectlResult, kubectl, kubectlOk, repoRoot } from './kubectl.ts';
import { eventually, type OperatorProcess, startOperator } from './operator-process.ts';
import { makeTestTls } from './tls.ts';

const ns = `it-plugin-${Date.now().toString(36)}`;
const sek = randomBytes(32).toString('base64');
let accuro: AccuroSimulator;
let operator: OperatorProcess;
const apply = (o: object) => kubectlOk(['apply', '-f', '-'], JSON.stringify(o));
const getJson = async (args: string[]) => JSON.parse(await kubectlOk([...args, '-n', ns, '-o', 'json']));

/** A program run with the cluster's kubeconfig and extra environment, to its exit. */
function exec(file: string, args: string[], env: Record<string, string>): Promise<KubectlResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: repoRoot, env: { ...process.env, KUBECONFIG: inject('cluster').kubeconfig, ...env }, maxBuffer: 1 << 26 },
      (error, stdout, stderr) => resolve({ code: exitCodeOf(error), stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

/**
 * `kubectl cloudconnect ...`: the plugin's main.ts with the project's Node, as the launcher runs it.
 * Not awaited at once, it runs in the background (a sync the test has to play the kubelet for).
 */
const plugin = (args: string[], env: Record<string, string> = {}) =>
  exec(join(repoRoot, 'node_modules/.bin/node'), [join(repoRoot, 'operator/cmd/plugin/main.ts'), ...args], { NO_COLOR: '1', ...env });

/** The cluster's kubectl with extra environment (a PATH holding the plugin). */
const kubectlWithEnv = (args: string[], env: Record<string, string>) => exec(join(inject('cluster').binDir, 'kubectl'), args, env);

beforeAll(async () => {
  const tls = makeTestTls();
  accuro = await startAccuro({
    tls: { cert: tls.cert, key: tls.key },
    volume: { providers: 2, patients: 12, appointmentsPerDay: 5, days: 1 },
  });
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`]);
  await kubectl(['create', 'namespace', ns]);
  await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sim-ca', namespace: ns }, stringData: { 'ca.crt': tls.ca } });
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'birch-sek', namespace: ns },
    type: 'cloudconnect.dev/sek-import',
    stringData: { sek },
  });
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'OceanSite',
    metadata: { name: 'birch', namespace: ns },
    spec: {
      siteNumber: '5151',
      displayName: 'Birch Clinic',
      clinicalAdminEmail: 'admin@birch.example.org',
      encryptionKey: { importFrom: { secretRef: { name: 'birch-sek' } } },
    },
  });
  // Client-side apply on purpose: kubectl keeps the whole Secret in an annotation, which a naive bundle would leak.
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'birch-accuro-creds', namespace: ns },
    stringData: { ...ACCURO_DEV_CREDENTIALS },
  });
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name: 'birch-accuro', namespace: ns },
    spec: {
      siteRef: { name: 'birch' },
      emr: {
        type: 'Accuro',
        accuro: { tenantId: accuro.tenantId, apiUrl: accuro.url, credentialsSecretRef: { name: 'birch-accuro-creds' } },
        caBundleSecretRef: { name: 'sim-ca' },
      },
    },
  });
  for (const [name, type, schedule] of [
    ['birch-accuro-full', 'Full', '0 0 * * *'],
    ['birch-accuro-appointments', 'Appointments', '*/30 * * * *'],
  ] as const) {
    await apply({
      apiVersion: 'cloudconnect.dev/v1alpha1',
      kind: 'SyncSchedule',
      metadata: { name, namespace: ns },
      spec: { integrationRef: { name: 'birch-accuro' }, type, schedule },
    });
  }
  operator = await startOperator({ WORKER_IMAGE: 'registry.example/cloudconnect-operator:test' });
  await kubectlOk([
    'wait',
    '--for=condition=Ready',
    '--timeout=90s',
    '-n',
    ns,
    'oceansite/birch',
    'emrintegration/birch-accuro',
    'syncschedule/birch-accuro-full',
    'syncschedule/birch-accuro-appointments',
  ]);
});

afterAll(async () => {
  await operator?.stop();
  await accuro?.stop();
});

describe('kubectl cloudconnect status', () => {
  it('runs as a kubectl plugin: kubectl finds kubectl-cloudconnect on PATH and passes its arguments', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'cc-plugin-path-'));
    symlinkSync(join(repoRoot, 'operator/cmd/plugin/kubectl-cloudconnect'), join(bin, 'kubectl-cloudconnect'));
    const r = await kubectlWithEnv(['cloudconnect', 'status', '-n', ns], { PATH: `${bin}:${process.env.PATH ?? ''}`, NO_COLOR: '1' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('OceanSite/birch');
    const list = await kubectlWithEnv(['plugin', 'list'], { PATH: `${bin}:${process.env.PATH ?? ''}` });
    expect(list.stdout).toContain(join(bin, 'kubectl-cloudconnect'));
  });

  it('draws the site, its integration and both schedules with health and next sync', async () => {
    const r = await plugin(['status', '-n', ns]);
    expect(r.code, r.stderr).toBe(0);
    process.stdout.write(`\n--- kubectl cloudconnect status -n ${ns}\n${r.stdout}---\n`);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`Namespace ${ns}`);
    expect(r.stdout).toMatch(/^OceanSite\/birch \(#5151 Birch Clinic\) {2}Ready \(\w+\) {2}SEK v1 [0-9a-f]{16}$/m);
    expect(r.stdout).toMatch(/^└── EmrIntegration\/birch-accuro {2}Accuro {2}Ready/m);
    expect(r.stdout).toMatch(/^ {4}auth: Authenticated/m);
    expect(r.stdout).toMatch(/^ {4}├── SyncSchedule\/birch-accuro-full {2}Full "0 0 \* \* \*" {2}Ready \(Scheduled\)$/m);
    expect(r.stdout).toMatch(
      /^ {4}└── SyncSchedule\/birch-accuro-appointments {2}Appointments "\*\/30 \* \* \* \*" {2}Ready \(Scheduled\)$/m,
    );
    expect(r.stdout).toMatch(/next in \d+[mh]/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: NO_COLOR is set, so no ANSI escape (ESC [) may appear
    expect(r.stdout).not.toMatch(/\u001b\[/);
  });

  it('says so for a namespace without Cloud Connect resources', async () => {
    const r = await plugin(['status', '-n', 'default']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No Cloud Connect resources');
  });

  it('lists the resources of every namespace with -A, one table with a NAMESPACE column', async () => {
    const r = await plugin(['status', '-A', '-n', 'default']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^NAMESPACE +KIND +NAME +HEALTH +LAST SYNC +NEXT SYNC +DETAIL$/);
    expect(r.stdout).toMatch(new RegExp(`^${ns} +OceanSite +birch +Ready .*#5151 Birch Clinic · SEK v1 [0-9a-f]{16}$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${ns} +EmrIntegration +birch-accuro +Ready .*Accuro · site birch$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${ns} +SyncSchedule +birch-accuro-full +Ready \\(Scheduled\\) .*integration birch-accuro$`, 'm'));
  });
});

describe('kubectl cloudconnect sync', () => {
  it('requests a Full sync, follows its Job to the end and reports Succeeded from status.lastRun', async () => {
    // Generous: with thousands of Jobs on the shared cluster (benchmarks), the Job controller can take
    // minutes to create the pod and to mark the Job Complete; on a quiet cluster this takes seconds.
    const r = await plugin(['sync', 'birch-accuro', '--full', '-n', ns, '--timeout', '600s']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const token = /cloudconnect\.dev\/requestedAt=(\S+),/.exec(r.stderr)?.[1];
    expect(token).toMatch(/^kubectl-cloudconnect\//);
    const schedule = await getJson(['get', 'syncschedule', 'birch-accuro-full']);
    expect(schedule.metadata.annotations['cloudconnect.dev/requestedAt']).toBe(token);
    expect(schedule.status.lastHandledRequestedAt).toBe(token);
    const runName = schedule.status.lastRun.name as string;
    expect(runName).toMatch(/^birch-accuro-full-manual-[0-9a-f]{8}$/);
    expect(r.stderr).toContain(`run ${runName}`);
    expect(r.stdout).toContain(`Full sync of birch-accuro Succeeded`);
    expect(r.stdout).toContain(`[run ${runName}]`);
    const job = await getJson(['get', 'job', runName]);
    expect(job.metadata.labels['cloudconnect.dev/schedule']).toBe('birch-accuro-full');
    // Progress lines, one per phase the run went through.
    expect(r.stderr).toMatch(/Full sync of birch-accuro: (Requested|Started|Running|Finishing)/);
  }, 660_000);

  it('exits 1 with the failure reason when the run fails', async () => {
    // Pods of this integration are left to the test, which plays the kubelet (test/cluster/up.sh).
    await runPodsOnKubeletStandIn(ns, 'birch-accuro');
    const seen = new Set(((await getJson(['get', 'jobs'])).items as { metadata: { name: string } }[]).map((j) => j.metadata.name));
    const run = plugin(['sync', 'birch-accuro', '-n', ns, '--timeout', '600s']);
    const job = await eventually(
      async () => {
        const jobs = (
          (await getJson(['get', 'jobs', '-l', 'cloudconnect.dev/schedule=birch-accuro-appointments'])).items as {
            metadata: { name: string };
          }[]
        ).filter((j) => !seen.has(j.metadata.name));
        return jobs[0]?.metadata.name;
      },
      'the run Job',
      420_000,
    );
    await finishAsKubelet(ns, job, JSON.stringify({ result: 'Failed', errorReason: 'EmrUnreachable' }), 1);
    const r = await run;
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain('Appointments sync of birch-accuro Failed (EmrUnreachable)');
    await kubectlOk([
      'patch',
      'emrintegration',
      'birch-accuro',
      '-n',
      ns,
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/spec/syncWorker"}]',
    ]);
  }, 900_000);

  it('only sets the annotation with --no-wait', async () => {
    const r = await plugin(['sync', 'birch-accuro', '--full', '--no-wait', '-n', ns]);
    expect(r.code, r.stderr).toBe(0);
    const token = /cloudconnect\.dev\/requestedAt=(\S+),/.exec(r.stderr)?.[1];
    expect((await getJson(['get', 'syncschedule', 'birch-accuro-full'])).metadata.annotations['cloudconnect.dev/requestedAt']).toBe(token);
  });

  it('shows Blocked and exits 1 at --timeout while the integration is not authenticated', async () => {
    accuro.setFault({ rejectCredentials: true });
    try {
      await kubectlOk([
        'annotate',
        '--overwrite',
        '-n',
        ns,
        'emrintegration/birch-accuro',
        'cloudconnect.dev/requestedAt=plugin-recheck-1',
      ]);
      await kubectlOk([
        'wait',
        '--for=jsonpath={.status.conditions[?(@.type=="Ready")].reason}=IntegrationNotReady',
        '--timeout=60s',
        '-n',
        ns,
        'syncschedule/birch-accuro-full',
      ]);
      const r = await plugin(['sync', 'birch-accuro', '--full', '-n', ns, '--timeout', '4s']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('Blocked - waiting: IntegrationNotReady');
      expect(r.stderr).toMatch(/error: timed out after 4s \(Blocked: /);
    } finally {
      accuro.clearFaults();
      await kubectlOk([
        'annotate',
        '--overwrite',
        '-n',
        ns,
        'emrintegration/birch-accuro',
        'cloudconnect.dev/requestedAt=plugin-recheck-2',
      ]);
    }
    await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, 'emrintegration/birch-accuro']);
  });

  it('exits 1 and says so for an integration that does not exist', async () => {
    const r = await plugin(['sync', 'no-such-integration', '-n', ns]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`EmrIntegration no-such-integration not found in namespace ${ns}`);
  });
});

describe('kubectl cloudconnect card', () => {
  it.each([['text'], ['markdown']])(
    "prints the site's identifiers and where its secrets are kept as %s, with no SEK or credential value",
    async (output) => {
      const { code, stdout, stderr } = await plugin(['card', 'birch', '-n', ns, '-o', output]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const site = await getJson(['get', 'oceansite', 'birch']);
      for (const expected of [
        '5151',
        'Birch Clinic',
        'admin@birch.example.org',
        accuro.tenantId,
        ACCURO_DEV_CREDENTIALS.apiUsername,
        'birch-accuro-creds',
        site.status.encryptionKey.fingerprint,
        `${site.status.encryptionKey.path.replace(/\/sek$/, '')}/relay/birch-accuro`,
      ])
        expect(stdout).toContain(expected);
      for (const secret of [
        sek,
        ACCURO_DEV_CREDENTIALS.apiPassword,
        ACCURO_DEV_CREDENTIALS.clientSecret,
        ACCURO_DEV_CREDENTIALS.subscriptionKey,
      ])
        expect(stdout).not.toContain(secret);
    },
  );

  it('exits 1 naming a site that does not exist', async () => {
    const { code, stderr } = await plugin(['card', 'nowhere', '-n', ns]);
    expect(code).toBe(1);
    expect(stderr).toContain('OceanSite nowhere');
  });
});

describe('kubectl cloudconnect support-bundle', () => {
  const patients = () => Array.from({ length: 12 }, (_, i) => accuro.data.patient(i));

  it('collects the resources, Events and operator logs with no SEK, password or patient name in any file', async () => {
    // Plant what a careless component could have written: an Event quoting the EMR password and the
    // SEK, and log lines with a patient record, the SEK and a password, beside the operator's real log.
    const p0 = patients()[0]!;
    const p1 = patients()[1]!;
    await apply({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `careless-${Date.now()}`, namespace: ns },
      involvedObject: { apiVersion: 'cloudconnect.dev/v1alpha1', kind: 'EmrIntegration', name: 'birch-accuro', namespace: ns },
      reason: 'CarelessComponent',
      type: 'Warning',
      message: `login with ${ACCURO_DEV_CREDENTIALS.apiPassword} failed; key ${sek}`,
      source: { component: 'careless' },
      firstTimestamp: new Date().toISOString(),
      lastTimestamp: new Date().toISOString(),
      count: 1,
    });
    const dir = mkdtempSync(join(tmpdir(), 'cc-plugin-bundle-'));
    const log = join(dir, 'operator.log');
    writeFileSync(
      log,
      [
        operator.output(),
        JSON.stringify({
          level: 'error',
          message: 'record dump',
          patient: { firstName: p0.firstName, lastName: p0.lastName, healthNumber: p0.healthNumber },
        }),
        JSON.stringify({
          level: 'error',
          message: 'record dump',
          records: [{ id: '2', firstName: p1.firstName, lastName: p1.lastName, email: p1.email, phone: p1.phone }],
        }),
        JSON.stringify({ level: 'debug', message: 'imported', sek }),
        `plain text: clientSecret=${ACCURO_DEV_CREDENTIALS.clientSecret} and the key ${sek}`,
        `{"level":"warn","message":"token request with password ${ACCURO_DEV_CREDENTIALS.apiPassword} refused"}`,
      ].join('\n'),
    );
    const archive = join(dir, 'bundle.tar.gz');
    const r = await plugin(['support-bundle', '-n', ns, '-o', archive, '--operator-log', log]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(archive);

    const out = join(dir, 'extracted');
    mkdirSync(out);
    await extractTar({ file: archive, cwd: out });
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d)) {
        const full = join(d, e);
        if (statSync(full).isDirectory()) walk(full);
        else files.push(full);
      }
    };
    walk(out);
    const contents = new Map(files.map((f) => [f.slice(out.length + 1).replace(/^[^/]+\//, ''), readFileSync(f, 'utf8')]));

    // Present: the resources, Secrets as names and keys, Events, the status tree, the logs.
    for (const name of [
      'README.txt',
      'manifest.json',
      'status.txt',
      'events.yaml',
      'resources/oceansites.yaml',
      'resources/emrintegrations.yaml',
      'resources/syncschedules.yaml',
      'resources/jobs.yaml',
      'resources/pods.yaml',
      'resources/secrets.yaml',
      'logs/operator.log',
    ]) {
      expect(contents.has(name), `${name} in ${[...contents.keys()].join(', ')}`).toBe(true);
    }
    expect(contents.get('resources/oceansites.yaml')).toContain('name: birch');
    expect(contents.get('resources/emrintegrations.yaml')).toContain('name: birch-accuro');
    expect(contents.get('resources/syncschedules.yaml')).toContain('name: birch-accuro-full');
    expect(contents.get('resources/jobs.yaml')).toContain('birch-accuro-full-manual-');
    expect(contents.get('resources/secrets.yaml')).toMatch(/name: birch-accuro-creds[\s\S]*- apiPassword/);
    expect(contents.get('events.yaml')).toContain('CarelessComponent');
    expect(contents.get('status.txt')).toContain('EmrIntegration/birch-accuro');
    expect(contents.get('logs/operator.log')).toContain('record dump');

    // Absent, from every file: the SEK, every EMR credential value, every simulated patient's name.
    const leaks = [
      sek,
      ...Object.values(ACCURO_DEV_CREDENTIALS).filter((v) => v.length >= 12),
      ...patients().flatMap((p) => [p.lastName, `${p.firstName} ${p.lastName}`, p.healthNumber, p.email]),
    ];
    for (const [file, text] of contents) for (const leak of leaks) expect(text.includes(leak), `${leak} in ${file}`).toBe(false);
    // and the planted values really were there to leak: the Event and the log carried them.
    expect((await kubectlOk(['get', 'events', '-n', ns, '-o', 'json'])).includes(ACCURO_DEV_CREDENTIALS.apiPassword)).toBe(true);
    expect(readFileSync(log, 'utf8').includes(p0.lastName)).toBe(true);
  });
});

describe('kubectl cloudconnect support-bundle without --operator-log', () => {
  it('finds the operator pods by label and records in manifest.json what it could not read', async () => {
    const label = `it-plugin-operator-${Date.now().toString(36)}`;
    await apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'fake-operator', namespace: ns, labels: { 'app.kubernetes.io/name': label } },
      spec: {
        containers: [{ name: 'manager', image: 'registry.example/cloudconnect-operator:test' }],
        nodeSelector: { type: 'kwok' },
        tolerations: [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }],
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'cc-plugin-bundle2-'));
    const archive = join(dir, 'b.tar.gz');
    const r = await plugin([
      'support-bundle',
      '-n',
      ns,
      '-o',
      archive,
      '--operator-selector',
      `app.kubernetes.io/name=${label}`,
      '--log-lines',
      '100',
    ]);
    expect(r.code, r.stderr).toBe(0);
    await extractTar({ file: archive, cwd: dir });
    const top = readdirSync(dir).find((e) => e.startsWith('cloudconnect-support-'))!;
    const manifest = JSON.parse(readFileSync(join(dir, top, 'manifest.json'), 'utf8')) as {
      namespace: string;
      files: string[];
      problems: string[];
    };
    expect(manifest.namespace).toBe(ns);
    // kwok plays the kubelet and serves no logs: either the log is there or the manifest says why not.
    const logged = manifest.files.includes(`logs/${ns}_fake-operator_manager.log`);
    const explained = manifest.problems.some((p) => p.startsWith(`logs of ${ns}/fake-operator/manager`));
    expect(logged || explained, JSON.stringify(manifest)).toBe(true);
  });

  it('says in manifest.json when no operator pod matches', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cc-plugin-bundle3-'));
    const archive = join(dir, 'b.tar.gz');
    const r = await plugin(['support-bundle', '-n', ns, '-o', archive, '--operator-selector', 'app.kubernetes.io/name=nothing-has-this']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('no operator pods match app.kubernetes.io/name=nothing-has-this');
  });
});

describe('kubectl cloudconnect validate', () => {
  it('finds every example valid by a server-side dry run', async () => {
    await kubectl(['create', 'namespace', 'clinic-maple']);
    const r = await plugin(['validate', '-R', '-f', join(repoRoot, 'examples')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('0 invalid');
    expect(r.stdout).toContain('Checked by a server-side dry run');
    expect(r.stdout).toMatch(/EmrIntegration clinic-maple\/maple-oscar: valid \(server dry run\)/);
    expect(r.stdout).not.toContain('skipped');
  });

  it('rejects every manifest of the invalid corpus with the API server message naming the field', async () => {
    const r = await plugin(['validate', '-f', join(repoRoot, 'test/invalid'), '-n', ns]);
    expect(r.code).toBe(1);
    const sections = r.stdout.split(/^(?=\S.*\.yaml$)/m);
    const files = readdirSync(join(repoRoot, 'test/invalid')).filter((f) => f.endsWith('.yaml'));
    for (const file of files) {
      const section = sections.find((s) => s.startsWith(join(repoRoot, 'test/invalid', file))) ?? '';
      expect(section, file).toContain('INVALID (server dry run)');
      for (const m of readFileSync(join(repoRoot, 'test/invalid', file), 'utf8').matchAll(/^# expect: (.+)$/gm))
        expect(section, file).toContain(m[1]!.trim());
    }
    expect(r.stdout).toContain(`${files.length} documents: 0 valid, ${files.length} invalid`);
  });

  it('falls back to the offline schema check when the cluster cannot be reached, and says what it could not check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cc-plugin-kc-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: gone, cluster: {server: "https://127.0.0.1:1"}}]',
        'users: [{name: u, user: {token: x}}]',
        'contexts: [{name: gone, context: {cluster: gone, user: u}}]',
        'current-context: gone',
        '',
      ].join('\n'),
    );
    const r = await plugin([
      'validate',
      '--kubeconfig',
      kubeconfig,
      '-f',
      join(repoRoot, 'test/invalid/site-number-with-letters.yaml'),
      '-f',
      join(repoRoot, 'test/invalid/emr-oscar-url-trailing-slash.yaml'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('is not reachable');
    expect(r.stdout).toContain('spec.siteNumber: Invalid value: "MAPLE42"');
    expect(r.stdout).toMatch(/emr-oscar-url-trailing-slash: schema OK \(offline, \d+ CEL rules not evaluated\)/);
    expect(r.stdout).toContain('CEL rules (x-kubernetes-validations) cannot be evaluated offline');
  });
});
