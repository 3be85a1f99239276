// One interface for every EMR; one module per EMR type implements it (operator/internal/emr/<type>.ts).
// Shared by the operator (authentication checks, provider visibility) and the sync worker.
// Errors are typed so that callers map them to condition reasons without parsing messages.

// The error type is shared with the Ocean client through internal/httpx.
import type { EgressPolicy } from '../httpx/egress-config.ts';
import type { RateLimitWaits } from '../httpx/http.ts';
import { EmrError, type EmrErrorReason } from '../httpx/remote-error.ts';

export { EmrError, type EmrErrorReason };

export interface AuthResult {
  /** When the credential stops working, when the EMR says so (OAuth token expiry, activation code). */
  notAfter?: Date;
  /** When the credential was issued or last renewed, when known (to compute renewal at 2/3 of the lifetime). */
  notBefore?: Date;
  /** The API user name, for conflict detection across sites (never a secret). */
  apiUser?: string;
}

export interface Provider {
  id: string;
  firstName: string;
  lastName: string;
  officeIds?: string[];
}

export interface Office {
  id: string;
  name: string;
}

export interface Appointment {
  id: string;
  providerId: string;
  patientId: string;
  start: string; // ISO 8601
  end: string; // ISO 8601
  status: string;
  officeId?: string;
}

export interface Patient {
  id: string;
  firstName: string;
  lastName: string;
  birthDate: string; // YYYY-MM-DD
  sex?: string;
  healthNumber?: string;
  email?: string;
  phone?: string;
}

export interface DocumentToPost {
  patientId: string;
  title: string;
  pdf: Buffer;
  /** Same key, same document: a redelivered message never creates a second document. */
  idempotencyKey: string;
  /** The EMR's document folder (by name), as the settings name it; absent: the adapter's default folder. */
  folder?: string;
  /** A subfolder of `folder`, where the EMR has them (Accuro sub-folders, OSCAR document sub-class). */
  subfolder?: string;
}

/**
 * A chart note (encounter or progress note) in the patient's chart: plain text, never a PDF. Each
 * adapter maps it to its EMR's note call (see README "Settings × EMR: filing").
 */
export interface NoteToPost {
  patientId: string;
  title: string;
  text: string;
  /** The note's letter type (Accuro) or its equivalent in the EMR; absent: the EMR's default. */
  letterType?: string;
  /** Same key, same note: a redelivered message never creates a second note. */
  idempotencyKey: string;
}

/** Demographic fields a patient can change through Ocean; only the fields given change. */
export interface DemographicChanges {
  firstName?: string;
  lastName?: string;
  birthDate?: string; // YYYY-MM-DD
  sex?: string;
  healthNumber?: string;
  email?: string;
  phone?: string;
}

export interface DemographicsUpdate {
  patientId: string;
  changes: DemographicChanges;
  /** Same key, same update: a redelivered update is applied once. */
  idempotencyKey: string;
}

/** What the relay asks after a crash: is the record it may have filed under this key in the EMR? */
export interface FiledRecordQuery {
  patientId: string;
  /** The step's idempotency key, which the adapter wrote into the record (README "Finding a filed record by its key"). */
  idempotencyKey: string;
}

/**
 * A walk-in appointment to create (check-in, README "Settings × EMR: check-in"). The idempotency key
 * is sent where the EMR honours one AND stored in the appointment's external-reference or notes
 * field, so the appointment can be found again by it.
 */
export interface AppointmentToCreate {
  patientId: string;
  providerId: string;
  /** The EMR's appointment type, as the settings name it (name or code); absent: the EMR's default. */
  appointmentType?: string;
  start: Date;
  durationMinutes: number;
  idempotencyKey: string;
}

/** What the relay asks after a crash between a walk-in's create and its ack: is the appointment created under this key in the EMR? */
export interface AppointmentKeyQuery {
  patientId: string;
  providerId: string;
  /** The walk-in's start as it was created (the EMR may keep it to the minute). */
  start: Date;
  /** The create's idempotency key, which the adapter stored in the appointment (externalReference, OSCAR notes, FHIR identifier). */
  idempotencyKey: string;
}

/** Values for the EMR's custom demographic fields (by the EMR's field name), from an Ocean eForm's mapped answers. */
export interface CustomFieldsUpdate {
  patientId: string;
  fields: { field: string; value: string }[];
  /** Same key, same update: a redelivered update is applied once. */
  idempotencyKey: string;
}

export interface EmrAdapter {
  readonly type: 'PSSuite' | 'MedAccess' | 'Accuro' | 'OSCARPro' | 'FHIR';
  authenticate(): Promise<AuthResult>;
  listProviders(): Promise<Provider[]>;
  /** Offices, where the EMR has them (Accuro); others return []. */
  listOffices(): Promise<Office[]>;
  /** Appointments with start in [from, to), all pages. */
  listAppointments(from: Date, to: Date, providerIds?: string[]): Promise<Appointment[]>;
  getPatient(id: string): Promise<Patient>;
  postDocument(doc: DocumentToPost): Promise<{ id: string; duplicate: boolean }>;
  /** Files a chart note (encounter/progress note) with the EMR's note call. */
  postNote(note: NoteToPost): Promise<{ id: string; duplicate: boolean }>;
  /** The document filed under this key, if the EMR has it (one search or list call; undefined when absent). */
  findDocumentByKey?(query: FiledRecordQuery): Promise<{ id: string } | undefined>;
  /** The chart note filed under this key, if the EMR has it. */
  findNoteByKey?(query: FiledRecordQuery): Promise<{ id: string } | undefined>;
  /** Sets the appointment's status to arrived (a kiosk check-in); setting it again changes nothing. */
  markArrived(appointmentId: string, idempotencyKey: string): Promise<void>;
  /** Creates an appointment (a walk-in), once per idempotency key. */
  createAppointment(appointment: AppointmentToCreate): Promise<{ id: string; duplicate: boolean }>;
  /** The appointment created under this key, if the EMR has it (one listing or search around its start; undefined when absent). */
  findAppointmentByKey?(query: AppointmentKeyQuery): Promise<{ id: string } | undefined>;
  /**
   * Applies a demographic update from Ocean: read, change only the given fields, write. Optional: an
   * EMR whose API cannot take it leaves it out, and the relay refuses the message at intake
   * (index.ts `emrCapabilities`). Every adapter has it today (README "Settings × EMR: demographics").
   */
  updateDemographics?(update: DemographicsUpdate): Promise<{ duplicate: boolean }>;
  /**
   * Writes custom demographic fields (only those given). A name the EMR does not define is
   * EmrError('NotFound') naming it, never dropped. Optional, like updateDemographics.
   */
  updateCustomFields?(update: CustomFieldsUpdate): Promise<{ duplicate: boolean }>;
}

/** What an adapter is built from: the spec section's non-secret settings and the Secret's values. */
export interface AdapterConfig {
  baseUrl: string;
  /** Values of the credentials Secret, by key (decoded). */
  credentials: Record<string, string>;
  /** Non-secret identifiers from the spec: instanceId (TELUS), tenantId (Accuro). */
  instanceId?: string;
  tenantId?: string;
  tokenUrl?: string;
  /** Extra CA certificates (PEM) to trust. */
  caBundle?: string;
  /** What the EMR's URLs may reach and answer (size cap, deadlines); default DEFAULT_EGRESS. */
  egress?: EgressPolicy;
  /** Injected for tests; defaults to the sandboxed undici fetch. */
  fetch?: typeof fetch;
  /**
   * IANA zone of the EMR's wall-clock times (those without an offset): the integration's
   * spec.emr.timeZone, else the site's. Default UTC (tests and tools only; site pods always set it).
   */
  timeZone?: string;
  /** Injected clock for expiry computations. */
  now?: () => Date;
  timeoutMs?: number;
  /** Wait out a 429 inside the adapter (internal/httpx/http.ts RateLimitWaits): a paged listing resumes at the refused page. */
  rateLimitWaits?: RateLimitWaits;
}
