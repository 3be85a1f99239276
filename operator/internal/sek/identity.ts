// Pure: the names and documents of a site's identity in Kubernetes and Vault, and its support access.
import { createHash } from 'node:crypto';
import type { OceanSiteSpec } from '../../api/v1alpha1/index.ts';

export const SYNC_AUDIENCE = 'vault';

export interface KeyLocation {
  mount: string;
  path: string;
}

export function keyLocation(spec: OceanSiteSpec, namespace: string, name: string): KeyLocation {
  return {
    mount: spec.encryptionKey?.vault?.mount ?? 'secret',
    path: spec.encryptionKey?.vault?.path ?? `cloudconnect/${namespace}/${name}/sek`,
  };
}

export interface SiteIdentity {
  serviceAccount: string;
  vaultPolicy: string;
  vaultRole: string;
}

export function siteIdentity(namespace: string, name: string): SiteIdentity {
  return {
    serviceAccount: `cloudconnect-sync-${name}`.slice(0, 253),
    vaultPolicy: `cloudconnect-${namespace}-${name}`,
    vaultRole: `cloudconnect-${namespace}-${name}`,
  };
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
