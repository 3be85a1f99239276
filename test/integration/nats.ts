// A real nats-server with JetStream for the relay tests and the relay benchmark: its own store dir
// under a temp dir, a free loopback port, stop/restart on the same store and port (the stream
// survives, as on a real node restart). Authentication is on, as in the chart and `make up`: the
// server trusts a fresh operator/account chain (operator/internal/relayqueue/nats-trust.ts), no
// anonymous user exists, and tests connect as the operator's user or as a relay's (`connectAs`). The binary is the pinned build from test/cluster/go/nats-server
// (`test/cluster/build.sh nats-server`); NATS_SERVER_BIN overrides it. No `make up` cluster is needed.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { RELAY_CONNECTION_TUNING, relayQueueNames } from '../../operator/internal/relayqueue/contract.ts';
import { mintRelayCreds, mintUserCreds, operatorPermissions } from '../../operator/internal/relayqueue/nats-auth.ts';
import { createNatsTrust, type NatsTrust, serverAuthConfig } from '../../operator/internal/relayqueue/nats-trust.ts';
import { freePort } from './ports.ts';

const run = promisify(execFile);
/** The test server's largest message (8 MiB; the default is 1 MiB). */
const MAX_PAYLOAD = 8 * 1024 * 1024;
const root = new URL('../..', import.meta.url).pathname;

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** The trust chain the server was configured with (the operator's signer is `trust.signer`). */
  trust: NatsTrust;
  /** Creds text of a new user with the operator's permissions. */
  operatorCreds(): Promise<string>;
  /** Creds text of a new relay user of one integration. */
  relayCreds(namespace: string, integration: string): Promise<string>;
  /** Connects with a creds text (as a relay when `relayOf` names its integration: its own inbox prefix). */
  /** Connects with `creds`; `relayOf` adds a relay's inbox prefix and connection tuning, as the relay connects. */
  connectAs(creds: string, relayOf?: { namespace: string; integration: string }): Promise<NatsConnection>;
  /** The operator's NATS variables, with the signing key written to a file under the server's temp dir. */
  operatorEnv(): Promise<Record<string, string>>;
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

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

export async function startNatsServer(
  options: { name?: string; storage?: number; tls?: { cert: string; key: string }; host?: string } = {},
): Promise<NatsServer> {
  const bin = await natsServerBinary();
  // Loopback, or the real node's address where its pods (relays) reach the server.
  const host = options.host ?? '127.0.0.1';
  const base = await mkdtemp(join(tmpdir(), 'cloudconnect-nats-'));
  const storeDir = join(base, 'jetstream');
  const port = await freePort();
  let out = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  // Referral attachments are PDFs of a few MB: the relay needs a max_payload above the 1 MB default
  // (the chart sets the same; NATS advises at most 8 MB).
  const config = join(base, 'nats.conf');
  const trust = await createNatsTrust({ storage: options.storage ?? 8 * 1024 * 1024 * 1024 });
  // TLS as the chart's nats.tls turns it on: the client port then takes only TLS.
  let tls = '';
  if (options.tls) {
    await writeFile(join(base, 'tls.crt'), options.tls.cert);
    await writeFile(join(base, 'tls.key'), options.tls.key, { mode: 0o600 });
    tls = `tls {\n  cert_file: "${join(base, 'tls.crt')}"\n  key_file: "${join(base, 'tls.key')}"\n}\n`;
  }
  await writeFile(config, `max_payload: ${MAX_PAYLOAD}\n${serverAuthConfig(trust)}${tls}`);
  const launch = async () => {
    const proc = spawn(
      bin,
      ['-c', config, '-js', '-sd', storeDir, '-a', host, '-p', String(port), '-n', options.name ?? 'cloudconnect-test'],
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
    if (!(await listening(host, port))) throw new Error(`nats-server says ready but port ${port} does not answer`);
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
    out += '\nServer Exiting (test helper)\n';
  };

  await launch();
  const url = `${options.tls ? 'tls' : 'nats'}://${host}:${port}`;
  return {
    url,
    port,
    storeDir,
    trust,
    operatorCreds: async () => (await mintUserCreds(trust.signer, 'test operator', operatorPermissions())).creds,
    relayCreds: async (namespace, integration) => (await mintRelayCreds(trust.signer, namespace, integration)).creds,
    connectAs: (creds, relayOf) =>
      connect({
        servers: url,
        authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        ...(relayOf
          ? { inboxPrefix: relayQueueNames(relayOf.namespace, relayOf.integration).inboxPrefix, ...RELAY_CONNECTION_TUNING }
          : {}),
      }),
    operatorEnv: async () => {
      const file = join(base, 'signing-key');
      await writeFile(file, trust.signer.signingKeySeed, { mode: 0o600 });
      return { NATS_URL: url, NATS_ACCOUNT: trust.account, NATS_ACCOUNT_SIGNING_KEY_FILE: file };
    },
    output: () => out,
    stop,
    restart: launch,
    dispose: async () => {
      await stop();
      await rm(base, { recursive: true, force: true });
    },
  };
}
