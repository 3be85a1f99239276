// The last stage of every reconcile, after the steps (also after one that stopped): Ready summarised
// from the parts the steps gave it, the status built from what they found, and written only when
// it differs from the live status (Kube.applyStatus), then the requeue from the steps' hints.
import { EMR_INTEGRATION, type EmrIntegrationStatus } from '../../api/v1alpha1/index.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import type { Clock } from '../../runtime/clock.ts';
import { type ConditionInput, setConditions, summarizeReady } from '../../runtime/conditions.ts';
import type { ReconcileResult } from '../../runtime/controller.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { EmrRun } from './step.ts';

/** Pure: the steps' conditions and Ready. */
export function conditionsOf(run: Pick<EmrRun, 'conditions' | 'readyParts' | 'ready'>): ConditionInput[] {
  return [...run.conditions, summarizeReady(run.readyParts, undefined, run.ready)];
}

/** Pure: the status fields the steps found, conditions aside (none when the reconcile stopped before authenticating). */
export function statusFields(run: Pick<EmrRun, 'auth' | 'providers' | 'sync' | 'relay' | 'webhook'>): Partial<EmrIntegrationStatus> {
  return {
    ...(run.auth ? { auth: run.auth.auth } : {}),
    ...(run.providers ? { providers: run.providers } : {}),
    ...(run.sync ? { sync: run.sync } : {}),
    ...(run.relay ? { relay: run.relay } : {}),
    ...(run.webhook ? { webhook: run.webhook } : {}),
  };
}

/** Pure: the new status; fields no step set keep their value, conditions keep their transition times. */
export function nextStatus(
  previous: EmrIntegrationStatus,
  update: { conditions: readonly ConditionInput[]; fields: Partial<EmrIntegrationStatus>; requestedAt: string | undefined },
  generation: number | undefined,
  clock: Clock,
): EmrIntegrationStatus {
  return {
    ...previous,
    ...update.fields,
    observedGeneration: generation,
    conditions: setConditions(previous.conditions, update.conditions, generation, clock),
    ...(update.requestedAt ? { lastHandledRequestedAt: update.requestedAt } : {}),
  };
}

/** Pure: requeue after the shortest hint, never sooner than a second; no requeue without hints. */
export function requeueOf(hints: readonly number[]): ReconcileResult {
  if (hints.length === 0) return {};
  return { requeueAfterMs: Math.max(1000, Math.min(...hints)) };
}

export async function patchStatus(deps: { kube: Kube; logger: Logger; clock: Clock }, run: EmrRun): Promise<void> {
  const { integration } = run;
  const update = { conditions: conditionsOf(run), fields: statusFields(run), requestedAt: run.requestedAt };
  const status = nextStatus(run.previous, update, integration.metadata.generation, deps.clock);
  if (await deps.kube.applyStatus(EMR_INTEGRATION, integration, status)) {
    deps.logger.debug('status written', { integration: `${integration.metadata.namespace}/${integration.metadata.name}` });
  }
}
