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

/**
 * The site whose key location a Vault request path ends with (any mount or KV endpoint before it),
 * or undefined: the inverse of keyLocation, for matching an audited request to one site. A caller
 * still checks the whole path against that site's keyLocation.
 */
export function keyOwnerOfPath(path: string): { namespace: string; name: string } | undefined {
  const match = /\/cloudconnect\/([^/]+)\/([^/]+)\/sek$/.exec(path);
  return match?.[1] && match[2] ? { namespace: match[1], name: match[2] } : undefined;
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

/**
 * The ServiceAccount a site's sync and relay pods run as: the site's own name, in its namespace. Vault's
 * one sync role (VAULT_SYNC_ROLE) lets any ServiceAccount log in, and its templated policy
 * (operator/internal/vault/policies.ts) grants read on `cloudconnect/<namespace>/<ServiceAccount>/*`:
 * so this name is what ties a pod to its site's key, and Kubernetes, not the pod, vouches for it.
 */
export function siteServiceAccount(site: string): string {
  return site;
}

/** The ServiceAccount of earlier operator versions (`cloudconnect-sync-<site>`): only removed, never written. */
export function legacySiteServiceAccount(site: string): string {
  return `cloudconnect-sync-${site}`.slice(0, 253);
}

/** The labels that mark a ServiceAccount as the one the operator made for this site. */
export function siteServiceAccountLabels(site: string): Record<string, string> {
  return { 'app.kubernetes.io/managed-by': 'cloudconnect-operator', 'cloudconnect.dev/site': site };
}

/** Pure: whether a ServiceAccount (by its labels) is the one the operator made for this site. */
export function isSiteServiceAccount(labels: Record<string, string> | undefined, site: string): boolean {
  return Object.entries(siteServiceAccountLabels(site)).every(([k, v]) => labels?.[k] === v);
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
