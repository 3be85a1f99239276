// Pure: the Role and RoleBindings of support access. A support site edits the
// cloudconnect kinds of this namespace; it gets no Secrets and nothing in Vault.
import type { V1Role, V1RoleBinding } from '@kubernetes/client-node';
import type { OceanSite } from '../../api/v1alpha1/index.ts';
import { supportGroup } from '../../internal/sek/identity.ts';
import { ownerRef } from './owner-ref.ts';

export function supportRole(site: OceanSite, namespace: string, roleName: string): V1Role {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: {
      name: roleName,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'cloudconnect-operator' },
      ownerReferences: [ownerRef(site)],
    },
    // Edit rights on the cloudconnect kinds only: no Secrets, no Vault policy (support staff never get the SEK or EMR credentials).
    rules: [
      {
        apiGroups: ['cloudconnect.dev'],
        resources: ['oceansites', 'emrintegrations', 'syncschedules'],
        verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
      },
      {
        apiGroups: ['cloudconnect.dev'],
        resources: ['oceansites/status', 'emrintegrations/status', 'syncschedules/status'],
        verbs: ['get'],
      },
    ],
  };
}

export function supportBinding(
  site: OceanSite,
  namespace: string,
  roleName: string,
  binding: { name: string; support: string; expiresAt?: string },
): V1RoleBinding {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: {
      name: binding.name,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'cloudconnect-operator', 'cloudconnect.dev/support-of': site.metadata.name },
      annotations: binding.expiresAt ? { 'cloudconnect.dev/expires-at': binding.expiresAt } : {},
      ownerReferences: [ownerRef(site)],
    },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: supportGroup(binding.support) }],
  };
}
