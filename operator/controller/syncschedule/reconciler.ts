// SyncSchedule reconciler. Order: load → validate (Stalled) → integration and site → runs of this
// schedule (Jobs) → decide (pure, CronJob semantics) → replace/start/skip → history limits →
// last run result from the finished Job's termination message → status if changed → requeue at the
// next tick.
import { BatchV1Api, type V1Job, type V1Pod } from '@kubernetes/client-node';
import {
  EMR_INTEGRATION,
  type EmrIntegration,
  EmrIntegrationSpec,
  type OceanSite,
  OceanSiteSpec,
  REQUESTED_AT_ANNOTATION,
  RUN_LABELS,
  SYNC_SCHEDULE,
  type SyncRunResult,
  type SyncSchedule,
  SyncScheduleSpec,
  type SyncScheduleStatus,
} from '../../api/v1alpha1/index.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import { jobFinished } from '../../internal/sitepod/sync-run.ts';
import type { Clock } from '../../runtime/clock.ts';
import { type Condition, type ConditionInput, isTrue, setConditions } from '../../runtime/conditions.ts';
import type { ObjectKey, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import { withDefaults } from '../../runtime/defaults.ts';
import { safeMessage, statusCodeOf } from '../../runtime/errors.ts';
import type { SupervisedInformer } from '../../runtime/informer.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { OperatorMetrics } from '../../runtime/metrics.ts';
import { buildRunJob, type WorkerSettings } from './job.ts';
import { decideRun } from './runs.ts';
import { parseSchedule } from './schedule.ts';

export interface SyncScheduleDeps {
  kube: Kube;
  clock: Clock;
  logger: Logger;
  metrics: OperatorMetrics;
  schedules: SupervisedInformer<SyncSchedule>;
  integrations: SupervisedInformer<EmrIntegration>;
  sites: SupervisedInformer<OceanSite>;
  jobs: SupervisedInformer<V1Job>;
  worker: WorkerSettings;
}

const AUTH_REASONS = new Set(['Expired', 'Deauthorized', 'InvalidCredentials']);

/** The worker's result, as it wrote it to its termination message (counts, reason; never PHI). */
export function parseTerminationMessage(text: string | undefined): Partial<SyncRunResult> {
  if (!text) return {};
  try {
    const r = JSON.parse(text) as Record<string, unknown>;
    const out: Partial<SyncRunResult> = {};
    for (const k of ['providers', 'patients', 'appointments', 'durationSeconds'] as const)
      if (typeof r[k] === 'number') out[k] = Math.max(0, Math.round(r[k] as number));
    if (typeof r.errorReason === 'string' && /^[A-Za-z]{1,64}$/.test(r.errorReason)) out.errorReason = r.errorReason;
    return out;
  } catch {
    return {};
  }
}

export class SyncScheduleReconciler implements Reconciler {
  private readonly deps: SyncScheduleDeps;
  private readonly batch: BatchV1Api;
  /** Runs already counted in metrics: the cached status may lag behind our own write. */
  private readonly counted = new Set<string>();

  constructor(deps: SyncScheduleDeps) {
    this.deps = deps;
    this.batch = deps.kube.kubeConfig.makeApiClient(BatchV1Api);
  }

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const schedule = this.deps.schedules.get(key.name, key.namespace);
    if (!schedule || schedule.metadata.deletionTimestamp) return {};
    const spec = withDefaults<SyncScheduleSpec>(SyncScheduleSpec, schedule.spec);
    const previous = schedule.status ?? {};
    const now = this.deps.clock.now();
    const generation = schedule.metadata.generation;
    const parsed = parseSchedule(spec.schedule, spec.timeZone ?? 'UTC');
    if (!parsed.ok) {
      const stalled: ConditionInput = { type: 'Stalled', status: 'True', reason: parsed.reason, message: parsed.message };
      const status: SyncScheduleStatus = {
        ...previous,
        observedGeneration: generation,
        conditions: setConditions(
          previous.conditions,
          [stalled, { type: 'Ready', status: 'False', reason: parsed.reason, message: parsed.message }],
          generation,
          this.deps.clock,
        ),
      };
      delete status.nextScheduleTime;
      await this.deps.kube.applyStatus(SYNC_SCHEDULE, schedule, status);
      return {};
    }

    const integration = this.deps.integrations.get(spec.integrationRef.name, key.namespace);
    const integrationSpec = integration ? withDefaults<EmrIntegrationSpec>(EmrIntegrationSpec, integration.spec) : undefined;
    const site = integrationSpec ? this.deps.sites.get(integrationSpec.siteRef.name, key.namespace) : undefined;
    const runs = this.deps.jobs.list(key.namespace).filter((j) => j.metadata?.labels?.[RUN_LABELS.schedule] === key.name);
    const active = runs.filter((j) => !jobFinished(j));
    const integrationReady =
      integration !== undefined &&
      site !== undefined &&
      isTrue(integration.status?.conditions, 'Authenticated') &&
      !integrationSpec?.suspend;
    const requestedAt = schedule.metadata.annotations?.[REQUESTED_AT_ANNOTATION];
    const decision = decideRun({
      scheduleName: key.name,
      spec,
      next: parsed.next,
      createdAt: new Date(String(schedule.metadata.creationTimestamp ?? now.toISOString())),
      ...(previous.lastScheduleTime ? { lastScheduleTime: new Date(previous.lastScheduleTime) } : {}),
      active: active.map((j) => ({ name: j.metadata?.name ?? '' })),
      existing: new Set(runs.map((j) => j.metadata?.name ?? '')),
      ...(requestedAt ? { requestedAt } : {}),
      ...(previous.lastHandledRequestedAt ? { lastHandledRequestedAt: previous.lastHandledRequestedAt } : {}),
      integrationReady,
      now,
    });

    for (const name of decision.replace) {
      await this.deleteJob(key.namespace, name);
      await this.deps.kube.event(schedule, 'Normal', 'RunReplaced', `Run ${name} stopped: concurrencyPolicy Replace`);
    }
    let startedName: string | undefined;
    if (decision.start && integration && integrationSpec && site) {
      const job = buildRunJob({
        name: decision.start.name,
        scheduledTime: decision.start.scheduledTime,
        type: spec.type,
        schedule,
        integration,
        integrationSpec,
        site: { ...site, spec: withDefaults<OceanSiteSpec>(OceanSiteSpec, site.spec) },
        settings: this.deps.worker,
      });
      try {
        await this.batch.createNamespacedJob({ namespace: key.namespace, body: job });
        startedName = decision.start.name;
        // Not awaited: at a busy tick the next schedule's Job matters more than this Event (event() never throws).
        void this.deps.kube.event(
          schedule,
          'Normal',
          'RunStarted',
          `Started ${spec.type} sync ${decision.start.name}${decision.start.manual ? ' (requested)' : ` for ${decision.start.scheduledTime.toISOString()}`}`,
        );
      } catch (error) {
        if (statusCodeOf(error) !== 409) throw error; // 409: started before a restart; the name is the lock
      }
    }
    if (decision.skipped && decision.skipped.reason !== 'IntegrationNotReady' && decision.skipped.reason !== 'Suspended') {
      const lastSkipped = previous.conditions?.find((c) => c.type === 'Ready')?.message ?? '';
      const msg =
        decision.skipped.reason === 'MissSchedule'
          ? `Missed the run of ${decision.skipped.scheduledTime.toISOString()}: past startingDeadlineSeconds`
          : `Skipped the run of ${decision.skipped.scheduledTime.toISOString()}: a run is still active (concurrencyPolicy Forbid)`;
      if (!lastSkipped.includes(decision.skipped.scheduledTime.toISOString()))
        await this.deps.kube.event(schedule, 'Warning', decision.skipped.reason, msg);
    }

    await this.enforceHistory(key.namespace, runs, spec);
    const lastRun = await this.lastRun(key.namespace, runs, previous.lastRun as SyncRunResult | undefined, spec, integration);

    const activeNames = new Set(active.map((j) => j.metadata?.name ?? '').filter((n) => !decision.replace.includes(n)));
    if (startedName) activeNames.add(startedName);
    const ready: ConditionInput = spec.suspend
      ? { type: 'Ready', status: 'True', reason: 'Suspended', message: 'Suspended: no new runs start' }
      : !integration
        ? {
            type: 'Ready',
            status: 'False',
            reason: 'IntegrationNotFound',
            message: `EmrIntegration ${spec.integrationRef.name} does not exist`,
          }
        : !integrationReady
          ? {
              type: 'Ready',
              status: 'False',
              reason: 'IntegrationNotReady',
              message: `Blocked: EmrIntegration ${spec.integrationRef.name} is not Authenticated; runs resume by themselves when it is`,
            }
          : {
              type: 'Ready',
              status: 'True',
              reason: 'Scheduled',
              message: `Next ${spec.type} sync due at ${decision.nextScheduleTime.toISOString()}`,
            };
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
        [ready, { type: 'Stalled', status: 'False', reason: 'Valid', message: '' }],
        generation,
        this.deps.clock,
      ),
    };
    if (status.active?.length === 0) delete status.active;
    if (spec.suspend) delete status.nextScheduleTime;
    await this.deps.kube.applyStatus(SYNC_SCHEDULE, schedule, status);
    return { requeueAfterMs: Math.max(500, decision.nextScheduleTime.getTime() - now.getTime()) };
  }

  private async lastRun(
    namespace: string,
    runs: V1Job[],
    previous: SyncRunResult | undefined,
    spec: SyncScheduleSpec,
    integration: EmrIntegration | undefined,
  ): Promise<SyncRunResult | undefined> {
    const finished = runs
      .map((j) => ({ job: j, result: jobFinished(j) }))
      .filter((r): r is { job: V1Job; result: 'Succeeded' | 'Failed' } => r.result !== undefined)
      .sort(
        (a, b) => time(a.job.status?.completionTime ?? lastTransition(a.job)) - time(b.job.status?.completionTime ?? lastTransition(b.job)),
      );
    const latest = finished[finished.length - 1];
    if (!latest) return previous;
    const name = latest.job.metadata?.name ?? '';
    if (previous?.name === name) return previous;
    const pods = await this.deps.kube.core
      .listNamespacedPod({ namespace, labelSelector: `job-name=${name}` })
      .catch(() => ({ items: [] as V1Pod[] }));
    const message = pods.items[0]?.status?.containerStatuses?.[0]?.state?.terminated?.message;
    const reported = parseTerminationMessage(message);
    const start = latest.job.status?.startTime ? new Date(String(latest.job.status.startTime)) : undefined;
    const end = latest.job.status?.completionTime
      ? new Date(String(latest.job.status.completionTime))
      : new Date(lastTransition(latest.job));
    const run: SyncRunResult = {
      name,
      result: latest.result,
      ...(latest.job.metadata?.annotations?.[RUN_LABELS.scheduledTime]
        ? { scheduledTime: latest.job.metadata.annotations[RUN_LABELS.scheduledTime] }
        : {}),
      ...(start ? { startTime: start.toISOString() } : {}),
      completionTime: end.toISOString(),
      durationSeconds: reported.durationSeconds ?? (start ? Math.max(0, Math.round((end.getTime() - start.getTime()) / 1000)) : 0),
      ...reported,
      ...(latest.result === 'Failed' && !reported.errorReason
        ? { errorReason: latest.job.status?.conditions?.find((c) => c.type === 'Failed')?.reason ?? 'RunFailed' }
        : {}),
    };
    const labels = { namespace, integration: integration?.metadata.name ?? spec.integrationRef.name, type: spec.type };
    if (this.counted.has(`${namespace}/${name}`)) return run;
    if (this.counted.size > 10_000) this.counted.clear(); // bounded: older runs are long out of the cache lag window
    this.counted.add(`${namespace}/${name}`);
    this.deps.metrics.syncRuns.inc({ ...labels, result: run.result });
    this.deps.metrics.syncDuration.observe(labels, run.durationSeconds ?? 0);
    if (run.result === 'Succeeded') this.deps.metrics.syncLastSuccess.set(labels, end.getTime() / 1000);
    for (const kind of ['providers', 'patients', 'appointments'] as const)
      if (run[kind] !== undefined) this.deps.metrics.syncRecords.inc({ ...labels, kind }, run[kind] ?? 0);
    if (integration && run.result === 'Failed' && AUTH_REASONS.has(run.errorReason ?? '')) {
      // The worker met an expired or revoked credential: have the integration check now, so that
      // Authenticated flips without waiting for its next scheduled check.
      await this.deps.kube
        .annotate(EMR_INTEGRATION, integration, { [REQUESTED_AT_ANNOTATION]: `sync-run/${name}` })
        .catch((error: unknown) =>
          this.deps.logger.warn('could not ask the integration to re-check', {
            integration: `${namespace}/${integration.metadata.name}`,
            error: safeMessage(error),
          }),
        );
    }
    return run;
  }

  private async enforceHistory(namespace: string, runs: V1Job[], spec: SyncScheduleSpec): Promise<void> {
    const byTime = (a: V1Job, b: V1Job) =>
      time(b.status?.completionTime ?? lastTransition(b)) - time(a.status?.completionTime ?? lastTransition(a));
    const succeeded = runs.filter((j) => jobFinished(j) === 'Succeeded').sort(byTime);
    const failed = runs.filter((j) => jobFinished(j) === 'Failed').sort(byTime);
    for (const j of [...succeeded.slice(spec.successfulRunsHistoryLimit ?? 3), ...failed.slice(spec.failedRunsHistoryLimit ?? 1)]) {
      await this.deleteJob(namespace, j.metadata?.name ?? '');
    }
  }

  private async deleteJob(namespace: string, name: string): Promise<void> {
    try {
      await this.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' });
    } catch (error) {
      if (statusCodeOf(error) !== 404)
        this.deps.logger.warn('could not delete a run', { job: `${namespace}/${name}`, error: safeMessage(error) });
    }
  }
}

function time(value: unknown): number {
  return value ? new Date(String(value)).getTime() : 0;
}

function lastTransition(job: V1Job): string {
  const t = job.status?.conditions
    ?.map((c) => String(c.lastTransitionTime ?? ''))
    .sort()
    .pop();
  return t ?? new Date(0).toISOString();
}

function maxTime(a: string | undefined, b: string): string {
  return !a || new Date(b) > new Date(a) ? b : a;
}
