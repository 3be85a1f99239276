// Tells a site's running workers that the SEK was rotated. Each sync pod carries the annotation
// SEK_VERSION_ANNOTATION, which its container sees as a file through a downward-API volume (the
// kubelet refreshes that file when the annotation changes). On rotation the operator sets the new
// version on every pod of the site that is still running; the worker reads the file before each
// batch and switches to the new key version (operator/internal/sek/key-rotation.ts). Pods created later
// get the version from their Job template, and a worker always starts with the current key.
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { SEK_VERSION_ANNOTATION, SITE_LABEL } from '../../api/v1alpha1/index.ts';
import { MERGE_PATCH } from '../../internal/kube/kube.ts';
import { ignoreStatus } from '../../runtime/errors.ts';

/** Pure: the pods to tell about `version`: still running, and not already told this version or a later one. */
export function podsToTell(pods: readonly V1Pod[], version: number): V1Pod[] {
  return pods.filter((pod) => {
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed' || pod.metadata?.deletionTimestamp) return false;
    const told = Number(pod.metadata?.annotations?.[SEK_VERSION_ANNOTATION]);
    return !(Number.isInteger(told) && told >= version);
  });
}

/** Annotates the site's running pods with the new SEK version; returns how many were told. */
export async function tellRunningWorkers(core: CoreV1Api, namespace: string, site: string, version: number): Promise<number> {
  const pods = await core.listNamespacedPod({ namespace, labelSelector: `${SITE_LABEL}=${site}` });
  const targets = podsToTell(pods.items, version);
  for (const pod of targets) {
    // A pod that ended or went away meanwhile needs no notice.
    await core
      .patchNamespacedPod(
        { namespace, name: pod.metadata?.name ?? '', body: { metadata: { annotations: { [SEK_VERSION_ANNOTATION]: String(version) } } } },
        MERGE_PATCH,
      )
      .catch(ignoreStatus(404));
  }
  return targets.length;
}
