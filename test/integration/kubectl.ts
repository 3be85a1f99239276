// Runs the kubectl built for the local control plane against it, the way a user would.
import { type ExecFileException, execFile } from 'node:child_process';
import { join } from 'node:path';
import { inject } from 'vitest';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A finished child's exit code: 0 without an error, its own code, or 1 when it has none (a signal). */
export function exitCodeOf(error: ExecFileException | null): number {
  if (!error) return 0;
  return typeof error.code === 'number' ? error.code : 1;
}

export function kubectl(args: string[], stdin?: string): Promise<KubectlResult> {
  const cluster = inject('cluster');
  return new Promise((resolve) => {
    const child = execFile(
      join(cluster.binDir, 'kubectl'),
      args,
      { env: { ...process.env, KUBECONFIG: cluster.kubeconfig }, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: exitCodeOf(error), stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

/** kubectl that must succeed; the error carries kubectl's own message. */
export async function kubectlOk(args: string[], stdin?: string): Promise<string> {
  const result = await kubectl(args, stdin);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

export const repoRoot = new URL('../..', import.meta.url).pathname;
