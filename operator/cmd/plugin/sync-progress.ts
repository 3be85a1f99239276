// Pure: where a requested sync run is (from the schedule's status, its Job and its pod), the progress
// line printed while following it, and the final result line.
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { SyncRunResult, SyncSchedule } from '../../api/v1alpha1/index.ts';
import { jobFinished } from '../../internal/sitepod/sync-run.ts';
import { findCondition } from '../../runtime/conditions.ts';
import { shortDuration } from './health.ts';

export type Phase = 'Requested' | 'Blocked' | 'Started' | 'Running' | 'Finishing' | 'Finished';

export interface RunObservation {
  phase: Phase;
  detail: string;
  /** Set when phase is Finishing (from the Job) or Finished (from status.lastRun). */
  result?: Pick<SyncRunResult, 'result'> & Partial<SyncRunResult>;
}

export interface ObserveInput {
  token: string;
  runName: string;
  schedule: SyncSchedule | undefined;
  job: V1Job | undefined;
  pods: readonly V1Pod[];
}

export function observeRun(input: ObserveInput): RunObservation {
  const { schedule, job, runName } = input;
  const status = schedule?.status ?? {};
  if (status.lastRun?.name === runName)
    return { phase: 'Finished', detail: `run ${runName} ${status.lastRun.result}`, result: status.lastRun };
  if (status.lastHandledRequestedAt !== input.token) {
    const ready = findCondition(status.conditions, 'Ready');
    if (schedule?.spec.suspend) return { phase: 'Blocked', detail: `SyncSchedule ${schedule.metadata.name} is suspended: no run starts` };
    if (ready?.status === 'False')
      return { phase: 'Blocked', detail: `waiting: ${ready.reason}${ready.message ? `: ${ready.message.replace(/^Blocked: /, '')}` : ''}` };
    return { phase: 'Requested', detail: 'waiting for the operator to pick up the request' };
  }
  if (!job) return { phase: 'Started', detail: `run ${runName} accepted; waiting for its Job` };
  const finished = jobFinished(job);
  if (finished) {
    const reason =
      finished === 'Failed' ? job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True')?.reason : undefined;
    return {
      phase: 'Finishing',
      detail: `Job ${runName} ${finished}; waiting for the operator to record the result`,
      result: { name: runName, result: finished, ...(reason ? { errorReason: reason } : {}) },
    };
  }
  const pod = input.pods[0];
  const podPhase = pod?.status?.phase;
  if (!pod) return { phase: 'Started', detail: `Job ${runName} created; waiting for its pod` };
  const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting?.reason;
  return { phase: 'Running', detail: `pod ${pod.metadata?.name ?? ''} ${podPhase ?? 'Pending'}${waiting ? ` (${waiting})` : ''}` };
}

/** The line printed while following a run, after "[ 12s] " when given the time elapsed. */
export function progressLine(type: string, integration: string, observation: RunObservation, elapsedMs?: number): string {
  const elapsed = elapsedMs === undefined ? '' : `[${shortDuration(elapsedMs).padStart(4)}] `;
  return `${elapsed}${type} sync of ${integration}: ${observation.phase} - ${observation.detail}`;
}

export function resultLine(type: string, integration: string, run: Pick<SyncRunResult, 'result'> & Partial<SyncRunResult>): string {
  const counts = (['providers', 'patients', 'appointments'] as const).filter((k) => run[k] !== undefined).map((k) => `${run[k]} ${k}`);
  const took = run.durationSeconds !== undefined ? ` in ${shortDuration(run.durationSeconds * 1000)}` : '';
  const reason = run.result === 'Failed' ? ` (${run.errorReason ?? 'RunFailed'})` : '';
  return `${type} sync of ${integration} ${run.result}${reason}${took}${run.name ? ` [run ${run.name}]` : ''}${counts.length > 0 ? `: ${counts.join(', ')}` : ''}`;
}
