// Pure: the Role and RoleBindings of support access. A support site sees this namespace's
// cloudconnect resources, their Events and what the redacted support bundle lists; it may ask for
// work with the requestedAt annotation and change nothing else. It gets no Secret and nothing in
// Vault (support never gets the SEK or EMR credentials, and cannot change Cloud Connect).
import type { V1PolicyRule, V1Role, V1RoleBinding } from '@kubernetes/client-node';
import { GROUP, type OceanSite } from '../../api/v1alpha1/index.ts';
import { controllerReference } from '../../internal/kube/owner.ts';
import { supportGroup } from '../../internal/sek/identity.ts';

/**
 * The support Role's rules. Writes are there for the requestedAt annotation only: a sync now
 * (SyncSchedule, `kubectl cloudconnect sync`) and an EMR authentication check now (EmrIntegration).
 * RBAC cannot look inside a request, so the chart's ValidatingAdmissionPolicy
 * (templates/support-admission-policy.yaml) refuses any other change by a `cloudconnect:support:`
 * group, and its creates and deletes. The operator's ClusterRole holds every rule here (RBAC lets it
 * grant only what it holds).
 */
function supportRules(): V1PolicyRule[] {
  return [
    // Admin visibility of the cloudconnect kinds.
    { apiGroups: [GROUP], resources: ['oceansites', 'emrintegrations', 'syncschedules'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [GROUP], resources: ['oceansites/status', 'emrintegrations/status', 'syncschedules/status'], verbs: ['get'] },
    // Work on request: the requestedAt annotation, nothing else (enforced at admission).
    { apiGroups: [GROUP], resources: ['syncschedules'], verbs: ['patch', 'update'] },
    { apiGroups: [GROUP], resources: ['emrintegrations'], verbs: ['patch'] },
    // The namespace's Events, and what the support bundle lists (operator/cmd/plugin/support-bundle.ts).
    { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['pods', 'serviceaccounts'], verbs: ['list'] },
    { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list'] },
    { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list'] },
  ];
}

export function supportRole(site: OceanSite, namespace: string, roleName: string): V1Role {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: {
      name: roleName,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'cloudconnect-operator' },
      ownerReferences: [controllerReference(site, 'OceanSite', false)],
    },
    rules: supportRules(),
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
      ownerReferences: [controllerReference(site, 'OceanSite', false)],
    },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: supportGroup(binding.support) }],
  };
}
