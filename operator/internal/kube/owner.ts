// The owner reference the operator puts on what it creates for one of its objects: that object as
// the controller, so Kubernetes garbage-collects the children with it. Field order is part of the
// relay Deployment's desired hash: keep it.
import type { V1OwnerReference } from '@kubernetes/client-node';

interface Owner {
  apiVersion: string;
  metadata: { name: string; uid?: string };
}

export function controllerReference(owner: Owner, kind: string, blockOwnerDeletion: boolean): V1OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion,
  };
}
