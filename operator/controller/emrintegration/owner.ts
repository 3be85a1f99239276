// The owner reference of what the operator creates for an EmrIntegration (the relay's Deployment and
// Service, the default SyncSchedules): the integration as their controller, so they are
// garbage-collected with it.
import type { EmrIntegration } from '../../api/v1alpha1/index.ts';

export function integrationOwner(integration: EmrIntegration) {
  return {
    apiVersion: integration.apiVersion,
    kind: 'EmrIntegration',
    name: integration.metadata.name,
    uid: integration.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}
