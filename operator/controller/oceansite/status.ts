// The status step: what the steps found becomes status.encryptionKey, the ServiceAccount, support
// access and the KeyStored and Ready conditions; a failed step becomes conditions (Stalled for a
// spec that cannot work, KeyStored Unknown while Vault is unavailable, PermissionDenied when the
// API server refuses the operator). Status is written only when it changed (Kube.applyStatus).
import { OCEAN_SITE, type OceanSite, type OceanSiteStatus } from '../../api/v1alpha1/index.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import type { KeyLocation, SupportDecision } from '../../internal/sek/identity.ts';
import { VaultUnavailableError } from '../../internal/vault/client.ts';
import type { Clock } from '../../runtime/clock.ts';
import { type ConditionInput, setConditions, summarizeReady } from '../../runtime/conditions.ts';
import { safeMessage, statusCodeOf, TerminalError, TransientError } from '../../runtime/errors.ts';
import type { KeyState } from './key-state.ts';

export interface ReadyStatusInput {
  previous: OceanSiteStatus;
  generation: number | undefined;
  key: KeyState;
  serviceAccount: string;
  integrations: number;
  support: SupportDecision;
  requestedAt: string | undefined;
}

/** Pure: KeyStored True, once the key and the identity that reads it are in place. */
export function keyStoredCondition(key: KeyState, location: KeyLocation): ConditionInput {
  return {
    type: 'KeyStored',
    status: 'True',
    reason: 'Stored',
    message: `SEK version ${key.version} is in Vault at ${location.mount}/${location.path}`,
  };
}

/** Pure: Ready after all steps succeeded, summarising the conditions so far. */
export function readyCondition(conditions: readonly ConditionInput[]): ConditionInput {
  return summarizeReady(conditions, undefined, { reason: 'Succeeded', message: 'SEK stored in Vault; site identity in place' });
}

/** Pure: the status after all steps succeeded, without its conditions. */
export function readyStatus(input: ReadyStatusInput): OceanSiteStatus {
  const status: OceanSiteStatus = {
    ...input.previous,
    observedGeneration: input.generation,
    encryptionKey: { ...input.key },
    serviceAccountName: input.serviceAccount,
    integrations: input.integrations,
    supportAccess: input.support.active.map((s) => ({ name: s.name, ...(s.expiresAt ? { expiresAt: s.expiresAt } : {}), active: true })),
    ...(input.requestedAt ? { lastHandledRequestedAt: input.requestedAt } : {}),
  };
  if (status.supportAccess?.length === 0) delete status.supportAccess;
  return status;
}

/**
 * Pure: the status after a failed step, without its conditions: what was known before stays, but
 * not a key recorded at another place than the site's own (it may be another clinic's).
 */
export function failedStatus(
  previous: OceanSiteStatus,
  generation: number | undefined,
  integrations: number,
  location: KeyLocation,
): OceanSiteStatus {
  const status: OceanSiteStatus = { ...previous, observedGeneration: generation, integrations };
  const known = previous.encryptionKey;
  if (known && (known.mount !== location.mount || known.path !== location.path)) delete status.encryptionKey;
  return status;
}

/** Pure: when to reconcile again: at the next support expiry (at least 1 s away), at the latest at the key recheck. */
export function requeueAfter(nextExpiry: Date | undefined, recheckMs: number, now: Date): number {
  const untilExpiry = nextExpiry ? Math.max(1000, nextExpiry.getTime() - now.getTime()) : undefined;
  return Math.min(untilExpiry ?? recheckMs, recheckMs);
}

export interface Failure {
  /** Conditions to add to those the steps had set before they failed. */
  conditions: ConditionInput[];
  /** The error to return for a retry with backoff; undefined: return the failure itself. */
  retry: Error | undefined;
}

/**
 * Pure: the conditions of a failed step, given the conditions set before it failed. Undefined for
 * an error of no known kind: it is returned as it is and no status is written.
 */
export function decideFailure(before: readonly ConditionInput[], error: unknown): Failure | undefined {
  if (error instanceof TerminalError) {
    const stalled: ConditionInput = { type: 'Stalled', status: 'True', reason: error.reason, message: error.message };
    return {
      conditions: [
        stalled,
        { type: 'KeyStored', status: 'False', reason: error.reason, message: error.message },
        summarizeReady([], stalled, { reason: '', message: '' }),
      ],
      retry: undefined,
    };
  }
  if (error instanceof TransientError) {
    // Vault unavailable (reason VaultUnavailable): whether the key is stored is unknown; any other transient failure: it is not.
    const status = error instanceof VaultUnavailableError ? 'Unknown' : 'False';
    const keyStored: ConditionInput = { type: 'KeyStored', status, reason: error.reason, message: error.message };
    return { conditions: [keyStored, summarizeReady([...before, keyStored], undefined, { reason: '', message: '' })], retry: error };
  }
  if (statusCodeOf(error) === 403) {
    // The operator's own RBAC lacks a verb (e.g. support-site RoleBindings): say so on the site, retry with backoff.
    const message = `the API server refused an operator request; check the operator's RBAC: ${safeMessage(error)}`;
    return {
      conditions: [{ type: 'Ready', status: 'False', reason: 'PermissionDenied', message }],
      retry: new TransientError('PermissionDenied', message),
    };
  }
  return undefined;
}

export class StatusWriter {
  private readonly kube: Kube;
  private readonly clock: Clock;

  constructor(kube: Kube, clock: Clock) {
    this.kube = kube;
    this.clock = clock;
  }

  /** Sets the conditions on `status` (transition times kept) and writes it when it changed. */
  async write(site: OceanSite, previous: OceanSiteStatus, status: OceanSiteStatus, conditions: readonly ConditionInput[]): Promise<void> {
    status.conditions = setConditions(previous.conditions, conditions, site.metadata.generation, this.clock);
    await this.kube.applyStatus(OCEAN_SITE, site, status);
  }
}
