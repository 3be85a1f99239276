// The simulators' wall clock: real OSCAR and Accuro serve appointment dates and times as the
// clinic's wall clock without a zone, so the simulators do too, in their `timeZone` option (default
// America/Toronto: an adapter that reads those times as UTC fails its tests). Written apart from the
// operator's runtime/zoned-time.ts on purpose (a different algorithm), so that a bug in one is not
// mirrored by the other.

export const DEFAULT_SIM_TIME_ZONE = 'America/Toronto';

const formats = new Map<string, Intl.DateTimeFormat>();

function parts(at: Date, timeZone: string): Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', string> {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formats.set(timeZone, f);
  }
  const out: Record<string, string> = {};
  for (const p of f.formatToParts(at)) out[p.type] = p.value;
  return out as Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', string>;
}

/** YYYY-MM-DD on the wall clock of `timeZone`. */
export function localYmd(at: Date, timeZone: string): string {
  const p = parts(at, timeZone);
  return `${p.year}-${p.month}-${p.day}`;
}

/** HH:mm:ss on the wall clock of `timeZone`. */
export function localHms(at: Date, timeZone: string): string {
  const p = parts(at, timeZone);
  return `${p.hour}:${p.minute}:${p.second}`;
}

/** How far the wall clock of `timeZone` is ahead of UTC at `at`, in minutes. */
function offsetMinutes(at: Date, timeZone: string): number {
  const wall = Date.parse(`${localYmd(at, timeZone)}T${localHms(at, timeZone)}Z`);
  return Math.round((wall - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

/** ISO 8601 with the zone's offset, as a server that reports local time with its offset writes it: 2030-05-06T09:00:00-04:00. */
export function localIsoWithOffset(at: Date, timeZone: string): string {
  const offset = offsetMinutes(at, timeZone);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const hhmm = `${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${localYmd(at, timeZone)}T${localHms(at, timeZone)}${sign}${hhmm}`;
}

/**
 * The instant at which `timeZone` shows `ymd` at `minutes` past midnight, by fixed-point iteration
 * on the offset (clinic hours never fall in a DST gap, which is at night).
 */
export function zonedInstant(ymd: string, minutes: number, timeZone: string): Date {
  const wall = Date.parse(`${ymd}T00:00:00Z`) + minutes * 60_000;
  let at = new Date(wall);
  for (let i = 0; i < 3; i++) at = new Date(wall - offsetMinutes(at, timeZone) * 60_000);
  return at;
}

/** The calendar day after `ymd`, `days` times. */
export function nextDays(ymd: string, days: number): string {
  return new Date(Date.parse(`${ymd}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}
