// Reading a running local control plane from its state dir (written by up.sh): the env file and a
// kubectl bound to its kubeconfig. Shared by the integration tests' setup and the benchmarks.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The `export NAME="value"` lines of STATE_DIR/env. */
export async function readClusterEnv(stateDir: string): Promise<Record<string, string>> {
  const vars: Record<string, string> = {};
  for (const line of (await readFile(join(stateDir, 'env'), 'utf8')).split('\n')) {
    const m = /^export\s+([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) vars[m[1]] = m[2].replace(/^["']|["']$/g, '');
  }
  return vars;
}

/** kubectl of the cluster in `stateDir`; rejects with kubectl's own message. */
export function kubectlFor(stateDir: string): (args: string[], input?: string) => Promise<string> {
  return (args, input) =>
    new Promise<string>((resolve, reject) => {
      const child = execFile(
        join(stateDir, 'bin/kubectl'),
        args,
        { env: { ...process.env, KUBECONFIG: join(stateDir, 'kubeconfig') }, maxBuffer: 1 << 28 },
        (err, out, errOut) => (err ? reject(new Error(`kubectl ${args.join(' ')}: ${errOut}`)) : resolve(out)),
      );
      if (input !== undefined) child.stdin?.end(input);
    });
}
