// A credentials Secret named by a spec (an EmrIntegration's EMR Secret, an OceanSite's Ocean Secret):
// from the label-selected Secret cache, else from the API server, then labelled so that the cache
// (and the reconcile its edits trigger) sees it from now on. One place for both controllers.
import type { V1Secret } from '@kubernetes/client-node';
import { safeMessage, statusCodeOf } from '../../runtime/errors.ts';
import type { SupervisedInformer } from '../../runtime/informer.ts';
import type { Logger } from '../../runtime/logger.ts';
import { type Kube, MERGE_PATCH } from './kube.ts';

export interface CredentialsSecretDeps {
  kube: Kube;
  logger: Logger;
  /** The label-selected Secret cache; absent: always read from the API server. */
  secrets?: SupervisedInformer<V1Secret> | undefined;
  /** The label the cache selects on (CREDENTIALS_LABEL). */
  label: string;
}

/** The Secret, or undefined when it does not exist; a failed label is logged, never thrown. */
export async function credentialsSecret(deps: CredentialsSecretDeps, name: string, namespace: string): Promise<V1Secret | undefined> {
  const cached = deps.secrets?.get(name, namespace);
  if (cached) return cached;
  let secret: V1Secret;
  try {
    secret = await deps.kube.core.readNamespacedSecret({ name, namespace });
  } catch (error) {
    if (statusCodeOf(error) === 404) return undefined;
    throw error;
  }
  await deps.kube.core
    .patchNamespacedSecret({ name, namespace, body: { metadata: { labels: { [deps.label]: 'true' } } } }, MERGE_PATCH)
    .catch((error: unknown) =>
      deps.logger.warn('could not label credentials Secret', { secret: `${namespace}/${name}`, error: safeMessage(error) }),
    );
  return secret;
}
