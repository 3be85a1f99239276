// Pure: one health word per resource from its conditions, and relative times, for the status tree.
import { type Condition, findCondition } from '../../runtime/conditions.ts';

export type HealthWord = 'Ready' | 'Suspended' | 'Blocked' | 'Reconciling' | 'NotReady' | 'Stalled' | 'Pending';

export interface Health {
  word: HealthWord;
  reason?: string;
  message?: string;
}

/** Ready=False reasons that mean "waiting on another resource", not "broken": shown as Blocked. */
const BLOCKED_REASONS: ReadonlySet<string> = new Set(['IntegrationNotReady', 'SiteNotReady', 'SiteNotFound', 'IntegrationNotFound']);

export function health(conditions: readonly Condition[] | undefined): Health {
  const pick = (word: HealthWord, c: Condition): Health => ({
    word,
    ...(c.reason ? { reason: c.reason } : {}),
    ...(c.message ? { message: c.message } : {}),
  });
  const stalled = findCondition(conditions, 'Stalled');
  if (stalled?.status === 'True') return pick('Stalled', stalled);
  const ready = findCondition(conditions, 'Ready');
  if (ready?.status === 'True') return pick(ready.reason === 'Suspended' ? 'Suspended' : 'Ready', ready);
  if (ready?.status === 'False' && BLOCKED_REASONS.has(ready.reason ?? '')) return pick('Blocked', ready);
  const reconciling = findCondition(conditions, 'Reconciling');
  if (reconciling?.status === 'True') return pick('Reconciling', reconciling);
  if (ready?.status === 'False') return pick('NotReady', ready);
  if (ready) return pick('Pending', ready);
  return { word: 'Pending', reason: 'NotObservedYet', message: 'the operator has not reported on it yet' };
}

/** kubectl-style short duration: 45s, 12m, 3h, 2d (largest unit, rounded down). */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return h < 10 && m > 0 ? `${h}h${m}m` : `${h}h`;
  }
  return `${Math.floor(s / 86_400)}d`;
}

/** "5m ago", "in 25m", or "never"/"not scheduled" for an absent time. */
export function relativeTime(iso: string | undefined, now: Date, absent: string): string {
  if (!iso) return absent;
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return absent;
  const delta = t - now.getTime();
  return delta >= 0 ? `in ${shortDuration(delta)}` : `${shortDuration(-delta)} ago`;
}
