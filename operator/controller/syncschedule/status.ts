// Status: Ready (Suspended, IntegrationNotFound, IntegrationNotReady or Scheduled with the next
// time), the active runs after this reconcile's replacements, the last run, and the
// schedule times the decision recorded.
import { type SyncRunResult, type SyncScheduleStatus, scheduleTarget } from '../../api/v1alpha1/index.ts';
import type { Clock } from '../../runtime/clock.ts';
import { type ConditionInput, setConditions } from '../../runtime/conditions.ts';
import type { RunDecision } from './runs.ts';
import type { Observed, ScheduleRun } from './step.ts';
import { maxTime } from './times.ts';

export interface StatusInput {
  run: ScheduleRun;
  observed: Observed;
  decision: RunDecision;
  lastRun: SyncRunResult | undefined;
  /** spec.schedule with its `H` values drawn (parseSchedule's `resolved`). */
  resolvedSchedule?: string | undefined;
}

function readyCondition(run: ScheduleRun, observed: Observed, decision: RunDecision): ConditionInput {
  const { spec } = run;
  const target = scheduleTarget(spec);
  const integrationName = target.name;
  if (spec.suspend) return { type: 'Ready', status: 'True', reason: 'Suspended', message: 'Suspended: no new runs start' };
  if (target.kind === 'OceanSite') {
    if (!observed.site)
      return { type: 'Ready', status: 'False', reason: 'SiteNotFound', message: `OceanSite ${target.name} does not exist` };
    if (!observed.integrationReady)
      return {
        type: 'Ready',
        status: 'False',
        reason: 'SiteNotReady',
        message: `Blocked: OceanSite ${target.name} is not Ready; runs resume by themselves when it is`,
      };
  } else if (!observed.integration)
    return { type: 'Ready', status: 'False', reason: 'IntegrationNotFound', message: `EmrIntegration ${integrationName} does not exist` };
  else if (!observed.integrationReady)
    return {
      type: 'Ready',
      status: 'False',
      reason: 'IntegrationNotReady',
      message: `Blocked: EmrIntegration ${integrationName} is not Authenticated; runs resume by themselves when it is`,
    };
  return {
    type: 'Ready',
    status: 'True',
    reason: 'Scheduled',
    message: `Next ${spec.type} sync due at ${decision.nextScheduleTime.toISOString()}`,
  };
}

export function scheduleStatus(input: StatusInput, clock: Clock): SyncScheduleStatus {
  const { run, observed, decision, lastRun, resolvedSchedule } = input;
  const { previous, spec } = run;
  const generation = run.schedule.metadata.generation;
  const activeNames = new Set(observed.active.map((j) => j.metadata?.name ?? '').filter((n) => !decision.replace.includes(n)));
  const status: SyncScheduleStatus = {
    ...previous,
    observedGeneration: generation,
    nextScheduleTime: decision.nextScheduleTime.toISOString(),
    ...(decision.lastScheduleTime ? { lastScheduleTime: decision.lastScheduleTime.toISOString() } : {}),
    ...(decision.handledRequestedAt ? { lastHandledRequestedAt: decision.handledRequestedAt } : {}),
    active: [...activeNames].sort().map((name) => ({ name })),
    ...(lastRun ? { lastRun } : {}),
    ...(lastRun?.result === 'Succeeded' && lastRun.completionTime
      ? { lastSuccessfulTime: maxTime(previous.lastSuccessfulTime, lastRun.completionTime) }
      : {}),
    conditions: setConditions(
      previous.conditions,
      [readyCondition(run, observed, decision), { type: 'Stalled', status: 'False', reason: 'Valid', message: '' }],
      generation,
      clock,
    ),
  };
  if (status.active?.length === 0) delete status.active;
  if (resolvedSchedule) status.resolvedSchedule = resolvedSchedule;
  else delete status.resolvedSchedule;
  if (spec.suspend) delete status.nextScheduleTime;
  return status;
}
