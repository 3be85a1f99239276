// Pure: the appointments a sync run uploads, as an interval of instants. "Schedule Days to Sync" = N
// means today and the N-1 days after it, as the clinic counts days: from the start of today in the
// site's time zone to the start of the day N days later, so a day that springs forward is 23 hours
// long and one that falls back 25. The clock is the caller's (`now`).
import { addCalendarDays, localDate, startOfDay } from '../../runtime/zoned-time.ts';

export interface SyncWindow {
  from: Date;
  to: Date;
}

/** [start of the day of `now` in `timeZone`, start of the day `days` later); `days` below 1 counts as 1. */
export function syncWindow(now: Date, days: number, timeZone: string): SyncWindow {
  const today = localDate(now, timeZone);
  const n = Math.max(1, Math.floor(days));
  return { from: startOfDay(today, timeZone), to: startOfDay(addCalendarDays(today, n), timeZone) };
}
