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
import { randomBytes } from 'node:crypto';
import { localDate, wallClockOf } from '../../runtime/zoned-time.ts';
import { BearerSession, requestToken } from '../httpx/bearer.ts';
import { basicAuth, HttpClient, type HttpResponse, isReplayed, joinUrl } from '../httpx/http.ts';
import { type Json, Reader } from '../httpx/json-reader.ts';
import { type BearerToken, TokenCache } from '../httpx/token-cache.ts';
import type {
  AdapterConfig,
  Appointment,
  AuthResult,
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
  documentFileName,
  emrTimeZone,
  fileNameHasKey,
  inInterval,
  normalizeSex,
  requireKeys,
  secretValues,
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
    if (to.getTime() <= from.getTime()) return [];
    const wanted = providerIds ? new Set(providerIds) : undefined;
    const out: Appointment[] = [];
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
      if (list.length === 0) break;
      list.forEach((item, n) => {
        const a = this.appointment(read, read.object(item, `appointments[${n}]`), n);
        if ((!wanted || wanted.has(a.providerId)) && inInterval(new Date(a.start), from, to)) out.push(a);
      });
      const lastId = read.number(pageBody['lastId'], 'lastId');
      if (lastId <= startingId) break; // no progress: stop rather than loop
      startingId = lastId;
    }
    return out;
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
