// Observe: the schedule's integration and site, and its run Jobs (labelled with its name), from the
// caches; then decide (runs.ts, pure, CronJob semantics) what starts, what is replaced, what is skipped.
import { EmrIntegrationSpec, REQUESTED_AT_ANNOTATION, RUN_LABELS } from '../../api/v1alpha1/index.ts';
import { jobFinished } from '../../internal/sitepod/sync-run.ts';
import { isTrue } from '../../runtime/conditions.ts';
import { withDefaults } from '../../runtime/defaults.ts';
import { decideRun, type RunDecision } from './runs.ts';
import type { Observed, ScheduleRun, SyncScheduleDeps } from './step.ts';

export function observe(deps: Pick<SyncScheduleDeps, 'integrations' | 'sites' | 'jobs'>, run: ScheduleRun): Observed {
  const { key, spec } = run;
  const integration = deps.integrations.get(spec.integrationRef.name, key.namespace);
  const integrationSpec = integration ? withDefaults<EmrIntegrationSpec>(EmrIntegrationSpec, integration.spec) : undefined;
  const site = integrationSpec ? deps.sites.get(integrationSpec.siteRef.name, key.namespace) : undefined;
  const runs = deps.jobs.list(key.namespace).filter((j) => j.metadata?.labels?.[RUN_LABELS.schedule] === key.name);
  const integrationReady =
    integration !== undefined && site !== undefined && isTrue(integration.status?.conditions, 'Authenticated') && !integrationSpec?.suspend;
  return { integration, integrationSpec, site, runs, active: runs.filter((j) => !jobFinished(j)), integrationReady };
}

export function decide(run: ScheduleRun, observed: Observed, next: (after: Date) => Date): RunDecision {
  const { key, spec, schedule, previous, now } = run;
  const requestedAt = schedule.metadata.annotations?.[REQUESTED_AT_ANNOTATION];
  return decideRun({
    scheduleName: key.name,
    spec,
    next,
    createdAt: new Date(String(schedule.metadata.creationTimestamp ?? now.toISOString())),
    ...(previous.lastScheduleTime ? { lastScheduleTime: new Date(previous.lastScheduleTime) } : {}),
    active: observed.active.map((j) => ({ name: j.metadata?.name ?? '' })),
    existing: new Set(observed.runs.map((j) => j.metadata?.name ?? '')),
    ...(requestedAt ? { requestedAt } : {}),
    ...(previous.lastHandledRequestedAt ? { lastHandledRequestedAt: previous.lastHandledRequestedAt } : {}),
    integrationReady: observed.integrationReady,
    now,
  });
}
