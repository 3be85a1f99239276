// What every controller setup (setup-*.ts) shares: the API clients, clock, logger and metrics, the
// operator's Vault client and mailer, and the caches of the three Cloud Connect kinds that more than
// one controller reads. A setup makes its own informers through `informer()`, so the manager starts
// and stops every cache, whoever declared it, and every cache watches WATCH_NAMESPACES only when set
// (a spec's `list` takes the namespace: undefined means every namespace).
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import {
  CREDENTIALS_LABEL,
  EMR_INTEGRATION,
  type EmrIntegration,
  type KindDefinition,
  OCEAN_SITE,
  type OceanSite,
  SYNC_SCHEDULE,
  type SyncSchedule,
} from '../api/v1alpha1/index.ts';
import { Kube, loadKubeConfig } from '../internal/kube/kube.ts';
import { Mailer } from '../internal/notify/mailer.ts';
import { VaultClient } from '../internal/vault/client.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Controller } from '../runtime/controller.ts';
import { type CachedObject, type InformerOptions, SupervisedInformer } from '../runtime/informer.ts';
import type { Logger } from '../runtime/logger.ts';
import { OperatorMetrics } from '../runtime/metrics.ts';
import type { OperatorConfig } from './config.ts';
import { clusterView } from './metrics-view.ts';

/** What the manager does with every informer. */
export type Cache = Pick<SupervisedInformer<CachedObject>, 'start' | 'stop'>;

/** An informer as a setup declares it; the wiring adds the kubeconfig, logger and metrics. */
export type InformerSpec<T extends CachedObject> = Pick<InformerOptions<T>, 'path' | 'list' | 'resource' | 'labelSelector'>;

export interface Wiring {
  readonly config: OperatorConfig;
  readonly kubeConfig: KubeConfig;
  readonly kube: Kube;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: OperatorMetrics;
  readonly vault: VaultClient;
  readonly mailer: Mailer;
  readonly sites: SupervisedInformer<OceanSite>;
  readonly integrations: SupervisedInformer<EmrIntegration>;
  readonly schedules: SupervisedInformer<SyncSchedule>;
  /** The credentials Secrets the operator uses (EMR and Ocean), selected by CREDENTIALS_LABEL: their edits re-check authentication. */
  readonly credentialSecrets: SupervisedInformer<V1Secret>;
  /** Every informer made so far: started before the controllers run, stopped after they finish. */
  readonly informers: Cache[];
  informer<T extends CachedObject>(spec: InformerSpec<T>): SupervisedInformer<T>;
}

/** One controller as its setup left it: informers declared, watches registered, not started. */
export interface ControllerSetup {
  controller: Controller;
  /** Called at shutdown after the informers stopped (a connection the reconciler used). */
  close?: () => Promise<void>;
}

export function wire(config: OperatorConfig, clock: Clock, logger: Logger): Wiring {
  const kubeConfig = loadKubeConfig();
  const kube = new Kube(kubeConfig, clock, config.identity);
  const metrics = new OperatorMetrics();
  const vault = new VaultClient(config.vault);
  const informers: Cache[] = [];
  const informer = <T extends CachedObject>(spec: InformerSpec<T>): SupervisedInformer<T> => {
    const made = new SupervisedInformer<T>({ kubeConfig, logger, metrics, namespaces: config.watchNamespaces, ...spec });
    informers.push(made);
    return made;
  };
  const ofKind = <T extends CachedObject>(kind: KindDefinition) =>
    informer<T>({ path: kube.collectionPath(kind), list: kube.listAll<T>(kind), resource: kind.plural });
  const sites = ofKind<OceanSite>(OCEAN_SITE);
  const integrations = ofKind<EmrIntegration>(EMR_INTEGRATION);
  const schedules = ofKind<SyncSchedule>(SYNC_SCHEDULE);
  const selector = `${CREDENTIALS_LABEL}=true`;
  const credentialSecrets = informer<V1Secret>({
    path: '/api/v1/secrets',
    labelSelector: selector,
    list: (namespace) =>
      namespace === undefined
        ? kube.core.listSecretForAllNamespaces({ labelSelector: selector })
        : kube.core.listNamespacedSecret({ namespace, labelSelector: selector }),
    resource: 'secrets',
  });
  metrics.observe(clusterView({ sites, integrations, schedules, vault }));
  const mailer = new Mailer(config.smtp, logger);
  return {
    config,
    kubeConfig,
    kube,
    clock,
    logger,
    metrics,
    vault,
    mailer,
    sites,
    integrations,
    schedules,
    credentialSecrets,
    informers,
    informer,
  };
}
