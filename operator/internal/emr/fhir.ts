// An EMR reached through FHIR R4, as in Ocean's Cloud Connect FHIR guide. OAuth 2 client
// credentials (client_secret_basic) at `tokenUrl` (default `{baseUrl}/oauth2/token`); when the
// server hands out a refresh token it is used first and the client-credentials grant is the
// fallback. `authenticate` also reads `metadata` and checks the server speaks R4 and supports what
// we use. Searches follow Bundle `link[relation=next]`, only on the base URL's origin (a bearer
// token is never sent elsewhere). Documents are DocumentReferences (PDF inline, LOINC 51855-5)
// carrying the idempotency key as an identifier, posted as a conditional create
// (`If-None-Exist: identifier=…`): 201 is a new document, 200 the one created earlier. Conditional
// create is optional in FHIR (a server without it creates another), so after a relay crash the relay
// first searches `DocumentReference?identifier=…` (findDocumentByKey / findNoteByKey).
// Check-in: read the Appointment, PUT it back with status `arrived` and `If-Match` on the version read
// (as the demographics update does); walk-ins: POST Appointment as a conditional create on the
// idempotency key (identifier, If-None-Exist), appointmentType a code of HL7 v2-0276 (e.g. WALKIN).
// Demographic updates and custom fields are a read-modify-write of the Patient (`PUT Patient/{id}`,
// If-Match on the version read). A custom demographic field is a Patient.extension whose url is
// CUSTOM_FIELD_URL + the field name, with a valueString; the server must define it (a
// StructureDefinition with that url: `GET StructureDefinition?url=…`), else NotFound naming the field.
import { createHash } from 'node:crypto';
import { BearerSession, requestToken } from '../httpx/bearer.ts';
import { basicAuth, HttpClient, type HttpResponse, joinUrl } from '../httpx/http.ts';
import { type Json, Reader } from '../httpx/json-reader.ts';
import { type BearerToken, TokenCache } from '../httpx/token-cache.ts';
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
  type FiledRecordQuery,
  type NoteToPost,
  type Office,
  type Patient,
  type Provider,
} from './adapter.ts';
import { assertValidDocumentReference } from './fhir-validate.ts';
import {
  APPOINTMENT_STATUSES,
  type AppointmentStatus,
  emrTimeZone,
  inInterval,
  normalizeSex,
  requireKeys,
  secretValues,
} from './shared.ts';

export const FHIR_CREDENTIAL_KEYS = ['clientId', 'clientSecret'] as const;

/** The identifier system under which we record the idempotency key of a posted document. */
export const IDEMPOTENCY_SYSTEM = 'urn:cloudconnect.dev:idempotency-key';
/** The extension URL of a custom demographic field, before the field's name (README "Settings × EMR: demographics"). */
export const CUSTOM_FIELD_URL = 'https://cloudconnect.dev/fhir/StructureDefinition/custom-field/';
const LOINC_PATIENT_NOTE = { system: 'http://loinc.org', code: '51855-5', display: 'Patient Note' } as const;
const LOINC_PROGRESS_NOTE = { system: 'http://loinc.org', code: '11506-3', display: 'Progress note' } as const;

const PAGE_SIZE = 100;
const PRACTITIONERS_PER_SEARCH = 50;
const MAX_PAGES = 10_000;
const REQUIRED_CAPABILITIES: [string, string][] = [
  ['Practitioner', 'search-type'],
  ['Appointment', 'search-type'],
  ['Patient', 'read'],
  ['DocumentReference', 'create'],
];

export class FhirAdapter implements EmrAdapter {
  readonly type = 'FHIR' as const;
  private readonly baseUrl: string;
  private readonly origin: string;
  private readonly tokenUrl: URL;
  private readonly credentials: Record<(typeof FHIR_CREDENTIAL_KEYS)[number], string>;
  private readonly http: HttpClient;
  private readonly tokens: TokenCache;
  private readonly session: BearerSession;
  private readonly now: () => Date;
  /** FHIR instants carry an offset; a server that leaves it out is read in the EMR's zone, not the process's. */
  private readonly timeZone: string;

  constructor(config: AdapterConfig) {
    requireKeys('FHIR', config.credentials, FHIR_CREDENTIAL_KEYS);
    this.credentials = config.credentials as Record<(typeof FHIR_CREDENTIAL_KEYS)[number], string>;
    this.baseUrl = config.baseUrl.replace(/\/+$/, '');
    this.origin = new URL(this.baseUrl).origin;
    this.tokenUrl = new URL(config.tokenUrl ?? `${this.baseUrl}/oauth2/token`);
    this.now = config.now ?? (() => new Date());
    this.timeZone = emrTimeZone(config);
    this.http = new HttpClient({
      emr: 'FHIR',
      fetch: config.fetch,
      timeoutMs: config.timeoutMs,
      caBundle: config.caBundle,
      egress: config.egress,
      secrets: secretValues(config.credentials),
      now: this.now,
      ...(config.rateLimitWaits ? { rateLimitWaits: config.rateLimitWaits } : {}),
    });
    this.tokens = new TokenCache((previous) => this.fetchToken(previous), this.now);
    this.session = new BearerSession({ http: this.http, tokens: this.tokens, headers: { accept: 'application/fhir+json' } });
  }

  async authenticate(): Promise<AuthResult> {
    const token = await this.tokens.renew();
    const { read, body } = await this.get(joinUrl(this.baseUrl, 'metadata'));
    const cap = read.object(body, 'body');
    if (cap['resourceType'] !== 'CapabilityStatement') throw read.fail('resourceType', 'CapabilityStatement');
    const version = read.optionalString(cap['fhirVersion'], 'fhirVersion') ?? '';
    if (!version.startsWith('4.0'))
      throw this.http.error(
        'InvalidResponse',
        `GET /metadata: the server speaks FHIR ${version || 'of an unknown version'}, not R4 (4.0.x)`,
      );
    const missing = missingCapabilities(read, cap);
    if (missing.length > 0) throw this.http.error('InvalidResponse', `GET /metadata: the server does not support ${missing.join(', ')}`);
    // metadata is usually public: one cheap authorized search proves the token is accepted.
    await this.get(joinUrl(this.baseUrl, 'Practitioner', { _count: 1 }));
    const current = this.tokens.current ?? token;
    return { notAfter: current.expiresAt, notBefore: current.issuedAt };
  }

  async listProviders(): Promise<Provider[]> {
    const resources = await this.search(joinUrl(this.baseUrl, 'Practitioner', { _count: PAGE_SIZE }), 'Practitioner');
    return resources.map(({ read, resource, path }) => {
      const name = humanName(read, resource['name'], `${path}.name`);
      return { id: read.id(resource['id'], `${path}.id`), firstName: name.given, lastName: name.family };
    });
  }

  async listOffices(): Promise<Office[]> {
    return [];
  }

  async listAppointments(from: Date, to: Date, providerIds?: string[]): Promise<Appointment[]> {
    if (to.getTime() <= from.getTime()) return [];
    const chunks: (string[] | undefined)[] = [];
    if (providerIds === undefined) chunks.push(undefined);
    else
      for (let i = 0; i < providerIds.length; i += PRACTITIONERS_PER_SEARCH)
        chunks.push(providerIds.slice(i, i + PRACTITIONERS_PER_SEARCH));
    const wanted = providerIds ? new Set(providerIds) : undefined;
    const out = new Map<string, Appointment>();
    for (const chunk of chunks) {
      const url = joinUrl(this.baseUrl, 'Appointment', { _count: PAGE_SIZE });
      if (chunk) url.searchParams.set('practitioner', chunk.map((id) => `Practitioner/${id}`).join(','));
      url.searchParams.append('date', `ge${from.toISOString()}`);
      url.searchParams.append('date', `lt${to.toISOString()}`);
      for (const { read, resource, path } of await this.search(url, 'Appointment')) {
        const a = appointment(read, resource, path, this.timeZone);
        if (a && (!wanted || wanted.has(a.providerId)) && inInterval(new Date(a.start), from, to)) out.set(a.id, a);
      }
    }
    return [...out.values()].sort((a, b) => a.start.localeCompare(b.start) || a.id.localeCompare(b.id));
  }

  async getPatient(id: string): Promise<Patient> {
    const { read, body } = await this.get(joinUrl(this.baseUrl, `Patient/${encodeURIComponent(id)}`));
    const r = read.object(body, 'body');
    if (r['resourceType'] !== 'Patient') throw read.fail('resourceType', 'Patient');
    const name = humanName(read, r['name'], 'name');
    const patient: Patient = {
      id: read.id(r['id'], 'id'),
      firstName: name.given,
      lastName: name.family,
      birthDate: read.date(r['birthDate'], 'birthDate'),
    };
    const sex = normalizeSex(read.optionalString(r['gender'], 'gender'));
    if (sex) patient.sex = sex;
    const hcn = healthNumber(r['identifier']);
    if (hcn) patient.healthNumber = hcn;
    for (const t of Array.isArray(r['telecom']) ? (r['telecom'] as Json[]) : []) {
      if (t?.['system'] === 'email' && typeof t['value'] === 'string' && !patient.email) patient.email = t['value'];
      if (t?.['system'] === 'phone' && typeof t['value'] === 'string' && !patient.phone) patient.phone = t['value'];
    }
    return patient;
  }

  async postDocument(doc: DocumentToPost): Promise<{ id: string; duplicate: boolean }> {
    return this.createDocumentReference(documentReference(doc, this.now()), doc.idempotencyKey);
  }

  /** A chart note: a DocumentReference typed LOINC 11506-3 (Progress note), its text inline as text/plain. */
  async postNote(note: NoteToPost): Promise<{ id: string; duplicate: boolean }> {
    return this.createDocumentReference(progressNoteReference(note, this.now()), note.idempotencyKey);
  }

  /** The DocumentReference (document or progress note) whose identifier is the key: `GET DocumentReference?identifier=system|key`. */
  async findDocumentByKey(query: FiledRecordQuery): Promise<{ id: string } | undefined> {
    const url = joinUrl(this.baseUrl, 'DocumentReference', { identifier: `${IDEMPOTENCY_SYSTEM}|${query.idempotencyKey}` });
    const found = await this.search(url, 'DocumentReference');
    for (const { read, resource, path } of found) {
      const ids = Array.isArray(resource['identifier']) ? (resource['identifier'] as Json[]) : [];
      if (ids.some((i) => i?.['system'] === IDEMPOTENCY_SYSTEM && i['value'] === query.idempotencyKey))
        return { id: read.id(resource['id'], `${path}.id`) };
    }
    return undefined;
  }

  /** A chart note is a DocumentReference too: the same search. */
  findNoteByKey(query: FiledRecordQuery): Promise<{ id: string } | undefined> {
    return this.findDocumentByKey(query);
  }

  /** A conditional create of the DocumentReference, keyed by the idempotency key (201 new, 200 existing). */
  private async createDocumentReference(resource: Json, idempotencyKey: string): Promise<{ id: string; duplicate: boolean }> {
    assertValidDocumentReference(resource);
    const response = await this.session.request(
      joinUrl(this.baseUrl, 'DocumentReference'),
      {
        method: 'POST',
        headers: {
          'content-type': 'application/fhir+json',
          'if-none-exist': `identifier=${encodeURIComponent(IDEMPOTENCY_SYSTEM)}|${encodeURIComponent(idempotencyKey)}`,
          prefer: 'return=representation',
        },
        body: JSON.stringify(resource),
      },
      (r) => this.outcomeError(r),
    );
    const read = new Reader('FHIR', response.what);
    let id: string | undefined;
    if (response.body.length > 0) {
      const body = read.object(this.http.parseJson(response), 'body');
      if (typeof body['id'] === 'string') id = body['id'];
    }
    id ??= /DocumentReference\/([A-Za-z0-9\-.]{1,64})/.exec(response.headers.get('location') ?? '')?.[1];
    if (!id) throw read.fail('id', 'present (neither in the body nor in Location)');
    return { id, duplicate: response.status === 200 };
  }

  /**
   * Read-modify-write of the Patient (FHIR `PUT Patient/{id}` with `If-Match` on the version read):
   * only the changed fields are touched, everything else the EMR holds is sent back as it was. A PUT
   * is idempotent by nature; `X-Request-Id` carries the idempotency key so the server can tell a
   * repeat. A concurrent change (412) is EmrUnreachable, so the relay retries with a fresh read.
   */
  async updateDemographics(update: DemographicsUpdate): Promise<{ duplicate: boolean }> {
    const url = joinUrl(this.baseUrl, `Patient/${encodeURIComponent(update.patientId)}`);
    const { read, body } = await this.get(url);
    const resource = { ...read.object(body, 'body') } as Json;
    if (resource['resourceType'] !== 'Patient') throw read.fail('resourceType', 'Patient');
    const c = update.changes;
    if (c.firstName !== undefined || c.lastName !== undefined) {
      const names = Array.isArray(resource['name']) ? [...(resource['name'] as Json[])] : [];
      let i = names.findIndex((n) => n?.['use'] === 'official');
      if (i < 0) {
        if (names.length === 0) names.push({ use: 'official' });
        i = 0;
      }
      const name = { ...(names[i] as Json) };
      if (c.lastName !== undefined) name['family'] = c.lastName;
      if (c.firstName !== undefined)
        name['given'] = [c.firstName, ...(Array.isArray(name['given']) ? (name['given'] as unknown[]).slice(1) : [])];
      names[i] = name;
      resource['name'] = names;
    }
    if (c.birthDate !== undefined) resource['birthDate'] = c.birthDate;
    if (c.sex !== undefined) resource['gender'] = fhirGender(c.sex);
    for (const system of ['phone', 'email'] as const) {
      const value = c[system];
      if (value === undefined) continue;
      const telecom = Array.isArray(resource['telecom']) ? [...(resource['telecom'] as Json[])] : [];
      const i = telecom.findIndex((t) => t?.['system'] === system);
      if (i >= 0) telecom[i] = { ...(telecom[i] as Json), value };
      else telecom.push({ system, value });
      resource['telecom'] = telecom;
    }
    if (c.healthNumber !== undefined) {
      const ids = Array.isArray(resource['identifier']) ? [...(resource['identifier'] as Json[])] : [];
      const i = ids.findIndex(isJhnTyped);
      if (i >= 0) ids[i] = { ...(ids[i] as Json), value: c.healthNumber };
      else
        ids.push({ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'JHN' }] }, value: c.healthNumber });
      resource['identifier'] = ids;
    }
    return this.putVersioned(url, resource, update.idempotencyKey);
  }

  /**
   * Custom demographic fields as Patient extensions (CUSTOM_FIELD_URL + name, valueString): the
   * server must define each (a StructureDefinition with that url), else NotFound naming the field
   * before anything is written; the others of the patient's extensions are kept as read.
   */
  async updateCustomFields(update: CustomFieldsUpdate): Promise<{ duplicate: boolean }> {
    const urls = update.fields.map((f) => `${CUSTOM_FIELD_URL}${f.field}`);
    const defined = new Set<string>();
    const search = joinUrl(this.baseUrl, 'StructureDefinition', { url: urls.join(','), _count: PAGE_SIZE });
    for (const { read, resource, path } of await this.search(search, 'StructureDefinition'))
      defined.add(read.string(resource['url'], `${path}.url`));
    const missing = update.fields.find((f) => !defined.has(`${CUSTOM_FIELD_URL}${f.field}`));
    if (missing)
      throw this.http.error('NotFound', `has no custom field ${JSON.stringify(missing.field)} (no StructureDefinition for its extension)`);
    const url = joinUrl(this.baseUrl, `Patient/${encodeURIComponent(update.patientId)}`);
    const { read, body } = await this.get(url);
    const resource = { ...read.object(body, 'body') } as Json;
    if (resource['resourceType'] !== 'Patient') throw read.fail('resourceType', 'Patient');
    const extensions = Array.isArray(resource['extension']) ? [...(resource['extension'] as Json[])] : [];
    for (const { field, value } of update.fields) {
      const i = extensions.findIndex((e) => e?.['url'] === `${CUSTOM_FIELD_URL}${field}`);
      const extension = { url: `${CUSTOM_FIELD_URL}${field}`, valueString: value };
      if (i >= 0) extensions[i] = extension;
      else extensions.push(extension);
    }
    resource['extension'] = extensions;
    return this.putVersioned(url, resource, update.idempotencyKey);
  }

  /** PUT of a resource as read, If-Match its version; X-Request-Id carries the idempotency key; 412 is retried by the relay. */
  private async putVersioned(url: URL, resource: Json, idempotencyKey: string): Promise<{ duplicate: boolean }> {
    const type = String(resource['resourceType']);
    const version = (resource['meta'] as Json | undefined)?.['versionId'];
    const response = await this.session.request(
      url,
      {
        method: 'PUT',
        headers: {
          'content-type': 'application/fhir+json',
          'x-request-id': idempotencyKey,
          ...(typeof version === 'string' ? { 'if-match': `W/"${version}"` } : {}),
        },
        body: JSON.stringify(resource),
      },
      (r) =>
        r.status === 412
          ? this.http.error('EmrUnreachable', `PUT ${type}: HTTP 412, the ${type.toLowerCase()} changed meanwhile`)
          : this.outcomeError(r),
    );
    return { duplicate: response.headers.get('idempotent-replayed') === 'true' };
  }

  /** Read-modify-write of the Appointment's status (PUT with If-Match on the version read, X-Request-Id the key). */
  async markArrived(appointmentId: string, idempotencyKey: string): Promise<void> {
    const url = joinUrl(this.baseUrl, `Appointment/${encodeURIComponent(appointmentId)}`);
    const { read, body } = await this.get(url);
    const resource = { ...read.object(body, 'body') } as Json;
    if (resource['resourceType'] !== 'Appointment') throw read.fail('resourceType', 'Appointment');
    if (resource['status'] === 'arrived') return;
    await this.putVersioned(url, { ...resource, status: 'arrived' }, idempotencyKey);
  }

  /** A conditional create of the Appointment, keyed by the idempotency key (201 new, 200 existing). */
  async createAppointment(a: AppointmentToCreate): Promise<{ id: string; duplicate: boolean }> {
    const response = await this.session.request(
      joinUrl(this.baseUrl, 'Appointment'),
      {
        method: 'POST',
        headers: {
          'content-type': 'application/fhir+json',
          'if-none-exist': `identifier=${encodeURIComponent(IDEMPOTENCY_SYSTEM)}|${encodeURIComponent(a.idempotencyKey)}`,
        },
        body: JSON.stringify(walkInAppointment(a)),
      },
      (r) => this.outcomeError(r),
    );
    const read = new Reader('FHIR', response.what);
    const created = read.object(this.http.parseJson(response), 'body');
    return { id: read.id(created['id'], 'id'), duplicate: response.status === 200 };
  }

  /** The walk-in created under this key: `GET Appointment?identifier=system|key` (FHIR R4 token search). */
  async findAppointmentByKey(query: AppointmentKeyQuery): Promise<{ id: string } | undefined> {
    const url = joinUrl(this.baseUrl, 'Appointment', { identifier: `${IDEMPOTENCY_SYSTEM}|${query.idempotencyKey}` });
    for (const { read, resource, path } of await this.search(url, 'Appointment')) {
      const a = appointment(read, resource, path, this.timeZone);
      if (a && a.patientId === query.patientId) return { id: a.id };
    }
    return undefined;
  }

  /** All resources of `resourceType` from a search, following `next` links on our origin. */
  private async search(first: URL, resourceType: string): Promise<{ read: Reader; resource: Json; path: string }[]> {
    const out: { read: Reader; resource: Json; path: string }[] = [];
    let url: URL | undefined = first;
    for (let page = 0; url; page++) {
      if (page >= MAX_PAGES) throw this.http.error('InvalidResponse', `GET ${first.pathname}: paging does not end`);
      const { read, body }: { read: Reader; body: unknown } = await this.get(url);
      const bundle = read.object(body, 'body');
      if (bundle['resourceType'] !== 'Bundle') throw read.fail('resourceType', 'Bundle');
      const entries = bundle['entry'] === undefined ? [] : read.array(bundle['entry'], 'entry');
      entries.forEach((e, i) => {
        const resource = read.object(read.object(e, `entry[${i}]`)['resource'], `entry[${i}].resource`);
        // Searches may include other resources (_include, OperationOutcome); keep the matches.
        if (resource['resourceType'] === resourceType) out.push({ read, resource, path: `entry[${i}].resource` });
      });
      url = this.nextLink(read, bundle, first);
    }
    return out;
  }

  private nextLink(read: Reader, bundle: Json, first: URL): URL | undefined {
    const links = bundle['link'] === undefined ? [] : read.array(bundle['link'], 'link');
    const next = links.find((l) => l && typeof l === 'object' && (l as Json)['relation'] === 'next') as Json | undefined;
    if (!next) return undefined;
    const href = read.string(next['url'], 'link[next].url');
    let url: URL;
    try {
      url = new URL(href, `${this.baseUrl}/`);
    } catch {
      throw read.fail('link[next].url', 'a URL');
    }
    if (url.origin !== this.origin) {
      throw this.http.error(
        'InvalidResponse',
        `GET ${first.pathname}: the next page link points to another host; not following it with our token`,
      );
    }
    return url;
  }

  private async get(url: URL): Promise<{ read: Reader; body: unknown }> {
    const response = await this.session.request(url, {}, (r) => this.outcomeError(r));
    return { read: new Reader('FHIR', response.what), body: this.http.parseJson(response) };
  }

  /**
   * FHIR servers explain 4xx answers with an OperationOutcome; `not-found` there (e.g. a 422 for a
   * subject Patient that does not exist) is NotFound. Diagnostics are not quoted: they may hold PHI.
   */
  private outcomeError(response: HttpResponse): EmrError | undefined {
    if (response.status < 400 || response.status >= 500 || response.status === 429 || response.status === 413) return undefined;
    let body: unknown;
    try {
      body = JSON.parse(response.body.toString('utf8'));
    } catch {
      return undefined;
    }
    if (!body || typeof body !== 'object' || (body as Json)['resourceType'] !== 'OperationOutcome') return undefined;
    const issues = Array.isArray((body as Json)['issue']) ? ((body as Json)['issue'] as Json[]) : [];
    const codes = [
      ...new Set(issues.map((i) => i?.['code']).filter((c): c is string => typeof c === 'string' && /^[a-z-]{1,32}$/.test(c))),
    ];
    if (codes.includes('not-found'))
      return this.http.error('NotFound', `${response.what}: HTTP ${response.status}, OperationOutcome not-found`);
    if (response.status === 401 || response.status === 403) return undefined;
    const detail = codes.length > 0 ? `, OperationOutcome ${codes.join(', ')}` : '';
    return this.http.error('InvalidResponse', `${response.what}: HTTP ${response.status}, the EMR refused the request${detail}`);
  }

  private async fetchToken(previous: BearerToken | undefined): Promise<BearerToken> {
    const headers = { authorization: basicAuth(this.credentials.clientId, this.credentials.clientSecret, true) };
    if (previous?.refreshToken) {
      try {
        return await requestToken(this.http, {
          url: this.tokenUrl,
          headers,
          form: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: previous.refreshToken }),
          now: this.now(),
        });
      } catch (error) {
        // A used or expired refresh token is normal; the client credentials grant decides.
        if (error instanceof EmrError && (error.reason === 'EmrUnreachable' || error.reason === 'RateLimited')) throw error;
      }
    }
    return requestToken(this.http, {
      url: this.tokenUrl,
      headers,
      form: new URLSearchParams({ grant_type: 'client_credentials' }),
      now: this.now(),
    });
  }
}

function missingCapabilities(read: Reader, cap: Json): string[] {
  const rest = cap['rest'] === undefined ? [] : read.array(cap['rest'], 'rest');
  const server = rest.find((r) => r && typeof r === 'object' && (r as Json)['mode'] === 'server') as Json | undefined;
  const resources = (server && Array.isArray(server['resource']) ? server['resource'] : []) as Json[];
  return REQUIRED_CAPABILITIES.filter(([type, interaction]) => {
    const r = resources.find((x) => x?.['type'] === type);
    const interactions = Array.isArray(r?.['interaction']) ? (r['interaction'] as Json[]).map((i) => i?.['code']) : [];
    return !interactions.includes(interaction);
  }).map(([type, interaction]) => `${type} ${interaction}`);
}

function humanName(read: Reader, value: unknown, path: string): { given: string; family: string } {
  if (value === undefined) return { given: '', family: '' };
  const names = read.array(value, path) as Json[];
  const name = names.find((n) => n?.['use'] === 'official') ?? names.find((n) => n?.['use'] === 'usual') ?? names[0];
  if (!name) return { given: '', family: '' };
  const given = Array.isArray(name['given']) && typeof name['given'][0] === 'string' ? name['given'][0] : '';
  const family = typeof name['family'] === 'string' ? name['family'] : '';
  return { given, family };
}

/** Is this identifier typed JHN (v2-0203 jurisdictional health number)? */
function isJhnTyped(id: Json | undefined): boolean {
  const coding = (id?.['type'] as Json | undefined)?.['coding'];
  return Array.isArray(coding) && (coding as Json[]).some((c) => c?.['code'] === 'JHN');
}

/** The jurisdictional health number: identifier typed JHN, or a system that says it is a health card number. */
function healthNumber(value: unknown): string | undefined {
  if (!Array.isArray(value)) return undefined;
  const ids = value as Json[];
  const typed = ids.find(isJhnTyped);
  const bySystem = ids.find((id) => typeof id?.['system'] === 'string' && /hcn|health-?card|health-?number/i.test(id['system']));
  const found = typed ?? bySystem;
  return typeof found?.['value'] === 'string' ? found['value'] : undefined;
}

function appointment(read: Reader, r: Json, path: string, timeZone: string): Appointment | undefined {
  const participants = r['participant'] === undefined ? [] : (read.array(r['participant'], `${path}.participant`) as Json[]);
  const refs = participants
    .map((p) => (p?.['actor'] as Json | undefined)?.['reference'])
    .filter((ref): ref is string => typeof ref === 'string');
  const patientRef = refs.find((ref) => /(^|\/)Patient\/[^/]+$/.test(ref));
  const practitionerRef = refs.find((ref) => /(^|\/)Practitioner\/[^/]+$/.test(ref));
  // Blocked time and meetings have no patient; Cloud Connect only syncs patient appointments.
  if (!patientRef || !practitionerRef || r['start'] === undefined) return undefined;
  const start = read.zonedDateTime(r['start'], `${path}.start`, timeZone);
  const end = r['end'] === undefined ? start : read.zonedDateTime(r['end'], `${path}.end`, timeZone);
  const status = read.string(r['status'], `${path}.status`);
  const a: Appointment = {
    id: read.id(r['id'], `${path}.id`),
    providerId: practitionerRef.split('/').pop() as string,
    patientId: patientRef.split('/').pop() as string,
    start: start.toISOString(),
    end: end.toISOString(),
    status: (APPOINTMENT_STATUSES as readonly string[]).includes(status) ? (status as AppointmentStatus) : mapStatus(status),
  };
  return a;
}

function mapStatus(status: string): AppointmentStatus {
  if (status === 'checked-in') return 'arrived';
  if (status === 'pending' || status === 'proposed' || status === 'waitlist') return 'booked';
  return 'unknown';
}

/** The walk-in Appointment we create: booked (then marked arrived), the idempotency key as identifier. */
function walkInAppointment(a: AppointmentToCreate): Json {
  return {
    resourceType: 'Appointment',
    identifier: [{ system: IDEMPOTENCY_SYSTEM, value: a.idempotencyKey }],
    status: 'booked',
    ...(a.appointmentType?.trim()
      ? {
          appointmentType: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0276', code: a.appointmentType.trim() }],
            text: a.appointmentType.trim(),
          },
        }
      : {}),
    start: a.start.toISOString(),
    end: new Date(a.start.getTime() + a.durationMinutes * 60_000).toISOString(),
    minutesDuration: a.durationMinutes,
    participant: [
      { actor: { reference: `Patient/${a.patientId}` }, status: 'accepted' },
      { actor: { reference: `Practitioner/${a.providerId}` }, status: 'accepted' },
    ],
  };
}

/** The DocumentReference we post: PDF inline, LOINC 51855-5, the idempotency key as identifier. */
export function documentReference(doc: DocumentToPost, now: Date): Json {
  const resource: Json = {
    resourceType: 'DocumentReference',
    identifier: [{ system: IDEMPOTENCY_SYSTEM, value: doc.idempotencyKey }],
    status: 'current',
    docStatus: 'final',
    type: { coding: [{ ...LOINC_PATIENT_NOTE }], text: LOINC_PATIENT_NOTE.display },
    subject: { reference: `Patient/${doc.patientId}` },
    date: now.toISOString(),
    content: [
      {
        attachment: {
          contentType: 'application/pdf',
          data: doc.pdf.toString('base64'),
          size: doc.pdf.length,
          hash: createHash('sha1').update(doc.pdf).digest('base64'),
          creation: now.toISOString(),
          ...(doc.title.trim() ? { title: doc.title } : {}),
        },
      },
    ],
  };
  if (doc.title.trim()) resource['description'] = doc.title;
  // The folder is the first category's text, the subfolder the second's (FHIR has no folders).
  if (doc.folder?.trim()) resource['category'] = [{ text: doc.folder }, ...(doc.subfolder?.trim() ? [{ text: doc.subfolder }] : [])];
  return resource;
}

/** A progress note as a DocumentReference: LOINC 11506-3, the letter type as the category's text, the text inline. */
export function progressNoteReference(note: NoteToPost, now: Date): Json {
  const text = Buffer.from(`${note.title}\n\n${note.text}`, 'utf8');
  const resource: Json = {
    resourceType: 'DocumentReference',
    identifier: [{ system: IDEMPOTENCY_SYSTEM, value: note.idempotencyKey }],
    status: 'current',
    docStatus: 'final',
    type: { coding: [{ ...LOINC_PROGRESS_NOTE }], text: LOINC_PROGRESS_NOTE.display },
    subject: { reference: `Patient/${note.patientId}` },
    date: now.toISOString(),
    description: note.title,
    content: [
      {
        attachment: {
          contentType: 'text/plain; charset=utf-8',
          data: text.toString('base64'),
          size: text.length,
          creation: now.toISOString(),
        },
      },
    ],
  };
  if (note.letterType?.trim()) resource['category'] = [{ text: note.letterType }];
  return resource;
}

/** Ocean's sex code of a demographic update as a FHIR AdministrativeGender: F, M, anything else other. */
function fhirGender(sex: string): 'female' | 'male' | 'other' {
  if (sex === 'F') return 'female';
  if (sex === 'M') return 'male';
  return 'other';
}
