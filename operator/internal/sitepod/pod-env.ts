// The contract between the operator and the pods it starts (sync Jobs and the relay): the
// environment, the mounted credentials directory, the projected Vault token and the SEK read that
// both programs share. The operator writes these in site-pod.ts; the programs read them here.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EmrIntegrationSpec } from '../../api/v1alpha1/index.ts';
import { withDefaults } from '../../runtime/defaults.ts';
import { TransientError } from '../../runtime/errors.ts';
import { redactor } from '../../runtime/redact.ts';
import type { VersionedSekSource } from '../sek/key-rotation.ts';
import { VaultClient, VaultPermissionError, VaultUnavailableError } from '../vault/client.ts';

export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';
/** Keys of the credentials directory (or env, outside a pod) that belong to Ocean, not the EMR. */
export const OCEAN_CREDENTIAL_KEYS = { clientId: 'oceanClientId', clientSecret: 'oceanClientSecret' } as const;
/** The SEK's field in its KV v2 secret (as the OceanSite reconciler stores it). */
export const SEK_FIELD = 'sek';

export type WorkerErrorReason =
  | 'InvalidArguments'
  | 'InvalidConfiguration'
  | 'VaultUnavailable'
  | 'VaultLoginFailed'
  | 'SekAccessDenied'
  | 'SekNotFound';

/** A failure of the worker's own setup (arguments, environment, Vault), with a reason for the run's status. */
export class WorkerError extends Error {
  readonly reason: WorkerErrorReason;
  constructor(reason: WorkerErrorReason, message: string) {
    super(redactor.string(message));
    this.name = 'WorkerError';
    this.reason = reason;
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** `--integration <namespace>/<name>` as the worker and the relay take it; undefined when malformed. */
export function parseIntegrationRef(text: string): { namespace: string; name: string } | undefined {
  const [namespace, name, ...rest] = text.split('/');
  if (rest.length > 0 || !namespace || !name || !DNS_LABEL.test(namespace) || !DNS_SUBDOMAIN.test(name)) return undefined;
  return { namespace, name };
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
        throw new WorkerError(
          'VaultLoginFailed',
          `cannot read the Vault login token ${vault.serviceAccountTokenFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
        );
      }
      redactor.register(jwt);
      try {
        token = await new VaultClient({ address: vault.address }).kubernetesLogin(vault.authMount, vault.role ?? '', jwt);
      } catch (error) {
        if (error instanceof VaultUnavailableError) throw new WorkerError('VaultUnavailable', error.message);
        throw new WorkerError(
          'VaultLoginFailed',
          `Vault refused the login as role ${vault.role ?? ''} at auth/${vault.authMount}: ${error instanceof Error ? error.message : 'error'}`,
        );
      }
    }
    let out: Awaited<ReturnType<VaultClient['kvRead']>>;
    try {
      out = await new VaultClient({ address: vault.address, token }).kvRead(sek.mount, sek.path, version);
    } catch (error) {
      if (error instanceof VaultPermissionError)
        throw new WorkerError('SekAccessDenied', `Vault denied reading the SEK at ${sek.mount}/${sek.path}`);
      if (error instanceof VaultUnavailableError || error instanceof TransientError)
        throw new WorkerError('VaultUnavailable', error.message);
      throw error;
    }
    const value = out?.data[SEK_FIELD];
    if (!value) throw new WorkerError('SekNotFound', `no SEK at ${sek.mount}/${sek.path} (field ${SEK_FIELD})`);
    return { value, version: out?.version ?? 0 };
  };
}
