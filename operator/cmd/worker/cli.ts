// The sync worker's command line, with its inputs injectable (main.ts is the thin entry point).
// Reads exactly what operator/controller/syncschedule/job.ts gives the pod: the arguments, the environment,
// the credentials directory (one file per Secret key) and the projected Vault token; reads the SEK
// from Vault; runs the sync; logs redacted JSON lines to stderr; writes the result as JSON to the
// termination message file (the operator reads it from the Pod status) and to stdout.
// Exit codes: 0 Succeeded, 1 Failed, 2 bad usage.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EmrIntegrationSpec } from '../../api/v1alpha1/index.ts';
import { EmrError, type AdapterConfig, type EmrAdapter } from '../../internal/emr/adapter.ts';
import { createAdapter, type EmrAdapterType } from '../../internal/emr/index.ts';
import { adapterSettings } from '../../internal/emr/settings.ts';
import { fingerprint } from '../../internal/sek/identity.ts';
import { withDefaults } from '../../runtime/defaults.ts';
import { TransientError } from '../../runtime/errors.ts';
import { createLogger, type Logger } from '../../runtime/logger.ts';
import { redactor } from '../../runtime/redact.ts';
import { VaultClient, VaultPermissionError, VaultUnavailableError } from '../../internal/vault/client.ts';
import { RotatingEncryptor, type VersionedSekSource } from '../../internal/sek/key-rotation.ts';
import { OceanClient, type OceanUploader } from '../../internal/ocean/client.ts';
import { failureOf, runSync, type RetryPolicy, type SyncResult, type SyncType } from './sync.ts';

export const USAGE = 'usage: cloudconnect-sync --integration <namespace>/<name> --type Full|Appointments [--run <name>]';
export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';
/** Keys of the credentials directory (or env, outside a pod) that belong to Ocean, not the EMR. */
export const OCEAN_CREDENTIAL_KEYS = { clientId: 'oceanClientId', clientSecret: 'oceanClientSecret' } as const;
/** The SEK's field in its KV v2 secret (as the OceanSite reconciler stores it). */
export const SEK_FIELD = 'sek';

export type WorkerErrorReason = 'InvalidArguments' | 'InvalidConfiguration' | 'VaultUnavailable' | 'VaultLoginFailed' | 'SekAccessDenied' | 'SekNotFound';

/** A failure of the worker's own setup (arguments, environment, Vault), with a reason for the run's status. */
export class WorkerError extends Error {
  readonly reason: WorkerErrorReason;
  constructor(reason: WorkerErrorReason, message: string) {
    super(redactor.string(message));
    this.name = 'WorkerError';
    this.reason = reason;
  }
}

export interface CliArgs {
  namespace: string;
  name: string;
  type: SyncType;
  run: string;
  help: boolean;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,126}$/;

/** `--integration <namespace>/<name>` as the worker and the relay take it; undefined when malformed. */
export function parseIntegrationRef(text: string): { namespace: string; name: string } | undefined {
  const [namespace, name, ...rest] = text.split('/');
  if (rest.length > 0 || !namespace || !name || !DNS_LABEL.test(namespace) || !DNS_SUBDOMAIN.test(name)) return undefined;
  return { namespace, name };
}

/** Parses argv (without node and the script); throws WorkerError('InvalidArguments') with what is wrong. */
export function parseCliArgs(argv: readonly string[], now: Date): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { integration: { type: 'string' }, type: { type: 'string' }, run: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new WorkerError('InvalidArguments', error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  if (values.help) return { namespace: '', name: '', type: 'Full', run: '', help: true };
  const problems: string[] = [];
  const ref = values.integration === undefined ? undefined : parseIntegrationRef(values.integration);
  if (values.integration === undefined) problems.push('--integration is required');
  else if (!ref) problems.push(`--integration must be <namespace>/<name>, got ${JSON.stringify(values.integration)}`);
  if (values.type === undefined) problems.push('--type is required');
  else if (values.type !== 'Full' && values.type !== 'Appointments') problems.push(`--type must be Full or Appointments, got ${JSON.stringify(values.type)}`);
  if (values.run !== undefined && !RUN_NAME.test(values.run)) problems.push(`--run must be a Job name (letters, digits, '.', '_', '-'), got ${JSON.stringify(values.run)}`);
  if (problems.length > 0) throw new WorkerError('InvalidArguments', problems.join('; '));
  return {
    ...(ref as { namespace: string; name: string }),
    type: values.type as SyncType,
    // Outside a Job: a name of our own, still unique per second, so batch ids stay unique.
    run: values.run ?? `local-${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').toLowerCase()}`,
    help: false,
  };
}

export interface WorkerConfig {
  spec: EmrIntegrationSpec;
  siteNumber: string;
  credentialsDir: string | undefined;
  oceanApiUrl: string;
  vault: { address: string; token?: string; authMount: string; role?: string; serviceAccountTokenFile: string };
  sek: { mount: string; path: string };
  terminationMessagePath: string;
  /** Whether TERMINATION_MESSAGE_PATH was set (a failed write is then worth a warning). */
  terminationMessagePathExplicit: boolean;
  caBundleFile: string | undefined;
  /** Downward-API file with the SEK version the operator announced (key rotation); absent outside a pod. */
  keyVersionFile: string | undefined;
}

/**
 * The worker's configuration from the environment; every problem is named at once. The relay
 * (operator/relay) reads the same variables but talks to no Ocean API: `{ ocean: false }`.
 */
export function configFromEnv(env: NodeJS.ProcessEnv, options: { ocean?: boolean } = {}): WorkerConfig {
  const problems: string[] = [];
  const need = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === '') problems.push(`${name} is not set`);
    return value ?? '';
  };
  const specText = need('CLOUDCONNECT_INTEGRATION_SPEC');
  const siteNumber = need('CLOUDCONNECT_SITE_NUMBER');
  const oceanApiUrl = options.ocean === false ? '' : need('OCEAN_API_URL');
  const vaultAddress = need('VAULT_ADDR');
  const mount = need('SEK_MOUNT');
  const path = need('SEK_PATH');
  const token = env.VAULT_TOKEN || undefined;
  const role = env.VAULT_ROLE || undefined;
  if (!token && !role) problems.push('VAULT_ROLE is not set (or VAULT_TOKEN, outside a pod)');
  if (siteNumber && !/^\d{1,20}$/.test(siteNumber)) problems.push('CLOUDCONNECT_SITE_NUMBER must be digits');
  if (oceanApiUrl && !/^https?:\/\//.test(oceanApiUrl)) problems.push('OCEAN_API_URL must be an http(s) URL');
  let spec: EmrIntegrationSpec | undefined;
  if (specText) {
    let raw: unknown;
    try {
      raw = JSON.parse(specText);
    } catch {
      problems.push('CLOUDCONNECT_INTEGRATION_SPEC is not JSON');
    }
    const emrType = (raw as { emr?: { type?: unknown } } | undefined)?.emr?.type;
    if (raw !== undefined && (raw === null || typeof raw !== 'object' || typeof emrType !== 'string')) {
      problems.push('CLOUDCONNECT_INTEGRATION_SPEC is not an EmrIntegration spec (no emr.type)');
    } else if (raw !== undefined) {
      spec = withDefaults<EmrIntegrationSpec>(EmrIntegrationSpec, raw);
      if (spec.emr.type === 'None') problems.push('emr.type is None: a non-integrated site has nothing to sync');
    }
  }
  if (problems.length > 0 || !spec) throw new WorkerError('InvalidConfiguration', problems.join('; '));
  if (token) redactor.register(token);
  return {
    spec,
    siteNumber,
    credentialsDir: env.CLOUDCONNECT_CREDENTIALS_DIR || undefined,
    oceanApiUrl,
    vault: {
      address: vaultAddress,
      ...(token ? { token } : {}),
      ...(role ? { role } : {}),
      authMount: env.VAULT_AUTH_MOUNT || 'kubernetes',
      serviceAccountTokenFile: env.VAULT_SA_TOKEN_FILE || '/var/run/secrets/cloudconnect/vault/token',
    },
    sek: { mount, path },
    terminationMessagePath: env.TERMINATION_MESSAGE_PATH || DEFAULT_TERMINATION_MESSAGE_PATH,
    terminationMessagePathExplicit: Boolean(env.TERMINATION_MESSAGE_PATH),
    caBundleFile: env.CLOUDCONNECT_CA_BUNDLE_FILE || undefined,
    keyVersionFile: env.CLOUDCONNECT_SEK_VERSION_FILE || undefined,
  };
}

/**
 * A mounted Secret: one file per key. Kubernetes' `..data` / `..<timestamp>` entries (the atomic
 * writer's links) start with a dot and are skipped; keys are symlinks, so `stat` (which follows
 * them) decides what is a file. Values are registered for redaction as they are read.
 */
export async function readCredentialsDir(dir: string | undefined): Promise<Record<string, string>> {
  if (!dir) return {};
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new WorkerError('InvalidConfiguration', `cannot read the credentials directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const out: Record<string, string> = {};
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const file = join(dir, name);
    const info = await stat(file).catch(() => undefined); // a dangling link mid-rotation is no key
    if (!info?.isFile()) continue;
    const value = await readFile(file, 'utf8');
    redactor.register(value);
    out[name] = value;
  }
  return out;
}

/** Ocean's client from the credentials directory, else (local runs) OCEAN_CLIENT_ID / OCEAN_CLIENT_SECRET. */
export function oceanCredentials(credentials: Record<string, string>, env: NodeJS.ProcessEnv): { clientId: string; clientSecret: string } {
  const clientId = credentials[OCEAN_CREDENTIAL_KEYS.clientId] || env.OCEAN_CLIENT_ID || '';
  const clientSecret = credentials[OCEAN_CREDENTIAL_KEYS.clientSecret] || env.OCEAN_CLIENT_SECRET || '';
  if (!clientId || !clientSecret) {
    throw new WorkerError(
      'InvalidConfiguration',
      `the Ocean client is missing: keys ${OCEAN_CREDENTIAL_KEYS.clientId} and ${OCEAN_CREDENTIAL_KEYS.clientSecret} in the credentials Secret (or OCEAN_CLIENT_ID and OCEAN_CLIENT_SECRET outside a pod)`,
    );
  }
  redactor.register(clientId);
  redactor.register(clientSecret);
  return { clientId, clientSecret };
}

/** Where the SEK comes from; injectable so tests run without Vault. */
export type SekSource = () => Promise<string>;

/**
 * Reads the SEK from KV v2 at SEK_MOUNT/SEK_PATH, field `sek`: with VAULT_TOKEN when set (outside a
 * pod), else after a kubernetes-auth login with the projected token (VAULT_SA_TOKEN_FILE) at
 * VAULT_AUTH_MOUNT as VAULT_ROLE. Vault's audit log records the read; the operator's audit
 * listener turns it into the Clinical Administrator notification.
 */
export function vaultSekSource(config: WorkerConfig): SekSource {
  const versioned = vaultVersionedSekSource(config);
  return async () => (await versioned()).value;
}

/** As vaultSekSource, with the KV version: the current one, or the one asked for (key rotation). */
export function vaultVersionedSekSource(config: WorkerConfig): VersionedSekSource {
  return async (version?: number) => {
    const { vault, sek } = config;
    let token = vault.token;
    if (!token) {
      let jwt: string;
      try {
        jwt = (await readFile(vault.serviceAccountTokenFile, 'utf8')).trim();
      } catch (error) {
        throw new WorkerError('VaultLoginFailed', `cannot read the Vault login token ${vault.serviceAccountTokenFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      redactor.register(jwt);
      try {
        token = await new VaultClient({ address: vault.address }).kubernetesLogin(vault.authMount, vault.role ?? '', jwt);
      } catch (error) {
        if (error instanceof VaultUnavailableError) throw new WorkerError('VaultUnavailable', error.message);
        throw new WorkerError('VaultLoginFailed', `Vault refused the login as role ${vault.role ?? ''} at auth/${vault.authMount}: ${error instanceof Error ? error.message : 'error'}`);
      }
    }
    let out: Awaited<ReturnType<VaultClient['kvRead']>>;
    try {
      out = await new VaultClient({ address: vault.address, token }).kvRead(sek.mount, sek.path, version);
    } catch (error) {
      if (error instanceof VaultPermissionError) throw new WorkerError('SekAccessDenied', `Vault denied reading the SEK at ${sek.mount}/${sek.path}`);
      if (error instanceof VaultUnavailableError || error instanceof TransientError) throw new WorkerError('VaultUnavailable', error.message);
      throw error;
    }
    const value = out?.data[SEK_FIELD];
    if (!value) throw new WorkerError('SekNotFound', `no SEK at ${sek.mount}/${sek.path} (field ${SEK_FIELD})`);
    return { value, version: out?.version ?? 0 };
  };
}

/** What the worker reports: the sync result plus its start and end (the termination message). */
export interface WorkerResult extends Omit<SyncResult, 'type' | 'batches'> {
  type?: SyncType;
  batches?: number;
  integration?: string;
  run?: string;
  startTime: string;
  completionTime: string;
}

export interface WorkerDeps {
  /** Replaces Vault (tests): the key, with no versions to rotate to. */
  sekSource?: SekSource;
  /** Builds the EMR adapter (default createAdapter). */
  adapterFactory?: (type: EmrAdapterType, config: AdapterConfig) => EmrAdapter;
  /** Builds the Ocean client (default OceanClient). */
  oceanFactory?: (options: ConstructorParameters<typeof OceanClient>[0]) => OceanUploader;
  fetch?: typeof fetch;
  logger?: Logger;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  retry?: RetryPolicy;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/** createAdapter throws EmrError for missing keys, a plain Error for a spec without its section. */
function buildAdapter(factory: NonNullable<WorkerDeps['adapterFactory']>, type: EmrAdapterType, config: AdapterConfig): EmrAdapter {
  try {
    return factory(type, config);
  } catch (error) {
    if (error instanceof EmrError) throw error;
    throw new WorkerError('InvalidConfiguration', error instanceof Error ? error.message : String(error));
  }
}

/** The integration's EMR adapter from the spec and the credentials (Ocean's keys are not the EMR's). */
export async function emrAdapterFromConfig(
  config: WorkerConfig,
  credentials: Record<string, string>,
  deps: { adapterFactory?: WorkerDeps['adapterFactory']; fetch?: typeof fetch; now: () => Date },
): Promise<EmrAdapter> {
  const settings = adapterSettings(config.spec);
  const emrCredentials = Object.fromEntries(Object.entries(credentials).filter(([key]) => key !== OCEAN_CREDENTIAL_KEYS.clientId && key !== OCEAN_CREDENTIAL_KEYS.clientSecret));
  const caBundle = config.caBundleFile ? await readFile(config.caBundleFile, 'utf8') : undefined;
  return buildAdapter(deps.adapterFactory ?? createAdapter, settings.type, {
    baseUrl: settings.baseUrl,
    credentials: emrCredentials,
    ...(settings.tenantId ? { tenantId: settings.tenantId } : {}),
    ...(settings.instanceId ? { instanceId: settings.instanceId } : {}),
    ...(settings.tokenUrl ? { tokenUrl: settings.tokenUrl } : {}),
    ...(caBundle ? { caBundle } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    now: deps.now,
  });
}

export async function writeTerminationMessage(path: string, result: WorkerResult, explicit: boolean, logger?: Logger): Promise<void> {
  try {
    await writeFile(path, JSON.stringify(result));
  } catch (error) {
    // Outside a pod /dev/termination-log does not exist; only a path someone chose is worth a warning.
    if (explicit) logger?.warn('cannot write the termination message', { path, code: (error as NodeJS.ErrnoException).code });
  }
}

export async function runWorker(argv: readonly string[], env: NodeJS.ProcessEnv, deps: WorkerDeps = {}): Promise<{ exitCode: number; result?: WorkerResult }> {
  const now = deps.now ?? (() => new Date());
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  const logger = deps.logger ?? createLogger();
  const startTime = now();
  const terminationPath = env.TERMINATION_MESSAGE_PATH || DEFAULT_TERMINATION_MESSAGE_PATH;
  const explicitPath = Boolean(env.TERMINATION_MESSAGE_PATH);
  const finish = async (partial: Omit<WorkerResult, 'startTime' | 'completionTime'>, exitCode: number) => {
    const end = now();
    const result: WorkerResult = { ...partial, startTime: startTime.toISOString(), completionTime: end.toISOString() };
    await writeTerminationMessage(terminationPath, result, explicitPath, logger);
    stdout.write(`${JSON.stringify(result)}\n`);
    return { exitCode, result };
  };
  const failed = (errorReason: string, message: string) => ({
    result: 'Failed' as const,
    providers: 0,
    patients: 0,
    appointments: 0,
    durationSeconds: Math.max(0, Math.round((now().getTime() - startTime.getTime()) / 1000)),
    errorReason,
    message: redactor.string(message).slice(0, 512),
  });

  let args: CliArgs;
  try {
    args = parseCliArgs(argv, startTime);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    stderr.write(`cloudconnect-sync: ${message}\n${USAGE}\n`);
    return finish(failed('InvalidArguments', message), 2);
  }
  if (args.help) {
    stdout.write(`${USAGE}\n`);
    return { exitCode: 0 };
  }
  const integration = `${args.namespace}/${args.name}`;
  const context = { integration, type: args.type, run: args.run };

  try {
    const config = configFromEnv(env);
    const settings = adapterSettings(config.spec);
    logger.info('sync starting', { ...context, emr: settings.type, siteNumber: config.siteNumber });

    const credentials = await readCredentialsDir(config.credentialsDir);
    const ocean = oceanCredentials(credentials, env);
    const adapter = await emrAdapterFromConfig(config, credentials, { ...(deps.adapterFactory ? { adapterFactory: deps.adapterFactory } : {}), ...(deps.fetch ? { fetch: deps.fetch } : {}), now });
    const oceanOptions = { apiUrl: config.oceanApiUrl, siteNumber: config.siteNumber, ...ocean, ...(deps.fetch ? { fetch: deps.fetch } : {}), now };
    const uploader = (deps.oceanFactory ?? ((o) => new OceanClient(o)))(oceanOptions);

    const injected = deps.sekSource;
    const sekSource: VersionedSekSource = injected ? async () => ({ value: await injected(), version: 0 }) : vaultVersionedSekSource(config);
    const sek = await sekSource();
    redactor.register(sek.value);
    // The fingerprint (as in OceanSite status) tells which key encrypted the run, never the key.
    logger.info('SEK read', { ...context, sekFingerprint: fingerprint(sek.value), sekVersion: sek.version });
    const encryptor = new RotatingEncryptor({
      initial: sek,
      siteNumber: config.siteNumber,
      ...(config.keyVersionFile ? { versionFile: config.keyVersionFile } : {}),
      source: sekSource,
      onKey: (value) => redactor.register(value),
      onRotate: (from, to, kid) => logger.info('SEK rotated during the run: later batches use the new version', { ...context, fromVersion: from, sekVersion: to, sekFingerprint: kid }),
      onRefreshFailed: (version, error) =>
        logger.warn('SEK version announced but not readable; the current key stays in use', { ...context, sekVersion: version, detail: error instanceof Error ? error.message : 'error' }),
    });

    const sync = await runSync({
      adapter,
      type: args.type,
      scheduleDaysToSync: config.spec.settings?.scheduleDaysToSync ?? 1,
      syncProviderIds: config.spec.settings?.syncProviderIds,
      syncOfficeIds: settings.type === 'Accuro' ? config.spec.settings?.syncOfficeIds : undefined,
      now,
      ocean: uploader,
      encryptor,
      run: args.run,
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
      ...(deps.retry ? { retry: deps.retry } : {}),
      onProgress: (p) => logger.info(`records ${p.done}/${p.total}`, { ...context, kind: p.kind, done: p.done, total: p.total }),
      onWarning: (message, fields) => logger.warn(message, { ...context, ...fields }),
    });
    const level = sync.result === 'Succeeded' ? 'info' : 'error';
    const { message: detail, ...fields } = sync;
    logger.log(level, `sync ${sync.result.toLowerCase()}`, { ...context, ...fields, ...(detail ? { detail } : {}) });
    return finish({ ...sync, integration, run: args.run }, sync.result === 'Succeeded' ? 0 : 1);
  } catch (error) {
    const { errorReason, message } = error instanceof WorkerError ? { errorReason: error.reason, message: error.message } : failureOf(error);
    // Our bug: the stack says where; the message is left out, it could quote data.
    if (errorReason === 'InternalError') logger.error('sync worker error', { ...context, errorName: (error as Error).name, stack: (error as Error).stack?.split('\n').slice(1).join('\n') });
    logger.error('sync failed', { ...context, errorReason, detail: message });
    return finish({ ...failed(errorReason, message), type: args.type, integration, run: args.run }, 1);
  }
}
