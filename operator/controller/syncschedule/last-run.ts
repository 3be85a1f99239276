// Last run: the newest finished run Job becomes status.lastRun, with the counts and failure reason
// the worker wrote to its termination message. Each run is counted once in the sync metrics, and a
// run that met an expired or revoked credential has its integration check again at once.
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import {
  EMR_INTEGRATION,
  type EmrIntegration,
  REQUESTED_AT_ANNOTATION,
  RUN_LABELS,
  type SyncRunResult,
  scheduleTarget,
} from '../../api/v1alpha1/index.ts';
import { jobFailureReason, jobFinished } from '../../internal/sitepod/sync-run.ts';
import { safeMessage } from '../../runtime/errors.ts';
import type { Observed, ScheduleRun, SyncScheduleDeps } from './step.ts';
import { finishTime, lastTransition } from './times.ts';

const AUTH_REASONS = new Set(['Expired', 'Deauthorized', 'InvalidCredentials']);

type FinishedRun = { job: V1Job; result: 'Succeeded' | 'Failed' };

/** A reason the worker reports: PascalCase words only (it becomes a status field and a metric label). */
const REASON = /^[A-Za-z]{1,64}$/;

/** The worker's result, as it wrote it to its termination message (counts, reason; never PHI). */
export function parseTerminationMessage(text: string | undefined): Partial<SyncRunResult> {
  if (!text) return {};
  try {
    const r = JSON.parse(text) as Record<string, unknown>;
    const out: Partial<SyncRunResult> = {};
    for (const k of ['providers', 'patients', 'appointments', 'sent', 'skipped', 'failed', 'durationSeconds'] as const)
      if (typeof r[k] === 'number') out[k] = Math.max(0, Math.round(r[k] as number));
    if (typeof r.errorReason === 'string' && REASON.test(r.errorReason)) out.errorReason = r.errorReason;
    return out;
  } catch {
    return {};
  }
}

/** A Reminders run's skipped and failed counts by reason (PascalCase words only, at most 16 each: metric labels stay bounded). */
export function reminderReasons(text: string | undefined): { skipped: Record<string, number>; failed: Record<string, number> } {
  const out = { skipped: {} as Record<string, number>, failed: {} as Record<string, number> };
  if (!text) return out;
  try {
    const r = JSON.parse(text) as Record<string, unknown>;
    for (const [field, into] of [
      ['skippedReasons', out.skipped],
      ['failedReasons', out.failed],
    ] as const) {
      const counts = r[field];
      if (counts === null || typeof counts !== 'object') continue;
      for (const [reason, n] of Object.entries(counts).slice(0, 16))
        if (REASON.test(reason) && typeof n === 'number' && n > 0) into[reason] = Math.round(n);
    }
  } catch {
    // a message that is not JSON has no reasons
  }
  return out;
}

export class LastRun {
  private readonly deps: Pick<SyncScheduleDeps, 'kube' | 'metrics' | 'logger'>;
  /** Runs already counted in metrics: the cached status may lag behind our own write. */
  private readonly counted = new Set<string>();

  constructor(deps: Pick<SyncScheduleDeps, 'kube' | 'metrics' | 'logger'>) {
    this.deps = deps;
  }

  async observe(run: ScheduleRun, observed: Observed): Promise<SyncRunResult | undefined> {
    const previous = run.previous.lastRun as SyncRunResult | undefined;
    const latest = latestFinished(observed.runs);
    if (!latest) return previous;
    const name = latest.job.metadata?.name ?? '';
    if (previous?.name === name) return previous;
    const { namespace } = run.key;
    const message = await this.terminationMessage(namespace, name);
    const result = runResult(latest, message);
    if (!this.firstSight(`${namespace}/${name}`)) return result;
    const integration = observed.integration;
    const labels = { namespace, integration: integration?.metadata.name ?? scheduleTarget(run.spec).name, type: run.spec.type };
    this.count(result, labels);
    if (run.spec.type === 'Reminders') this.countReminders(result, message, labels);
    if (integration && result.result === 'Failed' && AUTH_REASONS.has(result.errorReason ?? ''))
      await this.askRecheck(namespace, integration, name);
    return result;
  }

  private async terminationMessage(namespace: string, jobName: string): Promise<string | undefined> {
    const pods = await this.deps.kube.core
      .listNamespacedPod({ namespace, labelSelector: `job-name=${jobName}` })
      .catch(() => ({ items: [] as V1Pod[] }));
    return pods.items[0]?.status?.containerStatuses?.[0]?.state?.terminated?.message;
  }

  private firstSight(id: string): boolean {
    if (this.counted.has(id)) return false;
    if (this.counted.size > 10_000) this.counted.clear(); // bounded: older runs are long out of the cache lag window
    this.counted.add(id);
    return true;
  }

  private count(run: SyncRunResult, labels: { namespace: string; integration: string; type: string }): void {
    const { metrics } = this.deps;
    metrics.syncRuns.inc({ ...labels, result: run.result });
    metrics.syncDuration.observe(labels, run.durationSeconds ?? 0);
    if (run.result === 'Succeeded') metrics.syncLastSuccess.set(labels, Date.parse(run.completionTime ?? '') / 1000);
    for (const kind of ['providers', 'patients', 'appointments'] as const)
      if (run[kind] !== undefined) metrics.syncRecords.inc({ ...labels, kind }, run[kind] ?? 0);
  }

  /** Reminders by outcome and reason: `sent`, then each skipped and failed reason the worker reported. */
  private countReminders(run: SyncRunResult, message: string | undefined, labels: { namespace: string; integration: string }): void {
    const { reminders } = this.deps.metrics;
    const base = { namespace: labels.namespace, integration: labels.integration };
    reminders.inc({ ...base, outcome: 'sent', reason: '' }, run.sent ?? 0);
    const reasons = reminderReasons(message);
    for (const [reason, n] of Object.entries(reasons.skipped)) reminders.inc({ ...base, outcome: 'skipped', reason }, n);
    for (const [reason, n] of Object.entries(reasons.failed)) reminders.inc({ ...base, outcome: 'failed', reason }, n);
    // A run that failed before it could count (no Ocean, a refused client) is one failure with its reason.
    if (run.result === 'Failed' && Object.keys(reasons.failed).length === 0)
      reminders.inc({ ...base, outcome: 'failed', reason: run.errorReason ?? 'RunFailed' }, 1);
  }

  /** The worker met an expired or revoked credential: Authenticated flips without waiting for the next scheduled check. */
  private async askRecheck(namespace: string, integration: EmrIntegration, runName: string): Promise<void> {
    await this.deps.kube
      .annotate(EMR_INTEGRATION, integration, { [REQUESTED_AT_ANNOTATION]: `sync-run/${runName}` })
      .catch((error: unknown) =>
        this.deps.logger.warn('could not ask the integration to re-check', {
          integration: `${namespace}/${integration.metadata.name}`,
          error: safeMessage(error),
        }),
      );
  }
}

function latestFinished(runs: V1Job[]): FinishedRun | undefined {
  const finished = runs
    .map((job) => ({ job, result: jobFinished(job) }))
    .filter((r): r is FinishedRun => r.result !== undefined)
    .sort((a, b) => finishTime(a.job) - finishTime(b.job));
  return finished[finished.length - 1];
}

/** status.lastRun of a finished run: times from the Job, counts and reason from the worker's message. */
function runResult(latest: FinishedRun, terminationMessage: string | undefined): SyncRunResult {
  const { job, result } = latest;
  const reported = parseTerminationMessage(terminationMessage);
  const start = job.status?.startTime ? new Date(String(job.status.startTime)) : undefined;
  const end = job.status?.completionTime ? new Date(String(job.status.completionTime)) : new Date(lastTransition(job));
  const scheduledTime = job.metadata?.annotations?.[RUN_LABELS.scheduledTime];
  return {
    name: job.metadata?.name ?? '',
    result,
    ...(scheduledTime ? { scheduledTime } : {}),
    ...(start ? { startTime: start.toISOString() } : {}),
    completionTime: end.toISOString(),
    durationSeconds: reported.durationSeconds ?? (start ? Math.max(0, Math.round((end.getTime() - start.getTime()) / 1000)) : 0),
    ...reported,
    ...(result === 'Failed' && !reported.errorReason ? { errorReason: jobFailureReason(job) ?? 'RunFailed' } : {}),
  };
}
