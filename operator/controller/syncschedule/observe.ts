// Observe: the schedule's integration and site, and its run Jobs (labelled with its name), from the
// caches; then decide (runs.ts, pure, CronJob semantics) what starts, what is replaced, what is skipped.
import { EmrIntegrationSpec, REQUESTED_AT_ANNOTATION } from '../../api/v1alpha1/index.ts';
import { RUNS_BY_SCHEDULE } from '../../internal/kube/cache-indexes.ts';
import { jobFinished } from '../../internal/sitepod/sync-run.ts';
import { isTrue } from '../../runtime/conditions.ts';
import { withDefaults } from '../../runtime/defaults.ts';
import { decideRun, type RunDecision } from './runs.ts';
import type { Observed, ScheduleRun, SyncScheduleDeps } from './step.ts';

type TargetDeps = Pick<SyncScheduleDeps, 'integrations' | 'sites'>;
type Target = Pick<Observed, 'integration' | 'integrationSpec' | 'site' | 'integrationReady'>;

/** An integration's schedule: the integration, its site; ready when it is Authenticated and not suspended. */
function observeIntegration(deps: TargetDeps, namespace: string, name: string): Target {
  const integration = deps.integrations.get(name, namespace);
  const integrationSpec = integration ? withDefaults<EmrIntegrationSpec>(EmrIntegrationSpec, integration.spec) : undefined;
  const site = integrationSpec ? deps.sites.get(integrationSpec.siteRef.name, namespace) : undefined;
  const integrationReady =
    integration !== undefined && site !== undefined && isTrue(integration.status?.conditions, 'Authenticated') && !integrationSpec?.suspend;
  return { integration, integrationSpec, site, integrationReady };
}

/** A site's reminders schedule (spec.siteRef, same namespace): no integration; ready when the OceanSite is Ready. */
function observeSite(deps: TargetDeps, namespace: string, name: string): Target {
  const site = deps.sites.get(name, namespace);
  return {
    integration: undefined,
    integrationSpec: undefined,
    site,
    integrationReady: site !== undefined && isTrue(site.status?.conditions, 'Ready'),
  };
}

export function observe(deps: Pick<SyncScheduleDeps, 'integrations' | 'sites' | 'jobs'>, run: ScheduleRun): Observed {
  const { key, spec } = run;
  const target = spec.siteRef
    ? observeSite(deps, key.namespace, spec.siteRef.name)
    : observeIntegration(deps, key.namespace, spec.integrationRef?.name ?? '');
  const runs = deps.jobs.byIndex(RUNS_BY_SCHEDULE, key.namespace, key.name);
  return { ...target, runs, active: runs.filter((j) => !jobFinished(j)) };
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
