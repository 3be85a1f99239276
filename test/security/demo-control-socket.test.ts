// The demo launcher's control socket (test/local/demo/control.ts): whoever can open it makes the
// simulated Ocean post to the relays with the integrations' webhook keys. Another local user
// tries, from a process running as uid 65534 (nobody): the connection is refused (directory 0700,
// socket 0600, created so), while the launcher's own user is answered. The launcher prints no
// credential it generated.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../integration/kubectl.ts';
import { eventually } from '../integration/operator-process.ts';
import { controlRequest } from '../local/demo/control.ts';
import { credentialSecrets, readCredentials } from '../local/demo/credentials.ts';
import { demoPaths } from '../local/demo/layout.ts';

const NOBODY = 65534;
const localDir = mkdtempSync(join(tmpdir(), 'cc-demo-sock-'));
const paths = demoPaths(localDir);
let launcher: ChildProcess;
let out = '';

/** A connection to the control socket from a process running as `uid`: what it got (`answered …` or the error code). */
function connectAs(uid: number): Promise<string> {
  const script = `require('node:net').connect(${JSON.stringify(paths.controlSocket)})
    .on('connect', function () { this.end('POST /send HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 29\\r\\nConnection: close\\r\\n\\r\\n{"targets":[],"count":1}     '); })
    .on('data', (d) => { process.stdout.write('answered ' + String(d).split('\\r\\n')[0]); })
    .on('error', (e) => process.stdout.write(e.code));`;
  return new Promise((resolve) => {
    execFile(join(repoRoot, 'node_modules/.bin/node'), ['-e', script], { uid, gid: uid, timeout: 10_000 }, (_e, stdout) =>
      resolve(String(stdout)),
    );
  });
}

beforeAll(async () => {
  chmodSync(localDir, 0o755); // the parent lets anyone through: only the demo's own modes protect the socket
  launcher = spawn(
    join(repoRoot, 'node_modules/.bin/node'),
    ['test/local/demo/simulators.ts', '--local', localDir, '--port-base', String(40_000 + Math.floor(Math.random() * 20_000))],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  launcher.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  launcher.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  await eventually(async () => /^READY=1$/m.test(out), 'the demo simulators READY', 30_000);
});

afterAll(() => {
  launcher?.kill('SIGTERM');
  rmSync(localDir, { recursive: true, force: true });
});

describe('the demo control socket', () => {
  it('refuses another local user, and answers its own', async () => {
    expect(statSync(paths.dir).mode & 0o777).toBe(0o700);
    expect(statSync(paths.controlSocket).mode & 0o777).toBe(0o600);
    expect(await connectAs(NOBODY)).toBe('EACCES');
    expect(await controlRequest(paths.controlSocket, '/send', { targets: [], count: 1 })).toEqual({ results: [] });
    expect(await connectAs(process.getuid?.() ?? 0)).toBe('answered HTTP/1.1 200 OK');
  });

  it('keeps the generated credentials to its own user (0600) and out of its output', () => {
    expect(statSync(paths.credentialsFile).mode & 0o777).toBe(0o600);
    const secrets = credentialSecrets(readCredentials(paths.credentialsFile));
    expect(secrets.length).toBeGreaterThan(10);
    for (const s of secrets) expect(out).not.toContain(s);
  });
});
