// QHR Accuro: the Accuro REST API. Authentication: `POST {base}/v1/token?tenant={TENANT}` with the
// client (clientId:clientSecret) in HTTP Basic and the site's API user in the form body as an
// OAuth 2 password grant (RFC 6749 §4.3). Ocean's setup gives each site a per-site API user name
// and password next to the client credentials, and a password grant is how such a user
// authenticates; the user name is also what must not be shared between sites (one API user name per
// Cloud Connect instance), so it is
// reported as `apiUser`. Every call carries the bearer token, `X-QHR-Subscription-Key` and the
// `uuid` query parameter (the Accuro instance: the Secret's optional `uuid` key, else the tenant ID).
// The token is cached and renewed at 2/3 of its lifetime; a stale token is renewed once.
// Appointments come from the materials endpoint in pages of at most 50, `startingId` = the previous
// page's `lastId`, until a page is empty.
// Idempotency: Accuro publishes none. The key travels as `Idempotency-Key` (ignored by a real server)
// and is written where it can be found again: a document's file name (`Title [key].pdf`) and an
// encounter note's `externalId`; findDocumentByKey / findNoteByKey look it up after a relay crash
// (the patient lists are our simulator's design: README "Finding a filed record by its key").
// Filing: documents go to the folder (and sub-folder) named by the settings, looked up by name in
// `GET /v1/provider-portal/folders`; chart notes are encounter notes
// (`POST /v1/patients/{id}/encounter-notes`) with the letter type named by the settings, looked up in
// `GET /v1/letter-types`. A name the EMR does not have is `NotFound` naming it (a configuration value,
// never patient data), never a silent default. Sub-folders, letter types and the encounter-note call
// follow our simulator's design (README "Settings × EMR: filing").
// Check-in (our design too, README "Settings × EMR: check-in"): `PUT /v1/scheduler/appointments/{id}/status`
// {status: 'Arrived'}; walk-ins `POST /v1/scheduler/appointments` in the clinic's wall clock, the type
// looked up in `GET /v1/scheduler/appointment-types`, the idempotency key sent and kept in `externalReference`.
// Demographics (our design after the public patient shape, README "Settings × EMR: demographics"):
// an update reads `GET /v1/patients/{id}`, changes only the given fields and writes the whole
// patient back with `PUT /v1/patients/{id}` (Idempotency-Key). Custom fields: the clinic's patient
// custom fields (`GET /v1/custom-fields`, by name → id) are written with
// `PUT /v1/patients/{id}/custom-fields` [{customFieldId, value}]; a name Accuro does not define is
// `NotFound` naming it, before anything is written.
import { randomBytes } from 'node:crypto';
import { localDate, wallClockOf } from '../../runtime/zoned-time.ts';
import { BearerSession, requestToken } from '../httpx/bearer.ts';
import { basicAuth, HttpClient, type HttpResponse, isReplayed, joinUrl } from '../httpx/http.ts';
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
import {
  type AppointmentStatus,
  byName,
  byNameOrId,
  documentFileName,
  emrTimeZone,
  fileNameHasKey,
  inInterval,
  normalizeSex,
  requireKeys,
  secretValues,
  wallDateTime,
} from './shared.ts';

export const ACCURO_CREDENTIAL_KEYS = ['apiUsername', 'apiPassword', 'clientId', 'clientSecret', 'subscriptionKey'] as const;

const ACCURO_PAGE_SIZE = 50;
const MAX_PAGES = 10_000;

const STATUS: Record<string, AppointmentStatus> = {
  booked: 'booked',
  confirmed: 'booked',
  arrived: 'arrived',
  'in room': 'arrived',
  completed: 'fulfilled',
  seen: 'fulfilled',
  billed: 'fulfilled',
  cancelled: 'cancelled',
  canceled: 'cancelled',
  'no show': 'noshow',
  noshow: 'noshow',
};

function classify(response: HttpResponse): { reason: EmrErrorReason; detail?: string } {
  if (response.status === 403) return { reason: 'Deauthorized', detail: 'the API user lost access (check its permissions in Accuro)' };
  const text = response.body.toString('utf8').slice(0, 2048);
  if (/subscription key/i.test(text)) return { reason: 'InvalidCredentials', detail: 'the subscription key was rejected' };
  return { reason: 'InvalidCredentials' };
}

/** `yyyy-MM-ddTHH:mm:ss` of the EMR's wall clock at `at` (Accuro's query dates have no zone). */
function localDateTime(at: Date, timeZone: string): string {
  const w = wallClockOf(at, timeZone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${String(w.year).padStart(4, '0')}-${two(w.month)}-${two(w.day)}T${two(w.hour)}:${two(w.minute)}:${two(w.second)}`;
}

interface AccuroFolder {
  id: string;
  name: string;
  subFolders: { id: string; name: string }[];
}

const numeric = (id: string): string | number => (/^\d+$/.test(id) ? Number(id) : id);

function accuroFolder(read: Reader, item: unknown, at: string): AccuroFolder {
  const f = read.object(item, at);
  const subs = f['subFolders'] === undefined || f['subFolders'] === null ? [] : read.array(f['subFolders'], `${at}.subFolders`);
  return {
    id: read.id(f['folderId'], `${at}.folderId`),
    name: read.optionalString(f['name'], `${at}.name`) ?? '',
    subFolders: subs.map((item, j) => {
      const sub = read.object(item, `${at}.subFolders[${j}]`);
      return {
        id: read.id(sub['subFolderId'], `${at}.subFolders[${j}].subFolderId`),
        name: read.optionalString(sub['name'], `${at}.subFolders[${j}].name`) ?? '',
      };
    }),
  };
}

export class AccuroAdapter implements EmrAdapter {
  readonly type = 'Accuro' as const;
  private readonly baseUrl: string;
  private readonly tenantId: string;
  private readonly uuid: string;
  private readonly credentials: Record<(typeof ACCURO_CREDENTIAL_KEYS)[number], string>;
  private readonly http: HttpClient;
  private readonly tokens: TokenCache;
  private readonly session: BearerSession;
  private readonly now: () => Date;
  /** Accuro's appointment dates and times (and its query's dates) are the clinic's wall clock, without a zone. */
  private readonly timeZone: string;
  private folders: AccuroFolder[] | undefined;
  private letterTypes: { id: string; name: string }[] | undefined;
  private appointmentTypes: { id: string; name: string }[] | undefined;
  private customFieldDefinitions: { id: string; name: string }[] | undefined;

  constructor(config: AdapterConfig) {
    requireKeys('Accuro', config.credentials, ACCURO_CREDENTIAL_KEYS);
    if (!config.tenantId) throw new Error('Accuro adapter: AdapterConfig.tenantId is required');
    this.credentials = config.credentials as Record<(typeof ACCURO_CREDENTIAL_KEYS)[number], string>;
    this.baseUrl = config.baseUrl.replace(/\/+$/, '');
    this.tenantId = config.tenantId;
    this.uuid = config.credentials['uuid'] || config.tenantId;
    this.now = config.now ?? (() => new Date());
    this.timeZone = emrTimeZone(config);
    this.http = new HttpClient({
      emr: 'Accuro',
      fetch: config.fetch,
      timeoutMs: config.timeoutMs,
      caBundle: config.caBundle,
      egress: config.egress,
      secrets: secretValues(config.credentials),
      now: this.now,
      ...(config.rateLimitWaits ? { rateLimitWaits: config.rateLimitWaits } : {}),
    });
    this.tokens = new TokenCache(() => this.fetchToken(), this.now);
    this.session = new BearerSession({
      http: this.http,
      tokens: this.tokens,
      headers: { 'x-qhr-subscription-key': this.credentials.subscriptionKey },
      classify,
    });
  }

  /** Gets a fresh token (checks client and API user) and makes one cheap call (checks key and uuid). */
  async authenticate(): Promise<AuthResult> {
    const token = await this.tokens.renew();
    await this.get('v1/offices');
    return { notAfter: token.expiresAt, notBefore: token.issuedAt, apiUser: this.credentials.apiUsername };
  }

  async listProviders(): Promise<Provider[]> {
    const { read, body } = await this.get('v1/providers');
    return read.array(body, 'body').map((item, i) => {
      const p = read.object(item, `[${i}]`);
      const provider: Provider = {
        id: read.id(p['providerId'], `[${i}].providerId`),
        firstName: read.optionalString(p['firstName'], `[${i}].firstName`) ?? '',
        lastName: read.optionalString(p['lastName'], `[${i}].lastName`) ?? '',
      };
      if (Array.isArray(p['officeIds'])) provider.officeIds = p['officeIds'].map((o, n) => read.id(o, `[${i}].officeIds[${n}]`));
      return provider;
    });
  }

  async listOffices(): Promise<Office[]> {
    const { read, body } = await this.get('v1/offices');
    return read.array(body, 'body').map((item, i) => {
      const o = read.object(item, `[${i}]`);
      return { id: read.id(o['officeId'], `[${i}].officeId`), name: read.optionalString(o['name'], `[${i}].name`) ?? '' };
    });
  }

  async listAppointments(from: Date, to: Date, providerIds?: string[]): Promise<Appointment[]> {
    const wanted = providerIds ? new Set(providerIds) : undefined;
    const out: Appointment[] = [];
    for await (const { read, item, n } of this.appointmentItems(from, to)) {
      const a = this.appointment(read, item, n);
      if ((!wanted || wanted.has(a.providerId)) && inInterval(new Date(a.start), from, to)) out.push(a);
    }
    return out;
  }

  /** The walk-in created under this key: its `externalReference`, in the listing of the minute around its start (the scheduler keeps HH:mm). */
  async findAppointmentByKey(query: AppointmentKeyQuery): Promise<{ id: string } | undefined> {
    const from = new Date(query.start.getTime() - 60_000);
    const to = new Date(query.start.getTime() + 60_000);
    for await (const { read, item, n } of this.appointmentItems(from, to)) {
      if (item['externalReference'] !== query.idempotencyKey) continue;
      const a = this.appointment(read, item, n);
      if (a.patientId === query.patientId && a.providerId === query.providerId) return { id: a.id };
    }
    return undefined;
  }

  /** Every appointment item of [from, to), page after page (`startingId` = the previous page's `lastId`). */
  private async *appointmentItems(from: Date, to: Date): AsyncGenerator<{ read: Reader; item: Json; n: number }> {
    if (to.getTime() <= from.getTime()) return;
    let startingId = 0;
    for (let page = 0; ; page++) {
      if (page >= MAX_PAGES) throw this.http.error('InvalidResponse', 'GET /v2/materials/appointments: paging does not end');
      const { read, body } = await this.get('v2/materials/appointments', {
        startDate: localDateTime(from, this.timeZone),
        endDate: localDateTime(to, this.timeZone),
        pageSize: ACCURO_PAGE_SIZE,
        startingId,
      });
      const pageBody = read.object(body, 'body');
      const list = read.array(pageBody['appointments'], 'appointments');
      if (list.length === 0) return;
      for (const [n, item] of list.entries()) yield { read, item: read.object(item, `appointments[${n}]`), n };
      const lastId = read.number(pageBody['lastId'], 'lastId');
      if (lastId <= startingId) return; // no progress: stop rather than loop
      startingId = lastId;
    }
  }

  async getPatient(id: string): Promise<Patient> {
    const { read, body } = await this.get(`v1/patients/${encodeURIComponent(id)}`);
    const p = read.object(body, 'body');
    const d = read.object(p['demographics'], 'demographics');
    const patient: Patient = {
      id: read.id(p['patientId'], 'patientId'),
      firstName: read.optionalString(d['firstName'], 'demographics.firstName') ?? '',
      lastName: read.optionalString(d['lastName'], 'demographics.lastName') ?? '',
      birthDate: read.date(d['birthday'], 'demographics.birthday'),
    };
    const sex = normalizeSex(read.optionalString(d['gender'], 'demographics.gender'));
    if (sex) patient.sex = sex;
    const card = d['healthCard'];
    if (card && typeof card === 'object') {
      const phn = read.optionalString((card as Json)['phn'], 'demographics.healthCard.phn');
      if (phn) patient.healthNumber = phn;
    }
    const email = d['email'];
    if (email && typeof email === 'object') {
      const address = read.optionalString((email as Json)['address'], 'demographics.email.address');
      if (address) patient.email = address;
    }
    const phones = d['phones'];
    if (Array.isArray(phones) && phones[0] && typeof phones[0] === 'object') {
      const number = read.optionalString((phones[0] as Json)['number'], 'demographics.phones[0].number');
      if (number) patient.phone = number;
    }
    return patient;
  }

  async postDocument(doc: DocumentToPost): Promise<{ id: string; duplicate: boolean }> {
    const { folderId, subFolderId } = await this.folderIds(doc.folder, doc.subfolder);
    const fileName = documentFileName(doc.title, doc.idempotencyKey);
    const details = {
      patientId: numeric(doc.patientId),
      folderId: numeric(folderId),
      ...(subFolderId === undefined ? {} : { subFolderId: numeric(subFolderId) }),
      fileName,
      description: doc.title,
      documentDate: localDate(this.now(), this.timeZone),
    };
    const boundary = `----cloudconnect${randomBytes(12).toString('hex')}`;
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="details"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(details)}\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="document"; filename="${fileName.replace(/"/g, '')}"\r\nContent-Type: application/pdf\r\n\r\n`,
      ),
      doc.pdf,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const response = await this.session.request(this.url('v1/provider-portal/documents'), {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'idempotency-key': doc.idempotencyKey },
      body,
    });
    const read = new Reader('Accuro', response.what);
    const answer = read.object(this.http.parseJson(response), 'body');
    return { id: read.id(answer['documentId'], 'documentId'), duplicate: isReplayed(response) };
  }

  async postNote(note: NoteToPost): Promise<{ id: string; duplicate: boolean }> {
    const letterTypeId = note.letterType?.trim() ? await this.letterTypeId(note.letterType) : undefined;
    const body = {
      title: note.title,
      note: note.text,
      noteDate: localDate(this.now(), this.timeZone),
      ...(letterTypeId === undefined ? {} : { letterTypeId: numeric(letterTypeId) }),
      externalId: note.idempotencyKey,
    };
    const response = await this.session.request(this.url(`v1/patients/${encodeURIComponent(note.patientId)}/encounter-notes`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': note.idempotencyKey },
      body: JSON.stringify(body),
    });
    const read = new Reader('Accuro', response.what);
    const answer = read.object(this.http.parseJson(response), 'body');
    return { id: read.id(answer['encounterNoteId'], 'encounterNoteId'), duplicate: isReplayed(response) };
  }

  /** The patient's document whose file name carries the key (`GET /v1/patients/{id}/documents`, our simulator's design). */
  async findDocumentByKey(query: FiledRecordQuery): Promise<{ id: string } | undefined> {
    const { read, body } = await this.get(`v1/patients/${encodeURIComponent(query.patientId)}/documents`);
    for (const [i, item] of read.array(body, 'body').entries()) {
      const d = read.object(item, `[${i}]`);
      const fileName = read.optionalString(d['fileName'], `[${i}].fileName`) ?? '';
      if (fileNameHasKey(fileName, query.idempotencyKey)) return { id: read.id(d['documentId'], `[${i}].documentId`) };
    }
    return undefined;
  }

  /** The patient's encounter note with the key as its `externalId` (our design, as the encounter-note call). */
  async findNoteByKey(query: FiledRecordQuery): Promise<{ id: string } | undefined> {
    const { read, body } = await this.get(`v1/patients/${encodeURIComponent(query.patientId)}/encounter-notes`, {
      externalId: query.idempotencyKey,
    });
    for (const [i, item] of read.array(body, 'body').entries()) {
      const n = read.object(item, `[${i}]`);
      if (n['externalId'] === query.idempotencyKey) return { id: read.id(n['encounterNoteId'], `[${i}].encounterNoteId`) };
    }
    return undefined;
  }

  async markArrived(appointmentId: string, idempotencyKey: string): Promise<void> {
    const response = await this.session.request(this.url(`v1/scheduler/appointments/${encodeURIComponent(appointmentId)}/status`), {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body: JSON.stringify({ status: 'Arrived' }),
    });
    this.http.parseJson(response);
  }

  async createAppointment(a: AppointmentToCreate): Promise<{ id: string; duplicate: boolean }> {
    const typeId = a.appointmentType?.trim() ? await this.appointmentTypeId(a.appointmentType) : undefined;
    const { date, time } = wallDateTime(a.start, this.timeZone);
    const body = {
      patientId: numeric(a.patientId),
      providerId: numeric(a.providerId),
      appointmentDate: date,
      startTime: time,
      duration: a.durationMinutes,
      ...(typeId === undefined ? {} : { appointmentTypeId: numeric(typeId) }),
      externalReference: a.idempotencyKey,
    };
    const response = await this.session.request(this.url('v1/scheduler/appointments'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': a.idempotencyKey },
      body: JSON.stringify(body),
    });
    const read = new Reader('Accuro', response.what);
    const answer = read.object(this.http.parseJson(response), 'body');
    return { id: read.id(answer['appointmentId'], 'appointmentId'), duplicate: isReplayed(response) };
  }

  private async appointmentTypeId(wanted: string): Promise<string> {
    if (!this.appointmentTypes) {
      const { read, body } = await this.get('v1/scheduler/appointment-types');
      this.appointmentTypes = read.array(body, 'body').map((item, i) => {
        const t = read.object(item, `[${i}]`);
        return {
          id: read.id(t['appointmentTypeId'], `[${i}].appointmentTypeId`),
          name: read.optionalString(t['name'], `[${i}].name`) ?? '',
        };
      });
    }
    const type = byNameOrId(this.appointmentTypes, wanted);
    if (!type) throw this.http.error('NotFound', `has no appointment type ${JSON.stringify(wanted)}`);
    return type.id;
  }

  /** Read-modify-write of the patient: only the given fields change, everything else is sent back as read. */
  async updateDemographics(update: DemographicsUpdate): Promise<{ duplicate: boolean }> {
    const url = this.url(`v1/patients/${encodeURIComponent(update.patientId)}`);
    const { read, body } = await this.get(`v1/patients/${encodeURIComponent(update.patientId)}`);
    const patient = { ...read.object(body, 'body') };
    patient['demographics'] = accuroDemographics({ ...read.object(patient['demographics'], 'demographics') }, update.changes);
    const response = await this.session.request(url, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'idempotency-key': update.idempotencyKey },
      body: JSON.stringify(patient),
    });
    return { duplicate: isReplayed(response) };
  }

  /** The patient's custom fields by the clinic's names; a name Accuro does not define is NotFound naming it. */
  async updateCustomFields(update: CustomFieldsUpdate): Promise<{ duplicate: boolean }> {
    const known = (list: { name: string }[]) => update.fields.every((f) => list.some((d) => d.name === f.field));
    // The list is cached; a name missing from it is looked up again (the clinic may have added the field since).
    if (!this.customFieldDefinitions || !known(this.customFieldDefinitions)) this.customFieldDefinitions = await this.customFieldList();
    const definitions = this.customFieldDefinitions;
    const values = update.fields.map(({ field, value }) => {
      const definition = definitions.find((d) => d.name === field);
      if (!definition) throw this.http.error('NotFound', `has no patient custom field ${JSON.stringify(field)}`);
      return { customFieldId: numeric(definition.id), value };
    });
    const response = await this.session.request(this.url(`v1/patients/${encodeURIComponent(update.patientId)}/custom-fields`), {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'idempotency-key': update.idempotencyKey },
      body: JSON.stringify(values),
    });
    return { duplicate: isReplayed(response) };
  }

  private async customFieldList(): Promise<{ id: string; name: string }[]> {
    const { read, body } = await this.get('v1/custom-fields');
    return read.array(body, 'body').map((item, i) => {
      const f = read.object(item, `[${i}]`);
      return { id: read.id(f['customFieldId'], `[${i}].customFieldId`), name: read.optionalString(f['name'], `[${i}].name`) ?? '' };
    });
  }

  /** The folder (and sub-folder) ids of the settings' names; no folder named: `Ocean`, else the first. */
  private async folderIds(name: string | undefined, subName: string | undefined): Promise<{ folderId: string; subFolderId?: string }> {
    if (!this.folders) {
      const { read, body } = await this.get('v1/provider-portal/folders');
      this.folders = read.array(body, 'body').map((item, i) => accuroFolder(read, item, `[${i}]`));
    }
    const folder = name?.trim() ? byName(this.folders, name) : (byName(this.folders, 'Ocean') ?? this.folders[0]);
    if (!folder)
      throw this.http.error(name?.trim() ? 'NotFound' : 'InvalidResponse', `has no document folder ${JSON.stringify(name ?? '')}`);
    if (!subName?.trim()) return { folderId: folder.id };
    const sub = byName(folder.subFolders, subName);
    if (!sub) throw this.http.error('NotFound', `folder ${JSON.stringify(folder.name)} has no sub-folder ${JSON.stringify(subName)}`);
    return { folderId: folder.id, subFolderId: sub.id };
  }

  private async letterTypeId(name: string): Promise<string> {
    if (!this.letterTypes) {
      const { read, body } = await this.get('v1/letter-types');
      this.letterTypes = read.array(body, 'body').map((item, i) => {
        const t = read.object(item, `[${i}]`);
        return { id: read.id(t['letterTypeId'], `[${i}].letterTypeId`), name: read.optionalString(t['name'], `[${i}].name`) ?? '' };
      });
    }
    const type = byName(this.letterTypes, name);
    if (!type) throw this.http.error('NotFound', `has no letter type ${JSON.stringify(name)}`);
    return type.id;
  }

  private appointment(read: Reader, a: Json, n: number): Appointment {
    const start = read.localDateTime(a['appointmentDate'], a['startTime'], `appointments[${n}].start`, this.timeZone);
    const minutes = a['duration'] === undefined ? 0 : read.number(a['duration'], `appointments[${n}].duration`);
    const rawStatus = typeof a['status'] === 'object' && a['status'] !== null ? (a['status'] as Json)['name'] : a['status'];
    const appointment: Appointment = {
      id: read.id(a['appointmentId'], `appointments[${n}].appointmentId`),
      providerId: read.id(a['providerId'], `appointments[${n}].providerId`),
      patientId: read.id(a['patientId'], `appointments[${n}].patientId`),
      start: start.toISOString(),
      end: new Date(start.getTime() + Math.max(0, minutes) * 60_000).toISOString(),
      status: STATUS[(read.optionalString(rawStatus, `appointments[${n}].status`) ?? '').toLowerCase()] ?? 'unknown',
    };
    if (a['officeId'] !== undefined && a['officeId'] !== null) appointment.officeId = read.id(a['officeId'], `appointments[${n}].officeId`);
    return appointment;
  }

  private url(path: string, query: Record<string, string | number> = {}): URL {
    return joinUrl(this.baseUrl, path, { ...query, uuid: this.uuid });
  }

  private async get(path: string, query: Record<string, string | number> = {}): Promise<{ read: Reader; body: unknown }> {
    const response = await this.session.request(this.url(path, query));
    return { read: new Reader('Accuro', response.what), body: this.http.parseJson(response) };
  }

  private fetchToken(): Promise<BearerToken> {
    const c = this.credentials;
    return requestToken(this.http, {
      url: joinUrl(this.baseUrl, 'v1/token', { tenant: this.tenantId }),
      headers: { authorization: basicAuth(c.clientId, c.clientSecret, true) },
      form: new URLSearchParams({ grant_type: 'password', username: c.apiUsername, password: c.apiPassword }),
      now: this.now(),
    });
  }
}

/** Accuro's gender ids (Male 1, Female 2, Other 3) of Ocean's sex codes. */
const ACCURO_GENDERS: Record<string, { genderId: number; gender: string }> = {
  M: { genderId: 1, gender: 'Male' },
  F: { genderId: 2, gender: 'Female' },
};

/** `demographics` of an Accuro patient with the given changes applied (nothing else touched). */
function accuroDemographics(d: Json, c: DemographicsUpdate['changes']): Json {
  const nested = (key: string): Json => (d[key] && typeof d[key] === 'object' && !Array.isArray(d[key]) ? { ...(d[key] as Json) } : {});
  if (c.firstName !== undefined) d['firstName'] = c.firstName;
  if (c.lastName !== undefined) d['lastName'] = c.lastName;
  if (c.birthDate !== undefined) d['birthday'] = `${c.birthDate}T00:00:00`;
  if (c.sex !== undefined) Object.assign(d, ACCURO_GENDERS[c.sex] ?? { genderId: 3, gender: 'Other' });
  if (c.healthNumber !== undefined) d['healthCard'] = { ...nested('healthCard'), phn: c.healthNumber };
  if (c.email !== undefined) d['email'] = { ...nested('email'), address: c.email };
  if (c.phone !== undefined) {
    const phones = Array.isArray(d['phones']) ? [...(d['phones'] as Json[])] : [];
    phones[0] = phones[0] && typeof phones[0] === 'object' ? { ...phones[0], number: c.phone } : { number: c.phone, type: 'Home' };
    d['phones'] = phones;
  }
  return d;
}
