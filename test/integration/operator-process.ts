// Runs the operator as its own process (`node operator/main.ts`), as in production, against the
// test control plane; captures everything it prints so tests can assert on (and grep) its logs.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { inject } from 'vitest';
import { operatorVaultEnv } from '../cluster/vault-setup.ts';
import { LOOPBACK_ALLOW_CIDRS } from '../simulators/egress.ts';
import { repoRoot } from './kubectl.ts';
import { freePort } from './ports.ts';

export { freePort };

export interface OperatorProcess {
  child: ChildProcess;
  metricsUrl: string;
  output(): string;
  metrics(): Promise<string>;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/** The operator's own settings (README, "Configuration (environment variables)"), by prefix or name. */
const OPERATOR_SETTING =
  /^(NATS|VAULT|OCEAN|WORKER|RELAY|SMTP|AUDIT|EGRESS|LEASE|SEK|METRICS|WATCH|LEADER|LOG|POD|SHUTDOWN)_|^(KUBECONFIG|WORKERS)$/;

/**
 * The test process's environment without the operator's settings: a shell that sourced
 * `.local/env` (make up: NATS_URL, VAULT_ADDR, VAULT_TOKEN...) must not configure the operators the
 * tests start; each test says what it wants.
 */
function hermeticEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !OPERATOR_SETTING.test(name)));
}

export async function startOperator(env: Record<string, string> = {}, options: { waitReady?: boolean } = {}): Promise<OperatorProcess> {
  const cluster = inject('cluster');
  const port = await freePort();
  let out = '';
  const child = spawn(join(repoRoot, 'node_modules/.bin/node'), ['operator/main.ts'], {
    cwd: repoRoot,
    env: {
      ...hermeticEnv(),
      KUBECONFIG: cluster.kubeconfig,
      VAULT_ADDR: cluster.vaultAddr,
      // As in a cluster: a kubernetes-auth login with the chart's Vault policy, never the root token.
      VAULT_TOKEN: '',
      ...operatorVaultEnv(cluster.operatorVaultTokenFile),
      METRICS_BIND_ADDRESS: `127.0.0.1:${port}`,
      LEADER_ELECT: 'false',
      LEASE_NAMESPACE: 'kube-system',
      LOG_LEVEL: 'debug',
      // The simulators listen on loopback, which the egress sandbox refuses unless allowed (and passes on to the pods).
      EGRESS_ALLOW_CIDRS: LOOPBACK_ALLOW_CIDRS,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const metricsUrl = `http://127.0.0.1:${port}`;
  const proc: OperatorProcess = {
    child,
    metricsUrl,
    output: () => out,
    metrics: async () => (await fetch(`${metricsUrl}/metrics`)).text(),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    waitForLog: async (pattern, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out)) {
        if (Date.now() > deadline) throw new Error(`operator never logged ${pattern}; output:\n${out.slice(-4000)}`);
        if (child.exitCode !== null) throw new Error(`operator exited (${child.exitCode}) before logging ${pattern}:\n${out.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
  if (options.waitReady !== false) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        if ((await fetch(`${metricsUrl}/readyz`)).ok) break;
      } catch {
        // not listening yet
      }
      if (child.exitCode !== null) throw new Error(`operator exited (${child.exitCode}):\n${out}`);
      if (Date.now() > deadline) throw new Error(`operator not ready in 60 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return proc;
}

/** Polls `fn` until it returns a value that is not undefined/false, or fails with the last value. */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Everything a run made visible for a namespace: the operator's output, its metrics, Events and objects. */
export async function everythingWritten(
  operator: OperatorProcess,
  namespace: string,
  kubectlOk: (args: string[]) => Promise<string>,
): Promise<string> {
  return [
    operator.output(),
    await operator.metrics(),
    await kubectlOk(['get', 'events', '-n', namespace, '-o', 'json']),
    await kubectlOk(['get', 'cloudconnect', '-n', namespace, '-o', 'json']),
  ].join('\n');
}
