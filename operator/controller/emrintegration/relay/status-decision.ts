// Pure: what the relay's status record (operator/internal/relayqueue/contract.ts) means for the EmrIntegration's
// `status.relay` and its `Delivering` condition, at `now`. Also says how many messages were newly
// dead-lettered since the figures last written to status (the reconciler sends the Event and mail).
//
// Delivering:
//   True  Delivered          the relay reports, and nothing below holds
//   False DeadLettered       messages wait in the dead-letter subject (needs a person: fix, then replay)
//   False EmrUnreachable     messages wait and the last delivery attempt could not reach the EMR
//   False DeliveryFailing    messages wait and the last attempt failed for another reason (named)
//   False Backlogged         pending ≥ backlogMessages, or the oldest has waited ≥ backlogAge
//   False Suspended          spec.suspend: the relay is scaled to 0
//   Unknown RelayNotReporting no record yet, or the record is older than staleAfter
//   Unknown QueueUnreachable the operator cannot read NATS
//   Unknown RelayNotConfigured the operator has no NATS URL: no relay is deployed
//   Unknown SiteNotReady     the OceanSite is missing or has no SEK yet: the relay waits for it
import type { EmrIntegrationStatus } from '../../../api/v1alpha1/index.ts';
import { REPLAY_REQUESTED_AT_ANNOTATION } from '../../../api/v1alpha1/index.ts';
import type { RelayStatusRecord } from '../../../internal/relayqueue/contract.ts';
import type { ConditionInput } from '../../../runtime/conditions.ts';

const DELIVERING = 'Delivering';
/** Annotation: any new value asks the operator to move this integration's dead letters back to its queue. */

export interface RelayThresholds {
  /** Pending messages from which Delivering is False/Backlogged. */
  backlogMessages: number;
  /** Age of the oldest pending message from which Delivering is False/Backlogged. */
  backlogAgeMs: number;
  /** A record older than this means the relay is not running (it writes every few seconds). */
  staleAfterMs: number;
}

export const DEFAULT_RELAY_THRESHOLDS: RelayThresholds = { backlogMessages: 100, backlogAgeMs: 15 * 60_000, staleAfterMs: 2 * 60_000 };

/** status.relay, as the typed API defines it (operator/api/v1alpha1/emr-integration.ts documents each field). */
export type RelayStatus = NonNullable<EmrIntegrationStatus['relay']>;

export type RelayObservation =
  | { kind: 'record'; record: RelayStatusRecord }
  | { kind: 'missing' }
  | { kind: 'unreachable'; message: string };

export type RelayDeployment = 'deployed' | 'suspended' | 'notConfigured' | 'siteNotReady';

export interface RelayDecisionInput {
  deployment: RelayDeployment;
  /** The last record read (absent when the relay is not deployed). */
  observation?: RelayObservation;
  previous?: RelayStatus;
  thresholds: RelayThresholds;
  now: Date;
  siteName?: string;
}

export interface RelayDecision {
  delivering: ConditionInput;
  relay: RelayStatus | undefined;
  /** Messages dead-lettered since the figures in `previous` (0 when none, or when the count fell after a replay). */
  newlyDeadLettered: number;
}

/**
 * The age as a Go duration, coarse enough that status is not rewritten at every poll while a
 * message waits: whole minutes under an hour, 10-minute steps under a day, whole hours after.
 */
export function coarseAge(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return `${minutes}m`;
  if (minutes < 24 * 60) {
    const tens = Math.floor((minutes % 60) / 10) * 10;
    return `${Math.floor(minutes / 60)}h${tens ? `${tens}m` : ''}`;
  }
  return `${Math.floor(minutes / 60)}h`;
}

/** Parses a record read from the bucket; undefined when it is not a RelayStatusRecord. */
export function parseRecord(value: unknown): RelayStatusRecord | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const r = value as Record<string, unknown>;
  const count = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  const time = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));
  if (!count(r.pending) || !count(r.deliveredTotal) || !count(r.deadLettered) || !time(r.updatedAt)) return undefined;
  if (r.oldestPendingSince !== undefined && !time(r.oldestPendingSince)) return undefined;
  if (r.oldestDeadLetterAt !== undefined && !time(r.oldestDeadLetterAt)) return undefined;
  if (
    r.lastFailureReason !== undefined &&
    (typeof r.lastFailureReason !== 'string' || !/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(r.lastFailureReason))
  )
    return undefined;
  return {
    pending: r.pending as number,
    ...(r.oldestPendingSince ? { oldestPendingSince: r.oldestPendingSince as string } : {}),
    deliveredTotal: r.deliveredTotal as number,
    deadLettered: r.deadLettered as number,
    ...(r.oldestDeadLetterAt ? { oldestDeadLetterAt: r.oldestDeadLetterAt as string } : {}),
    ...(r.lastFailureReason ? { lastFailureReason: r.lastFailureReason as string } : {}),
    updatedAt: r.updatedAt as string,
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The fields whose change is worth a status write (updatedAt alone is not). */
function meaningful(s: RelayStatus | undefined): string {
  if (!s) return '';
  return JSON.stringify([s.pending, s.oldestPendingTime, s.oldestPendingAge, s.deliveredTotal, s.deadLettered, s.lastFailureReason]);
}

function condition(status: ConditionInput['status'], reason: string, message: string): ConditionInput {
  return { type: DELIVERING, status, reason, message };
}

export function decideRelayStatus(input: RelayDecisionInput): RelayDecision {
  const { previous, observation } = input;
  const keep = previous && Object.keys(previous).length > 0 ? previous : undefined;
  if (input.deployment === 'notConfigured' || input.deployment === 'siteNotReady') {
    return { delivering: notDeployed(input.deployment, input.siteName), relay: keep, newlyDeadLettered: 0 };
  }
  const figures = observation?.kind === 'record' ? relayFigures(observation.record, previous, input.now) : undefined;
  return {
    delivering: delivering(input.deployment, observation, input.thresholds, input.now),
    relay: figures ? figures.relay : keep,
    newlyDeadLettered: figures ? figures.newlyDeadLettered : 0,
  };
}

function notDeployed(deployment: 'notConfigured' | 'siteNotReady', siteName: string | undefined): ConditionInput {
  if (deployment === 'notConfigured') {
    return condition(
      'Unknown',
      'RelayNotConfigured',
      'The operator has no NATS URL (NATS_URL): no relay is deployed and EMR-bound messages from Ocean are not received',
    );
  }
  return condition(
    'Unknown',
    'SiteNotReady',
    `OceanSite ${siteName ?? ''} does not exist or has no Shared Encryption Key yet: the relay is deployed once it has`,
  );
}

/** status.relay from a record, and how many messages were dead-lettered since `previous`. */
function relayFigures(
  r: RelayStatusRecord,
  previous: RelayStatus | undefined,
  now: Date,
): { relay: RelayStatus; newlyDeadLettered: number } {
  const fresh: RelayStatus = {
    pending: r.pending,
    ...(r.pending > 0 && r.oldestPendingSince
      ? { oldestPendingTime: r.oldestPendingSince, oldestPendingAge: coarseAge(now.getTime() - Date.parse(r.oldestPendingSince)) }
      : {}),
    deliveredTotal: r.deliveredTotal,
    deadLettered: r.deadLettered,
    ...(r.lastFailureReason ? { lastFailureReason: r.lastFailureReason } : {}),
  };
  // updatedAt follows the record only when something worth reading changed, so an idle relay costs no write.
  const updatedAt = meaningful(fresh) === meaningful(previous) && previous?.updatedAt ? previous.updatedAt : r.updatedAt;
  const relay: RelayStatus = {
    ...fresh,
    updatedAt,
    ...(previous?.lastHandledReplayAt ? { lastHandledReplayAt: previous.lastHandledReplayAt } : {}),
    ...(previous?.lastReplayedCount !== undefined ? { lastReplayedCount: previous.lastReplayedCount } : {}),
  };
  return { relay, newlyDeadLettered: Math.max(0, r.deadLettered - (previous?.deadLettered ?? 0)) };
}

function delivering(
  deployment: 'deployed' | 'suspended',
  observation: RelayObservation | undefined,
  thresholds: RelayThresholds,
  now: Date,
): ConditionInput {
  if (deployment === 'suspended') {
    return condition(
      'False',
      'Suspended',
      'spec.suspend is true: the relay is scaled to 0; Ocean keeps EMR-bound messages and retries them',
    );
  }
  if (!observation || observation.kind === 'missing') {
    return condition('Unknown', 'RelayNotReporting', 'The relay has not reported its status yet');
  }
  if (observation.kind === 'unreachable') {
    return condition('Unknown', 'QueueUnreachable', `The operator cannot read the relay status from NATS: ${observation.message}`);
  }
  return fromRecord(observation.record, thresholds, now);
}

/** Delivering from a record the relay wrote. */
function fromRecord(r: RelayStatusRecord, thresholds: RelayThresholds, now: Date): ConditionInput {
  const age = now.getTime() - Date.parse(r.updatedAt);
  if (age > thresholds.staleAfterMs) {
    return condition(
      'Unknown',
      'RelayNotReporting',
      `The relay has not reported since ${r.updatedAt} (more than ${coarseAge(thresholds.staleAfterMs)}): it is not running or cannot reach NATS`,
    );
  }
  const waitingFor = r.pending > 0 && r.oldestPendingSince ? now.getTime() - Date.parse(r.oldestPendingSince) : 0;
  const waiting = `${plural(r.pending, 'message')} pending${waitingFor > 0 ? `, the oldest for ${coarseAge(waitingFor)}` : ''}`;
  if (r.deadLettered > 0) {
    return condition(
      'False',
      'DeadLettered',
      `${plural(r.deadLettered, 'message')} could not be delivered and wait in the dead-letter subject${r.lastFailureReason ? ` (last failure: ${r.lastFailureReason})` : ''}; ${waiting}. Fix the cause, then set the annotation ${REPLAY_REQUESTED_AT_ANNOTATION} to a new value to replay them`,
    );
  }
  if (r.pending > 0 && r.lastFailureReason) {
    const reason = r.lastFailureReason === 'EmrUnreachable' ? 'EmrUnreachable' : 'DeliveryFailing';
    return condition(
      'False',
      reason,
      `Deliveries to the EMR fail (${r.lastFailureReason}): ${waiting}; they are retried on Ocean's schedule (within the first hour, then hourly up to 96 hours)`,
    );
  }
  if (r.pending >= thresholds.backlogMessages || waitingFor >= thresholds.backlogAgeMs) {
    return condition(
      'False',
      'Backlogged',
      `${waiting} (thresholds: ${thresholds.backlogMessages} messages or ${coarseAge(thresholds.backlogAgeMs)})`,
    );
  }
  return condition('True', 'Delivered', `EMR-bound messages are delivered: ${r.deliveredTotal} in total, ${waiting}`);
}
