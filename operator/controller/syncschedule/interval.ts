// Pure: the longest gap between consecutive runs of a cron schedule, so that "no success for two
// intervals" is fair to schedules with uneven gaps (weekdays only, twice a day at 8 and 17).
import { parseSchedule } from './schedule.ts';

/** Occurrences looked at: enough to cross a weekend for daily weekday crons, cheap for `*\/30`. */
const OCCURRENCES = 16;

/** Longest gap in seconds among the next 16 runs after `from`; undefined for an invalid schedule. */
export function longestIntervalSeconds(schedule: string, timeZone: string, from: Date, hashSeed?: string): number | undefined {
  const parsed = parseSchedule(schedule, timeZone, hashSeed);
  if (!parsed.ok) return undefined;
  let previous = parsed.next(from);
  let longest = 0;
  for (let i = 1; i < OCCURRENCES; i++) {
    const next = parsed.next(previous);
    longest = Math.max(longest, next.getTime() - previous.getTime());
    previous = next;
  }
  return longest / 1000;
}
