// Small helpers the adapters share: dates, secret values, document names, patient records, and the
// appointment status vocabulary every adapter maps its EMR's codes onto. Reading untrusted JSON is
// internal/httpx/json-reader.ts.
import { localDate, wallClockOf } from '../../runtime/zoned-time.ts';
import { EmrError, type Patient } from './adapter.ts';

/** FHIR Appointment.status values that matter to Cloud Connect; every adapter maps onto these. */
export const APPOINTMENT_STATUSES = ['booked', 'arrived', 'fulfilled', 'cancelled', 'noshow', 'unknown'] as const;
export type AppointmentStatus = (typeof APPOINTMENT_STATUSES)[number];

/** Sex/gender codes of the EMRs → FHIR AdministrativeGender (female, male, other, unknown). */
export function normalizeSex(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const v = value.trim().toLowerCase();
  if (v === 'f' || v === 'female') return 'female';
  if (v === 'm' || v === 'male') return 'male';
  if (v === 'u' || v === 'unknown') return 'unknown';
  return 'other';
}

/** The calendar days of `timeZone` an interval [from, to) touches, as the first and the last YYYY-MM-DD. */
export function dayRange(from: Date, to: Date, timeZone: string): { first: string; last: string } {
  const last = new Date(Math.max(from.getTime(), to.getTime() - 1));
  return { first: localDate(from, timeZone), last: localDate(last, timeZone) };
}

/** The zone of the EMR's wall-clock times from an AdapterConfig (UTC when none is given). */
export const emrTimeZone = (config: { timeZone?: string | undefined }): string => config.timeZone ?? 'UTC';

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

/** `[key]`: how the idempotency key is written into a file name or a note's text, and found there again. */
export function keyTag(idempotencyKey: string): string {
  return `[${idempotencyKey.replace(/[^A-Za-z0-9._-]+/g, '').slice(0, 64)}]`;
}

/** A file name that carries the idempotency key, so a person can spot a duplicate in the chart and the relay can find it after a crash. */
export function documentFileName(title: string, idempotencyKey: string): string {
  const safeTitle =
    title
      .replace(/[^A-Za-z0-9 ._-]+/g, '')
      .trim()
      .slice(0, 80) || 'document';
  return `${safeTitle} ${keyTag(idempotencyKey)}.pdf`;
}

/** Does this file name carry this key (documentFileName)? */
export function fileNameHasKey(fileName: string, idempotencyKey: string): boolean {
  return fileName.endsWith(` ${keyTag(idempotencyKey)}.pdf`);
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

/** The entry of `list` whose name is `name`, ignoring case and surrounding spaces (EMR folder and letter-type names). */
export function byName<T extends { name: string }>(list: readonly T[], name: string): T | undefined {
  const wanted = name.trim().toLowerCase();
  return list.find((entry) => entry.name.trim().toLowerCase() === wanted);
}

/** The wall clock of `timeZone` at `at` as an EMR that takes local times writes it: YYYY-MM-DD and HH:mm (check-in walk-ins). */
export function wallDateTime(at: Date, timeZone: string): { date: string; time: string } {
  const w = wallClockOf(at, timeZone);
  const two = (n: number) => String(n).padStart(2, '0');
  return { date: `${String(w.year).padStart(4, '0')}-${two(w.month)}-${two(w.day)}`, time: `${two(w.hour)}:${two(w.minute)}` };
}

/** The entry of `list` named (or identified) by `wanted`, ignoring case: an EMR appointment type from the walk-in settings. */
export function byNameOrId<T extends { id: string; name: string }>(list: readonly T[], wanted: string): T | undefined {
  return byName(list, wanted) ?? list.find((entry) => entry.id.trim().toLowerCase() === wanted.trim().toLowerCase());
}
