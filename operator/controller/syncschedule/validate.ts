// Validate: a schedule or time zone the operator cannot read stalls the schedule (Stalled True,
// Ready False, no next time) until its spec changes.
import type { SyncScheduleStatus } from '../../api/v1alpha1/index.ts';
import type { Clock } from '../../runtime/clock.ts';
import { setConditions } from '../../runtime/conditions.ts';
import type { ParsedSchedule } from './schedule.ts';
import type { ScheduleRun } from './step.ts';

export function stalledStatus(run: ScheduleRun, parsed: Extract<ParsedSchedule, { ok: false }>, clock: Clock): SyncScheduleStatus {
  const { previous } = run;
  const generation = run.schedule.metadata.generation;
  const status: SyncScheduleStatus = {
    ...previous,
    observedGeneration: generation,
    conditions: setConditions(
      previous.conditions,
      [
        { type: 'Stalled', status: 'True', reason: parsed.reason, message: parsed.message },
        { type: 'Ready', status: 'False', reason: parsed.reason, message: parsed.message },
      ],
      generation,
      clock,
    ),
  };
  delete status.nextScheduleTime;
  return status;
}
