// kubectl and Vault as `make up` left them: .local/kubeconfig, .local/bin/kubectl, and the Vault
// address and administrator token of .local/env (the demo acts as the platform administrator).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readEnvFile } from './layout.ts';

export type Kubectl = (args: string[], stdin?: string) => Promise<string>;

export interface LocalAccess {
  kubectl: Kubectl;
  /** GET of a Vault API path (`v1/...` left out); undefined when absent. */
  vaultRead(path: string): Promise<Record<string, unknown> | undefined>;
  env: Record<string, string>;
}

function kubectlAt(kubectlBin: string, kubeconfig: string): Kubectl {
  return (args, stdin) =>
    new Promise((resolve, reject) => {
      const child = execFile(
        kubectlBin,
        args,
        { env: { ...process.env, KUBECONFIG: kubeconfig }, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`kubectl ${args.slice(0, 3).join(' ')} failed: ${String(stderr).trim() || error.message}`));
          else resolve(String(stdout));
        },
      );
      if (stdin !== undefined) child.stdin?.end(stdin);
    });
}

function vaultReader(addr: string, token: string): LocalAccess['vaultRead'] {
  return async (path) => {
    const res = await fetch(`${addr}/v1/${path}`, { headers: { 'X-Vault-Token': token }, signal: AbortSignal.timeout(10_000) });
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`Vault answered ${res.status} for ${path.split('/').slice(0, 2).join('/')}/...`);
    return (await res.json()) as Record<string, unknown>;
  };
}

export function localAccess(localDir: string): LocalAccess {
  const envFile = join(localDir, 'env');
  if (!existsSync(envFile)) throw new Error(`${envFile} is missing: run make up first`);
  const env = readEnvFile(envFile);
  const kubectlBin = existsSync(join(localDir, 'bin/kubectl')) ? join(localDir, 'bin/kubectl') : 'kubectl';
  const vaultAddr = env['VAULT_ADDR'] ?? '';
  const vaultToken = env['VAULT_TOKEN'] ?? '';
  return {
    kubectl: kubectlAt(kubectlBin, env['KUBECONFIG'] ?? join(localDir, 'kubeconfig')),
    vaultRead: vaultReader(vaultAddr, vaultToken),
    env,
  };
}
