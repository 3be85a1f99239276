// What the SyncSchedule reconciler's steps share: its dependencies, the schedule being reconciled
// (load.ts) and what was observed of its integration, site and runs (observe.ts).
import type { V1Job } from '@kubernetes/client-node';
import type {
  EmrIntegration,
  EmrIntegrationSpec,
  OceanSite,
  SyncSchedule,
  SyncScheduleSpec,
  SyncScheduleStatus,
} from '../../api/v1alpha1/index.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { ObjectKey } from '../../runtime/controller.ts';
import type { SupervisedInformer } from '../../runtime/informer.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { OperatorMetrics } from '../../runtime/metrics.ts';
import type { WorkerSettings } from './job.ts';

export interface SyncScheduleDeps {
  kube: Kube;
  clock: Clock;
  logger: Logger;
  metrics: OperatorMetrics;
  schedules: SupervisedInformer<SyncSchedule>;
  integrations: SupervisedInformer<EmrIntegration>;
  sites: SupervisedInformer<OceanSite>;
  jobs: SupervisedInformer<V1Job>;
  worker: WorkerSettings;
}

/** One reconcile of one schedule, as loaded. */
export interface ScheduleRun {
  key: ObjectKey;
  schedule: SyncSchedule;
  spec: SyncScheduleSpec;
  previous: SyncScheduleStatus;
  now: Date;
}

/** The schedule's integration and site (when they exist) and its run Jobs, from the caches. */
export interface Observed {
  integration: EmrIntegration | undefined;
  integrationSpec: EmrIntegrationSpec | undefined;
  site: OceanSite | undefined;
  /** Every run Job of this schedule, finished or not. */
  runs: V1Job[];
  active: V1Job[];
  /** The integration and its site exist, it is Authenticated and not suspended. */
  integrationReady: boolean;
}
