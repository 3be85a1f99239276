// Pure: which run (if any) a SyncSchedule starts now, with the CronJob controller's semantics:
// only the most recent missed time starts, and only within startingDeadlineSeconds; a run's name
// is derived from its scheduled minute so that a restarted operator never starts it twice;
// Allow / Forbid / Replace decide what happens while a run is active.
import type { SyncScheduleSpec } from '../../api/v1alpha1/index.ts';
import { manualRunName, runName } from '../../internal/sitepod/sync-run.ts';

export interface ActiveRun {
  name: string;
  scheduledTime?: string;
}

export interface RunInput {
  scheduleName: string;
  spec: SyncScheduleSpec;
  /** `(after) => next fire time` for the schedule in its time zone. */
  next: (after: Date) => Date;
  createdAt: Date;
  lastScheduleTime?: Date;
  active: readonly ActiveRun[];
  /** Names of every run Job that exists (active or finished). */
  existing: ReadonlySet<string>;
  requestedAt?: string;
  lastHandledRequestedAt?: string;
  /** False while the integration is not Authenticated: nothing starts. */
  integrationReady: boolean;
  now: Date;
}

export type RunDecision = {
  start?: { name: string; scheduledTime: Date; manual: boolean };
  /** Active runs to stop first (Replace). */
  replace: string[];
  /** A scheduled time that was skipped: too late (MissSchedule) or a run still active (Forbid). */
  skipped?: { scheduledTime: Date; reason: 'MissSchedule' | 'JobAlreadyActive' | 'IntegrationNotReady' | 'Suspended' };
  /** lastScheduleTime to record (the scheduled time acted on, started or deliberately skipped). */
  lastScheduleTime?: Date;
  handledRequestedAt?: string;
  nextScheduleTime: Date;
};

const MAX_MISSED_SCAN = 10_000;

/** The most recent fire time in (from, now], or undefined. Bounded scan, like the CronJob controller. */
function mostRecentMissed(next: (after: Date) => Date, from: Date, now: Date): Date | undefined {
  let t = next(from);
  let latest: Date | undefined;
  for (let i = 0; i < MAX_MISSED_SCAN && t.getTime() <= now.getTime(); i++) {
    latest = t;
    t = next(t);
  }
  if (latest && t.getTime() <= now.getTime()) {
    // More than MAX_MISSED_SCAN missed times: jump close to now and take the last one there.
    latest = mostRecentMissed(next, new Date(now.getTime() - 24 * 3600_000), now) ?? latest;
  }
  return latest;
}

export function decideRun(input: RunInput): RunDecision {
  const { spec, now } = input;
  const nextScheduleTime = input.next(now);
  const decision: RunDecision = { replace: [], nextScheduleTime };

  // On demand ("Sync Full Schedule"): a new token starts a run now, once.
  const manual = input.requestedAt !== input.lastHandledRequestedAt ? input.requestedAt : undefined;
  const manualRequested = manual !== undefined;

  const from = input.lastScheduleTime ?? input.createdAt;
  const due = mostRecentMissed(input.next, from, now);

  if (spec.suspend) {
    if (manualRequested) decision.handledRequestedAt = input.requestedAt;
    if (due) decision.skipped = { scheduledTime: due, reason: 'Suspended' };
    return decision;
  }
  if (!input.integrationReady) {
    // Blocked: nothing starts and nothing is marked handled, so the run starts once the integration is back
    // (if still within its deadline).
    if (due || manualRequested) decision.skipped = { scheduledTime: due ?? now, reason: 'IntegrationNotReady' };
    return decision;
  }

  if (manual !== undefined) {
    const name = manualRunName(input.scheduleName, manual);
    decision.handledRequestedAt = input.requestedAt;
    if (!input.existing.has(name)) {
      const activeOthers = input.active.filter((a) => a.name !== name);
      if (activeOthers.length > 0 && spec.concurrencyPolicy === 'Replace') decision.replace = activeOthers.map((a) => a.name);
      decision.start = { name, scheduledTime: now, manual: true };
      return decision;
    }
  }

  if (!due) return decision;
  const deadline = spec.startingDeadlineSeconds;
  if (deadline !== undefined && now.getTime() - due.getTime() > deadline * 1000) {
    decision.skipped = { scheduledTime: due, reason: 'MissSchedule' };
    decision.lastScheduleTime = due;
    return decision;
  }
  const name = runName(input.scheduleName, due);
  if (input.existing.has(name)) {
    decision.lastScheduleTime = due;
    return decision;
  }
  if (input.active.length > 0) {
    if (spec.concurrencyPolicy === 'Forbid' || spec.concurrencyPolicy === undefined) {
      decision.skipped = { scheduledTime: due, reason: 'JobAlreadyActive' };
      return decision;
    }
    if (spec.concurrencyPolicy === 'Replace') decision.replace = input.active.map((a) => a.name);
  }
  decision.start = { name, scheduledTime: due, manual: false };
  decision.lastScheduleTime = due;
  return decision;
}
