// The SyncSchedule controller as the manager runs it (controller-runtime's SetupWithManager): the
// cache of run Jobs, its reconciler, and what makes a schedule reconcile again (its Jobs, its
// integration).
import { BatchV1Api, type V1Job } from '@kubernetes/client-node';
import { SyncScheduleReconciler } from '../controller/syncschedule/reconciler.ts';
import { RUNS_BY_SCHEDULE, SCHEDULES_BY_INTEGRATION, SCHEDULES_BY_SITE } from '../internal/kube/cache-indexes.ts';
import { referencedKeys } from '../runtime/cache-index.ts';
import { Controller, keyOf } from '../runtime/controller.ts';
import type { ControllerSetup, Wiring } from './wiring.ts';

const SYNC_JOB_SELECTOR = 'app.kubernetes.io/managed-by=cloudconnect-operator,app.kubernetes.io/name=cloudconnect-sync';

export function setupSyncSchedule(w: Wiring): ControllerSetup {
  const { kube, clock, logger, metrics, schedules, integrations, sites, config } = w;
  const batch = w.kubeConfig.makeApiClient(BatchV1Api);
  const labelSelector = SYNC_JOB_SELECTOR;
  const jobs = w.informer<V1Job>({
    path: '/apis/batch/v1/jobs',
    labelSelector: SYNC_JOB_SELECTOR,
    list: (namespace) =>
      namespace === undefined ? batch.listJobForAllNamespaces({ labelSelector }) : batch.listNamespacedJob({ namespace, labelSelector }),
    resource: 'jobs',
  });
  const controller = new Controller({
    name: 'syncschedule',
    logger,
    metrics,
    workers: config.scheduleWorkers,
    reconciler: new SyncScheduleReconciler({ kube, clock, logger, metrics, schedules, integrations, sites, jobs, worker: config.worker }),
  });
  controller.watchPrimary(schedules);
  controller.watchRelated(jobs, (job) => referencedKeys(RUNS_BY_SCHEDULE, job));
  controller.watchRelated(integrations, (i) =>
    schedules.byIndex(SCHEDULES_BY_INTEGRATION, i.metadata.namespace ?? '', i.metadata.name ?? '').map(keyOf),
  );
  // A site's reminders schedule (spec.siteRef) follows its OceanSite.
  controller.watchRelated(sites, (site) =>
    schedules.byIndex(SCHEDULES_BY_SITE, site.metadata.namespace ?? '', site.metadata.name ?? '').map(keyOf),
  );
  return { controller };
}
