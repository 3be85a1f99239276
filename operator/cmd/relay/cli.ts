// The relay's command line: `cloudconnect-relay --integration <namespace>/<name>`. Reads the same
// environment as the sync worker (operator/cmd/worker/README.md: the integration spec, site number,
// credentials directory, Vault login and SEK location; OCEAN_API_URL is not needed) through the
// worker's own functions, plus NATS_URL, the Vault path of its NATS credentials (NATS_CREDS_PATH),
// the listener and the test clock, all in relayConfigFromEnv; see README.md in this folder.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { type ConnectionOptions, connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import type { AdapterConfig, EmrAdapter } from '../../internal/emr/adapter.ts';
import type { EmrAdapterType } from '../../internal/emr/index.ts';
import { EmrError } from '../../internal/httpx/remote-error.ts';
import { RELAY_CONNECTION_TUNING, relayQueueNames } from '../../internal/relayqueue/contract.ts';
import type { VersionedSekSource } from '../../internal/sek/key-rotation.ts';
import { emrAdapterFromConfig } from '../../internal/sitepod/emr-adapter.ts';
import {
  invalidConfiguration,
  NATS_URL,
  parseIntegrationRef,
  readCredentialsDir,
  readPodConfig,
  vaultNatsCreds,
  vaultVersionedSekSource,
  type WorkerConfig,
  WorkerError,
} from '../../internal/sitepod/pod-env.ts';
import { type Env, EnvReader } from '../../runtime/env.ts';
import { createLogger, type Logger } from '../../runtime/logger.ts';
import { type RelayClock, realClock, scaledClock } from '../../runtime/scaled-clock.ts';
import { type WebhookKeySource, WebhookKeyStore } from './api-key-store.ts';
import { checkInSettingsOf } from './check-in.ts';
import { filingSettingsOf } from './filing.ts';
import { type ReferralForwarder, referralForwarder } from './forward-referral.ts';
import type { WebhookServerLimits } from './intake.ts';
import { refusingAdapter } from './refusing-adapter.ts';
import { type RunningRelay, startRelay } from './relay.ts';
import { SekKeyring } from './sek-keyring.ts';
import { vaultWebhookKeySource } from './vault-webhook-key.ts';
import { DEFAULT_API_KEY_HEADER } from './webhook-guard.ts';
import type { TlsFiles } from './webhook-tls.ts';

export const USAGE = 'usage: cloudconnect-relay --integration <namespace>/<name>';
const DEFAULT_PORT = 8080;
const DEFAULT_METRICS_PORT = 9090;
const MIB = 1024 * 1024;
const PEM = { test: (t: string) => t.includes('-----BEGIN CERTIFICATE-----'), expected: 'PEM certificates' };

function parseOptions(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: { integration: { type: 'string' } }, strict: true, allowPositionals: false });
  } catch (error) {
    throw new WorkerError('InvalidArguments', (error as Error).message);
  }
}

export function parseRelayArgs(argv: readonly string[]): { namespace: string; name: string } {
  const { values } = parseOptions(argv);
  const ref = parseIntegrationRef(values.integration ?? '');
  if (!ref)
    throw new WorkerError('InvalidArguments', `--integration must be <namespace>/<name>, got ${JSON.stringify(values.integration ?? '')}`);
  return ref;
}

export interface RelaySettings {
  natsUrl: string;
  /** KV v2 path (under SEK_MOUNT) of this relay's NATS user, field `creds`; the operator writes it. */
  natsCredsPath: string;
  /** PEM of the CA of a NATS server behind a private CA (tls:// URLs); the operator passes its own NATS_CA_FILE's content. */
  natsCa: string | undefined;
  port: number;
  metricsPort: number;
  host: string;
  /** KV v2 path (in SEK_MOUNT) of the webhook key record. */
  apiKeyPath: string;
  apiKeyRefreshMs: number;
  maxBodyBytes: number;
  maxInFlight: number;
  server: WebhookServerLimits;
  tls: TlsFiles | undefined;
  concurrency: number;
  statusIntervalMs: number;
  ackWaitMs: number;
  /** The mounted Secret of spec.eReferral.forward.credentialsSecretRef, and its CA bundle file, when the integration forwards referrals. */
  eReferral: { credentialsDir: string | undefined; caBundleFile: string | undefined };
}

/** Everything the relay reads from its environment. */
export interface RelayConfig {
  /** The variables it shares with the sync worker (operator/internal/sitepod/pod-env.ts). */
  pod: WorkerConfig;
  settings: RelaySettings;
  clock: RelayClock;
}

/** The relay's whole environment, every problem named in one WorkerError('InvalidConfiguration'). */
export function relayConfigFromEnv(env: Env): RelayConfig {
  const r = new EnvReader(env);
  const pod = readPodConfig(r, { ocean: false, eReferralOnly: true });
  const settings = readRelaySettings(r);
  const clock = readRelayClock(r);
  return { pod: r.done(pod, { wrap: invalidConfiguration }), settings, clock };
}

/** The webhook's limits: body, in flight, connections, timeouts (README: "Configuration"). */
function readWebhookLimits(r: EnvReader): Pick<RelaySettings, 'maxBodyBytes' | 'maxInFlight' | 'server'> {
  const headersTimeoutMs = r.int('RELAY_HEADERS_TIMEOUT_SECONDS', { default: 10, min: 1, max: 300 }) * 1000;
  const requestTimeoutMs = r.int('RELAY_REQUEST_TIMEOUT_SECONDS', { default: 120, min: 1, max: 3600 }) * 1000;
  // Node refuses a request timeout shorter than the headers timeout.
  if (requestTimeoutMs < headersTimeoutMs) r.problem('RELAY_REQUEST_TIMEOUT_SECONDS must be at least RELAY_HEADERS_TIMEOUT_SECONDS');
  return {
    maxBodyBytes: r.int('RELAY_MAX_BODY_BYTES', { default: 16 * MIB, min: 1024, max: 64 * MIB }),
    maxInFlight: r.int('RELAY_MAX_IN_FLIGHT', { default: 4, min: 1, max: 256 }),
    server: {
      headersTimeoutMs,
      requestTimeoutMs,
      keepAliveTimeoutMs: 5000,
      maxConnections: r.int('RELAY_MAX_CONNECTIONS', { default: 64, min: 1, max: 10_000 }),
    },
  };
}

/** RELAY_TLS_CERT_FILE and RELAY_TLS_KEY_FILE, both or neither. */
function readTlsFiles(r: EnvReader): TlsFiles | undefined {
  const certFile = r.string('RELAY_TLS_CERT_FILE');
  const keyFile = r.string('RELAY_TLS_KEY_FILE');
  if ((certFile === undefined) !== (keyFile === undefined))
    r.problem('RELAY_TLS_CERT_FILE and RELAY_TLS_KEY_FILE must be set together (or neither, for plain HTTP)');
  return certFile && keyFile ? { certFile, keyFile } : undefined;
}

/** NATS_URL, NATS_CREDS_PATH (required), NATS_CA, the listeners, the webhook key and limits, RELAY_CONCURRENCY, RELAY_STATUS_INTERVAL_SECONDS, RELAY_ACK_WAIT_SECONDS. */
function readRelaySettings(r: EnvReader): RelaySettings {
  return {
    natsUrl: r.required('NATS_URL', { valid: NATS_URL }),
    natsCredsPath: r.required('NATS_CREDS_PATH'),
    natsCa: r.string('NATS_CA', undefined, { valid: PEM }),
    port: r.int('RELAY_PORT', { default: DEFAULT_PORT, min: 0, max: 65535 }),
    metricsPort: r.int('RELAY_METRICS_PORT', { default: DEFAULT_METRICS_PORT, min: 0, max: 65535 }),
    host: r.string('RELAY_HOST', '0.0.0.0'),
    apiKeyPath: r.required('RELAY_API_KEY_PATH'),
    apiKeyRefreshMs: r.int('RELAY_API_KEY_REFRESH_SECONDS', { default: 30, min: 1, max: 3600 }) * 1000,
    ...readWebhookLimits(r),
    tls: readTlsFiles(r),
    concurrency: r.int('RELAY_CONCURRENCY', { default: 8, min: 1, max: 256 }),
    statusIntervalMs: r.int('RELAY_STATUS_INTERVAL_SECONDS', { default: 5, min: 1, max: 3600 }) * 1000,
    // Longer than one EMR call may take (adapter timeouts are 30 s); a crashed relay's in-flight messages come back after it.
    ackWaitMs: r.int('RELAY_ACK_WAIT_SECONDS', { default: 60, min: 5, max: 3600 }) * 1000,
    eReferral: {
      credentialsDir: r.string('CLOUDCONNECT_EREFERRAL_CREDENTIALS_DIR'),
      caBundleFile: r.string('CLOUDCONNECT_EREFERRAL_CA_BUNDLE_FILE'),
    },
  };
}

/** Tests only: CLOUDCONNECT_RELAY_TIME_SCALE (> 0) and CLOUDCONNECT_RELAY_TIME_ORIGIN (ISO 8601), both or neither. */
function readRelayClock(r: EnvReader): RelayClock {
  const scale = r.number('CLOUDCONNECT_RELAY_TIME_SCALE', { above: 0, max: 1_000_000, meaning: 'simulated ms per real ms' });
  const origin = r.time('CLOUDCONNECT_RELAY_TIME_ORIGIN');
  const scaleSet = r.text('CLOUDCONNECT_RELAY_TIME_SCALE') !== undefined;
  const originSet = r.text('CLOUDCONNECT_RELAY_TIME_ORIGIN') !== undefined;
  if (scaleSet !== originSet)
    r.problem('CLOUDCONNECT_RELAY_TIME_SCALE and CLOUDCONNECT_RELAY_TIME_ORIGIN must be set together (or neither, for the real clock)');
  return scale !== undefined && origin !== undefined ? scaledClock(origin, scale) : realClock;
}

export interface RelayDeps {
  versionedSekSource?: VersionedSekSource;
  webhookKeySource?: WebhookKeySource;
  /** The creds text of the relay's NATS user (default: read from Vault at NATS_CREDS_PATH). */
  natsCreds?: () => Promise<string>;
  adapterFactory?: (type: EmrAdapterType, config: AdapterConfig) => EmrAdapter;
  logger?: Logger;
}

/** The EMR's adapter (a refusing one while its Secret lacks a key); undefined without an EMR (an eReferral endpoint only). */
async function relayAdapter(config: WorkerConfig, deps: RelayDeps, logger: Logger): Promise<EmrAdapter | undefined> {
  if (config.spec.emr.type === 'None') return undefined;
  const credentials = await readCredentialsDir(config.credentialsDir);
  return emrAdapterFromConfig(config, credentials, {
    ...(deps.adapterFactory ? { adapterFactory: deps.adapterFactory } : {}),
    now: () => new Date(),
  }).catch((error: unknown) => {
    // Credentials the EMR cannot take (a key missing): queue and retry rather than crash-loop.
    if (!(error instanceof EmrError) || config.spec.emr.type === 'None') throw error;
    logger.warn('the EMR adapter cannot be built from the credentials Secret: messages are queued and retried until it is fixed', {
      errorReason: error.reason,
      detail: error.message,
    });
    return refusingAdapter(config.spec.emr.type, error);
  });
}

/** The eReferral target of spec.eReferral.forward, with its mounted credentials and CA; undefined without one. */
async function eReferralForwarder(config: WorkerConfig, settings: RelaySettings): Promise<ReferralForwarder | undefined> {
  const forward = config.spec.eReferral?.forward;
  if (!forward) return undefined;
  const caFile = settings.eReferral.caBundleFile;
  return referralForwarder({
    url: forward.url,
    auth: forward.auth ?? 'Bearer',
    // A missing key is reported at each delivery (InvalidCredentials: retried until the Secret is fixed), not a crash loop.
    credentials: await readCredentialsDir(settings.eReferral.credentialsDir),
    ...(caFile ? { caBundle: await readFile(caFile, 'utf8') } : {}),
    egress: config.egress,
  });
}

/** Starts the relay; resolves once it is listening. Throws WorkerError for bad arguments or environment. */
export async function runRelay(
  argv: readonly string[],
  env: Env,
  deps: RelayDeps = {},
): Promise<{ relay: RunningRelay; nc: NatsConnection; logger: Logger }> {
  const logger = deps.logger ?? createLogger();
  const { namespace, name } = parseRelayArgs(argv);
  const { pod: config, settings, clock } = relayConfigFromEnv(env);
  // LOG_LEVEL is parsed with the rest of the configuration; an injected logger keeps its own level.
  if (!deps.logger) logger.level = config.logLevel;
  const adapter = await relayAdapter(config, deps, logger);
  const forwarder = await eReferralForwarder(config, settings);
  const keyring = new SekKeyring(deps.versionedSekSource ?? vaultVersionedSekSource(config));
  const creds = await (deps.natsCreds ?? (() => vaultNatsCreds(config, settings.natsCredsPath)))();
  // Reconnect for ever: while NATS is away the webhook answers 503 (Ocean retries) and deliveries wait.
  const nc = await connect(relayConnectOptions(namespace, name, settings, creds));
  const context = { namespace, integration: name };
  const webhookKeys = new WebhookKeyStore({
    source: deps.webhookKeySource ?? vaultWebhookKeySource(config, settings.apiKeyPath),
    refreshMs: settings.apiKeyRefreshMs,
    logger,
    context,
  });
  const relay = await startRelay({
    nc,
    namespace,
    integration: name,
    siteNumber: config.siteNumber,
    keyring,
    ...(adapter ? { adapter } : {}),
    ...(forwarder ? { forwarder } : {}),
    ...(config.spec.eReferral ? { eReferral: forwarder ? ('forward' as const) : ('file' as const) } : {}),
    filing: filingSettingsOf(config.spec.settings),
    checkIn: checkInSettingsOf(config.spec.settings),
    clock,
    logger,
    port: settings.port,
    metricsPort: settings.metricsPort,
    host: settings.host,
    webhookKeys,
    limits: {
      apiKeyHeader: config.spec.webhook?.keyHeader ?? DEFAULT_API_KEY_HEADER,
      maxBodyBytes: settings.maxBodyBytes,
      maxInFlight: settings.maxInFlight,
      retryAfterSeconds: 5,
      fhirBundles: config.spec.eReferral !== undefined,
    },
    server: settings.server,
    ...(settings.tls ? { tls: settings.tls } : {}),
    concurrency: settings.concurrency,
    statusIntervalMs: settings.statusIntervalMs,
    consumer: { ackWaitMs: settings.ackWaitMs },
  });
  return { relay, nc, logger };
}

/**
 * How the relay connects: as its own NATS user (the creds), with replies on its own inbox prefix (the
 * only subjects its user may subscribe to), trusting NATS_CA's certificates when set (TLS to a private CA).
 */
export function relayConnectOptions(namespace: string, name: string, settings: RelaySettings, creds: string): ConnectionOptions {
  return {
    servers: settings.natsUrl.split(','),
    name: `cloudconnect-relay ${namespace}/${name}`,
    authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
    inboxPrefix: relayQueueNames(namespace, name).inboxPrefix,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    ...RELAY_CONNECTION_TUNING,
    ...(settings.natsCa ? { tls: { ca: settings.natsCa } } : {}),
  };
}
