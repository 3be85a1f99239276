// When a failed EMR delivery is tried again, after Ocean's own published webhook retry schedule:
// several attempts in the first hour, then hourly, up to 96 hours after receipt.
// Pure: every decision is a function of when the message was received, the (injected) time now and
// what kind of failure it was, never of how many attempts a process happens to remember, so a
// relay that was killed and restarted keeps the same schedule.
import { EmrError, type EmrErrorReason } from '../../internal/emr/adapter.ts';
import type { EgressReason } from '../../internal/httpx/remote-error.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Attempts in the first hour, in minutes after receipt (the first attempt is at receipt). */
const FIRST_HOUR_MINUTES = [1, 5, 10, 20, 30, 45, 60] as const;
/** Then one attempt an hour up to this many hours after receipt; past it the message is dead-lettered. */
const LAST_ATTEMPT_HOURS = 96;

/** Retry offsets after receipt, in ms: 1, 5, 10, 20, 30, 45, 60 min, then 2 h, 3 h … 96 h. */
export const RETRY_OFFSETS_MS: readonly number[] = [
  ...FIRST_HOUR_MINUTES.map((m) => m * MINUTE),
  ...Array.from({ length: LAST_ATTEMPT_HOURS - 1 }, (_, i) => (i + 2) * HOUR),
];

/**
 * - transient: the EMR is down, rate-limits, or refuses our credentials (an administrator fixes
 *   those, and every message would fail alike): the whole 96-hour schedule.
 * - permanent: the EMR understood and refused this message (NotFound, InvalidResponse, a 4xx other
 *   than 429): only the first hour's attempts (a chart may be merged or created meanwhile), then
 *   dead-letter, so a bad message does not sit in the queue for four days.
 * - fatal: no attempt can ever succeed (the message does not decrypt or is not a message we know):
 *   dead-letter at once.
 */
export type FailureKind = 'transient' | 'permanent' | 'fatal';

/** Only the first hour's attempts for a permanent failure. */
const PERMANENT_LAST_OFFSET_MS = 60 * MINUTE;

export type RetryDecision = { action: 'retry'; delayMs: number; attemptAt: Date } | { action: 'deadLetter' };

export interface RetryInput {
  receivedAt: Date;
  now: Date;
  failure: FailureKind;
  /** The EMR's Retry-After, when it gave one: the next attempt is never earlier. */
  retryAfterMs?: number;
}

export function decideRetry(input: RetryInput): RetryDecision {
  if (input.failure === 'fatal') return { action: 'deadLetter' };
  const elapsed = input.now.getTime() - input.receivedAt.getTime();
  const last = input.failure === 'permanent' ? PERMANENT_LAST_OFFSET_MS : LAST_ATTEMPT_HOURS * HOUR;
  const next = RETRY_OFFSETS_MS.find((offset) => offset > elapsed && offset <= last);
  if (next === undefined) return { action: 'deadLetter' };
  const delayMs = Math.max(next - elapsed, input.retryAfterMs ?? 0);
  return { action: 'retry', delayMs, attemptAt: new Date(input.now.getTime() + delayMs) };
}

/** Reasons that are not the EMR's: the SEK could not be read, the message is unusable, the adapter lacks the call. */
export type RelayFailureReason =
  | EmrErrorReason
  | EgressReason
  | 'SekUnavailable'
  | 'UndecryptableMessage'
  | 'InvalidMessage'
  | 'Unsupported'
  | 'AttachmentsImportDisabled'
  | 'DeliveryRecordUnavailable'
  | 'WalkInDisabled'
  | 'InternalError';

const KIND_OF: Record<RelayFailureReason, FailureKind> = {
  EmrUnreachable: 'transient',
  RateLimited: 'transient',
  InvalidCredentials: 'transient',
  Expired: 'transient',
  Deauthorized: 'transient',
  SekUnavailable: 'transient',
  // The delivery record (NATS KV) could not be read or written, or another delivery of the message holds it.
  DeliveryRecordUnavailable: 'transient',
  InternalError: 'transient',
  NotFound: 'permanent',
  InvalidResponse: 'permanent',
  // The egress sandbox: a refused address or a slow endpoint may be fixed by configuration, so the
  // message waits; an answer past the size cap would be again.
  EndpointNotAllowed: 'transient',
  EndpointTimeout: 'transient',
  ResponseTooLarge: 'permanent',
  // The EMR refuses a body this large (413): every retry would be refused too; dead-lettered at once.
  DocumentTooLarge: 'fatal',
  UndecryptableMessage: 'fatal',
  InvalidMessage: 'fatal',
  Unsupported: 'fatal',
  // Held, not failed: automatic import is off. Dead-lettered at once, replayed once it is turned on.
  AttachmentsImportDisabled: 'fatal',
  // A walk-in check-in while walk-ins are disabled: no retry can succeed until the setting changes;
  // dead-lettered at once (replayable once walk-ins are enabled), not retried for an hour.
  WalkInDisabled: 'fatal',
};

export function failureKind(reason: RelayFailureReason): FailureKind {
  return KIND_OF[reason];
}

/** A failure of the relay's own making, with its reason. */
export class RelayError extends Error {
  readonly reason: RelayFailureReason;
  constructor(reason: RelayFailureReason, message: string) {
    super(message);
    this.name = 'RelayError';
    this.reason = reason;
  }
}

export function failureReason(error: unknown): RelayFailureReason {
  if (error instanceof EmrError) return error.egress ?? error.reason;
  if (error instanceof RelayError) return error.reason;
  return 'InternalError';
}
