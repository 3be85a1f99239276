// The OceanSite controller as the manager runs it (controller-runtime's SetupWithManager): its
// reconciler, the sites it reconciles, and the integrations that make a site reconcile again.
import { OceanSiteReconciler } from '../controller/oceansite/reconciler.ts';
import { Controller } from '../runtime/controller.ts';
import type { ControllerSetup, Wiring } from './wiring.ts';

export function setupOceanSite(w: Wiring): ControllerSetup {
  const { kube, vault, clock, logger, metrics, sites, integrations, config } = w;
  const controller = new Controller({
    name: 'oceansite',
    logger,
    metrics,
    workers: config.workers,
    reconciler: new OceanSiteReconciler({
      kube,
      vault,
      clock,
      logger,
      sites,
      integrations,
      sekKvMount: config.sekKvMount,
    }),
  });
  controller.watchPrimary(sites);
  controller.watchRelated(integrations, (i) => [`${i.metadata?.namespace}/${i.spec.siteRef.name}`]);
  return { controller };
}
