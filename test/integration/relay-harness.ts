// What the relay tests share: a real nats-server with authentication on (nats.ts), the integration's
// streams provisioned as the operator does (with `limits`), the relay's own NATS user written to
// Vault beside the SEK as the operator writes it, the Accuro and Ocean simulators, the SEK and the
// webhook key record in the shared cluster's Vault (KV v2 at secret/, as the operator writes them), a
// credentials directory as the kubelet mounts it, and the relay as a real child process
// (`node operator/relay/main.ts`) that can be SIGKILLed and started again with the same environment.
// The Ocean simulator is registered with the relay's webhook URL, header and key (seed 001), so its
// deliveries are authenticated as Ocean's are.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { inject } from 'vitest';
import { contentHashOf } from '../../operator/cmd/relay/message-id.ts';
import { idempotencyKeyOf, type OceanMessage } from '../../operator/cmd/relay/messages.ts';
import { newWebhookKeyRecord } from '../../operator/cmd/relay/test-helpers.ts';
import { DEFAULT_API_KEY_HEADER } from '../../operator/cmd/relay/webhook-guard.ts';
import { ensureIntegrationStreams, ensureStatusBucket, type RelayQueueLimits } from '../../operator/internal/relayqueue/queue.ts';
import { ACCURO_DEV_CREDENTIALS, type AccuroSimulator, start as startAccuro } from '../simulators/accuro.ts';
import { LOOPBACK_ALLOW_CIDRS } from '../simulators/egress.ts';
import type { Limits } from '../simulators/limits.ts';
import { type OceanPatient, type OceanSimulator, start as startOcean } from '../simulators/ocean.ts';
import { repoRoot } from './kubectl.ts';
import { type NatsServer, startNatsServer } from './nats.ts';
import { freePort } from './ports.ts';
import { vaultRequest } from './vault.ts';

export interface RelayChild {
  child: ChildProcess;
  exited: Promise<number | null>;
}

export interface RelayHarness {
  nats: NatsServer;
  accuro: AccuroSimulator;
  ocean: OceanSimulator;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  namespace: string;
  integration: string;
  siteNumber: string;
  sek: string;
  sekPath: string;
  port: number;
  webhookUrl: string;
  /** The /metrics, /healthz, /readyz port. */
  metricsPort: number;
  /** The webhook key record as the relay reads it (current key, id salt). */
  webhookKey: { current: string; idSalt: string };
  /** Content type and the API key header, as Ocean sends them. */
  authHeaders: Record<string, string>;
  /** Replaces the webhook key record in Vault (as a rotation by the operator does). */
  writeWebhookKey(data: Record<string, string>): Promise<void>;
  /** The EMR idempotency key the relay derives for a message. */
  idempotencyKey(message: Record<string, unknown>): string;
  env: Record<string, string>;
  /** Every line every relay process printed, in order. */
  logs(): string;
  /** Starts the relay child process and waits until it listens. */
  startRelay(extraEnv?: Record<string, string>): Promise<RelayChild>;
  /** The running relay, if any. */
  current(): RelayChild | undefined;
  kill(signal?: NodeJS.Signals): Promise<void>;
  patient(index: number): OceanPatient;
  dispose(): Promise<void>;
}

export async function startRelayHarness(options: {
  namespace: string;
  patients?: number;
  env?: Record<string, string>;
  /** The integration's stream limits (default: the operator's defaults). */
  limits?: RelayQueueLimits;
  /** The Accuro simulator's service limits (default: its strict ones, limits.ts). */
  emrLimits?: Limits;
}): Promise<RelayHarness> {
  const cluster = inject('cluster');
  const nats = await startNatsServer();
  const accuro = await startAccuro({
    volume: { providers: 2, patients: options.patients ?? 200, appointmentsPerDay: 4, days: 1 },
    ...(options.emrLimits ? { limits: options.emrLimits } : {}),
  });
  const ocean = await startOcean();
  const dir = await mkdtemp(join(tmpdir(), 'cloudconnect-relay-'));
  const credentialsDir = join(dir, 'credentials');
  await mkdir(credentialsDir);
  for (const [key, value] of Object.entries(ACCURO_DEV_CREDENTIALS)) await writeFile(join(credentialsDir, key), value);
  const sek = randomBytes(32).toString('base64url');
  const sekPath = `relay-tests/${options.namespace}-${randomBytes(4).toString('hex')}/sek`;
  const put = await vaultRequest('POST', `secret/data/${sekPath}`, { data: { sek } });
  if (put.status >= 300) throw new Error(`cannot write the test SEK to Vault: HTTP ${put.status}`);
  const integration = 'cedar-accuro';
  const siteNumber = '4242';
  const webhookKey = newWebhookKeyRecord();
  const keyPath = `${sekPath.replace(/\/sek$/, '')}/relay/${integration}`;
  const writeWebhookKey = async (data: Record<string, string>) => {
    const r = await vaultRequest('POST', `secret/data/${keyPath}`, { data });
    if (r.status >= 300) throw new Error(`cannot write the test webhook key to Vault: HTTP ${r.status}`);
  };
  await writeWebhookKey({ ...webhookKey, rotatedAt: new Date().toISOString() });
  const port = await freePort();
  const metricsPort = await freePort();
  // As the operator does: the streams and the status bucket first, then the relay's user in Vault.
  const nc = await nats.connectAs(await nats.operatorCreds());
  const js = jetstream(nc);
  await ensureStatusBucket(js);
  await ensureIntegrationStreams(js, options.namespace, integration, options.limits);
  const natsCredsPath = sekPath.replace(/\/sek$/, '/nats');
  const creds = await vaultRequest('POST', `secret/data/${natsCredsPath}`, {
    data: { creds: await nats.relayCreds(options.namespace, integration) },
  });
  if (creds.status >= 300) throw new Error(`cannot write the relay's NATS user to Vault: HTTP ${creds.status}`);
  const env: Record<string, string> = {
    CLOUDCONNECT_INTEGRATION_SPEC: JSON.stringify({
      siteRef: { name: 'cedar' },
      emr: { type: 'Accuro', accuro: { tenantId: accuro.tenantId, apiUrl: accuro.url, credentialsSecretRef: { name: 'creds' } } },
    }),
    CLOUDCONNECT_SITE_NUMBER: siteNumber,
    CLOUDCONNECT_CREDENTIALS_DIR: credentialsDir,
    VAULT_ADDR: cluster.vaultAddr,
    VAULT_TOKEN: cluster.vaultToken,
    SEK_MOUNT: 'secret',
    SEK_PATH: sekPath,
    NATS_URL: nats.url,
    NATS_CREDS_PATH: natsCredsPath,
    RELAY_PORT: String(port),
    RELAY_METRICS_PORT: String(metricsPort),
    RELAY_API_KEY_PATH: keyPath,
    RELAY_API_KEY_REFRESH_SECONDS: '1',
    RELAY_HOST: '127.0.0.1',
    RELAY_STATUS_INTERVAL_SECONDS: '1',
    LOG_LEVEL: 'info',
    // The EMR simulator listens on loopback, which the egress sandbox refuses unless allowed.
    EGRESS_ALLOW_CIDRS: LOOPBACK_ALLOW_CIDRS,
    ...options.env,
  };
  let logText = '';
  let running: RelayChild | undefined;

  const harness: RelayHarness = {
    nats,
    accuro,
    ocean,
    nc,
    js,
    jsm: await jetstreamManager(nc),
    namespace: options.namespace,
    integration,
    siteNumber,
    sek,
    sekPath,
    port,
    webhookUrl: `http://127.0.0.1:${port}/ocean/webhook`,
    metricsPort,
    webhookKey,
    authHeaders: { 'content-type': 'application/json', [DEFAULT_API_KEY_HEADER]: webhookKey.current },
    writeWebhookKey,
    idempotencyKey: (message) =>
      idempotencyKeyOf(
        options.namespace,
        integration,
        String(message['messageId']),
        contentHashOf(message as OceanMessage, webhookKey.idSalt),
      ),
    env,
    logs: () => logText,
    current: () => running,
    startRelay: async (extraEnv = {}) => {
      const child = spawn(
        join(repoRoot, 'node_modules/.bin/node'),
        ['operator/relay/main.ts', '--integration', `${options.namespace}/${integration}`],
        {
          cwd: repoRoot,
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, ...extraEnv },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child.stdout?.on('data', (d: Buffer) => (logText += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (logText += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      running = { child, exited };
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          if ((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).ok) break;
        } catch {
          // not listening yet
        }
        if (child.exitCode !== null) throw new Error(`the relay exited (${child.exitCode}):\n${logText.slice(-3000)}`);
        if (Date.now() > deadline) throw new Error(`the relay was not ready in 60 s:\n${logText.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return running;
    },
    kill: async (signal = 'SIGKILL') => {
      const r = running;
      if (!r) return;
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill(signal);
      await r.exited;
      running = undefined;
    },
    patient: (index) => {
      const p = accuro.data.patient(index);
      return {
        emrId: String(index + 1),
        firstName: p.firstName,
        lastName: p.lastName,
        birthDate: p.birthDate,
        healthNumber: p.healthNumber,
      };
    },
    dispose: async () => {
      await harness.kill('SIGKILL');
      await nc.close().catch(() => undefined);
      await nats.dispose();
      await accuro.stop();
      await ocean.stop();
      await vaultRequest('DELETE', `secret/metadata/${sekPath}`).catch(() => undefined);
      await vaultRequest('DELETE', `secret/metadata/${keyPath}`).catch(() => undefined);
      await vaultRequest('DELETE', `secret/metadata/${natsCredsPath}`).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  ocean.registerWebhook(harness.webhookUrl, { headerName: DEFAULT_API_KEY_HEADER, key: webhookKey.current });
  return harness;
}
