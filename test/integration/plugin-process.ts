// The kubectl plugin as a process running in the background, for commands a person interacts with
// while they run (`kubectl cloudconnect authorize`): its output so far, waiting for a line, its stdin,
// its exit code. Run with the cluster's kubeconfig and the project's Node, as the launcher runs it.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { inject } from 'vitest';
import { LOOPBACK_ALLOW_CIDRS } from '../simulators/egress.ts';
import { repoRoot } from './kubectl.ts';

export interface PluginProcess {
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout + stderr. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  write(text: string): void;
  readonly exited: Promise<number>;
  kill(): void;
}

/**
 * `kubectl cloudconnect ARGS`; the simulators listen on loopback, which the plugin refuses as the
 * operator does unless EGRESS_ALLOW_CIDRS allows it (as a clinic with an on-premises OSCAR would).
 */
export function startPlugin(args: string[], env: Record<string, string> = {}): PluginProcess {
  let out = '';
  let err = '';
  const child = spawn(join(repoRoot, 'node_modules/.bin/node'), [join(repoRoot, 'operator/cmd/plugin/main.ts'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, KUBECONFIG: inject('cluster').kubeconfig, NO_COLOR: '1', EGRESS_ALLOW_CIDRS: LOOPBACK_ALLOW_CIDRS, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  return {
    stdout: () => out,
    stderr: () => err,
    waitFor: async (pattern, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(out + err);
        if (match) return match;
        if (child.exitCode !== null) throw new Error(`the plugin exited (${child.exitCode}) before printing ${pattern}:\n${out}\n${err}`);
        if (Date.now() > deadline) throw new Error(`the plugin never printed ${pattern}:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    write: (text) => void child.stdin.write(text),
    exited,
    kill: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}

/** The authorize URL the command printed. */
export const AUTHORIZE_URL = /https:\/\/\S+\/ws\/oauth\/authorize\?oauth_token=\S+/;
