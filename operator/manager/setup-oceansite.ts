// The OceanSite controller as the manager runs it (controller-runtime's SetupWithManager): its
// reconciler, the sites it reconciles, and the integrations and Ocean Secrets that make a site
// reconcile again.
import { OceanSiteReconciler } from '../controller/oceansite/reconciler.ts';
import { INTEGRATIONS_BY_SITE, SITES_BY_OCEAN_CREDENTIALS } from '../internal/kube/cache-indexes.ts';
import { referencedKeys } from '../runtime/cache-index.ts';
import { Controller } from '../runtime/controller.ts';
import type { ControllerSetup, Wiring } from './wiring.ts';

export function setupOceanSite(w: Wiring): ControllerSetup {
  const { kube, vault, clock, logger, metrics, mailer, sites, integrations, credentialSecrets, config } = w;
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
      mailer,
      secrets: credentialSecrets,
      ocean: {
        apiUrl: config.worker.oceanApiUrl,
        egress: config.egress,
        ...(config.worker.oceanCaBundle ? { caBundle: config.worker.oceanCaBundle } : {}),
      },
    }),
  });
  controller.watchPrimary(sites);
  // An edit of a site's Ocean Secret checks the client again at once.
  controller.watchRelated(credentialSecrets, (secret) =>
    sites
      .byIndex(SITES_BY_OCEAN_CREDENTIALS, secret.metadata?.namespace ?? '', secret.metadata?.name ?? '')
      .map((s) => `${s.metadata.namespace}/${s.metadata.name}`),
  );
  // A site counts its integrations (status.integrations): one that is added, deleted or moved to
  // another site reconciles it; an integration's own status writes do not.
  controller.watchReferences(integrations, (i) => referencedKeys(INTEGRATIONS_BY_SITE, i));
  return { controller };
}
