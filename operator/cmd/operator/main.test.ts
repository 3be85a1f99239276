import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs `node operator/main.ts` with only `env`; nothing here reaches a cluster (the configuration is refused first). */
function operator(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['operator/main.ts'],
      { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 },
      (_e, _out, stderr) => resolve({ code: child.exitCode, stderr }),
    );
  });
}

describe.concurrent('the operator process', () => {
  it.each([
    [
      'exits 1 naming WORKERS=abc instead of starting',
      { WORKERS: 'abc' },
      /WORKERS must be an integer from 1 to 1000 \(got WORKERS=\\"abc\\"\)/,
    ],
    [
      'exits 1 naming every bad variable, LOG_LEVEL included',
      { LOG_LEVEL: 'loud', LEADER_ELECT: 'no' },
      /LEADER_ELECT must be true or false; LOG_LEVEL must be one of/,
    ],
  ])(
    '%s',
    async (_name, env, message) => {
      const { code, stderr } = await operator({ ...env, KUBECONFIG: '/nonexistent/kubeconfig' });
      expect(code).toBe(1);
      expect(stderr).toMatch(/"message":"the operator cannot start"/);
      expect(stderr).toMatch(message);
      // A whole Node process start: the 20 s process timeout above, not vitest's 5 s, bounds it on a busy machine.
    },
    25_000,
  );
});
