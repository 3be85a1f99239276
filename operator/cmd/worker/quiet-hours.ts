// Pure: is an instant inside the site's quiet hours, and when does that quiet window end? Quiet hours
// are wall-clock times of the OceanSite's time zone ("21:00" to "08:00"), so they follow DST: the
// window ends at 08:00 local on the day it ends, whatever the offset that day. A window whose end is
// not after its start ("21:00"–"08:00") spans midnight. An end time skipped by a spring-forward
// transition ends the window when the clocks jump (runtime/zoned-time.ts's rule).
import { addCalendarDays, instantOf, localDate, wallClockOf } from '../../runtime/zoned-time.ts';

export interface QuietHours {
  /** HH:MM, the site's wall clock. */
  start: string;
  /** HH:MM, the site's wall clock; at or before `start` means the next day. */
  end: string;
}

const minutesOf = (hhmm: string): number => {
  const [h = 0, m = 0] = hhmm.split(':').map(Number);
  return h * 60 + m;
};

/** When the quiet window that holds `at` ends, or undefined when `at` is outside quiet hours (or there are none). */
export function quietUntil(at: Date, quiet: QuietHours | undefined, timeZone: string): Date | undefined {
  if (!quiet) return undefined;
  const wall = wallClockOf(at, timeZone);
  const now = wall.hour * 60 + wall.minute;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  const spansMidnight = end <= start;
  const inside = spansMidnight ? now >= start || now < end : now >= start && now < end;
  if (!inside) return undefined;
  // Before midnight in a window that spans it, the window ends tomorrow; otherwise today.
  const endsTomorrow = spansMidnight && now >= start;
  const day = endsTomorrow ? addCalendarDays(localDate(at, timeZone), 1) : localDate(at, timeZone);
  const [year = 0, month = 1, date = 1] = day.split('-').map(Number);
  return instantOf({ year, month, day: date, hour: Math.floor(end / 60), minute: end % 60, second: 0 }, timeZone);
}
