// Pure: the two Vault policies and the one sync role an administrator writes once per Vault. The
// operator writes no policy and no role at run time: what a sync or relay pod may read is decided by
// Vault itself, from the namespace and name of the ServiceAccount that Kubernetes vouched for.
//
// - The operator's policy: the sites' keys and relay keys under `<kv>/cloudconnect/` and nothing else
//   (no sys/policies, no auth roles, no other mount).
// - The sync policy, attached to the one kubernetes-auth role `cloudconnect-sync`: an ACL template on
//   the login's alias metadata, so a pod running as ServiceAccount `<site>` in namespace `<ns>` reads
//   `<kv>/cloudconnect/<ns>/<site>/...` and no other path. Kubernetes sets those two values (TokenReview),
//   not the pod, so no tenant can name another clinic's namespace.
//
// `make generate` writes both policies into the chart (files/vault/*.hcl, placeholders below) for
// NOTES.txt; test/cluster/vault-setup.ts writes them into the local and test Vaults.

/** The kubernetes-auth role every site's sync and relay pods log in as (VAULT_SYNC_ROLE). */
export const DEFAULT_SYNC_ROLE = 'cloudconnect-sync';
/** The name of the sync policy the sync role carries. */
export const SYNC_POLICY = 'cloudconnect-sync';

/** Placeholders of the chart's copies, replaced by NOTES.txt (and by the shell it prints). */
export const KV_MOUNT_PLACEHOLDER = '@KV_MOUNT@';
export const SYNC_AUTH_ACCESSOR_PLACEHOLDER = '@SYNC_AUTH_ACCESSOR@';

/** What the operator does in Vault, and only that. */
export function operatorPolicy(kvMount: string): string {
  return [
    "# cloudconnect-operator: every site's SEK and relay keys, at <kv>/cloudconnect/<namespace>/<site>/...",
    `path "${kvMount}/data/cloudconnect/*" {`,
    '  capabilities = ["create", "read", "update"]',
    '}',
    '# Key versions (rotation, import) and deletionPolicy: Delete.',
    `path "${kvMount}/metadata/cloudconnect/*" {`,
    '  capabilities = ["read", "delete"]',
    '}',
    '# Checks at start that the mount is KV version 2.',
    `path "sys/mounts/${kvMount}" {`,
    '  capabilities = ["read"]',
    '}',
    '',
  ].join('\n');
}

/**
 * Read on the site's own subtree. `accessor` is the mount accessor of the kubernetes auth mount the
 * sync role lives on (`vault auth list`); the template is filled by Vault at each request.
 */
export function syncPolicy(kvMount: string, accessor: string): string {
  const meta = (key: string) => `{{identity.entity.aliases.${accessor}.metadata.${key}}}`;
  return [
    '# cloudconnect-sync: a sync or relay pod reads its own site subtree, named by the ServiceAccount',
    '# (namespace and name) that Kubernetes vouched for at login.',
    `path "${kvMount}/data/cloudconnect/${meta('service_account_namespace')}/${meta('service_account_name')}/*" {`,
    '  capabilities = ["read"]',
    '}',
    '',
  ].join('\n');
}

/** The body of `auth/<sync mount>/role/<sync role>`: any ServiceAccount, with the Vault audience, gets the sync policy. */
export function syncRoleBody(audience: string): Record<string, unknown> {
  return {
    bound_service_account_names: ['*'],
    bound_service_account_namespaces: ['*'],
    audience,
    token_policies: [SYNC_POLICY],
    token_ttl: '15m',
    token_max_ttl: '1h',
  };
}
