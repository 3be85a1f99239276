// Prune history: keep the newest successfulRunsHistoryLimit (3) succeeded and failedRunsHistoryLimit
// (1) failed runs, delete the older ones; active runs are never touched.
import type { V1Job } from '@kubernetes/client-node';
import type { SyncScheduleSpec } from '../../api/v1alpha1/index.ts';
import { jobFinished } from '../../internal/sitepod/sync-run.ts';
import type { RunJobs } from './run-jobs.ts';
import { finishTime } from './times.ts';

export async function pruneHistory(jobs: RunJobs, namespace: string, runs: V1Job[], spec: SyncScheduleSpec): Promise<void> {
  const newestFirst = (a: V1Job, b: V1Job) => finishTime(b) - finishTime(a);
  const succeeded = runs.filter((j) => jobFinished(j) === 'Succeeded').sort(newestFirst);
  const failed = runs.filter((j) => jobFinished(j) === 'Failed').sort(newestFirst);
  for (const j of [...succeeded.slice(spec.successfulRunsHistoryLimit ?? 3), ...failed.slice(spec.failedRunsHistoryLimit ?? 1)]) {
    await jobs.delete(namespace, j.metadata?.name ?? '');
  }
}
