// TELUS PS Suite and TELUS Med Access.
//
// TELUS PUBLISHES NO PUBLIC API for this integration. What follows is the project's own
// "TELUS-style" API design (also implemented by test/simulators/telus.ts and described in
// README.md), built from the only public facts: the clinic enters an EMR Instance ID and an EMR
// Secret from the Ocean integration module, and PS Suite additionally a Mobile Activation Code
// that expires. Replace the paths and shapes here if TELUS ever documents the real interface.
//
//   POST {apiUrl}/api/v1/instances/{instanceId}/session {instanceSecret, activationCode?}
//        → {token, expiresAt, activationCodeExpiresAt, instanceSecretExpiresAt?}
//   GET  …/providers, …/appointments (from/to instants, page/pageSize), …/patients/{id}
//        appointment `start`/`end`: the clinic's wall clock with its UTC offset (ISO 8601,
//        e.g. 2030-05-06T09:00:00-04:00); a value without an offset is read in the EMR's time zone
//   POST …/patients/{id}/documents {title, folder?, subfolder?, contentType, data} (Idempotency-Key)
//   POST …/patients/{id}/notes {title, text, letterType?} (Idempotency-Key): a chart note (PS Suite
//        progress note, Med Access encounter note)
//   Both carry the key also as `externalId`; GET …/patients/{id}/documents?externalId=… and
//   …/notes?externalId=… → {items:[{id, externalId, …}]} find a record again after a relay crash.
//   PUT  …/appointments/{id}/status {status: 'arrived'} (Idempotency-Key): a kiosk check-in
//   POST …/appointments {patientId, providerId, start (instant), durationMinutes, appointmentType?,
//        externalReference} (Idempotency-Key; the key is also the externalReference): a walk-in, the
//        type by code or name from GET …/appointment-types
//   PUT  …/patients/{id} {firstName, lastName, birthDate, sex, healthNumber, email, phone} (Idempotency-Key):
//        a demographic update writes the whole record as read with only the given fields changed
//   GET  …/custom-fields → {items:[{name}]}; PUT …/patients/{id}/custom-fields {fields:[{name, value}]}
//        (Idempotency-Key; only the names given change); an undefined name is 422 {error:
//        unknown_custom_field, field} → NotFound naming the field
//
// notAfter = the activation code's expiry (PS Suite) or the instance secret's, when the API gives
// one; the session token itself is renewed silently. Expired code → Expired; revoked instance →
// Deauthorized; wrong secret or code → InvalidCredentials.

import { BearerSession } from '../httpx/bearer.ts';
import { HttpClient, type HttpResponse, isReplayed, joinUrl } from '../httpx/http.ts';
import { type Json, Reader } from '../httpx/json-reader.ts';
import { type BearerToken, TokenCache } from '../httpx/token-cache.ts';
import type {
  AdapterConfig,
  Appointment,
  AppointmentKeyQuery,
  AppointmentToCreate,
  AuthResult,
  CustomFieldsUpdate,
  DemographicsUpdate,
  DocumentToPost,
  EmrAdapter,
  EmrErrorReason,
  FiledRecordQuery,
  NoteToPost,
  Office,
  Patient,
  Provider,
} from './adapter.ts';
import { type AppointmentStatus, byNameOrId, emrTimeZone, inInterval, patientRecord, requireKeys, secretValues } from './shared.ts';

export type TelusProduct = 'PSSuite' | 'MedAccess';

export const TELUS_CREDENTIAL_KEYS: Record<TelusProduct, readonly string[]> = {
  PSSuite: ['instanceSecret', 'activationCode'],
  MedAccess: ['instanceSecret'],
};

const PAGE_SIZE = 200;
const PROVIDERS_PER_SEARCH = 50;
const MAX_PAGES = 10_000;

const ERRORS: Record<string, { reason: EmrErrorReason; detail: string }> = {
  invalid_instance_secret: { reason: 'InvalidCredentials', detail: 'the EMR secret was rejected' },
  invalid_activation_code: { reason: 'InvalidCredentials', detail: 'the activation code was rejected' },
  activation_code_required: {
    reason: 'InvalidCredentials',
    detail: 'PS Suite needs the mobile activation code (Secret key activationCode)',
  },
  instance_not_found: { reason: 'InvalidCredentials', detail: 'the EMR instance ID is not known' },
  activation_code_expired: { reason: 'Expired', detail: 'the mobile activation code has expired; enter a new one' },
  instance_secret_expired: { reason: 'Expired', detail: 'the EMR secret has expired' },
  session_expired: { reason: 'Expired', detail: 'the session keeps expiring' },
  instance_revoked: { reason: 'Deauthorized', detail: 'Cloud Connect access to the instance was revoked' },
};

const STATUS: Record<string, AppointmentStatus> = {
  booked: 'booked',
  confirmed: 'booked',
  arrived: 'arrived',
  'checked-in': 'arrived',
  completed: 'fulfilled',
  cancelled: 'cancelled',
  'no-show': 'noshow',
};

function errorCode(response: HttpResponse): string | undefined {
  try {
    const body = JSON.parse(response.body.toString('utf8')) as { error?: unknown };
    return typeof body.error === 'string' && /^[a-z_]{1,64}$/.test(body.error) ? body.error : undefined;
  } catch {
    return undefined;
  }
}

/** The `field` a 422 names (a custom field name we sent; nothing else of the body is read). */
function errorField(response: HttpResponse): string | undefined {
  try {
    const body = JSON.parse(response.body.toString('utf8')) as { field?: unknown };
    return typeof body.field === 'string' ? body.field : undefined;
  } catch {
    return undefined;
  }
}

function classify(response: HttpResponse): { reason: EmrErrorReason; detail?: string } | undefined {
  const code = errorCode(response);
  return code ? ERRORS[code] : undefined;
}

export class TelusAdapter implements EmrAdapter {
  readonly type: TelusProduct;
  private readonly label: string;
  private readonly baseUrl: string;
  private readonly instanceId: string;
  private readonly credentials: Record<string, string>;
  private readonly http: HttpClient;
  private readonly tokens: TokenCache;
  private readonly session: BearerSession;
  private readonly now: () => Date;
  /** For appointment times given without an offset (our API gives offsets; see the header). */
  private readonly timeZone: string;
  private credentialExpiry: Date | undefined;

  constructor(product: TelusProduct, config: AdapterConfig) {
    this.type = product;
    this.label = product === 'PSSuite' ? 'PS Suite' : 'Med Access';
    requireKeys(this.label, config.credentials, TELUS_CREDENTIAL_KEYS[product]);
    if (!config.instanceId) throw new Error(`${this.label} adapter: AdapterConfig.instanceId is required`);
    this.instanceId = config.instanceId;
    this.credentials = config.credentials;
    this.baseUrl = config.baseUrl.replace(/\/+$/, '');
    this.now = config.now ?? (() => new Date());
    this.timeZone = emrTimeZone(config);
    this.http = new HttpClient({
      emr: this.label,
      fetch: config.fetch,
      timeoutMs: config.timeoutMs,
      caBundle: config.caBundle,
      egress: config.egress,
      secrets: secretValues(config.credentials),
      now: this.now,
      ...(config.rateLimitWaits ? { rateLimitWaits: config.rateLimitWaits } : {}),
    });
    this.tokens = new TokenCache(() => this.createSession(), this.now);
    this.session = new BearerSession({
      http: this.http,
      tokens: this.tokens,
      isStale: (r) => r.status === 401 && ['session_expired', 'invalid_session'].includes(errorCode(r) ?? ''),
      staleAgain: () => 'Expired',
      classify,
    });
  }

  async authenticate(): Promise<AuthResult> {
    // A new session proves the secret (and activation code) and refreshes the expiry we report;
    // one cheap call proves the session is accepted.
    await this.tokens.renew();
    await this.get('providers');
    return this.credentialExpiry ? { notAfter: this.credentialExpiry } : {};
  }

  async listProviders(): Promise<Provider[]> {
    const { read, body } = await this.get('providers');
    const items = read.array(read.object(body, 'body')['items'], 'items');
    return items.map((item, i) => {
      const p = read.object(item, `items[${i}]`);
      return {
        id: read.id(p['id'], `items[${i}].id`),
        firstName: read.optionalString(p['firstName'], `items[${i}].firstName`) ?? '',
        lastName: read.optionalString(p['lastName'], `items[${i}].lastName`) ?? '',
      };
    });
  }

  async listOffices(): Promise<Office[]> {
    return [];
  }

  async listAppointments(from: Date, to: Date, providerIds?: string[]): Promise<Appointment[]> {
    if (to.getTime() <= from.getTime()) return [];
    const chunks: (string[] | undefined)[] = [];
    if (providerIds === undefined) chunks.push(undefined);
    else if (providerIds.length === 0) return [];
    else for (let i = 0; i < providerIds.length; i += PROVIDERS_PER_SEARCH) chunks.push(providerIds.slice(i, i + PROVIDERS_PER_SEARCH));
    const wanted = providerIds ? new Set(providerIds) : undefined;
    const out: Appointment[] = [];
    for (const chunk of chunks) {
      for (let page = 1; ; page++) {
        if (page > MAX_PAGES)
          throw this.http.error('InvalidResponse', `GET /api/v1/instances/${this.instanceId}/appointments: paging does not end`);
        const { read, body } = await this.get('appointments', {
          from: from.toISOString(),
          to: to.toISOString(),
          ...(chunk ? { providerIds: chunk.join(',') } : {}),
          page,
          pageSize: PAGE_SIZE,
        });
        const b = read.object(body, 'body');
        const items = read.array(b['items'], 'items');
        items.forEach((item, n) => {
          const a = this.appointment(read, read.object(item, `items[${n}]`), n);
          if ((!wanted || wanted.has(a.providerId)) && inInterval(new Date(a.start), from, to)) out.push(a);
        });
        const totalPages = read.number(b['totalPages'], 'totalPages');
        if (page >= totalPages || items.length === 0) break;
      }
    }
    return out.sort((a, b) => a.start.localeCompare(b.start) || a.id.localeCompare(b.id));
  }

  async getPatient(id: string): Promise<Patient> {
    const { read, body } = await this.get(`patients/${encodeURIComponent(id)}`);
    const p = read.object(body, 'body');
    return patientRecord(
      {
        id: read.id(p['id'], 'id'),
        firstName: read.optionalString(p['firstName'], 'firstName') ?? '',
        lastName: read.optionalString(p['lastName'], 'lastName') ?? '',
        birthDate: read.date(p['birthDate'], 'birthDate'),
      },
      {
        sex: read.optionalString(p['sex'], 'sex'),
        healthNumber: read.optionalString(p['healthNumber'], 'healthNumber'),
        email: read.optionalString(p['email'], 'email'),
        phone: read.optionalString(p['phone'], 'phone'),
      },
    );
  }

  async postDocument(doc: DocumentToPost): Promise<{ id: string; duplicate: boolean }> {
    const response = await this.session.request(this.url(`patients/${encodeURIComponent(doc.patientId)}/documents`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': doc.idempotencyKey },
      body: JSON.stringify({
        title: doc.title,
        ...(doc.folder?.trim() ? { folder: doc.folder } : {}),
        ...(doc.subfolder?.trim() ? { subfolder: doc.subfolder } : {}),
        contentType: 'application/pdf',
        data: doc.pdf.toString('base64'),
        externalId: doc.idempotencyKey,
      }),
    });
    const read = new Reader(this.label, response.what);
    const answer = read.object(this.http.parseJson(response), 'body');
    return { id: read.id(answer['id'], 'id'), duplicate: isReplayed(response) };
  }

  async postNote(note: NoteToPost): Promise<{ id: string; duplicate: boolean }> {
    const response = await this.session.request(this.url(`patients/${encodeURIComponent(note.patientId)}/notes`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': note.idempotencyKey },
      body: JSON.stringify({
        title: note.title,
        text: note.text,
        ...(note.letterType?.trim() ? { letterType: note.letterType } : {}),
        externalId: note.idempotencyKey,
      }),
    });
    const read = new Reader(this.label, response.what);
    const answer = read.object(this.http.parseJson(response), 'body');
    return { id: read.id(answer['id'], 'id'), duplicate: isReplayed(response) };
  }

  /** The document filed with this key as its `externalId` (`GET …/patients/{id}/documents?externalId=`, our design). */
  findDocumentByKey(query: FiledRecordQuery): Promise<{ id: string } | undefined> {
    return this.findByExternalId('documents', query);
  }

  /** The chart note filed with this key as its `externalId`. */
  findNoteByKey(query: FiledRecordQuery): Promise<{ id: string } | undefined> {
    return this.findByExternalId('notes', query);
  }

  private async findByExternalId(kind: 'documents' | 'notes', query: FiledRecordQuery): Promise<{ id: string } | undefined> {
    const { read, body } = await this.get(`patients/${encodeURIComponent(query.patientId)}/${kind}`, { externalId: query.idempotencyKey });
    const items = read.array(read.object(body, 'body')['items'], 'items');
    for (const [i, item] of items.entries()) {
      const r = read.object(item, `items[${i}]`);
      if (r['externalId'] === query.idempotencyKey) return { id: read.id(r['id'], `items[${i}].id`) };
    }
    return undefined;
  }

  async markArrived(appointmentId: string, idempotencyKey: string): Promise<void> {
    const response = await this.session.request(this.url(`appointments/${encodeURIComponent(appointmentId)}/status`), {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body: JSON.stringify({ status: 'arrived' }),
    });
    this.http.parseJson(response);
  }

  async createAppointment(a: AppointmentToCreate): Promise<{ id: string; duplicate: boolean }> {
    const type = a.appointmentType?.trim() ? await this.appointmentTypeCode(a.appointmentType) : undefined;
    const response = await this.session.request(this.url('appointments'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': a.idempotencyKey },
      body: JSON.stringify({
        patientId: a.patientId,
        providerId: a.providerId,
        start: a.start.toISOString(),
        durationMinutes: a.durationMinutes,
        ...(type ? { appointmentType: type } : {}),
        externalReference: a.idempotencyKey,
      }),
    });
    const read = new Reader(this.label, response.what);
    const answer = read.object(this.http.parseJson(response), 'body');
    return { id: read.id(answer['id'], 'id'), duplicate: isReplayed(response) };
  }

  /** The walk-in created under this key: the provider's appointments of the minute around its start, the one whose `externalReference` is the key. */
  async findAppointmentByKey(query: AppointmentKeyQuery): Promise<{ id: string } | undefined> {
    for (let page = 1; page <= MAX_PAGES; page++) {
      const { read, body } = await this.get('appointments', {
        from: new Date(query.start.getTime() - 60_000).toISOString(),
        to: new Date(query.start.getTime() + 60_000).toISOString(),
        providerIds: query.providerId,
        page,
        pageSize: PAGE_SIZE,
      });
      const b = read.object(body, 'body');
      const items = read.array(b['items'], 'items');
      for (const [n, item] of items.entries()) {
        const raw = read.object(item, `items[${n}]`);
        if (raw['externalReference'] !== query.idempotencyKey) continue;
        const a = this.appointment(read, raw, n);
        if (a.patientId === query.patientId) return { id: a.id };
      }
      if (page >= read.number(b['totalPages'], 'totalPages') || items.length === 0) return undefined;
    }
    throw this.http.error('InvalidResponse', `GET /api/v1/instances/${this.instanceId}/appointments: paging does not end`);
  }

  private async appointmentTypeCode(wanted: string): Promise<string> {
    const { read, body } = await this.get('appointment-types');
    const types = read.array(read.object(body, 'body')['items'], 'items').map((item, i) => {
      const t = read.object(item, `items[${i}]`);
      return { id: read.id(t['code'], `items[${i}].code`), name: read.optionalString(t['name'], `items[${i}].name`) ?? '' };
    });
    const type = byNameOrId(types, wanted);
    if (!type) throw this.http.error('NotFound', `has no appointment type ${JSON.stringify(wanted)}`);
    return type.id;
  }

  /** Read-modify-write of the patient record: only the given fields change. */
  async updateDemographics(update: DemographicsUpdate): Promise<{ duplicate: boolean }> {
    const path = `patients/${encodeURIComponent(update.patientId)}`;
    const { read, body } = await this.get(path);
    const record = { ...read.object(body, 'body') };
    const { sex, ...others } = update.changes;
    Object.assign(record, others);
    if (sex !== undefined) record['sex'] = sex === 'F' || sex === 'M' ? sex : 'X';
    const response = await this.session.request(this.url(path), {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'idempotency-key': update.idempotencyKey },
      body: JSON.stringify(record),
    });
    return { duplicate: isReplayed(response) };
  }

  /** The patient's custom demographic fields (only those given); an undefined name is NotFound naming it. */
  async updateCustomFields(update: CustomFieldsUpdate): Promise<{ duplicate: boolean }> {
    const names = update.fields.map((f) => f.field);
    const response = await this.session.request(
      this.url(`patients/${encodeURIComponent(update.patientId)}/custom-fields`),
      {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'idempotency-key': update.idempotencyKey },
        body: JSON.stringify({ fields: update.fields.map(({ field, value }) => ({ name: field, value })) }),
      },
      (r) => {
        const field = r.status === 422 && errorCode(r) === 'unknown_custom_field' ? errorField(r) : undefined;
        return field !== undefined && names.includes(field)
          ? this.http.error('NotFound', `has no custom field ${JSON.stringify(field)}`)
          : undefined;
      },
    );
    return { duplicate: isReplayed(response) };
  }

  private appointment(read: Reader, a: Json, n: number): Appointment {
    const start = read.zonedDateTime(a['start'], `items[${n}].start`, this.timeZone);
    const end = a['end'] === undefined ? start : read.zonedDateTime(a['end'], `items[${n}].end`, this.timeZone);
    return {
      id: read.id(a['id'], `items[${n}].id`),
      providerId: read.id(a['providerId'], `items[${n}].providerId`),
      patientId: read.id(a['patientId'], `items[${n}].patientId`),
      start: start.toISOString(),
      end: end.toISOString(),
      status: STATUS[(read.optionalString(a['status'], `items[${n}].status`) ?? '').toLowerCase()] ?? 'unknown',
    };
  }

  private url(path: string, query: Record<string, string | number> = {}): URL {
    return joinUrl(this.baseUrl, `api/v1/instances/${encodeURIComponent(this.instanceId)}/${path}`, query);
  }

  private async get(path: string, query: Record<string, string | number> = {}): Promise<{ read: Reader; body: unknown }> {
    const response = await this.session.request(this.url(path, query));
    return { read: new Reader(this.label, response.what), body: this.http.parseJson(response) };
  }

  private async createSession(): Promise<BearerToken> {
    const issuedAt = this.now();
    const response = await this.http.send(this.url('session'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        instanceSecret: this.credentials['instanceSecret'],
        ...(this.type === 'PSSuite' ? { activationCode: this.credentials['activationCode'] } : {}),
      }),
    });
    if (response.status === 401 || response.status === 403 || response.status === 404) {
      const known = classify(response);
      const fallback = response.status === 403 ? 'Deauthorized' : 'InvalidCredentials';
      throw this.http.error(
        known?.reason ?? fallback,
        `${response.what}: HTTP ${response.status}, ${known?.detail ?? 'the session was refused'}`,
      );
    }
    if (response.status < 200 || response.status >= 300) throw this.http.statusError(response);
    const read = new Reader(this.label, response.what);
    const body = read.object(this.http.parseJson(response), 'body');
    const value = read.string(body['token'], 'token');
    const expiresAt = read.instant(body['expiresAt'], 'expiresAt');
    const expiries = ['activationCodeExpiresAt', 'instanceSecretExpiresAt']
      .filter((k) => body[k] !== undefined && body[k] !== null)
      .map((k) => read.instant(body[k], k));
    this.credentialExpiry = expiries.length > 0 ? new Date(Math.min(...expiries.map((d) => d.getTime()))) : undefined;
    if (this.type === 'PSSuite' && !this.credentialExpiry)
      throw read.fail('activationCodeExpiresAt', 'a date-time (PS Suite codes expire)');
    return { value, issuedAt, expiresAt };
  }
}
