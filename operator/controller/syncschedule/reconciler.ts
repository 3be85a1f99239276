// SyncSchedule reconciler, in a fixed order:
//   load      the schedule from the cache (load.ts); gone or deleting → nothing to do (its run Jobs
//             are owned by it and garbage-collected).
//   validate  a schedule or time zone that cannot be read → Stalled, status written, stop (validate.ts).
//   suspend   stops no step: decideRun starts nothing (skipped: Suspended), Ready says Suspended and
//             nextScheduleTime is dropped; finished runs are still recorded and pruned.
//   steps     observe the integration, site and runs → decide (runs.ts, pure, CronJob semantics)
//             (observe.ts) → replace / start the run Job, or say why a due run was skipped
//             (start.ts) → prune history (history.ts) → last run from the finished Job's termination
//             message (last-run.ts).
//   created?  create first, record after: a reconcile that created a run Job stops there. When a
//             fleet's schedules share a tick, every due Job is created before any status is written;
//             the Job's ADDED event brings the schedule back once the cache holds the Job, and that
//             reconcile records it (decide sees the Job, so nothing starts twice; a timer covers a
//             lost event).
//   status    written (status.ts), requeue at the next tick.
import { SYNC_SCHEDULE } from '../../api/v1alpha1/index.ts';
import type { ObjectKey, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import { pruneHistory } from './history.ts';
import { LastRun } from './last-run.ts';
import { loadSchedule } from './load.ts';
import { decide, observe } from './observe.ts';
import { RunJobs } from './run-jobs.ts';
import { hashSeedOf, parseSchedule } from './schedule.ts';
import { replaceRuns, reportSkipped, startRun } from './start.ts';
import { scheduleStatus } from './status.ts';
import type { SyncScheduleDeps } from './step.ts';
import { stalledStatus } from './validate.ts';

export { parseTerminationMessage } from './last-run.ts';
export type { SyncScheduleDeps } from './step.ts';

/** When the reconcile that records a started run comes at the latest, should its Job's ADDED event be lost. */
export const RECORD_RUN_FALLBACK_MS = 5_000;

export class SyncScheduleReconciler implements Reconciler {
  private readonly deps: SyncScheduleDeps;
  private readonly jobs: RunJobs;
  private readonly lastRun: LastRun;

  constructor(deps: SyncScheduleDeps) {
    this.deps = deps;
    this.jobs = new RunJobs(deps.kube, deps.logger);
    this.lastRun = new LastRun(deps);
  }

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const { deps, jobs } = this;
    const run = loadSchedule(deps, key);
    if (!run) return {};
    const parsed = parseSchedule(run.spec.schedule, run.spec.timeZone ?? 'UTC', hashSeedOf(key.namespace, key.name));
    if (!parsed.ok) {
      await deps.kube.applyStatus(SYNC_SCHEDULE, run.schedule, stalledStatus(run, parsed, deps.clock));
      return {};
    }

    const observed = observe(deps, run);
    const decision = decide(run, observed, parsed.next);
    await replaceRuns(deps, jobs, run, decision);
    if (await startRun(deps, jobs, run, observed, decision)) return { requeueAfterMs: RECORD_RUN_FALLBACK_MS };
    await reportSkipped(deps, run, decision);
    await pruneHistory(jobs, key.namespace, observed.runs, run.spec);
    const lastRun = await this.lastRun.observe(run, observed);

    await deps.kube.applyStatus(
      SYNC_SCHEDULE,
      run.schedule,
      scheduleStatus({ run, observed, decision, lastRun, resolvedSchedule: parsed.resolved }, deps.clock),
    );
    // At the tick itself, not a floor after it: a schedule reconciled just before its tick is woken at the tick.
    return { requeueAfterMs: Math.max(1, decision.nextScheduleTime.getTime() - run.now.getTime()) };
  }
}
