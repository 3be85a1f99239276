// OceanSite reconciler, first stage: validates what the schema cannot (the time zone against the
// tz database) and counts the site's integrations. SEK intake into Vault is the next stage.
import { OCEAN_SITE, OceanSiteSpec, type EmrIntegration, type OceanSite, type OceanSiteStatus } from '../api/v1alpha1/index.ts';
import type { Clock } from '../runtime/clock.ts';
import { setConditions, summarizeReady, type Condition, type ConditionInput } from '../runtime/conditions.ts';
import type { ObjectKey, Reconciler, ReconcileResult } from '../runtime/controller.ts';
import { withDefaults } from '../runtime/defaults.ts';
import type { SupervisedInformer } from '../runtime/informer.ts';
import type { Kube } from '../runtime/kube.ts';
import { isKnownTimeZone } from '../runtime/time-zone.ts';

export class OceanSiteReconciler implements Reconciler {
  private readonly deps: {
    kube: Kube;
    clock: Clock;
    sites: SupervisedInformer<OceanSite>;
    integrations: SupervisedInformer<EmrIntegration>;
  };

  constructor(deps: OceanSiteReconciler['deps']) {
    this.deps = deps;
  }

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const site = this.deps.sites.get(key.name, key.namespace);
    if (!site || site.metadata.deletionTimestamp) return {};
    const spec = withDefaults<OceanSiteSpec>(OceanSiteSpec, site.spec);
    const integrations = this.deps.integrations.list(key.namespace).filter((i) => i.spec.siteRef.name === key.name).length;
    const conditions: ConditionInput[] = [];
    if (!isKnownTimeZone(spec.timeZone ?? 'UTC')) {
      const stalled: ConditionInput = { type: 'Stalled', status: 'True', reason: 'InvalidTimeZone', message: `spec.timeZone ${JSON.stringify(spec.timeZone)} is not a known IANA time zone` };
      conditions.push(stalled, summarizeReady([], stalled, { reason: '', message: '' }));
    } else {
      const keyStored: ConditionInput = { type: 'KeyStored', status: 'Unknown', reason: 'NotChecked', message: 'SEK intake into Vault is not implemented by this operator version yet' };
      conditions.push(keyStored, summarizeReady([keyStored], undefined, { reason: 'Succeeded', message: 'Site configured' }));
    }
    const previous = site.status ?? {};
    const status: OceanSiteStatus = {
      ...previous,
      observedGeneration: site.metadata.generation,
      integrations,
      conditions: setConditions(previous.conditions as Condition[] | undefined, conditions, site.metadata.generation, this.deps.clock),
    };
    await this.deps.kube.applyStatus(OCEAN_SITE, site, status);
    return {};
  }
}
