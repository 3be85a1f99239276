// A real nats-server with JetStream for the relay tests and the relay benchmark: its own store dir
// under a temp dir, a free loopback port, stop/restart on the same store and port (the stream
// survives, as on a real node restart). The binary is the pinned build from test/cluster/go/nats-server
// (`test/cluster/build.sh nats-server`); NATS_SERVER_BIN overrides it. No `make up` cluster is needed.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';

const run = promisify(execFile);
/** The test server's largest message (8 MiB; the default is 1 MiB). */
const MAX_PAYLOAD = 8 * 1024 * 1024;
const root = new URL('../..', import.meta.url).pathname;

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** Everything the server printed (its own log, no message contents). */
  output(): string;
  /** Stops the server: SIGTERM (a clean shutdown) or SIGKILL (a crash). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and store. */
  restart(): Promise<void>;
  /** Stops it and removes the store. */
  dispose(): Promise<void>;
}

/** The pinned nats-server binary (built once and cached by test/cluster/build.sh). */
async function natsServerBinary(): Promise<string> {
  if (process.env.NATS_SERVER_BIN) return process.env.NATS_SERVER_BIN;
  await run(join(root, 'test/cluster/build.sh'), ['nats-server'], { maxBuffer: 16 * 1024 * 1024 });
  const { stdout } = await run(join(root, 'test/cluster/bin-path.sh'), ['nats-server']);
  const bin = stdout.trim();
  if (!existsSync(bin)) throw new Error(`nats-server was not built at ${bin}`);
  return bin;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

export async function startNatsServer(options: { name?: string } = {}): Promise<NatsServer> {
  const bin = await natsServerBinary();
  const base = await mkdtemp(join(tmpdir(), 'cloudconnect-nats-'));
  const storeDir = join(base, 'jetstream');
  const port = await freePort();
  let out = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  // Referral attachments are PDFs of a few MB: the relay needs a max_payload above the 1 MB default
  // (the chart sets the same; NATS advises at most 8 MB).
  const config = join(base, 'nats.conf');
  await writeFile(config, `max_payload: ${MAX_PAYLOAD}\n`);
  const launch = async () => {
    const proc = spawn(
      bin,
      ['-c', config, '-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', String(port), '-n', options.name ?? 'cloudconnect-test'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    exited = new Promise((resolve) => proc.on('exit', () => resolve()));
    child = proc;
    const deadline = Date.now() + 30_000;
    // "Server is ready" is printed once JetStream has recovered its store.
    while (!/Server is ready/.test(out.split('Server Exiting').at(-1) ?? '')) {
      if (proc.exitCode !== null) throw new Error(`nats-server exited (${proc.exitCode}):\n${out.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`nats-server not ready in 30 s:\n${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!(await listening(port))) throw new Error(`nats-server says ready but port ${port} does not answer`);
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
    out += '\nServer Exiting (test helper)\n';
  };

  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    output: () => out,
    stop,
    restart: launch,
    dispose: async () => {
      await stop();
      await rm(base, { recursive: true, force: true });
    },
  };
}
