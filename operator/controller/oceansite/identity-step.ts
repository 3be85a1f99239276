// The identity step: the site's sync and relay pods run as a ServiceAccount named after the site, in
// its namespace. Vault's one sync role and its templated policy (operator/internal/vault/policies.ts)
// turn that name into read access on the site's own subtree, so the operator writes nothing in Vault
// here: it only makes sure the ServiceAccount exists and is its own. A ServiceAccount of that name
// that the operator did not make (a tenant's, or `default`) would be handed the site's key: the site
// is Stalled instead. The ServiceAccount of earlier versions (`cloudconnect-sync-<site>`) is removed.
import type { V1ServiceAccount } from '@kubernetes/client-node';
import type { OceanSite } from '../../api/v1alpha1/index.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import { controllerReference } from '../../internal/kube/owner.ts';
import {
  isSiteServiceAccount,
  legacySiteServiceAccount,
  siteServiceAccount,
  siteServiceAccountLabels,
} from '../../internal/sek/identity.ts';
import { ignoreStatus, statusCodeOf, TerminalError } from '../../runtime/errors.ts';

export const SERVICE_ACCOUNT_IN_USE = 'ServiceAccountInUse';

/** Pure: the site's ServiceAccount; sync pods mount no API token. */
export function serviceAccountFor(site: OceanSite): V1ServiceAccount {
  return {
    metadata: {
      name: siteServiceAccount(site.metadata.name),
      namespace: site.metadata.namespace ?? '',
      labels: siteServiceAccountLabels(site.metadata.name),
      ownerReferences: [controllerReference(site, 'OceanSite', false)],
    },
    automountServiceAccountToken: false,
  };
}

/** Pure: the refusal when the name is taken by a ServiceAccount the operator did not make. */
export function serviceAccountInUse(namespace: string, name: string): TerminalError {
  return new TerminalError(
    SERVICE_ACCOUNT_IN_USE,
    `ServiceAccount ${namespace}/${name} exists and was not made by the operator for this site; its pods would read ` +
      `the site's Shared Encryption Key. Rename or delete that ServiceAccount, or give the OceanSite another name`,
  );
}

export class IdentityStep {
  private readonly kube: Kube;

  constructor(kube: Kube) {
    this.kube = kube;
  }

  /**
   * Ensures the ServiceAccount (when not known to be in place); returns whether it is. A known one is
   * only read back on a key recheck; the legacy account is looked for once per process and site.
   */
  async reconcile(site: OceanSite, applied: boolean, fresh: boolean): Promise<boolean> {
    if (applied && fresh) return true;
    const body = serviceAccountFor(site);
    const namespace = body.metadata?.namespace ?? '';
    const name = body.metadata?.name ?? '';
    const existing = applied ? await this.kube.core.readNamespacedServiceAccount({ name, namespace }).catch(ignoreStatus(404)) : undefined;
    if (existing) {
      if (!isSiteServiceAccount(existing.metadata?.labels, site.metadata.name)) throw serviceAccountInUse(namespace, name);
      return true;
    }
    try {
      await this.kube.core.createNamespacedServiceAccount({ namespace, body });
    } catch (error) {
      if (statusCodeOf(error) !== 409) throw error;
      const taken = await this.kube.core.readNamespacedServiceAccount({ name, namespace });
      if (!isSiteServiceAccount(taken.metadata?.labels, site.metadata.name)) throw serviceAccountInUse(namespace, name);
    }
    if (!applied) await this.removeLegacy(site);
    return true;
  }

  /** Deletion: the site's ServiceAccount (only when it is the operator's) and the legacy one. */
  async finalize(site: OceanSite): Promise<void> {
    const namespace = site.metadata.namespace ?? '';
    const name = siteServiceAccount(site.metadata.name);
    const existing = await this.kube.core.readNamespacedServiceAccount({ name, namespace }).catch(ignoreStatus(404));
    if (existing && isSiteServiceAccount(existing.metadata?.labels, site.metadata.name)) {
      await this.kube.core.deleteNamespacedServiceAccount({ name, namespace }).catch(ignoreStatus(404));
    }
    await this.removeLegacy(site);
  }

  /** The `cloudconnect-sync-<site>` ServiceAccount of earlier versions, when it carries this site's labels. */
  private async removeLegacy(site: OceanSite): Promise<void> {
    const namespace = site.metadata.namespace ?? '';
    const name = legacySiteServiceAccount(site.metadata.name);
    const legacy = await this.kube.core.readNamespacedServiceAccount({ name, namespace }).catch(ignoreStatus(404));
    if (!legacy || !isSiteServiceAccount(legacy.metadata?.labels, site.metadata.name)) return;
    await this.kube.core.deleteNamespacedServiceAccount({ name, namespace }).catch(ignoreStatus(404));
  }
}
