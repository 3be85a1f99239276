// The demo that `make up` applies (test/local/demo/), on the test control plane: the demo
// simulators run as their own process over https with a CA made at start, the demo clinic is
// applied as make up applies it (Secrets from memory), and the operator, run as in
// production with NATS, turns every demo integration (one per EMR type) Authenticated and Ready
// (None, which has no EMR: Ready).
// The send path is checked end to end too: the relay targets resolved from the cluster and Vault
// (ClusterIP URL, header, key), and the simulated Ocean posting through the launcher's control
// socket to a real relay process (relay-harness.ts; kwok runs no relay pod): delivered with the
// key, refused without it.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_API_KEY_HEADER } from '../../operator/cmd/relay/webhook-guard.ts';
import { applyDemo } from '../local/demo/apply.ts';
import { controlRequest, type SendResult } from '../local/demo/control.ts';
import { credentialSecrets, readCredentials } from '../local/demo/credentials.ts';
import { localAccess } from '../local/demo/kube.ts';
import { DEMO_NAMESPACE, DEMO_SITE, demoPaths } from '../local/demo/layout.ts';
import { integrationReadiness } from '../local/demo/readiness.ts';
import { resolveTargets } from '../local/demo/send.ts';
import { importSecretState } from './fixtures.ts';
import { kubectl, kubectlOk, repoRoot } from './kubectl.ts';
import { type NatsServer, startNatsServer } from './nats.ts';
import { eventually, type OperatorProcess, startOperator } from './operator-process.ts';
import { type RelayHarness, startRelayHarness } from './relay-harness.ts';
import { vaultRequest } from './vault.ts';

const localDir = mkdtempSync(join(tmpdir(), 'cc-demo-local-'));
const paths = demoPaths(localDir);
let launcher: ChildProcess | undefined;
let launcherOut = '';
let nats: NatsServer;
let operator: OperatorProcess;
let relay: RelayHarness | undefined;

/** The local state make up leaves: .local/env and .local/bin/kubectl, for the test cluster. */
function fakeLocalDir(): void {
  const cluster = inject('cluster');
  mkdirSync(join(localDir, 'bin'), { recursive: true });
  symlinkSync(join(cluster.binDir, 'kubectl'), join(localDir, 'bin/kubectl'));
  const env = { KUBECONFIG: cluster.kubeconfig, VAULT_ADDR: cluster.vaultAddr, VAULT_TOKEN: cluster.vaultToken };
  writeFileSync(
    join(localDir, 'env'),
    Object.entries(env)
      .map(([k, v]) => `export ${k}="${v}"\n`)
      .join(''),
    { mode: 0o600 },
  );
}

async function startLauncher(): Promise<void> {
  const base = 40_000 + Math.floor(Math.random() * 20_000);
  launcher = spawn(
    join(repoRoot, 'node_modules/.bin/node'),
    ['test/local/demo/simulators.ts', '--local', localDir, '--port-base', String(base)],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  launcher.stdout?.on('data', (d: Buffer) => (launcherOut += d.toString()));
  launcher.stderr?.on('data', (d: Buffer) => (launcherOut += d.toString()));
  await eventually(async () => /^READY=1$/m.test(launcherOut) || launcher?.exitCode !== null, 'the demo simulators READY', 30_000);
  if (!/^READY=1$/m.test(launcherOut)) throw new Error(`the demo simulators did not start:\n${launcherOut}`);
}

/** Deletes the demo namespace (a left-over one too) and waits until it is gone: the operator must run, for the OceanSite's finalizer. */
async function deleteDemoNamespace(): Promise<void> {
  await kubectl(['delete', 'namespace', DEMO_NAMESPACE, '--ignore-not-found', '--wait=false']);
  await eventually(
    async () => (await kubectl(['get', 'namespace', DEMO_NAMESPACE])).stderr.includes('NotFound'),
    `namespace ${DEMO_NAMESPACE} gone`,
    180_000,
  );
}

beforeAll(async () => {
  // The demo namespace has a fixed name: never clean it in the cluster `make up` runs (someone's demo).
  if (inject('cluster').stateDir.startsWith(join(repoRoot, '.local'))) throw new Error('CLOUDCONNECT_TEST_CLUSTER is the make up cluster');
  fakeLocalDir();
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`]);
  await startLauncher();
  nats = await startNatsServer();
  const sims = JSON.parse(readFileSync(paths.simulatorsFile, 'utf8')) as { urls: { ocean: string } };
  operator = await startOperator({
    ...(await nats.operatorEnv()),
    RELAY_IMAGE: 'registry.example.org/cloudconnect:demo-test',
    OCEAN_API_URL: sims.urls.ocean,
    // The demo clinic only, as make up's operator sees it; not what earlier test files left behind.
    WATCH_NAMESPACES: DEMO_NAMESPACE,
  });
  await deleteDemoNamespace();
  await vaultRequest('DELETE', `secret/metadata/cloudconnect/${DEMO_NAMESPACE}/${DEMO_SITE}/sek`);
});

afterAll(async () => {
  await relay?.dispose();
  await deleteDemoNamespace();
  await operator?.stop();
  await nats?.dispose();
  launcher?.kill('SIGTERM');
  rmSync(localDir, { recursive: true, force: true });
});

describe('the make up demo', () => {
  it('turns every demo integration, one per EMR type, Authenticated and Ready over https with the demo CA', async () => {
    const { kubectl: k } = localAccess(localDir);
    expect(await applyDemo(localDir, k)).toEqual({ resources: 9, secrets: 8 });
    const rows = await eventually(
      async () => {
        const r = integrationReadiness(JSON.parse(await kubectlOk(['get', 'emrintegrations', '-n', DEMO_NAMESPACE, '-o', 'json'])));
        if (r.length === 6 && r.every((x) => x.ok)) return r;
        throw new Error(r.map((x) => `${x.name}: ${x.detail}`).join('; '));
      },
      'every demo integration Authenticated and Ready',
      150_000,
    );
    expect(rows.map((r) => r.type).sort()).toEqual(['Accuro', 'FHIR', 'MedAccess', 'None', 'OSCARPro', 'PSSuite']);
    const list = JSON.parse(await kubectlOk(['get', 'emrintegrations', '-n', DEMO_NAMESPACE, '-o', 'json'])) as {
      items: { spec: { emr: Record<string, { apiUrl?: string; serverUrl?: string; baseUrl?: string } | string> } }[];
    };
    const urls = list.items.flatMap((i) =>
      Object.values(i.spec.emr).flatMap((v) => (typeof v === 'object' ? [v.apiUrl, v.serverUrl, v.baseUrl].filter(Boolean) : [])),
    );
    expect(urls).toHaveLength(5);
    for (const url of urls) expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+/);
  }, 200_000);

  it('is applied again without a second SEK import, and writes no credential to disk', async () => {
    await eventually(async () => (await importSecretState(DEMO_NAMESPACE, 'demo-sek-import')) === 'emptied', 'the SEK imported');
    await applyDemo(localDir, localAccess(localDir).kubectl);
    expect(await importSecretState(DEMO_NAMESPACE, 'demo-sek-import')).toBe('emptied');
    const onDisk = readFileSync(paths.manifestsFile, 'utf8');
    const secrets = credentialSecrets(readCredentials(paths.credentialsFile));
    expect(secrets).toHaveLength(13);
    for (const value of secrets) expect(onDisk).not.toContain(value);
    expect(onDisk).toContain('kind: EmrIntegration');
    expect(onDisk).not.toMatch(/kind: Secret/);
  });

  it("finds each relay's ClusterIP webhook URL, header and key where the operator keeps them", async () => {
    const access = localAccess(localDir);
    const { targets, skipped } = await eventually(async () => {
      const r = await resolveTargets(access);
      return r.targets.length === 5 ? r : undefined;
    }, 'a relay Service and a webhook key for each of the five EMR integrations');
    expect(skipped).toEqual([]);
    for (const t of targets) {
      const [ns, name] = t.integration.split('/') as [string, string];
      const ip = (await kubectlOk(['get', 'service', `${name}-relay`, '-n', ns, '-o', 'jsonpath={.spec.clusterIP}'])).trim();
      expect(t.url).toBe(`http://${ip}:80/ocean/webhook`);
      expect(t.headerName).toBe(DEFAULT_API_KEY_HEADER);
      const record = await vaultRequest('GET', `secret/data/cloudconnect/${ns}/${DEMO_SITE}/relay/${name}`);
      expect(t.key).toBe(record.json?.data?.data?.['current']);
    }
  });

  it('has the simulated Ocean deliver to a real relay with the key, and be refused without it', async () => {
    relay = await startRelayHarness({ namespace: 'local-demo-relay' });
    await relay.startRelay();
    const target = {
      integration: 'local-demo-relay/relay',
      type: 'Accuro' as const,
      url: relay.webhookUrl,
      headerName: DEFAULT_API_KEY_HEADER,
    };
    const send = (key: string) =>
      controlRequest<{ results: SendResult[] }>(paths.controlSocket, '/send', { targets: [{ ...target, key }], count: 3 });
    const ok = (await send(relay.webhookKey.current)).results;
    expect(ok.map((r) => [r.messageType, r.delivered, r.status])).toEqual([
      ['eFormNote', true, 202],
      ['referralAttachment', true, 202],
      // Every adapter applies demographic updates (Accuro too), so the demo's third message is one.
      ['demographicUpdate', true, 202],
    ]);
    const refused = (await send('not-the-key')).results;
    expect(refused.map((r) => [r.delivered, r.status])).toEqual([
      [false, 401],
      [false, undefined],
      [false, undefined],
    ]);
    expect(launcherOut).not.toContain(relay.webhookKey.current);
  });
});
