// Writes Cloud Connect's Vault identities into a local Vault the way an administrator does once per
// Vault (the chart's NOTES.txt prints the same): the operator's policy and kubernetes-auth role, bound to
// ServiceAccount cloudconnect-system/cloudconnect-operator, and the one sync role with its templated
// policy. Then it writes the projected token that a pod of that ServiceAccount would get (audience
// vault) to a file, so a local operator process logs in exactly as in a cluster, never with the root
// token. Idempotent. Used by the integration tests' setup and by `make up` (test/local/up.sh):
//   node test/cluster/vault-setup.ts STATE_DIR TOKEN_FILE
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_SYNC_ROLE, operatorPolicy, SYNC_POLICY, syncPolicy, syncRoleBody } from '../../operator/internal/vault/policies.ts';
import { readClusterEnv } from './state.ts';

const OPERATOR_NAMESPACE = 'cloudconnect-system';
const OPERATOR_SERVICE_ACCOUNT = 'cloudconnect-operator';
const OPERATOR_ROLE = 'cloudconnect-operator';

export interface VaultSetup {
  stateDir: string;
  /** Where the operator's projected-style token goes (mode 0600). */
  tokenFile: string;
  kvMount?: string;
  authMount?: string;
}

/** The env a local operator process needs to log in as the chart's role (instead of VAULT_TOKEN). */
export function operatorVaultEnv(tokenFile: string): Record<string, string> {
  return { VAULT_ROLE: OPERATOR_ROLE, VAULT_AUTH_MOUNT: 'kubernetes', VAULT_SA_TOKEN_FILE: tokenFile, VAULT_SYNC_ROLE: DEFAULT_SYNC_ROLE };
}

export async function setUpVault(setup: VaultSetup): Promise<void> {
  const env = await readClusterEnv(setup.stateDir);
  const kvMount = setup.kvMount ?? 'secret';
  const authMount = setup.authMount ?? 'kubernetes';
  const vault = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${env.VAULT_ADDR}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Token': env.VAULT_TOKEN ?? '', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Vault ${method} ${path}: HTTP ${res.status} ${text}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
  const kubectlEnv = { ...process.env, KUBECONFIG: join(setup.stateDir, 'kubeconfig') };
  const kubectl = (args: string[], input?: string) =>
    new Promise<string>((resolve, reject) => {
      const child = execFile(join(setup.stateDir, 'bin/kubectl'), args, { env: kubectlEnv }, (error, out, errOut) =>
        error ? reject(new Error(`kubectl ${args.join(' ')}: ${errOut}`)) : resolve(out),
      );
      if (input !== undefined) child.stdin?.end(input);
    });

  const mounts = (await vault('GET', 'sys/auth')) as Record<string, { accessor?: string }>;
  const accessor = mounts[`${authMount}/`]?.accessor;
  if (!accessor) throw new Error(`Vault has no auth mount ${authMount}/`);
  await vault('PUT', `sys/policies/acl/${OPERATOR_ROLE}`, { policy: operatorPolicy(kvMount) });
  await vault('PUT', `sys/policies/acl/${SYNC_POLICY}`, { policy: syncPolicy(kvMount, accessor) });
  await vault('POST', `auth/${authMount}/role/${OPERATOR_ROLE}`, {
    bound_service_account_names: [OPERATOR_SERVICE_ACCOUNT],
    bound_service_account_namespaces: [OPERATOR_NAMESPACE],
    audience: 'vault',
    token_policies: [OPERATOR_ROLE],
    token_ttl: '15m',
  });
  await vault('POST', `auth/${authMount}/role/${DEFAULT_SYNC_ROLE}`, syncRoleBody('vault'));

  const manifest = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NAMESPACE } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: OPERATOR_SERVICE_ACCOUNT, namespace: OPERATOR_NAMESPACE } },
  ];
  for (const object of manifest) await kubectl(['apply', '-f', '-'], JSON.stringify(object));
  const token = await kubectl([
    'create',
    'token',
    OPERATOR_SERVICE_ACCOUNT,
    '-n',
    OPERATOR_NAMESPACE,
    '--audience',
    'vault',
    '--duration',
    '168h',
  ]);
  await writeFile(setup.tokenFile, token.trim(), { mode: 0o600 });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [stateDir, tokenFile] = process.argv.slice(2);
  if (!stateDir || !tokenFile) {
    console.error('usage: node test/cluster/vault-setup.ts STATE_DIR TOKEN_FILE');
    process.exit(2);
  }
  await setUpVault({ stateDir, tokenFile });
  console.log(`Vault: operator role ${OPERATOR_ROLE} and sync role ${DEFAULT_SYNC_ROLE} written; operator token in ${tokenFile}`);
}
