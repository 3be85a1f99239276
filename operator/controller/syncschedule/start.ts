// Act on the decision: stop the runs a Replace policy replaces, start the decided run (its Job,
// job.ts), and say with an Event why a due run did not start (missed its deadline, or Forbid).
import { OceanSiteSpec } from '../../api/v1alpha1/index.ts';
import { withDefaults } from '../../runtime/defaults.ts';
import { buildRunJob } from './job.ts';
import type { RunJobs } from './run-jobs.ts';
import type { RunDecision } from './runs.ts';
import type { Observed, ScheduleRun, SyncScheduleDeps } from './step.ts';

type Deps = Pick<SyncScheduleDeps, 'kube' | 'worker'>;

export async function replaceRuns(deps: Deps, jobs: RunJobs, run: ScheduleRun, decision: RunDecision): Promise<void> {
  for (const name of decision.replace) {
    await jobs.delete(run.key.namespace, name);
    await deps.kube.event(run.schedule, 'Normal', 'RunReplaced', `Run ${name} stopped: concurrencyPolicy Replace`);
  }
}

/** The name of the run this reconcile started, if it started one. */
export async function startRun(
  deps: Deps,
  jobs: RunJobs,
  run: ScheduleRun,
  observed: Observed,
  decision: RunDecision,
): Promise<string | undefined> {
  const { integration, integrationSpec, site } = observed;
  const start = decision.start;
  // A site's reminders schedule (spec.siteRef) has a site and no integration.
  if (!start || !site || (!run.spec.siteRef && (!integration || !integrationSpec))) return undefined;
  const { schedule, spec } = run;
  const job = buildRunJob({
    name: start.name,
    scheduledTime: start.scheduledTime,
    type: spec.type,
    schedule,
    integration,
    integrationSpec,
    site: { ...site, spec: withDefaults<OceanSiteSpec>(OceanSiteSpec, site.spec) },
    settings: deps.worker,
  });
  if (!(await jobs.create(run.key.namespace, job))) return undefined;
  const when = start.manual ? ' (requested)' : ` for ${start.scheduledTime.toISOString()}`;
  // Not awaited: at a busy tick the next schedule's Job matters more than this Event (event() never throws).
  void deps.kube.event(schedule, 'Normal', 'RunStarted', `Started ${spec.type} sync ${start.name}${when}`);
  return start.name;
}

/** A Warning Event for a run skipped by its deadline or by Forbid, once per scheduled time. */
export async function reportSkipped(deps: Deps, run: ScheduleRun, decision: RunDecision): Promise<void> {
  const skipped = decision.skipped;
  if (!skipped || skipped.reason === 'IntegrationNotReady' || skipped.reason === 'Suspended') return;
  const time = skipped.scheduledTime.toISOString();
  const lastSkipped = run.previous.conditions?.find((c) => c.type === 'Ready')?.message ?? '';
  if (lastSkipped.includes(time)) return;
  const message =
    skipped.reason === 'MissSchedule'
      ? `Missed the run of ${time}: past startingDeadlineSeconds`
      : `Skipped the run of ${time}: a run is still active (concurrencyPolicy Forbid)`;
  await deps.kube.event(run.schedule, 'Warning', skipped.reason, message);
}
