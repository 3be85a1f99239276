// Starts the real local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok,
// Vault) for the integration tests and stops it afterwards. Uses its own state dir and ports so it
// never touches a `make up` cluster. CLOUDCONNECT_TEST_CLUSTER=<state dir> reuses a running one.
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { readClusterEnv } from '../cluster/state.ts';
import { setUpVault } from '../cluster/vault-setup.ts';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterEnv;
  }
}

export interface ClusterEnv {
  stateDir: string;
  kubeconfig: string;
  vaultAddr: string;
  /** Vault's root token: for the tests themselves (an administrator's reads), never for the operator. */
  vaultToken: string;
  /** The operator's kubernetes-auth token (role cloudconnect-operator, the chart's Vault policy). */
  operatorVaultTokenFile: string;
  binDir: string;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const reuse = process.env.CLOUDCONNECT_TEST_CLUSTER;
  const stateDir = reuse ?? (await mkdtemp(join(tmpdir(), 'cloudconnect-it-')));
  if (!reuse) {
    process.stderr.write(`[integration] starting the local control plane in ${stateDir}\n`);
    const child = execFile(join(root, 'test/cluster/up.sh'), [stateDir], {
      env: { ...process.env, CLUSTER_PORT_BASE: process.env.CLUSTER_PORT_BASE ?? '26000' },
      maxBuffer: 64 * 1024 * 1024,
    });
    child.stdout?.pipe(process.stderr);
    child.stderr?.pipe(process.stderr);
    await new Promise<void>((resolve, reject) => {
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`test/cluster/up.sh exited with ${code}`))));
    });
  }
  const env = await readClusterEnv(stateDir);
  // Vault as an administrator sets it up for Cloud Connect (NOTES.txt): the operator runs with its policy.
  const operatorVaultTokenFile = join(stateDir, 'operator-vault-token');
  await setUpVault({ stateDir, tokenFile: operatorVaultTokenFile });
  const cluster: ClusterEnv = {
    stateDir,
    kubeconfig: join(stateDir, 'kubeconfig'),
    vaultAddr: env.VAULT_ADDR ?? '',
    vaultToken: env.VAULT_TOKEN ?? '',
    operatorVaultTokenFile,
    binDir: join(stateDir, 'bin'),
  };
  project.provide('cluster', cluster);
  return async () => {
    if (reuse) return;
    process.stderr.write('[integration] stopping the local control plane\n');
    await run(join(root, 'test/cluster/down.sh'), [stateDir]);
  };
}
