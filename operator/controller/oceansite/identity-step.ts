// The identity step: the site's sync pods run as a ServiceAccount of their own, which a Vault
// kubernetes-auth role maps to a policy that reads only this site's SEK. Applied when the key's
// place or the auth mount changed, read back on every key recheck (and put back when someone
// changed it in Vault); removed on deletion. The role and policy of the legacy name
// (`cloudconnect-<namespace>-<site>`, which two sites could share) go when the new ones are written,
// but only when that role binds this site's own ServiceAccount.
import type { V1ServiceAccount } from '@kubernetes/client-node';
import type { OceanSite } from '../../api/v1alpha1/index.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import { controllerReference } from '../../internal/kube/owner.ts';
import {
  type KeyLocation,
  legacyVaultName,
  roleBindsSite,
  type SiteIdentity,
  SYNC_AUDIENCE,
  sekReadPolicy,
  siteIdentity,
} from '../../internal/sek/identity.ts';
import type { KubernetesRole, VaultClient } from '../../internal/vault/client.ts';
import { ignoreStatus } from '../../runtime/errors.ts';

/** apply: write it all; verify: read the policy and role back, write only when changed; keep: no call. */
export type IdentityAction = 'apply' | 'verify' | 'keep';

/** What the identity is applied for: the key's place and the Vault auth mount. */
export function identityHash(location: KeyLocation, vaultAuthMount: string): string {
  return `${location.mount}/${location.path}|${vaultAuthMount}`;
}

/** Pure: apply what was not applied yet (or for another key place); read it back on a key recheck; else leave it. */
export function decideIdentity(input: { applied: string | undefined; wanted: string; fresh: boolean }): IdentityAction {
  if (input.applied !== input.wanted) return 'apply';
  return input.fresh ? 'keep' : 'verify';
}

/** Pure: the site's ServiceAccount; sync pods mount no API token. */
function serviceAccountFor(site: OceanSite, namespace: string, identity: SiteIdentity): V1ServiceAccount {
  return {
    metadata: {
      name: identity.serviceAccount,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'cloudconnect-operator', 'cloudconnect.dev/site': site.metadata.name },
      ownerReferences: [controllerReference(site, 'OceanSite', false)],
    },
    automountServiceAccountToken: false,
  };
}

/** Pure: the Vault kubernetes-auth role: that ServiceAccount, with the Vault audience, gets the site's policy. */
function vaultRoleFor(namespace: string, identity: SiteIdentity): KubernetesRole {
  return {
    serviceAccount: identity.serviceAccount,
    namespace,
    audience: SYNC_AUDIENCE,
    policies: [identity.vaultPolicy],
    ttl: '15m',
  };
}

export interface IdentityStepDeps {
  kube: Kube;
  vault: VaultClient;
  vaultAuthMount: string;
}

export class IdentityStep {
  private readonly deps: IdentityStepDeps;

  constructor(deps: IdentityStepDeps) {
    this.deps = deps;
  }

  /** Ensures the identity; returns what it is now applied for (to remember). */
  async reconcile(site: OceanSite, location: KeyLocation, applied: string | undefined, fresh: boolean): Promise<string> {
    const wanted = identityHash(location, this.deps.vaultAuthMount);
    const action = decideIdentity({ applied, wanted, fresh });
    if (action === 'apply') {
      await this.apply(site, location);
    } else if (action === 'verify' && !(await this.intact(site, location))) {
      // Someone removed or changed the policy or role in Vault: put it back (reads only when intact).
      await this.apply(site, location);
    }
    return wanted;
  }

  /** Deletion: the Vault role and policy (and this site's legacy ones), then the ServiceAccount. */
  async finalize(site: OceanSite): Promise<void> {
    const namespace = site.metadata.namespace ?? '';
    const identity = siteIdentity(namespace, site.metadata.name);
    await this.deps.vault.deleteKubernetesRole(this.deps.vaultAuthMount, identity.vaultRole);
    await this.deps.vault.deletePolicy(identity.vaultPolicy);
    await this.removeLegacy(site);
    await this.deps.kube.core.deleteNamespacedServiceAccount({ name: identity.serviceAccount, namespace }).catch(ignoreStatus(404));
  }

  /**
   * The role and policy of the legacy name, when that role binds this site's ServiceAccount in its
   * namespace (this site wrote it; a site sharing the name keeps its own). The policy goes first, so
   * a crash in between leaves the role that proves whose they were.
   */
  async removeLegacy(site: OceanSite): Promise<void> {
    const namespace = site.metadata.namespace ?? '';
    const legacy = legacyVaultName(namespace, site.metadata.name);
    const role = await this.deps.vault.getKubernetesRole(this.deps.vaultAuthMount, legacy);
    if (!roleBindsSite(role, namespace, siteIdentity(namespace, site.metadata.name).serviceAccount)) return;
    await this.deps.vault.deletePolicy(legacy);
    await this.deps.vault.deleteKubernetesRole(this.deps.vaultAuthMount, legacy);
  }

  /** ServiceAccount for the site's sync pods, a Vault policy reading only this SEK, and a kubernetes-auth role binding them. */
  private async apply(site: OceanSite, location: KeyLocation): Promise<void> {
    const namespace = site.metadata.namespace ?? '';
    const identity = siteIdentity(namespace, site.metadata.name);
    await this.deps.kube.core
      .createNamespacedServiceAccount({ namespace, body: serviceAccountFor(site, namespace, identity) })
      .catch(ignoreStatus(409));
    await this.deps.vault.putPolicy(identity.vaultPolicy, sekReadPolicy(location));
    await this.deps.vault.putKubernetesRole(this.deps.vaultAuthMount, identity.vaultRole, vaultRoleFor(namespace, identity));
    await this.removeLegacy(site);
  }

  private async intact(site: OceanSite, location: KeyLocation): Promise<boolean> {
    const identity = siteIdentity(site.metadata.namespace ?? '', site.metadata.name);
    const policy = await this.deps.vault.getPolicy(identity.vaultPolicy);
    const role = await this.deps.vault.getKubernetesRole(this.deps.vaultAuthMount, identity.vaultRole);
    return policy === sekReadPolicy(location) && role !== undefined;
  }
}
