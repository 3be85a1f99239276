// Pure: the status a SyncSchedule should have, given its spec, its integration and the time.
import type { EmrIntegration, SyncSchedule, SyncScheduleSpec, SyncScheduleStatus } from '../api/v1alpha1/index.ts';
import { setConditions, summarizeReady, type ConditionInput, type Condition } from '../runtime/conditions.ts';
import type { Clock } from '../runtime/clock.ts';
import { parseSchedule } from './schedule.ts';

export interface ScheduleDecision {
  status: SyncScheduleStatus;
  requeueAfterMs?: number;
}

export function decideSyncSchedule(schedule: SyncSchedule, spec: SyncScheduleSpec, integration: EmrIntegration | undefined, clock: Clock): ScheduleDecision {
  const now = clock.now();
  const previous = schedule.status ?? {};
  const generation = schedule.metadata.generation;
  const parsed = parseSchedule(spec.schedule, spec.timeZone ?? 'UTC');
  const conditions: ConditionInput[] = [];
  let nextScheduleTime: string | undefined;
  let requeueAfterMs: number | undefined;
  if (!parsed.ok) {
    const stalled: ConditionInput = { type: 'Stalled', status: 'True', reason: parsed.reason, message: parsed.message };
    conditions.push(stalled, summarizeReady([], stalled, { reason: 'Scheduled', message: '' }));
  } else {
    const next = parsed.next(now);
    nextScheduleTime = next.toISOString();
    requeueAfterMs = Math.max(1000, next.getTime() - now.getTime());
    const parts: ConditionInput[] = [];
    if (!integration) {
      parts.push({ type: 'IntegrationFound', status: 'False', reason: 'IntegrationNotFound', message: `EmrIntegration ${spec.integrationRef.name} does not exist in this namespace` });
    }
    conditions.push(
      { type: 'Stalled', status: 'False', reason: 'Valid', message: '' },
      summarizeReady(parts, undefined, {
        reason: spec.suspend ? 'Suspended' : 'Scheduled',
        message: spec.suspend ? 'Suspended: no new runs start' : `Next ${spec.type} sync due at ${nextScheduleTime}`,
      }),
    );
  }
  const status: SyncScheduleStatus = {
    ...previous,
    observedGeneration: generation,
    conditions: setConditions(previous.conditions as Condition[] | undefined, conditions, generation, clock),
    ...(nextScheduleTime && !spec.suspend ? { nextScheduleTime } : {}),
  };
  if (!nextScheduleTime || spec.suspend) delete status.nextScheduleTime;
  return { status, ...(requeueAfterMs === undefined ? {} : { requeueAfterMs }) };
}
