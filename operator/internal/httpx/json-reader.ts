// Reads untrusted JSON into typed values: anything off-shape is an InvalidResponse named by field,
// never quoting the value (which may be patient data).
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

  /**
   * A local date and time of day without zone (OSCAR, Accuro). AdapterConfig has no time zone yet,
   * so they are read as UTC; see README ("Time zones").
   */
  localDateTime(date: unknown, time: unknown, field: string): Date {
    const day = this.date(date, `${field} date`);
    const clock = this.string(time, `${field} time`);
    if (!/^\d{1,2}:\d{2}(:\d{2})?$/.test(clock)) throw this.fail(`${field} time`, 'a time of day (HH:mm[:ss])');
    const [h = '0', m = '0', s = '0'] = clock.split(':');
    return new Date(`${day}T${h.padStart(2, '0')}:${m}:${s.padStart(2, '0')}Z`);
  }
}
