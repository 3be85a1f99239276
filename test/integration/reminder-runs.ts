// Reminders runs as the kubelet would run them (kwok runs no pod): the run Jobs of a schedule, and
// the worker command of one run with exactly its pod's environment and the credentials Secret as files.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitCodeOf, kubectlOk, repoRoot } from './kubectl.ts';

interface Container {
  args: string[];
  env: { name: string; value: string }[];
}

export interface RunJob {
  name: string;
  scheduledTime: string;
  container: Container;
}

const getJson = async (namespace: string, args: string[]) => JSON.parse(await kubectlOk([...args, '-n', namespace, '-o', 'json']));

/** The run Jobs of `schedule`, created by the operator. */
export async function runJobs(namespace: string, schedule: string): Promise<RunJob[]> {
  const items = (await getJson(namespace, ['get', 'jobs', '-l', `cloudconnect.dev/schedule=${schedule}`])).items as {
    metadata: { name: string; annotations: Record<string, string> };
    spec: { template: { spec: { containers: Container[] } } };
  }[];
  return items.map((j) => ({
    name: j.metadata.name,
    scheduledTime: j.metadata.annotations['cloudconnect.dev/scheduled-time'] ?? '',
    container: j.spec.template.spec.containers[0] as Container,
  }));
}

export interface PodRun {
  code: number;
  result: Record<string, unknown>;
  /** The termination message, as the kubelet would put it in the pod status. */
  message: string;
  /** The worker's stdout and stderr (its log). */
  output: string;
}

/** Runs the worker of `run` with its pod's environment, `secret` (the EMR credentials Secret) as files and `ca` as the EMR's CA. */
export async function runAsPod(namespace: string, run: RunJob, secret: string, ca: string): Promise<PodRun> {
  const dir = mkdtempSync(join(tmpdir(), 'cc-rem-pod-'));
  const creds = join(dir, 'emr');
  mkdirSync(creds);
  const data = (await getJson(namespace, ['get', 'secret', secret])).data as Record<string, string>;
  for (const [k, v] of Object.entries(data)) writeFileSync(join(creds, k), Buffer.from(v, 'base64'));
  writeFileSync(join(dir, 'ca.crt'), ca);
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', TERMINATION_MESSAGE_PATH: join(dir, 'termination-log') };
  for (const e of run.container.env) env[e.name] = e.value;
  env.CLOUDCONNECT_CREDENTIALS_DIR = creds;
  env.CLOUDCONNECT_CA_BUNDLE_FILE = join(dir, 'ca.crt');
  env.VAULT_SA_TOKEN_FILE = join(dir, 'no-token'); // a Reminders run reads nothing from Vault
  return execWorker(run, env, dir);
}

/**
 * Runs the worker of a site's reminders run (spec.siteRef): no EMR Secret; the site's Ocean Secret
 * `oceanSecret` as files where the pod mounts it, and a `vault`-audience token of the pod's
 * ServiceAccount, with which the worker logs in to Vault and reads the site's SEK as a sync run does.
 */
export async function runSiteAsPod(namespace: string, run: RunJob, oceanSecret: string, serviceAccount: string): Promise<PodRun> {
  const dir = mkdtempSync(join(tmpdir(), 'cc-rem-site-pod-'));
  const ocean = join(dir, 'ocean');
  mkdirSync(ocean);
  const data = (await getJson(namespace, ['get', 'secret', oceanSecret])).data as Record<string, string>;
  for (const [k, v] of Object.entries(data)) writeFileSync(join(ocean, k), Buffer.from(v, 'base64'));
  const token = (await kubectlOk(['create', 'token', serviceAccount, '-n', namespace, '--audience', 'vault', '--duration', '10m'])).trim();
  writeFileSync(join(dir, 'token'), token);
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', TERMINATION_MESSAGE_PATH: join(dir, 'termination-log') };
  for (const e of run.container.env) env[e.name] = e.value;
  env.CLOUDCONNECT_OCEAN_CREDENTIALS_DIR = ocean;
  env.VAULT_SA_TOKEN_FILE = join(dir, 'token');
  return execWorker(run, env, dir);
}

function execWorker(run: RunJob, env: Record<string, string>, dir: string): Promise<PodRun> {
  return new Promise((resolve) => {
    execFile(
      join(repoRoot, 'node_modules/.bin/node'),
      ['operator/worker/main.ts', ...run.container.args],
      { cwd: repoRoot, env, maxBuffer: 1 << 26 },
      (error, stdout, stderr) => {
        const message = readFileSync(join(dir, 'termination-log'), 'utf8');
        resolve({ code: exitCodeOf(error), result: JSON.parse(message), message, output: String(stdout) + String(stderr) });
      },
    );
  });
}
