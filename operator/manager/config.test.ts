import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { DEFAULT_EGRESS } from '../internal/httpx/egress-config.ts';
import { type Env, EnvError } from '../runtime/env.ts';
import { configFromEnv } from './config.ts';

const workerSettingsFromEnv = (env: Env) => configFromEnv(env).worker;

/** What the chart's deployment.yaml sets with its default values (NATS and SMTP on). */
const CHART_ENV = {
  POD_NAME: 'cc-cloudconnect-operator-7d9f8-abcde',
  POD_NAMESPACE: 'cloudconnect-system',
  METRICS_BIND_ADDRESS: '0.0.0.0:8080',
  LEADER_ELECT: 'true',
  LEASE_NAMESPACE: 'cloudconnect-system',
  LEASE_NAME: 'cloudconnect-operator',
  WORKERS: '2',
  LOG_LEVEL: 'info',
  SHUTDOWN_TIMEOUT_SECONDS: '25',
  VAULT_ADDR: 'https://vault.vault.svc:8200',
  VAULT_AUTH_MOUNT: 'kubernetes',
  VAULT_SYNC_AUTH_MOUNT: 'kubernetes',
  SEK_KV_MOUNT: 'secret',
  VAULT_ROLE: 'cloudconnect-operator',
  VAULT_SA_TOKEN_FILE: '/var/run/secrets/cloudconnect/vault/token',
  VAULT_CACERT: '/etc/cloudconnect/vault-ca/ca.crt',
  NODE_EXTRA_CA_CERTS: '/etc/cloudconnect/vault-ca/ca.crt',
  AUDIT_LISTEN_ADDRESS: '0.0.0.0:9090',
  AUDIT_ALLOWED_PEERS: '10.42.7.0/24',
  AUDIT_MAX_LINE_BYTES: '262144',
  SMTP_HOST: 'smtp.example.org',
  SMTP_PORT: '587',
  SMTP_TLS: 'false',
  SMTP_FROM: 'cloudconnect-operator@example.org',
  SMTP_USER: 'mailer',
  SMTP_PASSWORD: 'smtp-password-123456',
  WORKER_IMAGE: 'ghcr.io/cloudconnect/cloudconnect-operator:0.1.0',
  WORKER_VAULT_ADDR: 'https://vault.vault.svc:8200',
  OCEAN_API_URL: 'https://ocean.cognisantmd.com',
  WORKER_ACTIVE_DEADLINE_SECONDS: '3600',
  RELAY_IMAGE: 'ghcr.io/cloudconnect/cloudconnect-operator:0.1.0',
  NATS_URL: 'nats://cc-cloudconnect-operator-nats.cloudconnect-system.svc:4222',
  NATS_ACCOUNT: 'ABBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
  NATS_ACCOUNT_SIGNING_KEY_FILE: '/var/run/secrets/cloudconnect/nats/signing-key',
  NATS_REPLICAS: '1',
  RELAY_QUEUE_MAX_BYTES: '268435456',
  RELAY_QUEUE_MAX_MESSAGES: '100000',
  RELAY_DEAD_LETTER_MAX_BYTES: '67108864',
  RELAY_DEAD_LETTER_MAX_AGE: '336h',
  RELAY_STATUS_POLL_INTERVAL: '30s',
  RELAY_BACKLOG_MESSAGES: '100',
  RELAY_BACKLOG_AGE: '15m',
  RELAY_STALE_AFTER: '2m',
};

const NATS_AUTH = { NATS_ACCOUNT: 'ABBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB', NATS_ACCOUNT_SIGNING_KEY_FILE: '/k' };

describe('the operator configuration', () => {
  it('keeps every default when nothing is set', () => {
    expect(configFromEnv({})).toEqual({
      metricsBind: '0.0.0.0:8080',
      leaderElect: true,
      leaseNamespace: 'cloudconnect-system',
      leaseName: 'cloudconnect-operator',
      identity: `${hostname()}-${process.pid}`,
      workers: 2,
      scheduleWorkers: 16,
      vaultSyncAuthMount: 'kubernetes',
      vaultSyncRole: 'cloudconnect-sync',
      sekKvMount: 'secret',
      audit: {
        listenAddress: '',
        allowedPeers: expect.objectContaining({ entries: ['127.0.0.0/8', '::1'] }),
        socketMode: 0o600,
        maxLineBytes: 262_144,
        logFile: undefined,
        stateFile: undefined,
      },
      watchNamespaces: [],
      logLevel: 'info',
      shutdownTimeoutMs: 25_000,
      vault: {
        address: 'http://127.0.0.1:8200',
        authMount: 'kubernetes',
        serviceAccountTokenFile: '/var/run/secrets/cloudconnect/vault/token',
      },
      smtp: undefined,
      worker: {
        image: 'ghcr.io/cloudconnect/cloudconnect-operator:0.1.0',
        vaultAddress: 'http://127.0.0.1:8200',
        vaultAuthMount: 'kubernetes',
        vaultRole: 'cloudconnect-sync',
        sekMount: 'secret',
        oceanApiUrl: 'https://ocean.cognisantmd.com',
        defaultActiveDeadlineSeconds: 3600,
        egress: DEFAULT_EGRESS,
      },
      relay: undefined,
      egress: DEFAULT_EGRESS,
    });
  });

  it('reads what the chart sets', () => {
    const config = configFromEnv(CHART_ENV);
    expect(config).toMatchObject({
      identity: 'cc-cloudconnect-operator-7d9f8-abcde',
      leaderElect: true,
      audit: { listenAddress: '0.0.0.0:9090', allowedPeers: { entries: ['10.42.7.0/24'] }, maxLineBytes: 262_144 },
      shutdownTimeoutMs: 25_000,
      vault: { address: 'https://vault.vault.svc:8200', role: 'cloudconnect-operator', caCert: '/etc/cloudconnect/vault-ca/ca.crt' },
      smtp: {
        host: 'smtp.example.org',
        port: 587,
        secure: false,
        from: 'cloudconnect-operator@example.org',
        user: 'mailer',
        password: 'smtp-password-123456',
      },
      worker: { vaultAddress: 'https://vault.vault.svc:8200', defaultActiveDeadlineSeconds: 3600 },
      relay: {
        pollIntervalMs: 30_000,
        nats: {
          account: 'ABBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
          signingKeyFile: '/var/run/secrets/cloudconnect/nats/signing-key',
        },
        limits: {
          workMaxBytes: 256 * 1024 * 1024,
          workMaxMessages: 100_000,
          deadMaxBytes: 64 * 1024 * 1024,
          deadMaxAgeMs: 14 * 86_400_000,
          replicas: 1,
        },
      },
    });
    expect(config.vault.token).toBeUndefined();
  });

  it('reads what the integration tests set (operator-process.ts and its callers)', () => {
    const config = configFromEnv({
      KUBECONFIG: '/tmp/kubeconfig',
      VAULT_ADDR: 'http://127.0.0.1:41234',
      VAULT_TOKEN: '',
      VAULT_ROLE: 'cc-rbac-1a2b',
      METRICS_BIND_ADDRESS: '127.0.0.1:40123',
      LEADER_ELECT: 'false',
      LEASE_NAMESPACE: 'kube-system',
      LOG_LEVEL: 'debug',
      AUDIT_LISTEN_ADDRESS: '127.0.0.1:40124',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: '40125',
      RELAY_STATUS_POLL_INTERVAL: '1s',
      NATS_URL: 'nats://127.0.0.1:40126',
      NATS_ACCOUNT: 'ABBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
      NATS_ACCOUNT_SIGNING_KEY_FILE: '/tmp/cloudconnect-nats-x/signing-key',
    });
    expect(config).toMatchObject({ leaderElect: false, leaseNamespace: 'kube-system', logLevel: 'debug', smtp: { port: 40125 } });
    expect(config.vault).toEqual({
      address: 'http://127.0.0.1:41234',
      role: 'cc-rbac-1a2b',
      authMount: 'kubernetes',
      serviceAccountTokenFile: '/var/run/secrets/cloudconnect/vault/token',
    });
  });

  it.each([
    ['takes the Lease namespace from POD_NAMESPACE without LEASE_NAMESPACE', { POD_NAMESPACE: 'ops' }, { leaseNamespace: 'ops' }],
    ['prefers LEASE_NAMESPACE to POD_NAMESPACE', { POD_NAMESPACE: 'ops', LEASE_NAMESPACE: 'leases' }, { leaseNamespace: 'leases' }],
    ['turns leader election off with LEADER_ELECT=false', { LEADER_ELECT: 'false' }, { leaderElect: false }],
    ['takes WORKERS and SYNCSCHEDULE_WORKERS', { WORKERS: '4', SYNCSCHEDULE_WORKERS: '64' }, { workers: 4, scheduleWorkers: 64 }],
    ['takes a metrics port alone, as before', { METRICS_BIND_ADDRESS: '9090' }, { metricsBind: '9090' }],
    ['reads SHUTDOWN_TIMEOUT_SECONDS in seconds', { SHUTDOWN_TIMEOUT_SECONDS: '60' }, { shutdownTimeoutMs: 60_000 }],
    [
      'tells the sync Jobs WORKER_VAULT_ADDR before VAULT_ADDR',
      { VAULT_ADDR: 'https://a:8200', WORKER_VAULT_ADDR: 'https://b:8200' },
      { worker: { vaultAddress: 'https://b:8200' } },
    ],
    [
      'tells the sync Jobs the Ocean CA bundle given as PEM',
      { OCEAN_CA_BUNDLE: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' },
      { worker: { oceanCaBundle: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----' } },
    ],
    [
      'tells the sync Jobs VAULT_ADDR without WORKER_VAULT_ADDR',
      { VAULT_ADDR: 'https://a:8200' },
      { worker: { vaultAddress: 'https://a:8200' } },
    ],
    [
      'turns implicit TLS on with SMTP_TLS=true',
      { SMTP_HOST: 'mail', SMTP_TLS: 'true' },
      { smtp: { host: 'mail', port: 587, secure: true } },
    ],
    ['keeps SMTP off without SMTP_HOST', { SMTP_PORT: '25' }, { smtp: undefined }],
    [
      'reads a count Helm rendered in exponent form',
      { SMTP_HOST: 'mail', RELAY_BACKLOG_MESSAGES: '1e+06', NATS_URL: 'nats://n:4222', ...NATS_AUTH },
      { relay: { thresholds: { backlogMessages: 1_000_000 } } },
    ],
    [
      'puts every site key in SEK_KV_MOUNT and tells the sync Jobs and relays the same mount',
      { SEK_KV_MOUNT: 'kv/clinics', NATS_URL: 'nats://n:4222', ...NATS_AUTH },
      { sekKvMount: 'kv/clinics', worker: { sekMount: 'kv/clinics' }, relay: { deployment: { sekMount: 'kv/clinics' } } },
    ],
    [
      'listens on a unix socket that Vault reaches as a user of the operator group',
      { AUDIT_LISTEN_ADDRESS: 'unix:/run/cloudconnect/audit.sock', AUDIT_SOCKET_MODE: '0660' },
      { audit: { listenAddress: 'unix:/run/cloudconnect/audit.sock', socketMode: 0o660 } },
    ],
    [
      'listens on TCP on loopback without an allow list (loopback peers only)',
      { AUDIT_LISTEN_ADDRESS: '127.0.0.1:18090' },
      { audit: { listenAddress: '127.0.0.1:18090', allowedPeers: { entries: ['127.0.0.0/8', '::1'] } } },
    ],
    [
      'catches up from the file audit log, keeping its position in the state file',
      { AUDIT_LOG_FILE: '/vault/audit/audit.log', AUDIT_STATE_FILE: '/var/lib/cloudconnect/audit-state.json' },
      { audit: { listenAddress: '', logFile: '/vault/audit/audit.log', stateFile: '/var/lib/cloudconnect/audit-state.json' } },
    ],
    ['takes an empty value as unset', { WORKERS: '', LEASE_NAME: '', VAULT_TOKEN: '' }, { workers: 2, leaseName: 'cloudconnect-operator' }],
    ['watches every namespace with an empty WATCH_NAMESPACES', { WATCH_NAMESPACES: '' }, { watchNamespaces: [] }],
    ['watches the one namespace WATCH_NAMESPACES names', { WATCH_NAMESPACES: 'clinic-maple' }, { watchNamespaces: ['clinic-maple'] }],
    [
      'watches each of the comma-separated WATCH_NAMESPACES once, spaces around a name ignored',
      { WATCH_NAMESPACES: ' clinic-maple, clinic-oak ,clinic-maple' },
      { watchNamespaces: ['clinic-maple', 'clinic-oak'] },
    ],
  ] as const)('%s', (_name, env, expected) => {
    expect(configFromEnv(env)).toMatchObject(expected);
  });

  it.each([
    ['refuses WORKERS=abc naming the variable', { WORKERS: 'abc' }, 'WORKERS must be an integer from 1 to 1000 (got WORKERS="abc")'],
    ['refuses WORKERS=0 (no controller would reconcile)', { WORKERS: '0' }, 'WORKERS must be an integer from 1 to 1000 (got WORKERS="0")'],
    ['refuses SYNCSCHEDULE_WORKERS=-1', { SYNCSCHEDULE_WORKERS: '-1' }, 'SYNCSCHEDULE_WORKERS must be an integer from 1 to 1000'],
    [
      'refuses LEADER_ELECT=no instead of reading it as true',
      { LEADER_ELECT: 'no' },
      'LEADER_ELECT must be true or false (got LEADER_ELECT="no")',
    ],
    ['refuses LEADER_ELECT=False instead of reading it as true', { LEADER_ELECT: 'False' }, 'LEADER_ELECT must be true or false'],
    [
      'refuses SHUTDOWN_TIMEOUT_SECONDS=25s',
      { SHUTDOWN_TIMEOUT_SECONDS: '25s' },
      'SHUTDOWN_TIMEOUT_SECONDS must be an integer of at least 1',
    ],
    ['refuses LOG_LEVEL=trace', { LOG_LEVEL: 'trace' }, 'LOG_LEVEL must be one of error, warn, info, http, verbose, debug, silly'],
    ['refuses METRICS_BIND_ADDRESS=localhost', { METRICS_BIND_ADDRESS: 'localhost' }, 'METRICS_BIND_ADDRESS must be host:port or a port'],
    ['refuses AUDIT_LISTEN_ADDRESS=9090 without a colon', { AUDIT_LISTEN_ADDRESS: '9090' }, 'AUDIT_LISTEN_ADDRESS must be host:port'],
    [
      'refuses a relative unix socket path',
      { AUDIT_LISTEN_ADDRESS: 'unix:audit.sock' },
      'AUDIT_LISTEN_ADDRESS must be host:port, :port or unix:/absolute/path',
    ],
    [
      'refuses TCP on every interface without an allow list (anyone could forge audit entries)',
      { AUDIT_LISTEN_ADDRESS: '0.0.0.0:9090' },
      "AUDIT_ALLOWED_PEERS must list Vault's addresses when AUDIT_LISTEN_ADDRESS is TCP on a non-loopback address",
    ],
    [
      'refuses an allow list naming a host instead of an address',
      { AUDIT_LISTEN_ADDRESS: ':9090', AUDIT_ALLOWED_PEERS: '10.0.0.5, vault.vault.svc' },
      'AUDIT_ALLOWED_PEERS must be IP addresses or CIDR ranges separated by commas',
    ],
    ['refuses a world-accessible audit socket', { AUDIT_SOCKET_MODE: '0666' }, 'AUDIT_SOCKET_MODE must be one of 0600, 0660'],
    ['refuses AUDIT_MAX_LINE_BYTES=100', { AUDIT_MAX_LINE_BYTES: '100' }, 'AUDIT_MAX_LINE_BYTES must be an integer from 4096 to 16777216'],
    [
      'refuses AUDIT_LOG_FILE without AUDIT_STATE_FILE',
      { AUDIT_LOG_FILE: '/vault/audit/audit.log' },
      'AUDIT_STATE_FILE is not set (AUDIT_LOG_FILE needs a place to keep its position)',
    ],
    ['refuses LEASE_NAMESPACE=Ops', { LEASE_NAMESPACE: 'Ops' }, 'LEASE_NAMESPACE must be a namespace name (DNS label)'],
    ['refuses LEASE_NAME=my_lease', { LEASE_NAME: 'my_lease' }, 'LEASE_NAME must be a Lease name (DNS subdomain)'],
    ['refuses VAULT_ADDR=vault:8200 without a scheme', { VAULT_ADDR: 'vault:8200' }, 'VAULT_ADDR must be an http(s) URL'],
    ['refuses WORKER_VAULT_ADDR=vault', { WORKER_VAULT_ADDR: 'vault' }, 'WORKER_VAULT_ADDR must be an http(s) URL'],
    ['refuses OCEAN_API_URL=ocean.example', { OCEAN_API_URL: 'ocean.example' }, 'OCEAN_API_URL must be an http(s) URL'],
    ['refuses an OCEAN_CA_BUNDLE that is not PEM', { OCEAN_CA_BUNDLE: '/etc/ca.crt' }, 'OCEAN_CA_BUNDLE must be PEM certificates'],
    [
      'refuses WORKER_ACTIVE_DEADLINE_SECONDS=1h',
      { WORKER_ACTIVE_DEADLINE_SECONDS: '1h' },
      'WORKER_ACTIVE_DEADLINE_SECONDS must be an integer of at least 1',
    ],
    [
      'refuses SMTP_PORT=smtp',
      { SMTP_HOST: 'mail', SMTP_PORT: 'smtp' },
      'SMTP_PORT must be an integer from 1 to 65535 (got SMTP_PORT="smtp")',
    ],
    ['refuses SMTP_TLS=yes instead of reading it as false', { SMTP_HOST: 'mail', SMTP_TLS: 'yes' }, 'SMTP_TLS must be true or false'],
    [
      'refuses NATS_URL=http://nats:4222',
      { NATS_URL: 'http://nats:4222' },
      'NATS_URL must be nats://host:port (comma-separated for a cluster)',
    ],
    ...(['kv/*', 'kv/+', '/secret', 'secret/', 'a b'] as const).map(
      (mount) => [`refuses SEK_KV_MOUNT=${mount}`, { SEK_KV_MOUNT: mount }, 'SEK_KV_MOUNT must be a Vault mount path'] as const,
    ),
    ...(['Clinic-Maple', 'clinic_maple', 'clinic-maple,,clinic-oak', 'clinic-maple,', '*', 'clinic-maple clinic-oak'] as const).map(
      (list) =>
        [
          `refuses WATCH_NAMESPACES=${list}`,
          { WATCH_NAMESPACES: list },
          `WATCH_NAMESPACES must be comma-separated namespace names (DNS labels) (got WATCH_NAMESPACES="${list}")`,
        ] as const,
    ),
    ['refuses NATS_REPLICAS=7 even without NATS_URL', { NATS_REPLICAS: '7' }, 'NATS_REPLICAS must be an integer from 1 to 5'],
  ] as const)('%s', (_name, env, message) => {
    expect(() => configFromEnv(env)).toThrow(EnvError);
    expect(() => configFromEnv(env)).toThrow(`invalid operator configuration: ${message}`);
  });

  it('names every bad variable in one error', () => {
    expect(() => configFromEnv({ WORKERS: 'abc', LEADER_ELECT: 'yes', SMTP_PORT: 'x', RELAY_BACKLOG_AGE: 'soon' })).toThrow(
      'invalid operator configuration: LEADER_ELECT must be true or false; WORKERS must be an integer from 1 to 1000; SMTP_PORT must be an integer from 1 to 65535; RELAY_BACKLOG_AGE must be a duration such as 30s or 15m (got LEADER_ELECT="yes", WORKERS="abc", SMTP_PORT="x", RELAY_BACKLOG_AGE="soon")',
    );
  });

  it('gives the sync Jobs their settings alone', () => {
    expect(workerSettingsFromEnv({ WORKER_IMAGE: 'example/cc:2', WORKER_ACTIVE_DEADLINE_SECONDS: '600' })).toMatchObject({
      image: 'example/cc:2',
      defaultActiveDeadlineSeconds: 600,
    });
    expect(() => workerSettingsFromEnv({ WORKER_ACTIVE_DEADLINE_SECONDS: 'abc' })).toThrow(/WORKER_ACTIVE_DEADLINE_SECONDS/);
    expect(workerSettingsFromEnv({ SEK_KV_MOUNT: 'kv' }).sekMount).toBe('kv');
  });
});
