# cloudconnect-sync: a sync or relay pod reads its own site subtree, named by the ServiceAccount
# (namespace and name) that Kubernetes vouched for at login.
path "@KV_MOUNT@/data/cloudconnect/{{identity.entity.aliases.@SYNC_AUTH_ACCESSOR@.metadata.service_account_namespace}}/{{identity.entity.aliases.@SYNC_AUTH_ACCESSOR@.metadata.service_account_name}}/*" {
  capabilities = ["read"]
}
