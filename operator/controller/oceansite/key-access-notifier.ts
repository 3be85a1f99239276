// Turns audited accesses to an SEK into an Event on the OceanSite, a metric and an e-mail to the
// Clinical Administrator. The key itself is never part of any of them.
import { type OceanSite, OceanSiteSpec } from '../../api/v1alpha1/index.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import { type Mailer, siteRecipients } from '../../internal/notify/mailer.ts';
import { keyLocation, siteServiceAccount } from '../../internal/sek/identity.ts';
import {
  type AuditEntry,
  classifyAuditEntry,
  type KeyAccess,
  mayTouchKey,
  type OperatorIdentity,
  type SiteKeyRef,
} from '../../internal/vault/key-access.ts';
import { withDefaults } from '../../runtime/defaults.ts';
import type { SupervisedInformer } from '../../runtime/informer.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { OperatorMetrics } from '../../runtime/metrics.ts';

export class KeyAccessNotifier {
  private readonly deps: {
    kube: Kube;
    sites: SupervisedInformer<OceanSite>;
    metrics: OperatorMetrics;
    mailer: Mailer;
    logger: Logger;
    /** The operator's own Vault identity: its reads of a key are not reported. */
    operator: OperatorIdentity;
    /** The KV version 2 mount of every site's SEK (SEK_KV_MOUNT). */
    sekKvMount: string;
  };

  constructor(deps: KeyAccessNotifier['deps']) {
    this.deps = deps;
  }

  /** Each site's own key (never a spec field's place: a site cannot claim another clinic's key accesses). */
  siteRefs(): SiteKeyRef[] {
    return this.deps.sites.list().map((site) => {
      const namespace = site.metadata.namespace ?? '';
      return {
        namespace,
        name: site.metadata.name,
        location: keyLocation(namespace, site.metadata.name, this.deps.sekKvMount),
        serviceAccount: siteServiceAccount(site.metadata.name),
      };
    });
  }

  async handle(entry: AuditEntry): Promise<KeyAccess | undefined> {
    if (!mayTouchKey(entry)) return undefined;
    const access = classifyAuditEntry(entry, this.siteRefs(), this.deps.operator);
    if (!access) return undefined;
    const site = this.deps.sites.get(access.site, access.namespace);
    if (!site) return undefined;
    this.deps.metrics.sekAccessTotal.inc({ namespace: access.namespace, site: access.site, accessor_type: access.accessorType });
    const what = `${access.operation}${access.denied ? ' (denied)' : ''} of the Shared Encryption Key by ${access.accessor} at ${access.time}`;
    await this.deps.kube.event(site, 'Warning', 'KeyAccessed', what);
    this.deps.logger.warn('SEK accessed', {
      site: `${access.namespace}/${access.site}`,
      accessor: access.accessor,
      operation: access.operation,
      time: access.time,
    });
    const spec = withDefaults<OceanSiteSpec>(OceanSiteSpec, site.spec);
    const to = siteRecipients(spec, 'keyAccess');
    if (to.length > 0) {
      await this.deps.mailer.send({
        to,
        subject: `Ocean site ${spec.siteNumber}: the Shared Encryption Key was accessed`,
        text: [
          `This is Cloud Connect for Ocean site ${spec.siteNumber}${spec.displayName ? ` (${spec.displayName})` : ''}.`,
          '',
          `There was a ${what}.`,
          '',
          'Every access to your site Shared Encryption Key is audited and reported to you.',
          'If you did not expect it, contact your platform team.',
        ].join('\n'),
      });
    }
    return access;
  }
}
