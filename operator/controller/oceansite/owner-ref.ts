// The owner reference the OceanSite puts on what it creates (ServiceAccount, support Role and
// RoleBindings), so that Kubernetes removes them with the site.
import type { OceanSite } from '../../api/v1alpha1/index.ts';

export function ownerRef(site: OceanSite) {
  return {
    apiVersion: site.apiVersion,
    kind: 'OceanSite',
    name: site.metadata.name,
    uid: site.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: false,
  };
}
