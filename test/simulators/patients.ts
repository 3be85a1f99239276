// The patients an EMR simulator holds, as they change: the generated record (fake-data.ts) is the
// base, demographic updates are stored over it, and custom demographic fields (the names the EMR
// defines, configurable per simulator) hold values per patient. Every simulator's patient read
// serves `patient(index)`, so what a test reads back is what the EMR stored. Updates are recorded
// (`demographicUpdates`, `customFieldUpdates`) with their idempotency key; a repeated key is recorded
// in `duplicates` and changes nothing. Validation is each simulator's (its error shapes differ);
// `demographicProblem` and `customFieldProblem` are the rules they share, as strict as an EMR's
// own forms (a birth date that is a real past day, a 10-digit health number, an e-mail address).
import type { FakeData, FakePatient } from './fake-data.ts';

/** The custom demographic fields a simulator defines unless told otherwise. */
export const DEFAULT_CUSTOM_FIELDS: readonly string[] = ['preferredPharmacy', 'smokingStatus', 'preferredLanguage'];

export type DemographicField = 'firstName' | 'lastName' | 'birthDate' | 'sex' | 'healthNumber' | 'email' | 'phone';
export type DemographicValues = Partial<Pick<FakePatient, DemographicField>>;

export interface PatientUpdateRecord {
  patientId: string;
  idempotencyKey: string | undefined;
  /** The names of the fields written (demographic fields, or custom field names); never their values. */
  fields: string[];
  receivedAt: string;
}

export interface PatientDuplicate {
  kind: 'demographics' | 'customFields';
  patientId: string;
  idempotencyKey: string;
}

/** The largest custom field value the simulators store (Accuro's and OSCAR's text columns hold 255; Ocean sends ≤ 200). */
const MAX_CUSTOM_FIELD_VALUE = 255;

export class PatientStore {
  private readonly names: string[];
  readonly demographicUpdates: PatientUpdateRecord[] = [];
  readonly customFieldUpdates: PatientUpdateRecord[] = [];
  readonly duplicates: PatientDuplicate[] = [];
  private readonly data: FakeData;
  private readonly now: () => Date;
  private readonly changes = new Map<number, DemographicValues>();
  private readonly custom = new Map<string, Record<string, string>>();
  /** A simulator that stores whole records (FHIR) serves its own view of a patient. */
  view: ((index: number) => FakePatient) | undefined;

  constructor(data: FakeData, now: () => Date, customFieldNames: readonly string[] = DEFAULT_CUSTOM_FIELDS) {
    this.data = data;
    this.now = now;
    this.names = [...customFieldNames];
  }

  /** The custom demographic fields the EMR defines now. */
  get customFieldNames(): readonly string[] {
    return this.names;
  }

  /** The clinic defines another custom field (as an administrator does in the EMR). */
  defineCustomField(name: string): void {
    if (!this.names.includes(name)) this.names.push(name);
  }

  /** The patient as the EMR holds it now. */
  patient(index: number): FakePatient {
    return this.view?.(index) ?? { ...this.data.patient(index), ...this.changes.get(index) };
  }

  /** The custom field values of a patient (a copy). */
  customFields(patientId: string): Record<string, string> {
    return { ...this.custom.get(patientId) };
  }

  /** Was this key applied to this patient already? Records the repeat when it was. */
  repeated(kind: PatientDuplicate['kind'], patientId: string, idempotencyKey: string | undefined): boolean {
    if (idempotencyKey === undefined) return false;
    const log = kind === 'demographics' ? this.demographicUpdates : this.customFieldUpdates;
    if (!log.some((u) => u.patientId === patientId && u.idempotencyKey === idempotencyKey)) return false;
    this.duplicates.push({ kind, patientId, idempotencyKey });
    return true;
  }

  /** Stores validated demographic values over the patient's record and records the update. */
  updateDemographics(index: number, patientId: string, idempotencyKey: string | undefined, values: DemographicValues): void {
    const changed = Object.entries(values).filter(([key, value]) => value !== this.patient(index)[key as DemographicField]);
    this.changes.set(index, { ...this.changes.get(index), ...values });
    this.demographicUpdates.push({
      patientId,
      idempotencyKey,
      fields: changed.map(([key]) => key).sort(),
      receivedAt: this.now().toISOString(),
    });
  }

  /** Records a write of demographic fields whose storage is the simulator's own (FHIR keeps whole resources). */
  recordDemographicWrite(patientId: string, idempotencyKey: string | undefined, fields: string[]): void {
    this.demographicUpdates.push({ patientId, idempotencyKey, fields, receivedAt: this.now().toISOString() });
  }

  /** Stores validated custom field values (only the names given change) and records the update. */
  setCustomFields(patientId: string, idempotencyKey: string | undefined, values: Record<string, string>): void {
    this.custom.set(patientId, { ...this.custom.get(patientId), ...values });
    this.customFieldUpdates.push({ patientId, idempotencyKey, fields: Object.keys(values).sort(), receivedAt: this.now().toISOString() });
  }

  /** The first name the EMR does not define, among `names`. */
  unknownCustomField(names: readonly string[]): string | undefined {
    return names.find((name) => !this.customFieldNames.includes(name));
  }
}

const isRealPastDay = (value: string, now: Date): boolean => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const day = new Date(`${value}T00:00:00Z`);
  return (
    !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === value && day.getTime() <= now.getTime() && value >= '1880-01-01'
  );
};

/** What is wrong with demographic values as an EMR's patient form would say it (the field, never the value), or undefined. */
export function demographicProblem(values: DemographicValues, now: Date): string | undefined {
  for (const key of ['firstName', 'lastName'] as const) {
    const v = values[key];
    if (v !== undefined && (typeof v !== 'string' || v.trim() === '' || v.length > 60)) return `${key} must be 1 to 60 characters`;
  }
  if (values.birthDate !== undefined && !isRealPastDay(values.birthDate, now)) return 'birthDate must be a past day (YYYY-MM-DD)';
  if (values.sex !== undefined && !['F', 'M', 'X'].includes(values.sex)) return 'sex is not a code of this EMR';
  if (values.healthNumber !== undefined && !/^\d{10}$/.test(values.healthNumber)) return 'healthNumber must be 10 digits';
  if (values.email !== undefined && !/^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{2,}$/.test(values.email)) return 'email is not an e-mail address';
  if (values.phone !== undefined && !/^\+?[0-9][0-9 ().-]{6,24}$/.test(values.phone)) return 'phone is not a phone number';
  return undefined;
}

/** What is wrong with a custom field value (the field, never the value), or undefined. */
export function customFieldProblem(name: string, value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > MAX_CUSTOM_FIELD_VALUE)
    return `the value of ${name} must be a string of at most ${MAX_CUSTOM_FIELD_VALUE} characters`;
  return undefined;
}
