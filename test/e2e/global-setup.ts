// The e2e project: a local control plane with a REAL node (kubelet + containerd + runc, CNI bridge,
// kube-proxy; test/cluster/node-up.sh) instead of kwok, and the project's image built here and
// imported into the node's containerd, so that sync and relay pods run for real. One real node per
// machine: its files run one at a time on one cluster. CLOUDCONNECT_E2E_CLUSTER=<state dir> reuses one.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { startCluster } from '../integration/global-setup.ts';
import { repoRoot } from '../integration/kubectl.ts';
import { operatorImageOnNode } from './image.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** test/cluster/host-state.sh as it printed before the cluster started ('' when a running cluster is reused). */
    hostStateBefore: string;
    /** The project's image in the node's containerd (imagePullPolicy IfNotPresent finds it). */
    image: string;
  }
}

const run = promisify(execFile);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const reused = Boolean(process.env.CLOUDCONNECT_E2E_CLUSTER);
  const hostStateBefore = reused ? '' : (await run(`${repoRoot}/test/cluster/host-state.sh`)).stdout;
  const { cluster, stop } = await startCluster({
    reuseVariable: 'CLOUDCONNECT_E2E_CLUSTER',
    portBase: process.env.CLUSTER_E2E_PORT_BASE ?? '28000',
    node: 'real',
    label: 'e2e',
  });
  try {
    const image = await operatorImageOnNode(cluster.containerdAddress);
    project.provide('cluster', cluster);
    project.provide('image', image);
    project.provide('hostStateBefore', hostStateBefore);
  } catch (error) {
    await stop();
    throw error;
  }
  return stop;
}
