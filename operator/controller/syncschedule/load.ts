// Load: the schedule from the cache with its API defaults; nothing to do once it is gone or deleting
// (its run Jobs are owned by it and garbage-collected).
import { SyncScheduleSpec } from '../../api/v1alpha1/index.ts';
import type { ObjectKey } from '../../runtime/controller.ts';
import { withDefaults } from '../../runtime/defaults.ts';
import type { ScheduleRun, SyncScheduleDeps } from './step.ts';

export function loadSchedule(deps: Pick<SyncScheduleDeps, 'schedules' | 'clock'>, key: ObjectKey): ScheduleRun | undefined {
  const schedule = deps.schedules.get(key.name, key.namespace);
  if (!schedule || schedule.metadata.deletionTimestamp) return undefined;
  return {
    key,
    schedule,
    spec: withDefaults<SyncScheduleSpec>(SyncScheduleSpec, schedule.spec),
    previous: schedule.status ?? {},
    now: deps.clock.now(),
  };
}
