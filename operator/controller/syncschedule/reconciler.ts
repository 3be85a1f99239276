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
    const started = await startRun(deps, jobs, run, observed, decision);
    await reportSkipped(deps, run, decision);
    await pruneHistory(jobs, key.namespace, observed.runs, run.spec);
    const lastRun = await this.lastRun.observe(run, observed);

    await deps.kube.applyStatus(
      SYNC_SCHEDULE,
      run.schedule,
      scheduleStatus({ run, observed, decision, started, lastRun, resolvedSchedule: parsed.resolved }, deps.clock),
    );
    return { requeueAfterMs: Math.max(500, decision.nextScheduleTime.getTime() - run.now.getTime()) };
  }
}
