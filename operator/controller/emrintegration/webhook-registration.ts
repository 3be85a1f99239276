// Pure: what to do with the relay webhook's registration in Ocean (seed 001, "Register an
// Integration"), from what the spec wants (spec.webhook.publicUrl, the key header, the key's
// version) and what the operator last registered (status.webhook.registration, or its own memory
// when the cache lags its status write): register, update (URL, header or key changed: a key
// rotation re-registers at once, the previous key still being accepted for the grace period),
// verify (once an interval, or at a new requestedAt, that Ocean still has it), deregister (the URL was removed or the
// integration is being deleted), or nothing.
import type { EmrIntegrationStatus } from '../../api/v1alpha1/index.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';

export const WEBHOOK_REGISTERED = 'WebhookRegistered';
/** How often the operator checks that Ocean still has the registration it made. */
const WEBHOOK_VERIFY_INTERVAL_MS = 3600_000;

export type Recorded = NonNullable<NonNullable<EmrIntegrationStatus['webhook']>['registration']>;

export interface DesiredRegistration {
  url: string;
  keyHeader: string;
  keyVersion: number;
}

export type RegistrationAction =
  | { kind: 'nothing' }
  | { kind: 'register' }
  | { kind: 'update'; id: string }
  | { kind: 'verify'; id: string }
  | { kind: 'deregister'; id: string };

export interface RegistrationInput {
  desired: DesiredRegistration | undefined;
  recorded: Recorded | undefined;
  deleting: boolean;
  now: Date;
  /** A new cloudconnect.dev/requestedAt: verify now rather than at the interval. */
  verifyNow?: boolean;
  verifyIntervalMs?: number;
}

export function decideRegistration(input: RegistrationInput): RegistrationAction {
  const { desired, recorded, now } = input;
  if (input.deleting || !desired) return recorded ? { kind: 'deregister', id: recorded.id } : { kind: 'nothing' };
  if (!recorded) return { kind: 'register' };
  if (recorded.url !== desired.url || recorded.keyHeader !== desired.keyHeader || recorded.keyVersion !== desired.keyVersion) {
    return { kind: 'update', id: recorded.id };
  }
  const verified = recorded.lastVerified ? Date.parse(recorded.lastVerified) : Number.NaN;
  const interval = input.verifyIntervalMs ?? WEBHOOK_VERIFY_INTERVAL_MS;
  if (input.verifyNow || Number.isNaN(verified) || now.getTime() - verified >= interval) return { kind: 'verify', id: recorded.id };
  return { kind: 'nothing' };
}

/** Pure: how long until the registration needs a look again (undefined: nothing registered). */
export function untilVerify(recorded: Recorded | undefined, now: Date, verifyIntervalMs = WEBHOOK_VERIFY_INTERVAL_MS): number | undefined {
  if (!recorded?.lastVerified) return undefined;
  return Math.max(1000, Date.parse(recorded.lastVerified) + verifyIntervalMs - now.getTime());
}

/** Pure: the condition once the registration is as wanted. */
export function registeredCondition(recorded: Recorded): ConditionInput {
  return {
    type: WEBHOOK_REGISTERED,
    status: 'True',
    reason: 'Registered',
    message: `Ocean sends EMR-bound messages and copies of new referrals to ${recorded.url} with the webhook key version ${recorded.keyVersion} in header ${recorded.keyHeader ?? ''} (Ocean integration ${recorded.id})`,
  };
}

export const NOT_REQUESTED: ConditionInput = {
  type: WEBHOOK_REGISTERED,
  status: 'Unknown',
  reason: 'NotRequested',
  message:
    "spec.webhook.publicUrl is not set: nothing is registered with Ocean; enter the relay's URL and key in the Ocean Portal (Menu > Admin > Integrations) yourself",
};

export function notRegistered(reason: string, message: string): ConditionInput {
  return { type: WEBHOOK_REGISTERED, status: 'False', reason, message };
}

/** Pure: the integration name shown in the Ocean Portal (at most 100 characters). */
export function registrationName(namespace: string, name: string): string {
  return `Cloud Connect ${namespace}/${name}`.slice(0, 100);
}
