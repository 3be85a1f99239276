// Pure: authentication state of an EmrIntegration from the last check and the clock, with
// cert-manager's expiry conventions: renewalTime = notAfter − renewBefore (default a third of the
// credential's lifetime), AuthExpiringSoon from renewalTime until renewed, Expired at notAfter.

import type { EmrErrorReason } from '../../internal/emr/adapter.ts';
import type { EgressReason } from '../../internal/httpx/remote-error.ts';
import { backoffDelay, jittered } from '../../runtime/backoff.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';

export type AuthFailureReason =
  | 'InvalidCredentials'
  | 'Expired'
  | 'Deauthorized'
  | 'EmrUnreachable'
  | 'SecretNotFound'
  | 'SiteNotReady'
  // The egress sandbox stopped the call (internal/httpx/remote-error.ts, EgressReason).
  | EgressReason;

export type AuthCheck =
  | { ok: true; at: Date; notAfter?: Date; notBefore?: Date }
  | { ok: false; at: Date; reason: AuthFailureReason; message: string };

export interface AuthStatus {
  notAfter?: string;
  renewalTime?: string;
  lastCheckTime?: string;
  lastFailureTime?: string;
  failedAttempts?: number;
}

export interface AuthDecision {
  auth: AuthStatus;
  authenticated: ConditionInput;
  expiringSoon: ConditionInput;
  /** When the next check is due. */
  nextCheckAt: Date;
}

/** When the lifetime is unknown (no notBefore), warn this long before expiry. */
const DEFAULT_RENEW_BEFORE_MS = 72 * 3600_000;
const FAILURE_BACKOFF = { baseMs: 60_000, capMs: 3600_000 };

export function mapEmrError(reason: EmrErrorReason): AuthFailureReason {
  switch (reason) {
    case 'InvalidCredentials':
    case 'Expired':
    case 'Deauthorized':
      return reason;
    default:
      return 'EmrUnreachable';
  }
}

export function renewalTime(notAfter: Date, notBefore: Date | undefined, renewBeforeMs: number | undefined): Date {
  const before = renewBeforeMs ?? (notBefore ? (notAfter.getTime() - notBefore.getTime()) / 3 : DEFAULT_RENEW_BEFORE_MS);
  return new Date(notAfter.getTime() - before);
}

export interface AuthDecisionInput {
  check: AuthCheck;
  previous: AuthStatus | undefined;
  now: Date;
  checkIntervalMs: number;
  renewBeforeMs?: number;
  /** In [0,1): spreads checks of many integrations. */
  random: number;
  /**
   * The command a person runs to authorize again (OSCAR Pro: `kubectl cloudconnect authorize …`): an
   * OAuth 1.0a access token has no refresh, so a revoked, expired or missing one is theirs to replace.
   */
  reauthorizeCommand?: string;
}

export function decideAuth(input: AuthDecisionInput): AuthDecision {
  const { check, now } = input;
  const previous = input.previous ?? {};
  const interval = new Date(now.getTime() + jittered(input.checkIntervalMs, 0.1, input.random));
  const outcome = check.ok ? succeeded(check, previous, input, interval) : failed(check, previous, input);
  const authenticated = withReauthorizeHint(outcome.authenticated, input.reauthorizeCommand);
  return {
    auth: outcome.auth,
    authenticated,
    expiringSoon: expiringSoon(outcome.auth, authenticated, now),
    nextCheckAt: outcome.nextCheckAt,
  };
}

/** The Secret still lacks the access token or its secret (the authorization never ran). */
const LACKS_TOKEN = /lacks the key\(s\) .*\b(accessToken|tokenSecret)\b/;

/** Pure: a failed Authenticated whose cure is a new authorization names the command that does it. */
export function withReauthorizeHint(authenticated: ConditionInput, command: string | undefined): ConditionInput {
  if (!command || authenticated.status !== 'False') return authenticated;
  const { reason, message } = authenticated;
  const needsPerson = reason === 'Deauthorized' || reason === 'Expired' || (reason === 'InvalidCredentials' && LACKS_TOKEN.test(message));
  if (!needsPerson) return authenticated;
  return { ...authenticated, message: `${message}; to authorize again, run: ${command}` };
}

type Outcome = Omit<AuthDecision, 'expiringSoon'>;

function succeeded(check: Extract<AuthCheck, { ok: true }>, previous: AuthStatus, input: AuthDecisionInput, interval: Date): Outcome {
  const { now } = input;
  const auth: AuthStatus = { lastCheckTime: check.at.toISOString(), failedAttempts: 0 };
  if (previous.lastFailureTime) auth.lastFailureTime = previous.lastFailureTime;
  let next = interval;
  if (check.notAfter) {
    auth.notAfter = check.notAfter.toISOString();
    const renew = renewalTime(check.notAfter, check.notBefore, input.renewBeforeMs);
    auth.renewalTime = renew.toISOString();
    // Look again when the warning starts and at expiry, not only on the interval.
    for (const t of [renew, check.notAfter]) if (t.getTime() > now.getTime() && t < next) next = t;
  }
  if (check.notAfter && check.notAfter.getTime() <= now.getTime()) {
    const message = `The EMR credential expired at ${auth.notAfter}`;
    return { auth, authenticated: { type: 'Authenticated', status: 'False', reason: 'Expired', message }, nextCheckAt: next };
  }
  const authenticated: ConditionInput = {
    type: 'Authenticated',
    status: 'True',
    reason: 'Authenticated',
    message: 'The EMR accepted the credentials',
  };
  return { auth, authenticated, nextCheckAt: next };
}

function failed(check: Extract<AuthCheck, { ok: false }>, previous: AuthStatus, input: AuthDecisionInput): Outcome {
  const failures = (previous.failedAttempts ?? 0) + 1;
  const auth: AuthStatus = { lastCheckTime: check.at.toISOString(), failedAttempts: failures, lastFailureTime: check.at.toISOString() };
  if (previous.notAfter) auth.notAfter = previous.notAfter;
  if (previous.renewalTime) auth.renewalTime = previous.renewalTime;
  // A person must act for these; a dead EMR is not hammered either: 1 min doubling, capped.
  const retry = backoffDelay(failures, FAILURE_BACKOFF);
  return {
    auth,
    authenticated: { type: 'Authenticated', status: 'False', reason: check.reason, message: check.message },
    nextCheckAt: new Date(input.now.getTime() + Math.min(retry, input.checkIntervalMs)),
  };
}

function expiringSoon(auth: AuthStatus, authenticated: ConditionInput, now: Date): ConditionInput {
  const notAfter = auth.notAfter ? new Date(auth.notAfter) : undefined;
  const renewal = auth.renewalTime ? new Date(auth.renewalTime) : undefined;
  const expiring = authenticated.status === 'True' && notAfter !== undefined && renewal !== undefined && now >= renewal && now < notAfter;
  if (expiring) {
    return {
      type: 'AuthExpiringSoon',
      status: 'True',
      reason: 'RenewalTimeReached',
      message: `The EMR credential expires at ${auth.notAfter}; renew it before then (edit the credentials Secret)`,
    };
  }
  return {
    type: 'AuthExpiringSoon',
    status: 'False',
    reason: notAfter ? 'NotYetDue' : 'NoExpiry',
    message: notAfter ? `Expires at ${auth.notAfter}` : 'The EMR did not report an expiry',
  };
}
