// The OceanSite's finalizer: added before any step creates something, removed once the deletion
// has cleaned up what the steps created in Vault and Kubernetes.
import { OCEAN_SITE, type OceanSite, SITE_FINALIZER } from '../../api/v1alpha1/index.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import { safeMessage, TransientError } from '../../runtime/errors.ts';

export function hasFinalizer(site: OceanSite): boolean {
  return site.metadata.finalizers?.includes(SITE_FINALIZER) ?? false;
}

/** Pure: the finalizers with ours added, or undefined when it is already there (no write). */
export function withFinalizer(finalizers: readonly string[] | undefined): string[] | undefined {
  if (finalizers?.includes(SITE_FINALIZER)) return undefined;
  return [...(finalizers ?? []), SITE_FINALIZER];
}

/** Pure: the finalizers without ours. */
export function withoutFinalizer(finalizers: readonly string[] | undefined): string[] {
  return (finalizers ?? []).filter((f) => f !== SITE_FINALIZER);
}

export class Finalizer {
  private readonly kube: Kube;

  constructor(kube: Kube) {
    this.kube = kube;
  }

  async add(site: OceanSite): Promise<void> {
    const finalizers = withFinalizer(site.metadata.finalizers);
    if (finalizers) await this.patch(site, finalizers);
  }

  async remove(site: OceanSite): Promise<void> {
    await this.patch(site, withoutFinalizer(site.metadata.finalizers));
  }

  private async patch(site: OceanSite, finalizers: string[]): Promise<void> {
    try {
      await this.kube.patchMetadata(OCEAN_SITE, site, { finalizers });
    } catch (error) {
      throw new TransientError('FinalizerUpdateFailed', `could not update finalizers: ${safeMessage(error)}`);
    }
  }
}
