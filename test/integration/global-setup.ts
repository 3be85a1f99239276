// Starts the real local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok,
// Vault) for the integration tests and stops it afterwards (test/e2e/global-setup.ts does the same
// with a real node). Uses its own state dir and ports so it
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
  /** `kwok` (a fake node) or `real` (kubelet + containerd: the e2e project). */
  node: 'kwok' | 'real';
  /** The real node's address (the bridge), where pods reach Vault, NATS and the simulators; '' on kwok. */
  nodeIp: string;
  /** Vault as the pods reach it (the node address on a real node). */
  podVaultAddr: string;
  /** containerd's socket of the real node; '' on kwok. */
  containerdAddress: string;
  stateDir: string;
  kubeconfig: string;
  vaultAddr: string;
  /** Vault's root token: for the tests themselves (an administrator's reads), never for the operator. */
  vaultToken: string;
  /** The operator's kubernetes-auth token (role cloudconnect-operator, the chart's Vault policy). */
  operatorVaultTokenFile: string;
  binDir: string;
}

export interface ClusterOptions {
  /** The variable naming a running cluster's state dir to reuse instead of starting one. */
  reuseVariable: string;
  portBase: string;
  node: 'kwok' | 'real';
  label: string;
}

/** Starts (or reuses) a local control plane, sets Vault up as an administrator would, and describes it. */
export async function startCluster(o: ClusterOptions): Promise<{ cluster: ClusterEnv; stop: () => Promise<void> }> {
  const reuse = process.env[o.reuseVariable] || undefined;
  const stateDir = reuse ?? (await mkdtemp(join(tmpdir(), `cloudconnect-${o.label}-`)));
  if (!reuse) {
    process.stderr.write(`[${o.label}] starting the local control plane (${o.node} node) in ${stateDir}\n`);
    const child = execFile(join(root, 'test/cluster/up.sh'), [stateDir], {
      env: { ...process.env, CLUSTER_PORT_BASE: o.portBase, CLUSTER_NODE: o.node },
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
    node: env.CLUSTER_NODE === 'real' ? 'real' : 'kwok',
    nodeIp: env.CLUSTER_NODE_IP ?? '',
    podVaultAddr: env.VAULT_NODE_ADDR ?? env.VAULT_ADDR ?? '',
    containerdAddress: env.CONTAINERD_ADDRESS ?? '',
    stateDir,
    kubeconfig: join(stateDir, 'kubeconfig'),
    vaultAddr: env.VAULT_ADDR ?? '',
    vaultToken: env.VAULT_TOKEN ?? '',
    operatorVaultTokenFile,
    binDir: join(stateDir, 'bin'),
  };
  const stop = async () => {
    if (reuse) return;
    process.stderr.write(`[${o.label}] stopping the local control plane\n`);
    await run(join(root, 'test/cluster/down.sh'), [stateDir]);
  };
  return { cluster, stop };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { cluster, stop } = await startCluster({
    reuseVariable: 'CLOUDCONNECT_TEST_CLUSTER',
    portBase: process.env.CLUSTER_PORT_BASE ?? '26000',
    node: 'kwok',
    label: 'integration',
  });
  project.provide('cluster', cluster);
  return stop;
}
