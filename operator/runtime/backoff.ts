// Per-key exponential backoff, capped (client-go's ItemExponentialFailureRateLimiter).
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 5 * 60_000 };

/** Delay before retry number `failures` (1 for the first retry). */
export function backoffDelay(failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (failures <= 0) return 0;
  const exp = Math.min(failures - 1, 30);
  return Math.min(policy.capMs, policy.baseMs * 2 ** exp);
}

/** Spreads periodic work (auth checks) so that many objects do not fire at once; `random` in [0,1). */
export function jittered(ms: number, fraction: number, random: number): number {
  return Math.round(ms * (1 + fraction * (2 * random - 1)));
}
