// What the eReferral tests share: a clinic without an integrated EMR (an OceanSite with its SEK
// imported, an EmrIntegration of type None with spec.eReferral.forward to a referral target over
// https, its credentials and CA Secrets) applied to the shared cluster, the real operator making its
// relay Deployment, and the relay run as the kubelet would run that Deployment's container: its
// command, args and env as the operator wrote them, the mounted Secrets as files, and a projected
// `vault`-audience token of the site's ServiceAccount for its Vault login (kwok runs no pod).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apply, importedSite } from './fixtures.ts';
import { kubectlOk, repoRoot } from './kubectl.ts';
import { eventually } from './operator-process.ts';
import { freePort } from './ports.ts';
import { vaultRequest } from './vault.ts';

export interface Clinic {
  namespace: string;
  site: string;
  integration: string;
  /** The webhook key the operator generated into Vault (what Ocean is given). */
  key(): Promise<string>;
}

/** Applies a non-integrated clinic whose eReferral bundles go to `targetUrl` with a Bearer `token`, trusting `ca`. */
export async function applyClinic(o: {
  namespace: string;
  site: string;
  siteNumber: string;
  targetUrl: string;
  token: string;
  ca: string;
  /** The credentialsSecretRef as given (default: the clinic's own Secret). */
  secretRef?: Record<string, string>;
}): Promise<Clinic> {
  const integration = `${o.site}-ereferral`;
  await kubectlOk(['create', 'namespace', o.namespace]).catch(() => undefined);
  for (const obj of importedSite({
    namespace: o.namespace,
    name: o.site,
    siteNumber: o.siteNumber,
    sek: randomBytes(32).toString('base64'),
  }))
    await apply(obj);
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'referral-target', namespace: o.namespace },
    stringData: { token: o.token },
  });
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'referral-ca', namespace: o.namespace },
    stringData: { 'ca.crt': o.ca },
  });
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name: integration, namespace: o.namespace },
    spec: {
      siteRef: { name: o.site },
      emr: { type: 'None' },
      eReferral: {
        forward: {
          url: o.targetUrl,
          credentialsSecretRef: o.secretRef ?? { name: 'referral-target' },
          caBundleSecretRef: { name: 'referral-ca' },
        },
      },
    },
  });
  return {
    namespace: o.namespace,
    site: o.site,
    integration,
    key: async () =>
      eventually(async () => {
        const r = await vaultRequest('GET', `secret/data/cloudconnect/${o.namespace}/${o.site}/relay/${integration}`);
        return r.status === 200 ? (r.json?.data?.data?.current as string | undefined) : undefined;
      }, 'the webhook key in Vault'),
  };
}

interface Container {
  command: string[];
  args: string[];
  env: { name: string; value?: string }[];
}

export interface RelayPod {
  url: string;
  metricsUrl: string;
  child: ChildProcess;
  logs(): string;
  stop(): Promise<void>;
}

/** Runs the relay of `clinic` as its Deployment's pod would run, with `override` applied to its env. */
export async function runRelayPod(clinic: Clinic, override: Record<string, string | undefined> = {}): Promise<RelayPod> {
  const { namespace, integration, site } = clinic;
  const deployment = await eventually(async () => {
    const text = await kubectlOk(['get', 'deployment', `${integration}-relay`, '-n', namespace, '-o', 'json']).catch(() => '');
    return text ? (JSON.parse(text) as { spec: { template: { spec: { containers: Container[] } } } }) : undefined;
  }, 'the relay Deployment').catch(async (error: unknown) => {
    // Say why: the integration's conditions as the operator last wrote them.
    const status = await kubectlOk(['get', 'emrintegration', integration, '-n', namespace, '-o', 'jsonpath={.status.conditions}']).catch(
      () => '',
    );
    throw new Error(`${(error as Error).message}; conditions: ${status}`);
  });
  const container = deployment.spec.template.spec.containers[0];
  if (!container) throw new Error('the relay Deployment has no container');
  const dir = await mkdtemp(join(tmpdir(), 'cc-relay-pod-'));
  const secretFiles = async (name: string, into: string) => {
    await mkdir(into);
    const data = JSON.parse(await kubectlOk(['get', 'secret', name, '-n', namespace, '-o', 'jsonpath={.data}'])) as Record<string, string>;
    for (const [k, v] of Object.entries(data)) await writeFile(join(into, k), Buffer.from(v, 'base64'));
  };
  await secretFiles('referral-target', join(dir, 'ereferral'));
  await secretFiles('referral-ca', join(dir, 'ereferral-ca'));
  const token = (await kubectlOk(['create', 'token', site, '-n', namespace, '--audience', 'vault', '--duration', '10m'])).trim();
  await writeFile(join(dir, 'token'), token);
  const port = await freePort();
  const metricsPort = await freePort();
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  for (const e of container.env) if (e.value !== undefined) env[e.name] = e.value;
  Object.assign(env, {
    VAULT_SA_TOKEN_FILE: join(dir, 'token'),
    CLOUDCONNECT_EREFERRAL_CREDENTIALS_DIR: join(dir, 'ereferral'),
    CLOUDCONNECT_EREFERRAL_CA_BUNDLE_FILE: join(dir, 'ereferral-ca', 'ca.crt'),
    RELAY_PORT: String(port),
    RELAY_METRICS_PORT: String(metricsPort),
    RELAY_HOST: '127.0.0.1',
    RELAY_STATUS_INTERVAL_SECONDS: '1',
  });
  for (const [k, v] of Object.entries(override)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const [program, ...rest] = container.command;
  // The image's node is /nodejs/bin/node; here the repository's pinned one runs the same file.
  const args = [...(program?.endsWith('/node') ? rest : container.command), ...container.args];
  let out = '';
  const child = spawn(join(repoRoot, 'node_modules/.bin/node'), args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`the relay exited (${child.exitCode}):\n${out.slice(-3000)}`);
      return (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.ok;
    },
    'the relay ready',
    90_000,
  );
  return {
    url: `http://127.0.0.1:${port}/ocean/fhir_bundles`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    child,
    logs: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
