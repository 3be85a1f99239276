// Pure: the OceanAuthenticated condition of an OceanSite from the last check of its Ocean client
// (spec.ocean.credentialsSecretRef) and the clock, with the EmrIntegration's conventions: checked
// on a jittered interval, sooner after a failure (1 min doubling, capped at the interval); when
// Ocean reports an expiry of the client secret, reason ExpiresSoon from notAfter − renewBefore and
// Expired at notAfter, without another call to Ocean. Not part of Ready: the SEK is the site's
// readiness; an Ocean outage must not stop its EMR integrations' checks and relays.
import type { OceanFailureReason } from '../../internal/ocean/site-credentials.ts';
import { backoffDelay, jittered } from '../../runtime/backoff.ts';
import type { Condition, ConditionInput } from '../../runtime/conditions.ts';
import { findCondition } from '../../runtime/conditions.ts';

const OCEAN_AUTHENTICATED = 'OceanAuthenticated';

/** Why a check failed: the Secret's own problems, or what Ocean's answer (or its absence) said. */
export type OceanAuthFailure = 'SecretNotFound' | 'MissingKeys' | OceanFailureReason;

export type OceanCheck = { ok: true; at: Date; notAfter?: Date } | { ok: false; at: Date; reason: OceanAuthFailure; message: string };

export interface OceanStatus {
  lastCheckTime?: string;
  notAfter?: string;
  renewalTime?: string;
}

export interface OceanAuthDecision {
  condition: ConditionInput;
  status: OceanStatus | undefined;
  /** When to check against Ocean again; undefined when nothing is configured. */
  nextCheckAt: Date | undefined;
}

export interface OceanAuthInput {
  /** Undefined: spec.ocean.credentialsSecretRef is not set. */
  check: OceanCheck | undefined;
  /** Consecutive failed checks, this one included. */
  failures: number;
  now: Date;
  checkIntervalMs: number;
  renewBeforeMs: number;
  /** In [0,1): spreads the checks of many sites. */
  random: number;
}

const FAILURE_BACKOFF = { baseMs: 60_000, capMs: 3600_000 };

const NOT_CONFIGURED: ConditionInput = {
  type: OCEAN_AUTHENTICATED,
  status: 'Unknown',
  reason: 'NotConfigured',
  message:
    'spec.ocean.credentialsSecretRef is not set: sync workers use the keys oceanClientId and oceanClientSecret of each EmrIntegration credentials Secret (deprecated) and no relay webhook is registered with Ocean',
};

export function decideOceanAuth(input: OceanAuthInput): OceanAuthDecision {
  const { check, now } = input;
  if (!check) return { condition: NOT_CONFIGURED, status: undefined, nextCheckAt: undefined };
  const status: OceanStatus = { lastCheckTime: check.at.toISOString() };
  if (!check.ok) {
    const retry = Math.min(backoffDelay(input.failures, FAILURE_BACKOFF), input.checkIntervalMs);
    return {
      condition: { type: OCEAN_AUTHENTICATED, status: 'False', reason: check.reason, message: check.message },
      status,
      nextCheckAt: new Date(check.at.getTime() + retry),
    };
  }
  let next = new Date(check.at.getTime() + jittered(input.checkIntervalMs, 0.1, input.random));
  if (!check.notAfter) {
    return { condition: authenticated('Ocean accepted the client'), status, nextCheckAt: next };
  }
  const renewal = new Date(check.notAfter.getTime() - input.renewBeforeMs);
  status.notAfter = check.notAfter.toISOString();
  status.renewalTime = renewal.toISOString();
  // Come back when the warning starts and at expiry, not only on the interval.
  for (const t of [renewal, check.notAfter]) if (t > now && t < next) next = t;
  if (now >= check.notAfter) {
    const message = `The Ocean client secret expired at ${status.notAfter}: generate a new one in the Ocean Portal and update the Secret`;
    return { condition: { type: OCEAN_AUTHENTICATED, status: 'False', reason: 'Expired', message }, status, nextCheckAt: next };
  }
  if (now >= renewal) {
    const message = `The Ocean client secret expires at ${status.notAfter}: generate a new one in the Ocean Portal and update the Secret before then`;
    return { condition: { type: OCEAN_AUTHENTICATED, status: 'True', reason: 'ExpiresSoon', message }, status, nextCheckAt: next };
  }
  return { condition: authenticated(`Ocean accepted the client; its secret expires at ${status.notAfter}`), status, nextCheckAt: next };
}

function authenticated(message: string): ConditionInput {
  return { type: OCEAN_AUTHENTICATED, status: 'True', reason: 'Authenticated', message };
}

/** What a check saw; a change of any of it makes the next check due at once. */
export interface OceanSeen {
  secretName: string | undefined;
  secretVersion: string | undefined;
  generation: number | undefined;
  requestedAt: string | undefined;
}

/** Pure: whether to call Ocean now rather than re-read the last check against the clock. */
export function oceanCheckDue(last: (OceanSeen & { nextCheckAt: Date | undefined }) | undefined, seen: OceanSeen, now: Date): boolean {
  return (
    !last ||
    last.secretName !== seen.secretName ||
    last.secretVersion !== seen.secretVersion ||
    last.generation !== seen.generation ||
    last.requestedAt !== seen.requestedAt ||
    (last.nextCheckAt !== undefined && now >= last.nextCheckAt)
  );
}

export interface OceanNotice {
  reason: 'OceanAuthenticationFailed' | 'OceanCredentialsExpiringSoon';
  subject: string;
  text: string;
}

/** Pure: the Event and e-mail owed for how OceanAuthenticated changed: one per new failure reason, one when expiry nears. */
export function oceanAuthNotice(before: readonly Condition[] | undefined, now: ConditionInput): OceanNotice | undefined {
  const was = findCondition(before, OCEAN_AUTHENTICATED);
  const changed = was?.status !== now.status || was.reason !== now.reason;
  if (!changed) return undefined;
  if (now.status === 'False') {
    return {
      reason: 'OceanAuthenticationFailed',
      subject: 'Ocean credentials are not working',
      text: `Ocean authentication failed (${now.reason}): ${now.message}`,
    };
  }
  if (now.reason === 'ExpiresSoon')
    return { reason: 'OceanCredentialsExpiringSoon', subject: 'Ocean credentials expire soon', text: now.message };
  return undefined;
}
