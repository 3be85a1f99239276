// The operator's configuration: every environment variable it reads, parsed in one place with the
// typed helpers of runtime/env.ts (README, "Configuration (environment variables)"). A bad value
// is refused at start-up by one error naming each bad variable; nothing here falls back silently.
import { hostname } from 'node:os';
import { RELAY_COMMAND, type RelayDeploymentSettings } from '../controller/emrintegration/relay/deployment.ts';
import { DEFAULT_RELAY_THRESHOLDS, type RelayThresholds } from '../controller/emrintegration/relay/status-decision.ts';
import type { WorkerSettings } from '../controller/syncschedule/job.ts';
import { type EgressPolicy, readEgress } from '../internal/httpx/egress-config.ts';
import type { SmtpConfig } from '../internal/notify/mailer.ts';
import { DEFAULT_RELAY_QUEUE_LIMITS, type RelayQueueLimits } from '../internal/relayqueue/queue.ts';
import { DEFAULT_SEK_KV_MOUNT } from '../internal/sek/identity.ts';
import { NATS_URL } from '../internal/sitepod/pod-env.ts';
import { type PeerList, parsePeerList } from '../internal/vault/audit-peers.ts';
import { readVaultLogin, type VaultConfig } from '../internal/vault/client.ts';
import { DEFAULT_SYNC_ROLE } from '../internal/vault/policies.ts';
import { DNS_LABEL, DNS_SUBDOMAIN, type Env, EnvReader, LOG_LEVELS, type LogLevel } from '../runtime/env.ts';

export interface ManagerConfig {
  metricsBind: string;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  identity: string;
  workers: number;
  /** Concurrent reconciles of the SyncSchedule controller: many schedules fire on the same minute. */
  scheduleWorkers: number;
  /** Kubernetes auth mount in Vault of the sync role (VAULT_SYNC_AUTH_MOUNT). */
  vaultSyncAuthMount: string;
  /** The kubernetes-auth role every site's sync and relay pods log in as (VAULT_SYNC_ROLE). */
  vaultSyncRole: string;
  /** KV version 2 mount of every site's SEK (at cloudconnect/<namespace>/<site>/sek); no OceanSite chooses it. */
  sekKvMount: string;
  /** Where Vault's audit entries come from, so that every access to an SEK is noticed. */
  audit: AuditConfig;
  /** The only namespaces the operator lists, watches and touches (WATCH_NAMESPACES); empty: every namespace. */
  watchNamespaces: string[];
}

export interface AuditConfig {
  /** `unix:/path` or `host:port` where Vault's socket audit device delivers entries; empty: no listener. */
  listenAddress: string;
  /** TCP: the peers that may deliver (loopback alone for a loopback address). */
  allowedPeers: PeerList;
  /** Unix socket mode: 0o600 or 0o660. */
  socketMode: number;
  /** Longest audit line kept; a longer one is dropped and counted. */
  maxLineBytes: number;
  /** Vault's file audit device log, caught up from after a restart; undefined: no catch-up. */
  logFile: string | undefined;
  /** Where the position in `logFile` (and the request ids reported) is kept across restarts. */
  stateFile: string | undefined;
}

export interface RelayOperatorSettings {
  deployment: RelayDeploymentSettings;
  thresholds: RelayThresholds;
  pollIntervalMs: number;
  /** The NATS account the relays' users belong to, and the file holding the seed of its signing key. */
  nats: { account: string; signingKeyFile: string; caFile: string | undefined };
  /** Per-integration stream limits (and the replicas of every relay stream). */
  limits: RelayQueueLimits;
}

const NATS_ACCOUNT = {
  test: (t: string) => /^A[A-Z2-7]{55}$/.test(t),
  expected: 'a NATS account public key (A followed by 55 base32 characters)',
};

/** Everything the operator process reads from its environment. */
export interface OperatorConfig extends ManagerConfig {
  logLevel: LogLevel;
  /** Longest graceful shutdown on SIGTERM. */
  shutdownTimeoutMs: number;
  /** The operator's own Vault client. */
  vault: VaultConfig;
  /** Undefined without SMTP_HOST: mails are then logged as not sent. */
  smtp: SmtpConfig | undefined;
  /** What sync Jobs are told. */
  worker: WorkerSettings;
  /** Undefined without NATS_URL: no relay is deployed. */
  relay: RelayOperatorSettings | undefined;
  /** What tenant-controlled endpoints may reach and answer (EGRESS_*), here and in the pods. */
  egress: EgressPolicy;
}

const INVALID_CONFIGURATION = 'invalid operator configuration';

const NAMESPACE = { test: (t: string) => DNS_LABEL.test(t), expected: 'a namespace name (DNS label)' };
const KV_MOUNT = {
  test: (t: string) => /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(t),
  expected: 'a Vault mount path (letters, digits, _ . - and inner /)',
};
const VAULT_NAME = {
  test: (t: string) => /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(t),
  expected: 'a Vault role name (letters, digits, _ . -)',
};
const NAMESPACE_LIST = {
  test: (t: string) => t.split(',').every((name) => DNS_LABEL.test(name.trim())),
  expected: 'comma-separated namespace names (DNS labels)',
};
const LEASE_NAME = { test: (t: string) => DNS_SUBDOMAIN.test(t), expected: 'a Lease name (DNS subdomain)' };

/** The whole configuration; throws one EnvError ("invalid operator configuration: …") naming every bad variable. */
export function configFromEnv(env: Env = process.env): OperatorConfig {
  const r = new EnvReader(env);
  const manager = readManager(r);
  const vault = readVault(r);
  const egress = readEgress(r);
  const worker = readWorkerSettings(r, manager.sekKvMount, egress);
  const config: OperatorConfig = {
    ...manager,
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, { default: 'info' }),
    shutdownTimeoutMs: r.int('SHUTDOWN_TIMEOUT_SECONDS', { default: 25, min: 1 }) * 1000,
    vault,
    smtp: readSmtp(r),
    worker,
    relay: readRelaySettings(r, worker),
    egress,
  };
  r.check({ context: INVALID_CONFIGURATION });
  return config;
}

function readManager(r: EnvReader): ManagerConfig {
  return {
    metricsBind: r.listenAddress('METRICS_BIND_ADDRESS', '0.0.0.0:8080', { portAlone: true }),
    leaderElect: r.bool('LEADER_ELECT', { default: true }),
    leaseNamespace: r.string('LEASE_NAMESPACE', r.string('POD_NAMESPACE', 'cloudconnect-system', { valid: NAMESPACE }), {
      valid: NAMESPACE,
    }),
    leaseName: r.string('LEASE_NAME', 'cloudconnect-operator', { valid: LEASE_NAME }),
    identity: r.string('POD_NAME', `${hostname()}-${process.pid}`),
    workers: r.int('WORKERS', { default: 2, min: 1, max: 1000 }),
    scheduleWorkers: r.int('SYNCSCHEDULE_WORKERS', { default: 16, min: 1, max: 1000 }),
    vaultSyncAuthMount: r.string('VAULT_SYNC_AUTH_MOUNT', 'kubernetes'),
    vaultSyncRole: r.string('VAULT_SYNC_ROLE', DEFAULT_SYNC_ROLE, { valid: VAULT_NAME }),
    sekKvMount: r.string('SEK_KV_MOUNT', DEFAULT_SEK_KV_MOUNT, { valid: KV_MOUNT }),
    audit: readAudit(r),
    watchNamespaces: readWatchNamespaces(r),
  };
}

const AUDIT_ADDRESS = {
  test: (t: string) => {
    const port = t.slice(t.lastIndexOf(':') + 1);
    return /^unix:\/.*[^/]$/.test(t) || (t.includes(':') && /^\d{1,5}$/.test(port) && Number(port) <= 65535);
  },
  expected: 'host:port, :port or unix:/absolute/path',
};
const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?)$/;

/** The audit intake: a unix socket or TCP with an allow list (required off loopback), and the file log to catch up from. */
function readAudit(r: EnvReader): AuditConfig {
  const listenAddress = r.string('AUDIT_LISTEN_ADDRESS', '', { valid: AUDIT_ADDRESS });
  const tcpHost = listenAddress.startsWith('unix:') ? undefined : listenAddress.slice(0, listenAddress.lastIndexOf(':'));
  const peersText = r.string('AUDIT_ALLOWED_PEERS', '', { trim: true });
  const { peers, invalid } = parsePeerList(peersText || '127.0.0.0/8, ::1');
  if (invalid.length > 0)
    r.problem('AUDIT_ALLOWED_PEERS must be IP addresses or CIDR ranges separated by commas', 'AUDIT_ALLOWED_PEERS', peersText);
  if (listenAddress && tcpHost !== undefined && !LOOPBACK_HOST.test(tcpHost) && !peersText)
    r.problem("AUDIT_ALLOWED_PEERS must list Vault's addresses when AUDIT_LISTEN_ADDRESS is TCP on a non-loopback address");
  const logFile = r.string('AUDIT_LOG_FILE');
  const stateFile = r.string('AUDIT_STATE_FILE');
  if (logFile && !stateFile) r.problem('AUDIT_STATE_FILE is not set (AUDIT_LOG_FILE needs a place to keep its position)');
  return {
    listenAddress,
    allowedPeers: peers,
    socketMode: r.oneOf('AUDIT_SOCKET_MODE', ['0600', '0660'], { default: '0600' }) === '0660' ? 0o660 : 0o600,
    maxLineBytes: r.int('AUDIT_MAX_LINE_BYTES', { default: 256 * 1024, min: 4096, max: 16 * 1024 * 1024 }),
    logFile,
    stateFile,
  };
}

/** WATCH_NAMESPACES as a list without repeats; empty when unset (every namespace). */
function readWatchNamespaces(r: EnvReader): string[] {
  const text = r.string('WATCH_NAMESPACES', undefined, { trim: true, valid: NAMESPACE_LIST });
  return text === undefined ? [] : [...new Set(text.split(',').map((name) => name.trim()))];
}

/** The operator's Vault client: a token (local development) or a kubernetes-auth login. */
function readVault(r: EnvReader): VaultConfig {
  const login = readVaultLogin(r);
  const caCert = r.string('VAULT_CACERT');
  return { address: r.url('VAULT_ADDR', 'http://127.0.0.1:8200'), ...login, ...(caCert ? { caCert } : {}) };
}

/** Mail to Clinical Administrators; undefined without SMTP_HOST (the other SMTP_* are still checked). */
function readSmtp(r: EnvReader): SmtpConfig | undefined {
  const host = r.string('SMTP_HOST');
  const port = r.int('SMTP_PORT', { default: 587, min: 1, max: 65535 });
  const secure = r.bool('SMTP_TLS', { default: false });
  const from = r.string('SMTP_FROM', 'cloudconnect-operator@localhost');
  const user = r.string('SMTP_USER');
  const password = r.string('SMTP_PASSWORD');
  if (!host) return undefined;
  return { host, port, secure, from, ...(user ? { user } : {}), ...(password ? { password } : {}) };
}

/** OCEAN_CA_BUNDLE: PEM certificates (not secret) the sync Jobs also trust for OCEAN_API_URL. */
function oceanCa(r: EnvReader): { oceanCaBundle?: string } {
  const pem = r.string('OCEAN_CA_BUNDLE', undefined, { trim: true });
  if (pem === undefined || pem === '') return {};
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) r.problem('OCEAN_CA_BUNDLE must be PEM certificates (-----BEGIN CERTIFICATE-----)');
  return { oceanCaBundle: pem };
}

/** `sekMount` and `egress` are already read with the manager's settings. */
function readWorkerSettings(r: EnvReader, sekMount: string, egress: EgressPolicy): WorkerSettings {
  return {
    egress,
    image: r.string('WORKER_IMAGE', 'ghcr.io/cloudconnect/cloudconnect-operator:0.1.0'),
    vaultAddress: r.url('WORKER_VAULT_ADDR', r.url('VAULT_ADDR', 'http://127.0.0.1:8200')),
    vaultAuthMount: r.string('VAULT_SYNC_AUTH_MOUNT', 'kubernetes'),
    vaultRole: r.string('VAULT_SYNC_ROLE', DEFAULT_SYNC_ROLE, { valid: VAULT_NAME }),
    sekMount,
    oceanApiUrl: r.url('OCEAN_API_URL', 'https://ocean.cognisantmd.com'),
    ...oceanCa(r),
    defaultActiveDeadlineSeconds: r.int('WORKER_ACTIVE_DEADLINE_SECONDS', { default: 3600, min: 1 }),
  };
}

/**
 * The relay settings; undefined without NATS_URL, in which case no relay is deployed and each
 * integration's Delivering condition says so (the other relay variables are still checked).
 */
function readRelaySettings(r: EnvReader, worker: WorkerSettings): RelayOperatorSettings | undefined {
  const natsUrl = r.string('NATS_URL', undefined, { trim: true, valid: NATS_URL });
  const image = r.string('RELAY_IMAGE', worker.image);
  const command = r.string('RELAY_COMMAND', undefined, { trim: true });
  const account = r.string('NATS_ACCOUNT', undefined, { trim: true, valid: NATS_ACCOUNT });
  const signingKeyFile = r.string('NATS_ACCOUNT_SIGNING_KEY_FILE', undefined, { trim: true });
  // Authentication is not optional: without the account and its signing key no relay could connect.
  if (natsUrl !== undefined && account === undefined)
    r.problem("NATS_ACCOUNT is required with NATS_URL (the account of the relays' NATS users)");
  if (natsUrl !== undefined && signingKeyFile === undefined)
    r.problem('NATS_ACCOUNT_SIGNING_KEY_FILE is required with NATS_URL (the seed of the account signing key)');
  const settings: RelayOperatorSettings = {
    deployment: {
      image,
      natsUrl: natsUrl ?? '',
      vaultAddress: worker.vaultAddress,
      vaultAuthMount: worker.vaultAuthMount,
      vaultRole: worker.vaultRole,
      sekMount: worker.sekMount,
      ...(worker.egress ? { egress: worker.egress } : {}),
      command: command ? command.split(/\s+/).filter(Boolean) : RELAY_COMMAND,
    },
    thresholds: {
      backlogMessages: r.int('RELAY_BACKLOG_MESSAGES', { default: DEFAULT_RELAY_THRESHOLDS.backlogMessages, min: 1, max: 100_000_000 }),
      backlogAgeMs: r.duration('RELAY_BACKLOG_AGE', { default: DEFAULT_RELAY_THRESHOLDS.backlogAgeMs }),
      staleAfterMs: r.duration('RELAY_STALE_AFTER', { default: DEFAULT_RELAY_THRESHOLDS.staleAfterMs }),
    },
    pollIntervalMs: r.duration('RELAY_STATUS_POLL_INTERVAL', { default: 30_000, min: 1000 }),
    nats: { account: account ?? '', signingKeyFile: signingKeyFile ?? '', caFile: r.string('NATS_CA_FILE', undefined, { trim: true }) },
    limits: readQueueLimits(r),
  };
  return natsUrl === undefined ? undefined : settings;
}

/** RELAY_QUEUE_MAX_BYTES, RELAY_QUEUE_MAX_MESSAGES, RELAY_DEAD_LETTER_MAX_BYTES, RELAY_DEAD_LETTER_MAX_AGE, NATS_REPLICAS. */
function readQueueLimits(r: EnvReader): RelayQueueLimits {
  const d = DEFAULT_RELAY_QUEUE_LIMITS;
  return {
    workMaxBytes: r.int('RELAY_QUEUE_MAX_BYTES', { default: d.workMaxBytes, min: 1024 * 1024 }),
    workMaxMessages: r.int('RELAY_QUEUE_MAX_MESSAGES', { default: d.workMaxMessages, min: 1 }),
    deadMaxBytes: r.int('RELAY_DEAD_LETTER_MAX_BYTES', { default: d.deadMaxBytes, min: 1024 * 1024 }),
    deadMaxAgeMs: r.duration('RELAY_DEAD_LETTER_MAX_AGE', { default: d.deadMaxAgeMs, min: 60_000 }),
    replicas: r.int('NATS_REPLICAS', { default: 1, min: 1, max: 5 }),
  };
}
