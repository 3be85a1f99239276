// What the operator, the plugin and the tests agree on about one sync run: its Job's name
// (deterministic from the scheduled minute, so a restart never starts a run twice; a hash of the
// requestedAt token for manual runs) and how a finished Job is recognised.
import { createHash } from 'node:crypto';
import type { V1Job } from '@kubernetes/client-node';

export function runName(scheduleName: string, scheduledTime: Date): string {
  return `${scheduleName}-${Math.floor(scheduledTime.getTime() / 60_000)}`.slice(0, 63);
}

export function manualRunName(scheduleName: string, token: string): string {
  const h = createHash('sha256').update(token).digest('hex').slice(0, 8);
  return `${scheduleName.slice(0, 45)}-manual-${h}`;
}

export function jobFinished(job: V1Job): 'Succeeded' | 'Failed' | undefined {
  for (const c of job.status?.conditions ?? []) {
    if (c.status !== 'True') continue;
    if (c.type === 'Complete' || c.type === 'SuccessCriteriaMet') return 'Succeeded';
    if (c.type === 'Failed' || c.type === 'FailureTarget') return 'Failed';
  }
  return undefined;
}

/**
 * Why the Job failed, as the Job controller says it (e.g. DeadlineExceeded, BackoffLimitExceeded):
 * from the Failed condition, or from FailureTarget, which comes first (while the pods are still
 * being stopped) and is enough for jobFinished to call the run Failed.
 */
export function jobFailureReason(job: V1Job): string | undefined {
  const conditions = (job.status?.conditions ?? []).filter((c) => c.status === 'True' && c.reason);
  return (conditions.find((c) => c.type === 'Failed') ?? conditions.find((c) => c.type === 'FailureTarget'))?.reason;
}
