import type { Patient } from './adapter.ts';
// Small helpers the adapters share: reading untrusted JSON into typed values (anything off-shape is
// an InvalidResponse, named by field, never quoting the value, which may be patient data), dates,
// and the appointment status vocabulary every adapter maps its EMR's codes onto.
import { EmrError } from './adapter.ts';

/** FHIR Appointment.status values that matter to Cloud Connect; every adapter maps onto these. */
export const APPOINTMENT_STATUSES = ['booked', 'arrived', 'fulfilled', 'cancelled', 'noshow', 'unknown'] as const;
export type AppointmentStatus = (typeof APPOINTMENT_STATUSES)[number];

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

/** Sex/gender codes of the EMRs → FHIR AdministrativeGender (female, male, other, unknown). */
export function normalizeSex(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const v = value.trim().toLowerCase();
  if (v === 'f' || v === 'female') return 'female';
  if (v === 'm' || v === 'male') return 'male';
  if (v === 'u' || v === 'unknown') return 'unknown';
  return 'other';
}

/** YYYY-MM-DD of a UTC instant. */
export function isoDate(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** The UTC calendar days an interval [from, to) touches, as the first and the last YYYY-MM-DD. */
export function dayRange(from: Date, to: Date): { first: string; last: string } {
  const last = new Date(Math.max(from.getTime(), to.getTime() - 1));
  return { first: isoDate(from), last: isoDate(last) };
}

export function inInterval(at: Date, from: Date, to: Date): boolean {
  return at.getTime() >= from.getTime() && at.getTime() < to.getTime();
}

/** Non-empty credential values, for scrubbing messages. */
export function secretValues(credentials: Record<string, string>): string[] {
  return Object.values(credentials).filter((v) => typeof v === 'string' && v.length > 0);
}

/** Fails early, without a network call, when the credentials Secret lacks keys the adapter needs. */
export function requireKeys(emr: string, credentials: Record<string, string>, keys: readonly string[]): void {
  const missing = keys.filter((k) => !credentials[k]);
  if (missing.length > 0) {
    throw new EmrError('InvalidCredentials', `${emr}: the credentials Secret lacks the key(s) ${missing.join(', ')}`);
  }
}

/** A file name that carries the idempotency key, so a person can spot a duplicate in the chart. */
export function documentFileName(title: string, idempotencyKey: string): string {
  const safeTitle = title.replace(/[^A-Za-z0-9 ._-]+/g, '').trim().slice(0, 80) || 'document';
  const safeKey = idempotencyKey.replace(/[^A-Za-z0-9._-]+/g, '').slice(0, 64);
  return `${safeTitle} [${safeKey}].pdf`;
}

/** A Patient carrying only the optional fields the EMR actually gave (absent, never empty). */
export function patientRecord(
  base: Pick<Patient, 'id' | 'firstName' | 'lastName' | 'birthDate'>,
  optional: { sex?: string | undefined; healthNumber?: string | undefined; email?: string | undefined; phone?: string | undefined },
): Patient {
  const patient: Patient = { ...base };
  const sex = normalizeSex(optional.sex);
  if (sex) patient.sex = sex;
  for (const key of ['healthNumber', 'email', 'phone'] as const) {
    const value = optional[key];
    if (value) patient[key] = value;
  }
  return patient;
}
