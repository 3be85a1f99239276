// A kubeconfig that talks to the test cluster as a ServiceAccount (a TokenRequest token), so that an
// operator process runs with exactly the RBAC granted to that account, as its pod would.
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { parse } from 'yaml';
import { kubectlOk } from './kubectl.ts';

/** Writes the kubeconfig (mode 0600, in a fresh temporary directory) and returns its path; checks who it authenticates as. */
export async function serviceAccountKubeconfig(serviceAccount: string, namespace: string): Promise<string> {
  const token = (await kubectlOk(['create', 'token', serviceAccount, '-n', namespace, '--duration=1h'])).trim();
  const admin = parse(readFileSync(inject('cluster').kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, string> }[] };
  const cluster = admin.clusters[0]?.cluster;
  if (!cluster) throw new Error("the test cluster's kubeconfig names no cluster");
  const kubeconfig = join(await mkdtemp(join(tmpdir(), 'sa-kubeconfig-')), 'kubeconfig');
  await writeFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster }],
      users: [{ name: serviceAccount, user: { token } }],
      contexts: [{ name: serviceAccount, context: { cluster: 'c', user: serviceAccount } }],
      'current-context': serviceAccount,
    }),
    { mode: 0o600 },
  );
  const whoami = await kubectlOk(['--kubeconfig', kubeconfig, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
  if (whoami !== `system:serviceaccount:${namespace}:${serviceAccount}`) throw new Error(`the kubeconfig authenticates as ${whoami}`);
  return kubeconfig;
}
