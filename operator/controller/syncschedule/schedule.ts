// Pure cron decisions for SyncSchedules (cron-parser, with its Jenkins-style `H` hash seeded per
// integration), with the clock passed in.
import { CronExpressionParser } from 'cron-parser';
import { isKnownTimeZone } from '../../runtime/time-zone.ts';

export type ParsedSchedule =
  | {
      ok: true;
      next: (after: Date) => Date;
      /** The expression with each `H` replaced by its drawn value; undefined when it has none. */
      resolved: string | undefined;
    }
  | { ok: false; reason: 'InvalidSchedule' | 'InvalidTimeZone'; message: string };

/**
 * The seed of a schedule's `H` values: the SyncSchedule itself (namespace/name), so every restart and
 * every replica draws the same values (run names stay idempotent) while schedules, and so the
 * integrations of a fleet, differ.
 */
export function hashSeedOf(namespace: string, schedule: string): string {
  return `${namespace}/${schedule}`;
}

const hasHash = (schedule: string) => /H/.test(schedule);

const FIELD_BOUNDS = [
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['day-of-month', 1, 31],
  ['month', 1, 12],
  ['day-of-week', 0, 7],
] as const;

/**
 * A hashed range or step the field cannot hold, which cron-parser would quietly narrow (its strict
 * mode, which refuses them, also demands six fields): refused like a number out of range.
 */
function hashError(fields: readonly string[]): string | undefined {
  for (const [i, field] of fields.entries()) {
    const [name, min, max] = FIELD_BOUNDS[i] ?? FIELD_BOUNDS[0];
    for (const m of field.matchAll(/H(?:\((\d+)-(\d+)\))?(?:\/(\d+))?/g)) {
      const from = m[1] === undefined ? min : Number(m[1]);
      const to = m[2] === undefined ? max : Number(m[2]);
      if (from < min || to > max || from > to) return `the ${name} field's ${m[0]} must be a range within ${min}-${max}`;
      if (m[3] !== undefined && Number(m[3]) > to - from + 1) return `the ${name} field's ${m[0]} has a step wider than its range`;
    }
  }
  return undefined;
}

/**
 * Parsed schedules, by expression, time zone and seed: a fleet's schedules share a few expressions,
 * and a reconcile at a busy tick should not parse its expression again for every `next`. Bounded;
 * the oldest entry goes first.
 */
const parsedCache = new Map<string, ParsedSchedule>();
const PARSED_CACHE_SIZE = 10_000;

export function parseSchedule(schedule: string, timeZone: string, hashSeed = 'cloudconnect'): ParsedSchedule {
  const key = `${schedule}\u0000${timeZone}\u0000${hashSeed}`;
  const cached = parsedCache.get(key);
  if (cached) return cached;
  const parsed = parseUncached(schedule, timeZone, hashSeed);
  if (parsedCache.size >= PARSED_CACHE_SIZE) parsedCache.delete(parsedCache.keys().next().value as string);
  parsedCache.set(key, parsed);
  return parsed;
}

function parseUncached(schedule: string, timeZone: string, hashSeed: string): ParsedSchedule {
  if (!isKnownTimeZone(timeZone)) {
    return {
      ok: false,
      reason: 'InvalidTimeZone',
      message: `spec.timeZone ${JSON.stringify(timeZone)} is not a time zone known to the operator's tz database`,
    };
  }
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) {
    return { ok: false, reason: 'InvalidSchedule', message: `spec.schedule must have 5 fields, it has ${fields.length}` };
  }
  const hashed = hashError(fields);
  if (hashed) return { ok: false, reason: 'InvalidSchedule', message: `spec.schedule ${JSON.stringify(schedule)}: ${hashed}` };
  // cron-parser draws `H` from hashSeed (an empty seed would be random: never pass one).
  const options = { tz: timeZone, hashSeed: hashSeed || 'cloudconnect' };
  let expression: ReturnType<typeof CronExpressionParser.parse>;
  let resolved: string | undefined;
  try {
    expression = CronExpressionParser.parse(schedule, { ...options, currentDate: new Date(0) });
    expression.next();
    if (hasHash(schedule)) resolved = expression.stringify();
  } catch (error) {
    return {
      ok: false,
      reason: 'InvalidSchedule',
      message: `spec.schedule ${JSON.stringify(schedule)} is not a valid cron expression: ${(error as Error).message}`,
    };
  }
  return {
    ok: true,
    // One expression, moved to `after` for each call (synchronous: no other call runs in between).
    next: (after: Date) => {
      expression.reset(after);
      return expression.next().toDate();
    },
    resolved,
  };
}
