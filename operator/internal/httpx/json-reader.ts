// Reads untrusted JSON into typed values: anything off-shape is an InvalidResponse named by field,
// never quoting the value (which may be patient data).
import { instantOf, isValidWallClock, type WallClock } from '../../runtime/zoned-time.ts';
import { EmrError } from './remote-error.ts';

export type Json = Record<string, unknown>;

export class Reader {
  private readonly emr: string;
  private readonly what: string;

  constructor(emr: string, what: string) {
    this.emr = emr;
    this.what = what;
  }

  fail(field: string, expected: string): EmrError {
    return new EmrError('InvalidResponse', `${this.emr} ${this.what}: field ${field} is not ${expected}`);
  }

  object(value: unknown, field: string): Json {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw this.fail(field, 'an object');
    return value as Json;
  }

  array(value: unknown, field: string): unknown[] {
    if (!Array.isArray(value)) throw this.fail(field, 'an array');
    return value;
  }

  /** A string, or a number turned into its decimal string (ids are numbers in some EMRs). */
  id(value: unknown, field: string): string {
    if (typeof value === 'string' && value !== '') return value;
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    throw this.fail(field, 'an identifier');
  }

  string(value: unknown, field: string): string {
    if (typeof value !== 'string') throw this.fail(field, 'a string');
    return value;
  }

  optionalString(value: unknown, field: string): string | undefined {
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw this.fail(field, 'a string');
    return value;
  }

  number(value: unknown, field: string): number {
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
    throw this.fail(field, 'a number');
  }

  date(value: unknown, field: string): string {
    const text = this.string(value, field);
    const match = /^(\d{4}-\d{2}-\d{2})/.exec(text);
    if (!match?.[1]) throw this.fail(field, 'a date (YYYY-MM-DD)');
    return match[1];
  }

  instant(value: unknown, field: string): Date {
    const text = this.string(value, field);
    const at = new Date(text);
    if (Number.isNaN(at.getTime())) throw this.fail(field, 'a date-time');
    return at;
  }

  /** A local date and a time of day (OSCAR, Accuro: no zone in the data), read as the wall clock of `timeZone`. */
  localDateTime(date: unknown, time: unknown, field: string, timeZone: string): Date {
    const day = this.date(date, `${field} date`);
    const clock = this.string(time, `${field} time`);
    if (!/^\d{1,2}:\d{2}(:\d{2})?$/.test(clock)) throw this.fail(`${field} time`, 'a time of day (HH:mm[:ss])');
    const [year = 0, month = 1, dayOfMonth = 1] = day.split('-').map(Number);
    const [hour = 0, minute = 0, second = 0] = clock.split(':').map(Number);
    return this.wallClock({ year, month, day: dayOfMonth, hour, minute, second }, field, 'a date and a time of day', timeZone);
  }

  /**
   * An ISO 8601 date-time: with `Z` or an offset it is that instant; without one it is the wall
   * clock of `timeZone` (never the process's own zone, which is what `new Date(text)` would use).
   */
  zonedDateTime(value: unknown, field: string, timeZone: string): Date {
    const text = this.string(value, field);
    const wall = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/.exec(text);
    if (!wall) {
      if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(text)) throw this.fail(field, 'a date-time');
      return this.instant(text, field);
    }
    const [year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0] = wall.slice(1).map((n) => Number(n ?? 0));
    return this.wallClock({ year, month, day, hour, minute, second }, field, 'a date-time', timeZone);
  }

  /** A wall-clock time that exists on the calendar, as the instant `timeZone` shows it at. */
  private wallClock(w: WallClock, field: string, expected: string, timeZone: string): Date {
    if (!isValidWallClock(w)) throw this.fail(field, expected);
    return instantOf(w, timeZone);
  }
}
