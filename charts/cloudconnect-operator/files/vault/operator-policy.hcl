# cloudconnect-operator: every site's SEK and relay keys, at <kv>/cloudconnect/<namespace>/<site>/...
path "@KV_MOUNT@/data/cloudconnect/*" {
  capabilities = ["create", "read", "update"]
}
# Key versions (rotation, import) and deletionPolicy: Delete.
path "@KV_MOUNT@/metadata/cloudconnect/*" {
  capabilities = ["read", "delete"]
}
# Checks at start that the mount is KV version 2.
path "sys/mounts/@KV_MOUNT@" {
  capabilities = ["read"]
}
