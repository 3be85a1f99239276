// The one place that writes conditions. Keeps lastTransitionTime when the status does not change,
// stamps observedGeneration, drops Reconciling/Stalled when they are not True, and summarises Ready
// (Flux/kstatus conventions; cert-manager's transition-time rule).
import type { Clock } from './clock.ts';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** Condition types that exist only while True (Flux's abnormal-true polarity). */
const ONLY_WHILE_TRUE = new Set(['Reconciling', 'Stalled']);

export function setConditions(
  previous: readonly Condition[] | undefined,
  desired: readonly ConditionInput[],
  generation: number | undefined,
  clock: Clock,
): Condition[] {
  const now = clock.now().toISOString();
  const byType = new Map((previous ?? []).map((c) => [c.type, c]));
  const result: Condition[] = [];
  const seen = new Set<string>();
  for (const d of desired) {
    seen.add(d.type);
    if (ONLY_WHILE_TRUE.has(d.type) && d.status !== 'True') continue;
    const old = byType.get(d.type);
    result.push({
      type: d.type,
      status: d.status,
      reason: d.reason,
      message: d.message.slice(0, 32768),
      ...(generation === undefined ? {} : { observedGeneration: generation }),
      lastTransitionTime: old && old.status === d.status ? old.lastTransitionTime : now,
    });
  }
  // Conditions not mentioned keep their value, except the only-while-true ones.
  for (const old of previous ?? []) {
    if (!seen.has(old.type) && !ONLY_WHILE_TRUE.has(old.type)) result.push(old);
  }
  return result.sort((a, b) => order(a.type) - order(b.type) || a.type.localeCompare(b.type));
}

/** Ready first, then Stalled, then Reconciling, then the rest (by name, in the caller). */
function order(type: string): number {
  if (type === 'Ready') return 0;
  if (type === 'Stalled') return 1;
  if (type === 'Reconciling') return 2;
  return 3;
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/**
 * Ready summarises: stalled → False with the stall reason; any listed dependency False → False
 * with its reason; otherwise True with `readyReason`.
 */
export function summarizeReady(
  parts: readonly ConditionInput[],
  stalled: ConditionInput | undefined,
  ready: { reason: string; message: string },
): ConditionInput {
  if (stalled) return { type: 'Ready', status: 'False', reason: stalled.reason, message: stalled.message };
  const failing = parts.find((p) => p.status !== 'True');
  if (failing)
    return { type: 'Ready', status: failing.status === 'Unknown' ? 'Unknown' : 'False', reason: failing.reason, message: failing.message };
  return { type: 'Ready', status: 'True', ...ready };
}
