// Wall-clock times in an IANA time zone, with the runtime's own tz database (Intl), no dependency.
// Pure: every function takes the instant or the wall-clock time it works on (no clock inside).
// A wall-clock time that does not exist (the hour skipped when clocks spring forward) is moved
// forward by the gap; one that exists twice (the hour repeated when clocks fall back) is the earlier
// of the two. These are the rules of Temporal's `disambiguation: 'compatible'` and of RFC 5545.

export interface WallClock {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const HOUR_MS = 3_600_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock of `timeZone` at the instant `at` (whole seconds). */
export function wallClockOf(at: Date, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return {
    year: parts['year'] ?? 0,
    month: parts['month'] ?? 1,
    day: parts['day'] ?? 1,
    hour: (parts['hour'] ?? 0) % 24,
    minute: parts['minute'] ?? 0,
    second: parts['second'] ?? 0,
  };
}

/** The 400-year Gregorian cycle, in ms: the calendar repeats itself after it. */
const CYCLE_MS = 146_097 * 86_400_000;

/** The wall clock read as if it were UTC, in ms (years 0-99 too, which Date.UTC would move to the 1900s). */
function asUtcMs(w: WallClock): number {
  const shift = w.year >= 0 && w.year < 100 ? 400 : 0;
  return Date.UTC(w.year + shift, w.month - 1, w.day, w.hour, w.minute, w.second) - (shift === 0 ? 0 : CYCLE_MS);
}

/** Whether `w` names a real calendar day and time of day (no 31 April, no 24:00, no minute 60). */
export function isValidWallClock(w: WallClock): boolean {
  const d = new Date(asUtcMs(w));
  return (
    d.getUTCFullYear() === w.year &&
    d.getUTCMonth() === w.month - 1 &&
    d.getUTCDate() === w.day &&
    d.getUTCHours() === w.hour &&
    d.getUTCMinutes() === w.minute &&
    d.getUTCSeconds() === w.second
  );
}

/** The zone's offset from UTC at `ms` (whole seconds), in ms: -5 h for Toronto in January. */
export function offsetMs(ms: number, timeZone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return asUtcMs(wallClockOf(new Date(whole), timeZone)) - whole;
}

/** The instant at which `timeZone`'s clock shows `wall` (skipped times move forward, repeated ones are the earlier). */
export function instantOf(wall: WallClock, timeZone: string): Date {
  const local = asUtcMs(wall);
  // At most one transition lies within a day of any time: the offsets a day before and after are the candidates.
  const before = offsetMs(local - 24 * HOUR_MS, timeZone);
  const after = offsetMs(local + 24 * HOUR_MS, timeZone);
  const valid = [local - before, local - after].filter((t) => local - t === offsetMs(t, timeZone));
  if (valid.length > 0) return new Date(Math.min(...valid));
  // In the gap: read with the offset in force before it, which lands after the gap.
  return new Date(local - before);
}

/** YYYY-MM-DD of the wall clock of `timeZone` at `at`. */
export function localDate(at: Date, timeZone: string): string {
  const w = wallClockOf(at, timeZone);
  return `${String(w.year).padStart(4, '0')}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
}

/** The calendar day `days` after the YYYY-MM-DD `date` (no zone involved). */
export function addCalendarDays(date: string, days: number): string {
  const [year = 0, month = 1, day = 1] = date.split('-').map(Number);
  return new Date(asUtcMs({ year, month, day: day + days, hour: 0, minute: 0, second: 0 })).toISOString().slice(0, 10);
}

/** The first instant of the calendar day `date` (YYYY-MM-DD) in `timeZone`. */
export function startOfDay(date: string, timeZone: string): Date {
  const [year = 0, month = 1, day = 1] = date.split('-').map(Number);
  return instantOf({ year, month, day, hour: 0, minute: 0, second: 0 }, timeZone);
}
