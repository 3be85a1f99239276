// The operator's Vault access (node-vault), typed and narrowed to what it needs: KV v2 for the
// SEK, policies and kubernetes-auth roles for per-site identities. Unreachable or sealed Vault is a
// VaultUnavailable transient error; 404 is "absent"; nothing returned here is ever logged.

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import nodeVault from 'node-vault';
import type { EnvReader } from '../../runtime/env.ts';
import { statusCodeOf, TransientError } from '../../runtime/errors.ts';
import { redactor } from '../../runtime/redact.ts';

export class VaultUnavailableError extends TransientError {
  constructor(detail: string) {
    super('VaultUnavailable', `Vault is unavailable: ${detail}`);
    this.name = 'VaultUnavailableError';
  }
}

export class VaultPermissionError extends Error {
  constructor(path: string) {
    super(`Vault denied access to ${path}`);
    this.name = 'VaultPermissionError';
  }
}

export interface KvMetadata {
  currentVersion: number;
  createdTime: Record<number, string>;
  destroyed: Record<number, boolean>;
}

export interface VaultConfig {
  address: string;
  /** A token (local development); otherwise the operator logs in with kubernetes auth. */
  token?: string;
  role?: string;
  authMount?: string;
  serviceAccountTokenFile?: string;
  caCert?: string;
}

/** How a program logs in to Vault, read the same way by the operator and by the pods it starts. */
export type VaultLogin = Required<Pick<VaultConfig, 'authMount' | 'serviceAccountTokenFile'>> & Pick<VaultConfig, 'token' | 'role'>;

/** VAULT_TOKEN (outside a pod), else VAULT_ROLE at VAULT_AUTH_MOUNT with the token in VAULT_SA_TOKEN_FILE. */
export function readVaultLogin(r: EnvReader): VaultLogin {
  const token = r.string('VAULT_TOKEN');
  const role = r.string('VAULT_ROLE');
  return {
    ...(token ? { token } : {}),
    ...(role ? { role } : {}),
    authMount: r.string('VAULT_AUTH_MOUNT', 'kubernetes'),
    serviceAccountTokenFile: r.string('VAULT_SA_TOKEN_FILE', '/var/run/secrets/cloudconnect/vault/token'),
  };
}

type RawClient = ReturnType<typeof nodeVault>;

/** How many of its own logins' accessors the client remembers (one login per token TTL). */
const OWN_ACCESSORS_KEPT = 64;

export class VaultClient {
  private readonly config: VaultConfig;
  private client: RawClient;
  private loggedInUntil = 0;
  private readonly accessors = new Set<string>();

  constructor(config: VaultConfig) {
    this.config = config;
    this.client = nodeVault({
      apiVersion: 'v1',
      endpoint: config.address,
      ...(config.token ? { token: config.token } : {}),
      // VAULT_CACERT, as in Vault's own CLI: a PEM file with the CA that signed Vault's certificate.
      ...(config.caCert ? { requestOptions: { ca: readFileSync(config.caCert, 'utf8') } } : {}),
    });
    if (config.token) redactor.register(config.token);
  }

  /** Raw access for callers that need another endpoint; errors are mapped like everything else. */
  async request<T>(method: string, path: string, json?: unknown): Promise<T | undefined> {
    await this.ensureLogin();
    try {
      return (await this.client.request({ method, path, ...(json === undefined ? {} : { json }) })) as T;
    } catch (error) {
      return this.mapError(error, path);
    }
  }

  async health(): Promise<{ sealed: boolean; initialized: boolean }> {
    try {
      const h = (await this.client.health({ standbyok: true, sealedcode: 200, uninitcode: 200 })) as {
        sealed: boolean;
        initialized: boolean;
      };
      return { sealed: h.sealed, initialized: h.initialized };
    } catch (error) {
      throw new VaultUnavailableError(describe(error));
    }
  }

  /** Whether a secrets engine is mounted at `mount` (and is KV version 2). */
  async kvV2MountExists(mount: string): Promise<boolean> {
    let out: { data?: { type?: string; options?: { version?: string } } } | undefined;
    try {
      out = await this.request('GET', `/sys/mounts/${mount}`);
    } catch (error) {
      // Vault answers 400 "No secret engine mount at …" for an unknown mount.
      if (error instanceof TransientError && /No secret engine mount/.test(error.message)) return false;
      throw error;
    }
    if (!out) return false;
    const info = out.data ?? (out as { type?: string; options?: { version?: string } });
    return info.type === 'kv' && info.options?.version === '2';
  }

  async kvMetadata(mount: string, path: string): Promise<KvMetadata | undefined> {
    const out = await this.request<{
      data: { current_version: number; versions: Record<string, { created_time: string; destroyed: boolean; deletion_time: string }> };
    }>('GET', `/${mount}/metadata/${path}`);
    if (!out) return undefined;
    const createdTime: Record<number, string> = {};
    const destroyed: Record<number, boolean> = {};
    for (const [v, info] of Object.entries(out.data.versions)) {
      createdTime[Number(v)] = info.created_time;
      destroyed[Number(v)] = info.destroyed || info.deletion_time !== '';
    }
    return { currentVersion: out.data.current_version, createdTime, destroyed };
  }

  /** Reads one version (default: current) of a KV v2 secret. The values are registered for redaction. */
  async kvRead(
    mount: string,
    path: string,
    version?: number,
  ): Promise<{ data: Record<string, string>; version: number; createdTime: string } | undefined> {
    const out = await this.request<{ data: { data: Record<string, string>; metadata: { version: number; created_time: string } } }>(
      'GET',
      `/${mount}/data/${path}${version ? `?version=${version}` : ''}`,
    );
    if (!out?.data?.data) return undefined;
    for (const value of Object.values(out.data.data)) redactor.register(value);
    return { data: out.data.data, version: out.data.metadata.version, createdTime: out.data.metadata.created_time };
  }

  /** Writes a new version; `cas` 0 means "only if absent". Returns the new version. */
  async kvWrite(
    mount: string,
    path: string,
    data: Record<string, string>,
    cas?: number,
  ): Promise<{ version: number; createdTime: string }> {
    const out = await this.request<{ data: { version: number; created_time: string } }>('POST', `/${mount}/data/${path}`, {
      data,
      ...(cas === undefined ? {} : { options: { cas } }),
    });
    if (!out) throw new Error(`Vault returned nothing for a write to ${mount}/data/${path}`);
    return { version: out.data.version, createdTime: out.data.created_time };
  }

  /** Destroys every version and the metadata of a KV v2 secret. */
  async kvDestroyAll(mount: string, path: string): Promise<void> {
    await this.request('DELETE', `/${mount}/metadata/${path}`);
  }

  /**
   * The accessors of this client's own logins, newest last: each re-login has a new one, and Vault's
   * audit entries name the accessor, so the operator knows its own requests across logins.
   */
  get ownAccessors(): ReadonlySet<string> {
    return this.accessors;
  }

  /** Adds an accessor of this client's own token (the operator adds its VAULT_TOKEN's, looked up once). */
  rememberOwnAccessor(accessor: string): void {
    this.accessors.delete(accessor);
    this.accessors.add(accessor);
    for (const oldest of this.accessors) {
      if (this.accessors.size <= OWN_ACCESSORS_KEPT) break;
      this.accessors.delete(oldest);
    }
  }

  /** Logs in with kubernetes auth (as a sync pod does); returns a client token. */
  async kubernetesLogin(mount: string, role: string, jwt: string): Promise<string> {
    return (await this.login(mount, role, jwt))?.client_token as string;
  }

  private async ensureLogin(): Promise<void> {
    if (this.config.token || Date.now() < this.loggedInUntil) return;
    if (!this.config.role) throw new VaultUnavailableError('neither VAULT_TOKEN nor VAULT_ROLE is set');
    const jwt = (await readFile(this.config.serviceAccountTokenFile ?? '', 'utf8')).trim();
    redactor.register(jwt);
    const auth = await this.login(this.config.authMount ?? 'kubernetes', this.config.role, jwt);
    if (!auth) return;
    if (auth.accessor) this.rememberOwnAccessor(auth.accessor);
    this.client.token = auth.client_token;
    this.loggedInUntil = Date.now() + auth.lease_duration * 800;
  }

  /** POST auth/<mount>/login; the token is registered for redaction; undefined when Vault answers 404. */
  private async login(
    mount: string,
    role: string,
    jwt: string,
  ): Promise<{ client_token: string; accessor?: string; lease_duration: number } | undefined> {
    try {
      const out = (await this.client.request({ method: 'POST', path: `/auth/${mount}/login`, json: { role, jwt } })) as {
        auth: { client_token: string; accessor?: string; lease_duration: number };
      };
      redactor.register(out.auth.client_token);
      return out.auth;
    } catch (error) {
      return this.mapError(error, `auth/${mount}/login`);
    }
  }

  private mapError(error: unknown, path: string): undefined {
    const code = statusCodeOf(error) ?? (error as { response?: { statusCode?: number } }).response?.statusCode;
    if (code === 404) return undefined;
    if (code === 403) throw new VaultPermissionError(path);
    if (code === 503 || code === 502 || code === undefined) throw new VaultUnavailableError(describe(error));
    throw new TransientError('VaultError', `Vault answered ${code} for ${path}: ${describe(error)}`);
  }
}

function describe(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return redactor.string(e.code ?? e.message ?? String(error)).slice(0, 200);
}
