// SyncSchedule reconciler: validates the schedule, resolves its integration and keeps
// status.nextScheduleTime. (Starting runs as Jobs is the SyncSchedule issue's work.)
import { SYNC_SCHEDULE, SyncScheduleSpec, type EmrIntegration, type SyncSchedule } from '../api/v1alpha1/index.ts';
import type { Clock } from '../runtime/clock.ts';
import type { ObjectKey, Reconciler, ReconcileResult } from '../runtime/controller.ts';
import { withDefaults } from '../runtime/defaults.ts';
import type { SupervisedInformer } from '../runtime/informer.ts';
import type { Kube } from '../runtime/kube.ts';
import { decideSyncSchedule } from './decide.ts';

export class SyncScheduleReconciler implements Reconciler {
  private readonly deps: {
    kube: Kube;
    clock: Clock;
    schedules: SupervisedInformer<SyncSchedule>;
    integrations: SupervisedInformer<EmrIntegration>;
  };

  constructor(deps: SyncScheduleReconciler['deps']) {
    this.deps = deps;
  }

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const schedule = this.deps.schedules.get(key.name, key.namespace);
    if (!schedule || schedule.metadata.deletionTimestamp) return {};
    const spec = withDefaults<SyncScheduleSpec>(SyncScheduleSpec, schedule.spec);
    const integration = this.deps.integrations.get(spec.integrationRef.name, key.namespace);
    const decision = decideSyncSchedule(schedule, spec, integration, this.deps.clock);
    await this.deps.kube.applyStatus(SYNC_SCHEDULE, schedule, decision.status);
    return decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: decision.requeueAfterMs };
  }
}
