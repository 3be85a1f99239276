// Helpers for tests on the real node: the operator configured for it (the image built here, Vault and
// the simulators on the node's address), a one-off pod of the project's image, and a finished pod's
// exit code and logs (read with kubectl logs, through the kubelet).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { SITE_CONTAINER_SECURITY_CONTEXT, SITE_POD_SECURITY_CONTEXT } from '../../operator/internal/sitepod/site-pod.ts';
import { kubectlOk, repoRoot } from '../integration/kubectl.ts';
import { eventually, type OperatorProcess, startOperator } from '../integration/operator-process.ts';
import { LOOPBACK_ALLOW_CIDRS } from '../simulators/egress.ts';

const run = promisify(execFile);

/** The real node's name (test/cluster/node-lib.sh). */
export const REAL_NODE = 'cc-node-0';

/** The operator, run as in the other tests, with sync and relay pods that the real node can run. */
export function startOperatorForNode(env: Record<string, string> = {}): Promise<OperatorProcess> {
  const cluster = inject('cluster');
  return startOperator({
    WORKER_IMAGE: inject('image'),
    WORKER_VAULT_ADDR: cluster.podVaultAddr,
    // The simulators listen on the node's address (pods reach them there) and on loopback.
    EGRESS_ALLOW_CIDRS: `${LOOPBACK_ALLOW_CIDRS},${cluster.nodeIp}/32`,
    ...env,
  });
}

export interface FinishedPod {
  name: string;
  nodeName: string;
  exitCode: number | undefined;
  reason: string | undefined;
  logs: string;
}

interface PodJson {
  metadata: { name: string };
  spec: { nodeName?: string };
  status: { phase?: string; containerStatuses?: { state?: { terminated?: { exitCode: number; reason?: string } } }[] };
}

/** Waits for the (first) pod matching `selector` to finish; its exit code, reason and logs. */
export async function podExitAndLogs(namespace: string, selector: string, timeoutMs = 240_000): Promise<FinishedPod> {
  const pod = await eventually(
    async () => {
      const pods = JSON.parse(await kubectlOk(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'])).items as PodJson[];
      const done = pods.find((p) => p.status.containerStatuses?.[0]?.state?.terminated);
      return done ?? false;
    },
    `a finished pod with ${selector}`,
    timeoutMs,
  );
  const terminated = pod.status.containerStatuses?.[0]?.state?.terminated;
  const logs = await kubectlOk(['logs', '-n', namespace, pod.metadata.name]);
  return { name: pod.metadata.name, nodeName: pod.spec.nodeName ?? '', exitCode: terminated?.exitCode, reason: terminated?.reason, logs };
}

/**
 * Runs a one-off pod of the project's image as `serviceAccount`, with the site pods' security
 * contexts (site-pod.ts) and a projected `vault`-audience token at /var/run/secrets/vault/token; waits for it to finish.
 */
export async function runPod(
  namespace: string,
  name: string,
  o: { serviceAccount: string; command: string[]; env?: Record<string, string> },
): Promise<FinishedPod> {
  await kubectlOk(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels: { 'e2e.cloudconnect.dev/pod': name } },
      spec: {
        serviceAccountName: o.serviceAccount,
        automountServiceAccountToken: false,
        restartPolicy: 'Never',
        securityContext: SITE_POD_SECURITY_CONTEXT,
        containers: [
          {
            name: 'main',
            image: inject('image'),
            imagePullPolicy: 'IfNotPresent',
            command: o.command,
            env: Object.entries(o.env ?? {}).map(([k, v]) => ({ name: k, value: v })),
            securityContext: SITE_CONTAINER_SECURITY_CONTEXT,
            volumeMounts: [{ name: 'vault-token', mountPath: '/var/run/secrets/vault', readOnly: true }],
          },
        ],
        volumes: [
          {
            name: 'vault-token',
            projected: { sources: [{ serviceAccountToken: { audience: 'vault', expirationSeconds: 600, path: 'token' } }] },
          },
        ],
      },
    }),
  );
  return podExitAndLogs(namespace, `e2e.cloudconnect.dev/pod=${name}`);
}

/** Stops the real node's kubelet and starts it again with its recorded command line (test/cluster/restart-kubelet.sh). */
export async function restartKubelet(): Promise<void> {
  await run(`${repoRoot}/test/cluster/restart-kubelet.sh`, [inject('cluster').stateDir], { maxBuffer: 1 << 24 });
}
