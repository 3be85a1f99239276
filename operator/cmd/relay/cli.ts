// The relay's command line: `cloudconnect-relay --integration <namespace>/<name>`. Reads the same
// environment as the sync worker (operator/cmd/worker/README.md: the integration spec, site number,
// credentials directory, Vault login and SEK location; OCEAN_API_URL is not needed) through the
// worker's own functions, plus NATS_URL and the listen port; see README.md in this folder.
import { parseArgs } from 'node:util';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { AdapterConfig, EmrAdapter } from '../../internal/emr/adapter.ts';
import type { EmrAdapterType } from '../../internal/emr/index.ts';
import type { VersionedSekSource } from '../../internal/sek/key-rotation.ts';
import { emrAdapterFromConfig } from '../../internal/sitepod/emr-adapter.ts';
import {
  configFromEnv,
  parseIntegrationRef,
  readCredentialsDir,
  vaultVersionedSekSource,
  WorkerError,
} from '../../internal/sitepod/pod-env.ts';
import { createLogger, type Logger } from '../../runtime/logger.ts';
import { clockFromEnv } from '../../runtime/scaled-clock.ts';
import { type RunningRelay, startRelay } from './relay.ts';
import { SekKeyring } from './sek-keyring.ts';

export const USAGE = 'usage: cloudconnect-relay --integration <namespace>/<name>';
export const DEFAULT_PORT = 8080;

export function parseRelayArgs(argv: readonly string[]): { namespace: string; name: string } {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: { integration: { type: 'string' } }, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new WorkerError('InvalidArguments', (error as Error).message);
  }
  const ref = parseIntegrationRef(values.integration ?? '');
  if (!ref)
    throw new WorkerError('InvalidArguments', `--integration must be <namespace>/<name>, got ${JSON.stringify(values.integration ?? '')}`);
  return ref;
}

export interface RelaySettings {
  natsUrl: string;
  port: number;
  host: string;
  concurrency: number;
  statusIntervalMs: number;
  replicas: number;
  ackWaitMs: number;
}

function intEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) problems.push(`${name} must be an integer from ${min} to ${max}`);
  return value;
}

/** NATS_URL (required), RELAY_PORT, RELAY_HOST, RELAY_CONCURRENCY, RELAY_STATUS_INTERVAL_SECONDS, RELAY_ACK_WAIT_SECONDS, NATS_REPLICAS. */
export function relaySettingsFromEnv(env: NodeJS.ProcessEnv): RelaySettings {
  const problems: string[] = [];
  const natsUrl = env.NATS_URL ?? '';
  if (!natsUrl) problems.push('NATS_URL is not set');
  else if (!/^(nats|tls):\/\/[^\s]+$/.test(natsUrl.split(',')[0] ?? ''))
    problems.push('NATS_URL must be nats://host:port (comma-separated for a cluster)');
  const settings = {
    natsUrl,
    port: intEnv(env, 'RELAY_PORT', DEFAULT_PORT, 0, 65535, problems),
    host: env.RELAY_HOST || '0.0.0.0',
    concurrency: intEnv(env, 'RELAY_CONCURRENCY', 8, 1, 256, problems),
    statusIntervalMs: intEnv(env, 'RELAY_STATUS_INTERVAL_SECONDS', 5, 1, 3600, problems) * 1000,
    replicas: intEnv(env, 'NATS_REPLICAS', 1, 1, 5, problems),
    // Longer than one EMR call may take (adapter timeouts are 30 s); a crashed relay's in-flight messages come back after it.
    ackWaitMs: intEnv(env, 'RELAY_ACK_WAIT_SECONDS', 60, 5, 3600, problems) * 1000,
  };
  if (problems.length > 0) throw new WorkerError('InvalidConfiguration', problems.join('; '));
  return settings;
}

export interface RelayDeps {
  versionedSekSource?: VersionedSekSource;
  adapterFactory?: (type: EmrAdapterType, config: AdapterConfig) => EmrAdapter;
  logger?: Logger;
}

/** Starts the relay; resolves once it is listening. Throws WorkerError for bad arguments or environment. */
export async function runRelay(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  deps: RelayDeps = {},
): Promise<{ relay: RunningRelay; nc: NatsConnection; logger: Logger }> {
  const logger = deps.logger ?? createLogger();
  const { namespace, name } = parseRelayArgs(argv);
  const config = configFromEnv(env, { ocean: false });
  const settings = relaySettingsFromEnv(env);
  let clock;
  try {
    clock = clockFromEnv(env);
  } catch (error) {
    throw new WorkerError('InvalidConfiguration', (error as Error).message);
  }
  const credentials = await readCredentialsDir(config.credentialsDir);
  const adapter = await emrAdapterFromConfig(config, credentials, {
    ...(deps.adapterFactory ? { adapterFactory: deps.adapterFactory } : {}),
    now: () => new Date(),
  });
  const keyring = new SekKeyring(deps.versionedSekSource ?? vaultVersionedSekSource(config));
  // Reconnect for ever: while NATS is away the webhook answers 503 (Ocean retries) and deliveries wait.
  const nc = await connect({
    servers: settings.natsUrl.split(','),
    name: `cloudconnect-relay ${namespace}/${name}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  });
  const relay = await startRelay({
    nc,
    namespace,
    integration: name,
    siteNumber: config.siteNumber,
    keyring,
    adapter,
    clock,
    logger,
    port: settings.port,
    host: settings.host,
    concurrency: settings.concurrency,
    statusIntervalMs: settings.statusIntervalMs,
    replicas: settings.replicas,
    consumer: { ackWaitMs: settings.ackWaitMs },
  });
  return { relay, nc, logger };
}
