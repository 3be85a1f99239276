// Pure: decides whether a Vault audit entry is an access to some site's SEK that the Clinical
// Administrator must hear about (every access to a site's SEK is audited and reported to them). Reads by
// the site's own pods (the sync role, logged in as the site's ServiceAccount) and by the operator are
// expected and not reported.
import type { KeyLocation } from '../sek/identity.ts';

/** The fields of a Vault/OpenBao audit entry that matter here (the device writes JSON lines). */
export interface AuditEntry {
  type?: string;
  time?: string;
  auth?: {
    accessor?: string;
    display_name?: string;
    entity_id?: string;
    metadata?: Record<string, string> | null;
    policies?: string[];
  };
  request?: { id?: string; path?: string; operation?: string; remote_address?: string; mount_point?: string };
  error?: string;
}

export interface SiteKeyRef {
  namespace: string;
  name: string;
  location: KeyLocation;
  /** The ServiceAccount (in the site's namespace) the site's sync and relay pods run as. */
  serviceAccount: string;
}

/**
 * How the operator's own requests are recognised: the accessor of its token (a VAULT_TOKEN), the
 * accessors of its own logins, and the kubernetes-auth role it logs in as (VAULT_ROLE), whose accessor
 * changes at every login (an entry from before a restart names an accessor this process never had).
 */
export interface OperatorIdentity {
  accessor?: string | undefined;
  /** Every accessor the operator's own logins got (each login has a new one), as the Vault client records them. */
  ownAccessors?: { has(accessor: string): boolean } | undefined;
  role?: string | undefined;
  /** The kubernetes auth mount the operator logs in at (VAULT_AUTH_MOUNT). */
  authMount?: string | undefined;
  /** The kubernetes auth mount of the sites' sync role (VAULT_SYNC_AUTH_MOUNT). */
  syncAuthMount?: string | undefined;
  /** The one role of every site's pods (VAULT_SYNC_ROLE). */
  syncRole?: string | undefined;
}

export interface KeyAccess {
  namespace: string;
  site: string;
  accessor: string;
  accessorType: 'token' | 'kubernetes' | 'other';
  operation: KeyOperation;
  time: string;
  denied: boolean;
}

/** What an audited request does to a key: reveals it, changes it or destroys it. */
export type KeyOperation = 'read' | 'write' | 'patch' | 'delete' | 'undelete' | 'destroy' | 'metadata update' | 'metadata delete';

/**
 * Every KV version 2 endpoint of one secret that reveals, changes or destroys it, by Vault's operation
 * name (HTTP PUT/POST are "create" or "update", PATCH "patch"). Left out because they reveal nothing
 * and change nothing: metadata reads and lists, and `subkeys` (the key names without the values).
 * Metadata writes are in: `delete_version_after` or `max_versions` can make Vault drop the key.
 */
const KV_OPERATIONS: Readonly<Record<string, Readonly<Record<string, KeyOperation>>>> = {
  data: { read: 'read', create: 'write', update: 'write', patch: 'patch', delete: 'delete' },
  delete: { create: 'delete', update: 'delete' },
  undelete: { create: 'undelete', update: 'undelete' },
  destroy: { create: 'destroy', update: 'destroy' },
  metadata: { create: 'metadata update', update: 'metadata update', patch: 'metadata update', delete: 'metadata delete' },
};

/** The operation an audited request performs on the key at `location`, or undefined when it is another path or a harmless one. */
export function keyOperation(entry: AuditEntry, location: KeyLocation): KeyOperation | undefined {
  const path = entry.request?.path ?? '';
  const prefix = `${location.mount}/`;
  const suffix = `/${location.path}`;
  if (!path.startsWith(prefix) || !path.endsWith(suffix)) return undefined;
  const endpoint = path.slice(prefix.length, path.length - suffix.length);
  return Object.hasOwn(KV_OPERATIONS, endpoint) ? KV_OPERATIONS[endpoint]?.[entry.request?.operation ?? ''] : undefined;
}

/**
 * Cheap test on the entry alone: could it read, change or destroy a key? Vault audits every request
 * (the operator's own included), so this runs before any site is looked at.
 */
export function mayTouchKey(entry: AuditEntry): boolean {
  // Responses repeat the request; one notice per access is enough.
  if (entry.type !== 'request') return false;
  const path = entry.request?.path ?? '';
  const operation = entry.request?.operation ?? '';
  return Object.entries(KV_OPERATIONS).some(
    ([endpoint, operations]) => path.includes(`/${endpoint}/`) && Object.hasOwn(operations, operation),
  );
}

export function classifyAuditEntry(entry: AuditEntry, sites: readonly SiteKeyRef[], operator: OperatorIdentity): KeyAccess | undefined {
  if (!mayTouchKey(entry)) return undefined;
  const site = sites.find((s) => keyOperation(entry, s.location) !== undefined);
  const operation = site && keyOperation(entry, site.location);
  if (!site || !operation) return undefined;
  const auth = entry.auth ?? {};
  const role = auth.metadata?.role;
  if (isOperator(auth, role, operator)) return undefined;
  if (operation === 'read' && isSitePod(auth, role, site, operator)) return undefined;
  const accessorType = accessorTypeOf(auth);
  const who = auth.metadata?.service_account_name
    ? `serviceaccount ${auth.metadata.service_account_namespace ?? '?'}/${auth.metadata.service_account_name}${role ? ` (role ${role})` : ''}`
    : `${auth.display_name ?? 'unknown identity'}${auth.entity_id ? ` (entity ${auth.entity_id})` : ''}`;
  return {
    namespace: site.namespace,
    site: site.name,
    accessor: who,
    accessorType,
    operation,
    time: entry.time ?? new Date(0).toISOString(),
    denied: entry.error !== undefined && entry.error !== '',
  };
}

function isOperator(auth: NonNullable<AuditEntry['auth']>, role: string | undefined, operator: OperatorIdentity): boolean {
  if (operator.accessor !== undefined && auth.accessor === operator.accessor) return true;
  if (auth.accessor !== undefined && operator.ownAccessors?.has(auth.accessor)) return true;
  // Only the operator's ServiceAccount can log in as its role, so the role names it across re-logins.
  return operator.role !== undefined && role === operator.role && isKubernetesLogin(auth, operator.authMount);
}

/**
 * A read by the site's own pods: a kubernetes login as the sync role, by the site's ServiceAccount in
 * the site's namespace (which Kubernetes vouched for; the templated policy gives no other key).
 */
function isSitePod(auth: NonNullable<AuditEntry['auth']>, role: string | undefined, site: SiteKeyRef, operator: OperatorIdentity): boolean {
  return (
    operator.syncRole !== undefined &&
    role === operator.syncRole &&
    auth.metadata?.service_account_namespace === site.namespace &&
    auth.metadata?.service_account_name === site.serviceAccount &&
    isKubernetesLogin(auth, operator.syncAuthMount)
  );
}

/**
 * Whether the token came from a kubernetes login at `mount`. Token metadata (role, service account)
 * can be chosen by whoever creates a token, but such a token's display name always starts with
 * "token": a kubernetes login's is "<mount>-<namespace>-<service account>".
 */
function isKubernetesLogin(auth: NonNullable<AuditEntry['auth']>, mount = 'kubernetes'): boolean {
  const sa = auth.metadata?.service_account_name;
  if (sa === undefined) return false;
  return auth.display_name === `${mount.replaceAll('/', '-')}-${auth.metadata?.service_account_namespace ?? ''}-${sa}`;
}

/** A Kubernetes service account, a Vault token (or root), or another auth method. */
function accessorTypeOf(auth: NonNullable<AuditEntry['auth']>): KeyAccess['accessorType'] {
  if (auth.metadata?.service_account_name) return 'kubernetes';
  if (auth.display_name?.startsWith('token') || auth.display_name === 'root') return 'token';
  return 'other';
}
