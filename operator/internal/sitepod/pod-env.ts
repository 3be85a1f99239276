// The contract between the operator and the pods it starts (sync Jobs and the relay): the
// environment, the mounted credentials directory, the projected Vault token and the SEK read that
// both programs share. The operator writes these in site-pod.ts; the programs read them here.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EmrIntegrationSpec } from '../../api/v1alpha1/index.ts';
import { withDefaults } from '../../runtime/defaults.ts';
import { DNS_LABEL, DNS_SUBDOMAIN, type Env, type EnvError, EnvReader, HTTP_URL, LOG_LEVELS, type LogLevel } from '../../runtime/env.ts';
import { TransientError } from '../../runtime/errors.ts';
import { redactor } from '../../runtime/redact.ts';
import { isKnownTimeZone } from '../../runtime/time-zone.ts';
import { type EgressPolicy, readEgress } from '../httpx/egress-config.ts';
import { OCEAN_SECRET_KEYS } from '../ocean/site-credentials.ts';
import type { VersionedSekSource } from '../sek/key-rotation.ts';
import { readVaultLogin, VaultClient, type VaultLogin, VaultPermissionError, VaultUnavailableError } from '../vault/client.ts';

export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';
/** Keys of the EMR credentials directory that belong to Ocean (before spec.ocean; still read when the site names no Ocean Secret). */
export const OCEAN_CREDENTIAL_KEYS = { clientId: 'oceanClientId', clientSecret: 'oceanClientSecret' } as const;
/** The SEK's field in its KV v2 secret (as the OceanSite reconciler stores it). */
const SEK_FIELD = 'sek';

export type WorkerErrorReason =
  | 'InvalidArguments'
  | 'InvalidConfiguration'
  | 'VaultUnavailable'
  | 'VaultLoginFailed'
  | 'SekAccessDenied'
  | 'SekNotFound'
  | 'WebhookKeyUnavailable'
  | 'NatsCredentialsUnavailable'
  /** A referral's contact envelope does not open with the site's SEK (reminders of a non-integrated site). */
  | 'ContactUndecryptable';

/** A failure of the worker's own setup (arguments, environment, Vault), with a reason for the run's status. */
export class WorkerError extends Error {
  readonly reason: WorkerErrorReason;
  constructor(reason: WorkerErrorReason, message: string) {
    super(redactor.string(message));
    this.name = 'WorkerError';
    this.reason = reason;
  }
}

/** `--integration <namespace>/<name>` as the worker and the relay take it; undefined when malformed. */
export function parseIntegrationRef(text: string): { namespace: string; name: string } | undefined {
  const [namespace, name, ...rest] = text.split('/');
  if (rest.length > 0 || !namespace || !name || !DNS_LABEL.test(namespace) || !DNS_SUBDOMAIN.test(name)) return undefined;
  return { namespace, name };
}

/** What a site's pod reads whatever runs in it: the site, Ocean, Vault and the SEK's location, the pod contract. */
export type SiteConfig = Omit<WorkerConfig, 'spec' | 'emrTimeZone' | 'credentialsDir' | 'caBundleFile'>;

export interface WorkerConfig {
  spec: EmrIntegrationSpec;
  siteNumber: string;
  /** The site's IANA time zone (CLOUDCONNECT_SITE_TIME_ZONE, from OceanSite spec.timeZone): the sync window's days. */
  siteTimeZone: string;
  /** The zone of the EMR's wall-clock times: spec.emr.timeZone, else the site's. */
  emrTimeZone: string;
  credentialsDir: string | undefined;
  /** The site's Ocean Secret, mounted (CLOUDCONNECT_OCEAN_CREDENTIALS_DIR); undefined when the site names none. */
  oceanCredentialsDir: string | undefined;
  oceanApiUrl: string;
  vault: VaultLogin & { address: string };
  sek: { mount: string; path: string };
  terminationMessagePath: string;
  /** Whether TERMINATION_MESSAGE_PATH was set (a failed write is then worth a warning). */
  terminationMessagePathExplicit: boolean;
  caBundleFile: string | undefined;
  /** PEM of extra CAs the Ocean API's certificate may chain to (OCEAN_CA_BUNDLE, from the operator's setting). */
  oceanCaBundle: string | undefined;
  /** Downward-API file with the SEK version the operator announced (key rotation); absent outside a pod. */
  keyVersionFile: string | undefined;
  logLevel: LogLevel;
  /** What the EMR's and Ocean's URLs may reach and answer (EGRESS_*, as the operator passes them). */
  egress: EgressPolicy;
}

/** NATS server(s) as the operator passes them to the relay: `nats://host:port`, comma-separated for a cluster. */
export const NATS_URL = {
  test: (text: string) => text.split(',').every((u) => /^(nats|tls):\/\/\S+$/.test(u.trim())),
  expected: 'nats://host:port (comma-separated for a cluster)',
};

const SITE_NUMBER = { test: (text: string) => /^\d{1,20}$/.test(text), expected: 'digits' };
const TIME_ZONE = { test: isKnownTimeZone, expected: 'an IANA time zone name such as America/Toronto' };

/** The termination message file: TERMINATION_MESSAGE_PATH, and whether it was set (outside a pod it need not exist). */
export function terminationMessageTarget(env: Env): { path: string; explicit: boolean } {
  return readTerminationTarget(new EnvReader(env));
}

function readTerminationTarget(r: EnvReader): { path: string; explicit: boolean } {
  const path = r.string('TERMINATION_MESSAGE_PATH');
  return { path: path ?? DEFAULT_TERMINATION_MESSAGE_PATH, explicit: path !== undefined };
}

/** The error the worker and the relay report for a bad environment. */
export const invalidConfiguration = (error: EnvError): WorkerError => new WorkerError('InvalidConfiguration', error.message);

/**
 * The worker's configuration from the environment; every problem is named at once. The relay
 * (operator/cmd/relay) reads the same variables but talks to no Ocean API: `{ ocean: false }`.
 */
export function configFromEnv(env: Env, options: { ocean?: boolean } = {}): WorkerConfig {
  const r = new EnvReader(env);
  return r.done(readPodConfig(r, options), { wrap: invalidConfiguration });
}

/** The pod's variables, read into `r` (the relay adds its own before checking); undefined only with a problem recorded. */
export function readPodConfig(r: EnvReader, options: PodConfigOptions = {}): WorkerConfig | undefined {
  const specText = r.required('CLOUDCONNECT_INTEGRATION_SPEC');
  const site = readSitePodConfig(r, options);
  const spec = specText ? parseSpec(r, specText, options) : undefined;
  if (!spec || !site) return undefined;
  const emrTimeZone = spec.emr.timeZone ?? site.siteTimeZone;
  if (!isKnownTimeZone(emrTimeZone)) r.problem(`emr.timeZone ${JSON.stringify(emrTimeZone)} is not a known IANA time zone`);
  return {
    ...site,
    spec,
    emrTimeZone,
    credentialsDir: r.string('CLOUDCONNECT_CREDENTIALS_DIR'),
    caBundleFile: r.string('CLOUDCONNECT_CA_BUNDLE_FILE'),
  };
}

/** A site pod with no EMR (the reminders run of a site without an integrated EMR): every problem named at once. */
export function siteConfigFromEnv(env: Env): SiteConfig {
  const r = new EnvReader(env);
  return r.done(readSitePodConfig(r), { wrap: invalidConfiguration });
}

function readSitePodConfig(r: EnvReader, options: { ocean?: boolean } = {}): SiteConfig | undefined {
  const siteNumber = r.required('CLOUDCONNECT_SITE_NUMBER', { valid: SITE_NUMBER });
  // Outside a pod (no operator to set it) the site's days are UTC days.
  const siteTimeZone = r.string('CLOUDCONNECT_SITE_TIME_ZONE', 'UTC', { valid: TIME_ZONE });
  const oceanApiUrl = options.ocean === false ? '' : r.required('OCEAN_API_URL', { valid: HTTP_URL });
  const vaultAddress = r.required('VAULT_ADDR', { valid: HTTP_URL });
  const mount = r.required('SEK_MOUNT');
  const path = r.required('SEK_PATH');
  const login = readVaultLogin(r);
  if (!login.token && !login.role) r.problem('VAULT_ROLE is not set (or VAULT_TOKEN, outside a pod)');
  const logLevel = r.oneOf('LOG_LEVEL', LOG_LEVELS, { default: 'info' });
  const termination = readTerminationTarget(r);
  const egress = readEgress(r);
  if (login.token) redactor.register(login.token);
  return {
    siteNumber,
    siteTimeZone,
    oceanCredentialsDir: r.string('CLOUDCONNECT_OCEAN_CREDENTIALS_DIR'),
    oceanApiUrl,
    vault: { address: vaultAddress, ...login },
    sek: { mount, path },
    terminationMessagePath: termination.path,
    terminationMessagePathExplicit: termination.explicit,
    oceanCaBundle: r.string('OCEAN_CA_BUNDLE'),
    keyVersionFile: r.string('CLOUDCONNECT_SEK_VERSION_FILE'),
    logLevel,
    egress,
  };
}

/** What the program reading the pod's variables needs of them. */
export interface PodConfigOptions {
  /** false: the program calls no Ocean API (the relay), OCEAN_API_URL is not read. */
  ocean?: boolean;
  /** The relay: an integration without an EMR is accepted when it has an eReferral endpoint (spec.eReferral). */
  eReferralOnly?: boolean;
}

/** CLOUDCONNECT_INTEGRATION_SPEC: JSON of an EmrIntegration spec with an EMR (or, for the relay, an eReferral endpoint), API defaults filled in. */
function parseSpec(r: EnvReader, text: string, options: PodConfigOptions): EmrIntegrationSpec | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    r.problem('CLOUDCONNECT_INTEGRATION_SPEC is not JSON');
    return undefined;
  }
  const emrType = (raw as { emr?: { type?: unknown } } | undefined)?.emr?.type;
  if (raw === null || typeof raw !== 'object' || typeof emrType !== 'string') {
    r.problem('CLOUDCONNECT_INTEGRATION_SPEC is not an EmrIntegration spec (no emr.type)');
    return undefined;
  }
  const spec = withDefaults<EmrIntegrationSpec>(EmrIntegrationSpec, raw);
  if (spec.emr.type === 'None' && !(options.eReferralOnly && spec.eReferral))
    r.problem('emr.type is None: a non-integrated site has nothing to sync');
  return spec;
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
    throw new WorkerError(
      'InvalidConfiguration',
      `cannot read the credentials directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
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

/**
 * Ocean's client: from the site's Ocean Secret when the site names one (`oceanFiles`, its mounted
 * directory read; then it alone counts), else from the EMR credentials directory's oceanClientId /
 * oceanClientSecret (the behaviour before spec.ocean), else (local runs) OCEAN_CLIENT_ID / OCEAN_CLIENT_SECRET.
 */
export function oceanCredentials(
  credentials: Record<string, string>,
  env: Env,
  oceanFiles?: Record<string, string>,
): { clientId: string; clientSecret: string } {
  if (oceanFiles) {
    const clientId = (oceanFiles[OCEAN_SECRET_KEYS.clientId] ?? '').trim();
    const clientSecret = (oceanFiles[OCEAN_SECRET_KEYS.clientSecret] ?? '').trim();
    if (!clientId || !clientSecret)
      throw new WorkerError(
        'InvalidConfiguration',
        "the site's Ocean Secret (spec.ocean.credentialsSecretRef) lacks clientId or clientSecret",
      );
    redactor.register(clientId);
    redactor.register(clientSecret);
    return { clientId, clientSecret };
  }
  const r = new EnvReader(env);
  const clientId = credentials[OCEAN_CREDENTIAL_KEYS.clientId] || r.string('OCEAN_CLIENT_ID', '');
  const clientSecret = credentials[OCEAN_CREDENTIAL_KEYS.clientSecret] || r.string('OCEAN_CLIENT_SECRET', '');
  if (!clientId || !clientSecret) {
    throw new WorkerError(
      'InvalidConfiguration',
      `the Ocean client is missing: set the OceanSite's spec.ocean.credentialsSecretRef (or, deprecated, keys ${OCEAN_CREDENTIAL_KEYS.clientId} and ${OCEAN_CREDENTIAL_KEYS.clientSecret} in the EMR credentials Secret; OCEAN_CLIENT_ID and OCEAN_CLIENT_SECRET outside a pod)`,
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
export function vaultSekSource(config: SiteConfig): SekSource {
  const versioned = vaultVersionedSekSource(config);
  return async () => (await versioned()).value;
}

/** The pod's Vault token: VAULT_TOKEN when set (outside a pod), else a kubernetes-auth login with the projected token. */
async function podVaultToken(vault: WorkerConfig['vault']): Promise<string> {
  if (vault.token) return vault.token;
  let jwt: string;
  try {
    jwt = (await readFile(vault.serviceAccountTokenFile, 'utf8')).trim();
  } catch (error) {
    throw new WorkerError(
      'VaultLoginFailed',
      `cannot read the Vault login token ${vault.serviceAccountTokenFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  redactor.register(jwt);
  try {
    return await new VaultClient({ address: vault.address }).kubernetesLogin(vault.authMount, vault.role ?? '', jwt);
  } catch (error) {
    if (error instanceof VaultUnavailableError) throw new WorkerError('VaultUnavailable', error.message);
    throw new WorkerError(
      'VaultLoginFailed',
      `Vault refused the login as role ${vault.role ?? ''} at auth/${vault.authMount}: ${error instanceof Error ? error.message : 'error'}`,
    );
  }
}

/**
 * The relay's NATS credentials (a creds file's text, field `creds`) from KV v2 at SEK_MOUNT/`path`,
 * with the same login as the SEK; the value is registered for redaction by the Vault client.
 */
export async function vaultNatsCreds(config: WorkerConfig, path: string): Promise<string> {
  const out = await podKvRead(config, path, undefined, { denied: 'NatsCredentialsUnavailable', what: 'the NATS credentials' });
  const creds = out?.data['creds'];
  if (!creds) throw new WorkerError('NatsCredentialsUnavailable', `no NATS credentials at ${config.sek.mount}/${path} (field creds)`);
  return creds;
}

/**
 * A read of the site's subtree with the pod's own Vault login: a refusal is `denied` (naming `what`),
 * Vault away or failing is VaultUnavailable.
 */
async function podKvRead(
  config: SiteConfig,
  path: string,
  version: number | undefined,
  refusal: { denied: WorkerErrorReason; what: string },
): Promise<Awaited<ReturnType<VaultClient['kvRead']>>> {
  const { vault, sek } = config;
  const token = await podVaultToken(vault);
  try {
    return await new VaultClient({ address: vault.address, token }).kvRead(sek.mount, path, version);
  } catch (error) {
    if (error instanceof VaultPermissionError)
      throw new WorkerError(refusal.denied, `Vault denied reading ${refusal.what} at ${sek.mount}/${path}`);
    if (error instanceof VaultUnavailableError || error instanceof TransientError) throw new WorkerError('VaultUnavailable', error.message);
    throw error;
  }
}

/** As vaultSekSource, with the KV version: the current one, or the one asked for (key rotation). */
export function vaultVersionedSekSource(config: SiteConfig): VersionedSekSource {
  return async (version?: number) => {
    const { sek } = config;
    const out = await podKvRead(config, sek.path, version, { denied: 'SekAccessDenied', what: 'the SEK' });
    const value = out?.data[SEK_FIELD];
    if (!value) throw new WorkerError('SekNotFound', `no SEK at ${sek.mount}/${sek.path} (field ${SEK_FIELD})`);
    return { value, version: out?.version ?? 0 };
  };
}
