// Pure: the names and documents of a site's identity in Kubernetes and Vault, and its support access.
import { createHash } from 'node:crypto';
import type { OceanSiteSpec } from '../../api/v1alpha1/index.ts';

export const SYNC_AUDIENCE = 'vault';

export interface KeyLocation {
  mount: string;
  path: string;
}

/** The KV version 2 mount of every site's SEK when the operator's SEK_KV_MOUNT is not set. */
export const DEFAULT_SEK_KV_MOUNT = 'secret';

/**
 * The one place a site's SEK may live: `<mount>/cloudconnect/<namespace>/<site>/sek`. The site's
 * identity decides it, and the mount is the operator's (SEK_KV_MOUNT), never the tenant's: no
 * OceanSite can name another clinic's key.
 */
export function keyLocation(namespace: string, name: string, mount: string): KeyLocation {
  return { mount, path: `cloudconnect/${namespace}/${name}/sek` };
}

/** A spec.encryptionKey.vault field set to something else than the one value it accepts. */
export interface KeyLocationRefusal {
  field: 'spec.encryptionKey.vault.mount' | 'spec.encryptionKey.vault.path';
  given: string;
  accepted: string;
}

/**
 * Pure: the first of spec.encryptionKey.vault.mount and .path that is set and is not the site's
 * canonical location; undefined when both are absent or canonical (the fields stay in the API for
 * compatibility, but they can only repeat the canonical values).
 */
export function refusedKeyLocation(spec: OceanSiteSpec, canonical: KeyLocation): KeyLocationRefusal | undefined {
  const vault = spec.encryptionKey?.vault;
  if (vault?.mount !== undefined && vault.mount !== canonical.mount) {
    return { field: 'spec.encryptionKey.vault.mount', given: vault.mount, accepted: canonical.mount };
  }
  if (vault?.path !== undefined && vault.path !== canonical.path) {
    return { field: 'spec.encryptionKey.vault.path', given: vault.path, accepted: canonical.path };
  }
  return undefined;
}

export interface SiteIdentity {
  serviceAccount: string;
  vaultPolicy: string;
  vaultRole: string;
}

/**
 * The site's ServiceAccount and its Vault policy and kubernetes-auth role. The Vault names are
 * `cloudconnect-site.<namespace>.<site>`: a namespace is a DNS label and has no dot, so the first
 * dot after the prefix ends it and no two (namespace, site) pairs share a name (Vault accepts
 * letters, digits, `_`, `-` and `.` in role names). They keep the `cloudconnect-` prefix that the
 * operator's own Vault policy grants, and never equal a legacy name (see legacyVaultName).
 */
export function siteIdentity(namespace: string, name: string): SiteIdentity {
  const vaultName = `cloudconnect-site.${namespace}.${name}`;
  return {
    serviceAccount: `cloudconnect-sync-${name}`.slice(0, 253),
    vaultPolicy: vaultName,
    vaultRole: vaultName,
  };
}

/**
 * The name the policy and role of a site had before: `cloudconnect-<namespace>-<site>`, which two
 * sites could share (namespace `a` with site `b-c`, namespace `a-b` with site `c`). Only removed,
 * never written. Its namespace part would have to start with `site.`, which no namespace can, so it
 * never equals a name of siteIdentity.
 */
export function legacyVaultName(namespace: string, name: string): string {
  return `cloudconnect-${namespace}-${name}`;
}

/**
 * Pure: whether a kubernetes-auth role (as Vault reads it back) binds exactly this site's
 * ServiceAccount in this site's namespace, i.e. whether this site wrote it. A legacy name shared by
 * two sites holds the role of whichever wrote it last; only that site may remove it.
 */
export function roleBindsSite(role: Record<string, unknown> | undefined, namespace: string, serviceAccount: string): boolean {
  if (!role) return false;
  const only = (value: unknown, wanted: string) => Array.isArray(value) && value.length === 1 && value[0] === wanted;
  return only(role.bound_service_account_namespaces, namespace) && only(role.bound_service_account_names, serviceAccount);
}

/** The site's sync pods may read that site's SEK and nothing else. */
export function sekReadPolicy(location: KeyLocation): string {
  return [
    `# Managed by cloudconnect-operator: read-only access to one site's Shared Encryption Key.`,
    `path "${location.mount}/data/${location.path}" {`,
    `  capabilities = ["read"]`,
    `}`,
    '',
  ].join('\n');
}

/** First 16 hex characters of SHA-256: identifies a key without revealing it. */
export function fingerprint(key: Buffer | string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export interface SupportDecision {
  active: { name: string; expiresAt?: string }[];
  expired: { name: string; expiresAt: string }[];
  /** When the next active grant expires, for a requeue. */
  nextExpiry?: Date;
}

export function decideSupportAccess(supportSites: OceanSiteSpec['supportSites'], now: Date): SupportDecision {
  const decision: SupportDecision = { active: [], expired: [] };
  for (const s of supportSites ?? []) {
    if (s.expiresAt && new Date(s.expiresAt).getTime() <= now.getTime()) {
      decision.expired.push({ name: s.name, expiresAt: s.expiresAt });
    } else {
      decision.active.push(s.expiresAt ? { name: s.name, expiresAt: s.expiresAt } : { name: s.name });
      if (s.expiresAt) {
        const at = new Date(s.expiresAt);
        if (!decision.nextExpiry || at < decision.nextExpiry) decision.nextExpiry = at;
      }
    }
  }
  return decision;
}

export const supportGroup = (support: string) => `cloudconnect:support:${support}`;
export const supportRoleName = (site: string) => `cloudconnect-support-${site}`;
export const supportBindingName = (site: string, support: string) => `cloudconnect-support-${site}-${support}`.slice(0, 253);
