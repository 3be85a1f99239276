// OSCAR Pro: OSCAR's REST services under `{serverUrl}/ws/services/...`, every request signed with
// OAuth 1.0a HMAC-SHA1 (RFC 5849, our signer in oauth1.ts) using the client (consumer) key/secret
// and the access token/secret obtained once when the "OceanConnect" EMR user authorized access.
// OAuth 1.0a has no refresh: a revoked or expired access token needs a person to authorize again,
// so 401s map to Deauthorized (or Expired when the server says `oauth_problem=token_expired`); a
// wrong consumer key or a bad signature maps to InvalidCredentials.
// Token expiry: OSCAR does not publish one; servers (and our simulator) that send
// `X-OAuth-Token-Expires` (ISO 8601 or HTTP date) on answers give `notAfter`. See README.md.
// Idempotency: OSCAR has no idempotency mechanism. We send `Idempotency-Key` (a real server ignores
// it) and write the key where it can be found again: in a document's file name (`Title [key].pdf`) and
// as a note's last paragraph (`[key]`); findDocumentByKey / findNoteByKey look for it after a relay
// crash (README "Finding a filed record by its key"), and the relay's delivery record does the rest.
// Check-in (OSCAR's ScheduleService): `POST schedule/appointment/{id}/updateStatus` {status: 'H'} (Here);
// walk-ins `POST schedule/add` (NewAppointmentTo1, the server's wall clock, the type by name from
// `GET schedule/types`), the idempotency key sent and kept in the appointment's `notes`.
// Demographics: OSCAR's DemographicService takes a whole DemographicTo1 (`PUT demographics`, keyed
// by `demographicNo`, a full replace), so an update reads `demographics/{id}`, changes only the given
// fields and writes the record back as read. Custom fields are the demographic's `extras`
// (DemographicExt key/value) written the same way; a key the server refuses as unknown
// (400 `{error, key}`, our simulator's answer) is `NotFound` naming the field.

import { HttpClient, type HttpRequest, type HttpResponse, isReplayed, joinUrl } from '../httpx/http.ts';
import { type Json, Reader } from '../httpx/json-reader.ts';
import { authorizationHeader, type OAuth1Credentials } from '../httpx/oauth1.ts';
import {
  type AdapterConfig,
  type Appointment,
  type AppointmentKeyQuery,
  type AppointmentToCreate,
  type AuthResult,
  type CustomFieldsUpdate,
  type DemographicsUpdate,
  type DocumentToPost,
  type EmrAdapter,
  EmrError,
  type EmrErrorReason,
  type FiledRecordQuery,
  type NoteToPost,
  type Office,
  type Patient,
  type Provider,
} from './adapter.ts';
import {
  type AppointmentStatus,
  byNameOrId,
  dayRange,
  documentFileName,
  emrTimeZone,
  fileNameHasKey,
  inInterval,
  keyTag,
  patientRecord,
  requireKeys,
  secretValues,
  wallDateTime,
} from './shared.ts';

export const OSCAR_CREDENTIAL_KEYS = ['clientKey', 'clientSecret', 'accessToken', 'tokenSecret'] as const;

/** The header carrying the access token's expiry (our simulator's design; see README.md). */
const TOKEN_EXPIRES_HEADER = 'x-oauth-token-expires';

const PROVIDERS_PER_SCHEDULE_CALL = 50;
/** Notes per page of OSCAR's note list, and the most pages read when looking for a filed note. */
const NOTE_PAGE = 100;
const NOTE_LIST_MAX_PAGES = 200;

/** OSCAR appointment status codes (first letter; a trailing 'S' means signed) → our vocabulary. */
const STATUS: Record<string, AppointmentStatus> = {
  t: 'booked',
  T: 'booked',
  H: 'arrived',
  P: 'arrived', // picked
  E: 'arrived', // with the doctor (Here/Empty room variants)
  B: 'fulfilled', // billed
  C: 'cancelled',
  N: 'noshow',
};

/** OAuth Problem Reporting extension codes → reasons. */
const PROBLEMS: Record<string, EmrErrorReason> = {
  token_expired: 'Expired',
  token_revoked: 'Deauthorized',
  token_rejected: 'Deauthorized',
  token_used: 'Deauthorized',
  permission_denied: 'Deauthorized',
  permission_unknown: 'Deauthorized',
  consumer_key_unknown: 'InvalidCredentials',
  consumer_key_rejected: 'InvalidCredentials',
  consumer_key_refused: 'InvalidCredentials',
  signature_invalid: 'InvalidCredentials',
  signature_method_rejected: 'InvalidCredentials',
  parameter_absent: 'InvalidCredentials',
  parameter_rejected: 'InvalidCredentials',
  timestamp_refused: 'InvalidCredentials',
  nonce_used: 'InvalidCredentials',
};

function oauthProblem(response: HttpResponse): string | undefined {
  const header = response.headers.get('www-authenticate') ?? '';
  const fromHeader = /oauth_problem="?([a-z_]{1,64})"?/.exec(header)?.[1];
  if (fromHeader) return fromHeader;
  return /(?:^|&)oauth_problem=([a-z_]{1,64})/.exec(response.body.toString('utf8').slice(0, 1024))?.[1];
}

function classify(response: HttpResponse): { reason: EmrErrorReason; detail?: string } {
  const problem = oauthProblem(response);
  if (response.status === 403) return { reason: 'Deauthorized', detail: problem ?? 'access denied' };
  if (problem === undefined) return { reason: 'Deauthorized', detail: 'the access token is no longer accepted; authorize again' };
  const reason = PROBLEMS[problem] ?? 'Deauthorized';
  return { reason, detail: `oauth_problem=${problem}${problemHint(problem, reason)}` };
}

/** What the person should do about an OAuth problem: check the clock, or authorize again. */
function problemHint(problem: string, reason: EmrErrorReason): string {
  if (problem === 'timestamp_refused') return ' (check the clock)';
  if (reason === 'Deauthorized' || reason === 'Expired') return ' (authorize again)';
  return '';
}

export class OscarProAdapter implements EmrAdapter {
  readonly type = 'OSCARPro' as const;
  private readonly baseUrl: string;
  private readonly http: HttpClient;
  private readonly oauth: OAuth1Credentials;
  private readonly now: () => Date;
  /** OSCAR's appointment dates and times are the clinic's wall clock, without a zone. */
  private readonly timeZone: string;

  constructor(config: AdapterConfig) {
    requireKeys('OSCAR', config.credentials, OSCAR_CREDENTIAL_KEYS);
    this.timeZone = emrTimeZone(config);
    const c = config.credentials as Record<(typeof OSCAR_CREDENTIAL_KEYS)[number], string>;
    this.baseUrl = config.baseUrl.replace(/\/+$/, '');
    this.now = config.now ?? (() => new Date());
    this.oauth = { consumerKey: c.clientKey, consumerSecret: c.clientSecret, token: c.accessToken, tokenSecret: c.tokenSecret };
    this.http = new HttpClient({
      emr: 'OSCAR',
      fetch: config.fetch,
      timeoutMs: config.timeoutMs,
      caBundle: config.caBundle,
      egress: config.egress,
      secrets: secretValues(config.credentials),
      now: this.now,
      ...(config.rateLimitWaits ? { rateLimitWaits: config.rateLimitWaits } : {}),
    });
  }

  async authenticate(): Promise<AuthResult> {
    const response = await this.call('GET', 'providerService/providers_json');
    const expires = response.headers.get(TOKEN_EXPIRES_HEADER);
    const result: AuthResult = {};
    if (expires) {
      const at = new Date(expires);
      if (!Number.isNaN(at.getTime())) result.notAfter = at;
    }
    return result;
  }

  async listProviders(): Promise<Provider[]> {
    const response = await this.call('GET', 'providerService/providers_json');
    const read = new Reader('OSCAR', response.what);
    const body = this.http.parseJson(response);
    const list = Array.isArray(body) ? body : read.array(read.object(body, 'body')['content'], 'content');
    return list.map((item, i) => {
      const p = read.object(item, `content[${i}]`);
      return {
        id: read.id(p['providerNo'], `content[${i}].providerNo`),
        firstName: read.optionalString(p['firstName'], `content[${i}].firstName`) ?? '',
        lastName: read.optionalString(p['lastName'], `content[${i}].lastName`) ?? '',
      };
    });
  }

  async listOffices(): Promise<Office[]> {
    return [];
  }

  async listAppointments(from: Date, to: Date, providerIds?: string[]): Promise<Appointment[]> {
    const ids = providerIds ?? (await this.listProviders()).map((p) => p.id);
    if (ids.length === 0 || to.getTime() <= from.getTime()) return [];
    const { first, last } = dayRange(from, to, this.timeZone);
    const wanted = new Set(ids);
    const out: Appointment[] = [];
    for (let i = 0; i < ids.length; i += PROVIDERS_PER_SCHEDULE_CALL) {
      const chunk = ids
        .slice(i, i + PROVIDERS_PER_SCHEDULE_CALL)
        .map(encodeURIComponent)
        .join(',');
      const response = await this.call('GET', `schedule/fetchDays/${first}/${last}/${chunk}`);
      const read = new Reader('OSCAR', response.what);
      const body = this.http.parseJson(response);
      const list = Array.isArray(body) ? body : read.array(read.object(body, 'body')['content'] ?? [], 'content');
      list.forEach((item, n) => {
        const a = read.object(item, `content[${n}]`);
        const appointment = this.appointment(read, a, n);
        if (wanted.has(appointment.providerId) && inInterval(new Date(appointment.start), from, to)) out.push(appointment);
      });
    }
    return out.sort((a, b) => a.start.localeCompare(b.start) || a.id.localeCompare(b.id));
  }

  async getPatient(id: string): Promise<Patient> {
    const response = await this.call('GET', `demographics/${encodeURIComponent(id)}`);
    const read = new Reader('OSCAR', response.what);
    const d = read.object(this.http.parseJson(response), 'body');
    return patientRecord(
      {
        id: read.id(d['demographicNo'], 'demographicNo'),
        firstName: read.optionalString(d['firstName'], 'firstName') ?? '',
        lastName: read.optionalString(d['lastName'], 'lastName') ?? '',
        birthDate: read.date(d['dateOfBirth'], 'dateOfBirth'),
      },
      {
        sex: read.optionalString(d['sex'], 'sex'),
        healthNumber: read.optionalString(d['hin'], 'hin'),
        email: read.optionalString(d['email'], 'email'),
        phone: read.optionalString(d['phone'], 'phone'),
      },
    );
  }

  async postDocument(doc: DocumentToPost): Promise<{ id: string; duplicate: boolean }> {
    const body = JSON.stringify({
      fileName: documentFileName(doc.title, doc.idempotencyKey),
      fileContents: doc.pdf.toString('base64'),
      contentType: 'application/pdf',
      demographicNo: doc.patientId,
      documentDescription: doc.title,
      docType: doc.folder?.trim() || 'others',
      ...(doc.subfolder?.trim() ? { docSubClass: doc.subfolder } : {}),
      source: 'Ocean',
    });
    const response = await this.call('POST', 'document/saveDocumentToDemographic', {
      headers: { 'content-type': 'application/json', 'idempotency-key': doc.idempotencyKey },
      body,
    });
    const read = new Reader('OSCAR', response.what);
    const answer = read.object(this.http.parseJson(response), 'body');
    if (answer['success'] === false) throw new EmrError('InvalidResponse', `OSCAR ${response.what}: the EMR did not save the document`);
    return { id: read.id(answer['documentNo'] ?? answer['id'], 'documentNo'), duplicate: isReplayed(response) };
  }

  /**
   * An encounter note through OSCAR's notes service (`POST /ws/services/notes/{demographicNo}/save`,
   * NoteTo1). OSCAR has no letter types: the settings' letter type becomes the note's encounter type.
   */
  async postNote(note: NoteToPost): Promise<{ id: string; duplicate: boolean }> {
    const body = JSON.stringify({
      // The key as the last paragraph: OSCAR keeps no external id on a note, and its note list (findNoteByKey) serves the text.
      note: `${note.title}\n\n${note.text}\n\n${keyTag(note.idempotencyKey)}`,
      ...(note.letterType?.trim() ? { encounterType: note.letterType } : {}),
      observationDate: this.now().toISOString(),
    });
    const response = await this.call('POST', `notes/${encodeURIComponent(note.patientId)}/save`, {
      headers: { 'content-type': 'application/json', 'idempotency-key': note.idempotencyKey },
      body,
    });
    const read = new Reader('OSCAR', response.what);
    const answer = read.object(this.http.parseJson(response), 'body');
    return { id: read.id(answer['noteId'], 'noteId'), duplicate: isReplayed(response) };
  }

  /** The demographic's document whose file name carries the key (`GET document/demographic/{no}`: our simulator's design). */
  async findDocumentByKey(query: FiledRecordQuery): Promise<{ id: string } | undefined> {
    const response = await this.call('GET', `document/demographic/${encodeURIComponent(query.patientId)}`);
    const read = new Reader('OSCAR', response.what);
    const body = this.http.parseJson(response);
    const list = Array.isArray(body) ? body : read.array(read.object(body, 'body')['content'] ?? [], 'content');
    for (const [i, item] of list.entries()) {
      const d = read.object(item, `content[${i}]`);
      const fileName = read.optionalString(d['fileName'], `content[${i}].fileName`) ?? '';
      if (fileNameHasKey(fileName, query.idempotencyKey)) return { id: read.id(d['documentNo'] ?? d['id'], `content[${i}].documentNo`) };
    }
    return undefined;
  }

  /** The demographic's note whose text carries the key: OSCAR's note list (`POST notes/{no}/all`), newest first, page by page. */
  async findNoteByKey(query: FiledRecordQuery): Promise<{ id: string } | undefined> {
    const tag = keyTag(query.idempotencyKey);
    for (let page = 0; page < NOTE_LIST_MAX_PAGES; page++) {
      const path = `notes/${encodeURIComponent(query.patientId)}/all?numToReturn=${NOTE_PAGE}&offset=${page * NOTE_PAGE}`;
      const response = await this.call('POST', path, { headers: { 'content-type': 'application/json' }, body: '{}' });
      const read = new Reader('OSCAR', response.what);
      const body = read.object(this.http.parseJson(response), 'body');
      const list = body['notelist'] === undefined || body['notelist'] === null ? [] : read.array(body['notelist'], 'notelist');
      for (const [i, item] of list.entries()) {
        const n = read.object(item, `notelist[${i}]`);
        const text = read.optionalString(n['note'], `notelist[${i}].note`) ?? '';
        if (text.endsWith(tag)) return { id: read.id(n['noteId'], `notelist[${i}].noteId`) };
      }
      if (body['moreNotes'] !== true || list.length === 0) return undefined;
    }
    throw this.http.error('InvalidResponse', 'POST notes/{demographicNo}/all: paging does not end');
  }

  /** OSCAR's "Here" status (H): the patient arrived. */
  async markArrived(appointmentId: string, idempotencyKey: string): Promise<void> {
    const response = await this.call('POST', `schedule/appointment/${encodeURIComponent(appointmentId)}/updateStatus`, {
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body: JSON.stringify({ status: 'H' }),
    });
    this.http.parseJson(response);
  }

  async createAppointment(a: AppointmentToCreate): Promise<{ id: string; duplicate: boolean }> {
    const type = a.appointmentType?.trim() ? await this.appointmentTypeName(a.appointmentType) : undefined;
    const { date, time } = wallDateTime(a.start, this.timeZone);
    const body = JSON.stringify({
      providerNo: a.providerId,
      demographicNo: Number(a.patientId),
      appointmentDate: date,
      startTime: time,
      duration: a.durationMinutes,
      ...(type ? { type } : {}),
      notes: a.idempotencyKey,
      status: 't',
    });
    const response = await this.call('POST', 'schedule/add', {
      headers: { 'content-type': 'application/json', 'idempotency-key': a.idempotencyKey },
      body,
    });
    const read = new Reader('OSCAR', response.what);
    const appointment = read.object(read.object(this.http.parseJson(response), 'body')['appointment'], 'appointment');
    return { id: read.id(appointment['id'], 'appointment.id'), duplicate: isReplayed(response) };
  }

  /** The walk-in created under this key: the provider's schedule of its day, the appointment whose `notes` are the key. */
  async findAppointmentByKey(query: AppointmentKeyQuery): Promise<{ id: string } | undefined> {
    const { first, last } = dayRange(new Date(query.start.getTime() - 60_000), new Date(query.start.getTime() + 60_000), this.timeZone);
    const response = await this.call('GET', `schedule/fetchDays/${first}/${last}/${encodeURIComponent(query.providerId)}`);
    const read = new Reader('OSCAR', response.what);
    const body = this.http.parseJson(response);
    const list = Array.isArray(body) ? body : read.array(read.object(body, 'body')['content'] ?? [], 'content');
    for (const [n, item] of list.entries()) {
      const raw = read.object(item, `content[${n}]`);
      if (raw['notes'] !== query.idempotencyKey) continue;
      const a = this.appointment(read, raw, n);
      if (a.patientId === query.patientId) return { id: a.id };
    }
    return undefined;
  }

  private async appointmentTypeName(wanted: string): Promise<string> {
    const response = await this.call('GET', 'schedule/types');
    const read = new Reader('OSCAR', response.what);
    const types = read.array(read.object(this.http.parseJson(response), 'body')['types'] ?? [], 'types').map((item, i) => {
      const t = read.object(item, `types[${i}]`);
      return {
        id: t['id'] === undefined ? '' : read.id(t['id'], `types[${i}].id`),
        name: read.optionalString(t['name'], `types[${i}].name`) ?? '',
      };
    });
    const type = byNameOrId(types, wanted);
    if (!type) throw new EmrError('NotFound', `OSCAR ${response.what}: has no appointment type ${JSON.stringify(wanted)}`);
    return type.name;
  }

  /** Read-modify-write of the DemographicTo1: only the given fields change. */
  async updateDemographics(update: DemographicsUpdate): Promise<{ duplicate: boolean }> {
    const demographic = await this.demographic(update.patientId);
    const c = update.changes;
    const fields: [keyof typeof c, string][] = [
      ['firstName', 'firstName'],
      ['lastName', 'lastName'],
      ['birthDate', 'dateOfBirth'],
      ['healthNumber', 'hin'],
      ['email', 'email'],
      ['phone', 'phone'],
    ];
    for (const [ours, oscar] of fields) if (c[ours] !== undefined) demographic[oscar] = c[ours];
    if (c.sex !== undefined) demographic['sex'] = c.sex === 'F' || c.sex === 'M' ? c.sex : 'O';
    return this.putDemographic(demographic, update.idempotencyKey, []);
  }

  /** The demographic's extras (DemographicExt key/value): the given keys set, the others kept. */
  async updateCustomFields(update: CustomFieldsUpdate): Promise<{ duplicate: boolean }> {
    const demographic = await this.demographic(update.patientId);
    const extras = Array.isArray(demographic['extras']) ? (demographic['extras'] as Json[]).map((e) => ({ ...e })) : [];
    for (const { field, value } of update.fields) {
      const existing = extras.find((e) => e['key'] === field);
      if (existing) existing['value'] = value;
      else extras.push({ key: field, value, demographicNo: numericId(update.patientId) });
    }
    demographic['extras'] = extras;
    return this.putDemographic(
      demographic,
      update.idempotencyKey,
      update.fields.map((f) => f.field),
    );
  }

  private async demographic(id: string): Promise<Json> {
    const response = await this.call('GET', `demographics/${encodeURIComponent(id)}`);
    const read = new Reader('OSCAR', response.what);
    const demographic = { ...read.object(this.http.parseJson(response), 'body') };
    read.id(demographic['demographicNo'], 'demographicNo');
    return demographic;
  }

  /** PUT demographics; a 400 naming one of `fields` as an unknown extra key is NotFound naming it. */
  private async putDemographic(demographic: Json, idempotencyKey: string, fields: string[]): Promise<{ duplicate: boolean }> {
    const url = joinUrl(this.baseUrl, 'ws/services/demographics');
    const authorization = authorizationHeader({ method: 'PUT', url, credentials: this.oauth });
    const response = await this.http.send(url, {
      method: 'PUT',
      headers: { accept: 'application/json', 'content-type': 'application/json', 'idempotency-key': idempotencyKey, authorization },
      body: JSON.stringify(demographic),
    });
    if (response.status >= 200 && response.status < 300) return { duplicate: isReplayed(response) };
    const key = response.status === 400 ? errorKey(response) : undefined;
    if (key !== undefined && fields.includes(key))
      throw this.http.error('NotFound', `has no demographic custom field (extra key) ${JSON.stringify(key)}`);
    throw this.http.statusError(response, classify);
  }

  private appointment(read: Reader, a: Json, n: number): Appointment {
    const start = read.localDateTime(a['appointmentDate'], a['startTime'], `content[${n}].start`, this.timeZone);
    let end =
      a['endTime'] === undefined ? start : read.localDateTime(a['appointmentDate'], a['endTime'], `content[${n}].end`, this.timeZone);
    if (end.getTime() < start.getTime()) end = start;
    const code = (read.optionalString(a['status'], `content[${n}].status`) ?? '').charAt(0);
    const appointment: Appointment = {
      id: read.id(a['appointmentNo'] ?? a['id'], `content[${n}].appointmentNo`),
      providerId: read.id(a['providerNo'], `content[${n}].providerNo`),
      patientId: read.id(a['demographicNo'], `content[${n}].demographicNo`),
      start: start.toISOString(),
      end: end.toISOString(),
      status: STATUS[code] ?? 'unknown',
    };
    return appointment;
  }

  /** A signed call under /ws/services; any non-2xx becomes the matching EmrError. */
  private async call(method: string, path: string, request: HttpRequest = {}): Promise<HttpResponse> {
    const url = joinUrl(this.baseUrl, `ws/services/${path}`);
    // The wall clock, not the injected one: the server compares oauth_timestamp with its own time.
    // Signed again for each send (a fresh nonce) when a 429 is waited out.
    const signed = () => {
      const authorization = authorizationHeader({ method, url, credentials: this.oauth });
      return { ...request, method, headers: { accept: 'application/json', ...request.headers, authorization } };
    };
    return this.http.request(url, signed, classify);
  }
}

const numericId = (id: string): string | number => (/^\d+$/.test(id) ? Number(id) : id);

/** The `key` an OSCAR 400 names (an extra key, a configuration name; nothing else of the body is read). */
function errorKey(response: HttpResponse): string | undefined {
  try {
    const body = JSON.parse(response.body.toString('utf8')) as unknown;
    const key = body && typeof body === 'object' ? (body as Json)['key'] : undefined;
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined;
  }
}
