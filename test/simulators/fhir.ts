// FHIR R4 EMR simulator, after Ocean's Cloud Connect FHIR guide (Cloud Connect as a FHIR client):
//   POST {base}/oauth2/token   client_credentials (client_secret_basic or client_secret_post) and
//                              refresh_token grants → {access_token, expires_in, refresh_token}
//   GET  {base}/metadata       CapabilityStatement (public, as usual for FHIR servers)
//   GET  {base}/Practitioner   searchset Bundle, paged (_count ≤ 100, `next` links)
//   GET  {base}/Appointment?practitioner=a,b&date=ge…&date=lt…   paged with `next` links
//   GET  {base}/Patient/{id}
//   PUT  {base}/Patient/{id}   update (If-Match W/"version" honoured: 412 on a stale version);
//                              X-Request-Id is recorded, a repeated one is a duplicate (answered as
//                              the first, Idempotent-Replayed: true); updates in `patientUpdates`
//                              Custom demographic fields are Patient.extension entries whose url is
//                              CUSTOM_FIELD_URL + the field name (valueString): a name this server does
//                              not define answers 422 OperationOutcome `not-found`; values are recorded
//                              per patient (state.patients), as the demographic changes are
//   GET  {base}/StructureDefinition?url=u1,u2   the custom-field extensions this server defines
//   GET  {base}/DocumentReference?identifier=system|value   searchset Bundle of the matches
//   POST {base}/DocumentReference   validated; conditional create with If-None-Exist only with the
//        `honorIdempotencyKey` switch (off by default: conditional create is optional in FHIR, and
//        the server then creates another). A document's
//        folder is category[0].text, its subfolder category[1].text; a DocumentReference typed LOINC
//        11506-3 (Progress note) is stored as a chart note (its letter type: category[0].text)
//                              (identifier=system|value): 201 Created, or 200 with the existing one
//   GET  {base}/Appointment/{id}   with meta.versionId and ETag W/"version"
//   PUT  {base}/Appointment/{id}   update of the status (If-Match honoured: 412 on a stale version; the
//                              participants, start and end must stay as stored: 422 otherwise)
//   POST {base}/Appointment    create, conditional with If-None-Exist (identifier=system|value); the
//                              Practitioner and Patient must exist, appointmentType a code of HL7 v2-0276
//                              (CHECKUP, EMERGENCY, FOLLOWUP, ROUTINE, WALKIN): 422 otherwise
// Errors: RFC 6749 §5.2 at the token endpoint (invalid_client, invalid_grant, unauthorized_client
// when the client was disabled), RFC 6750 invalid_token on data calls, OperationOutcome bodies.
// Paging uses an opaque `_cursor` parameter in `next` links (servers choose their own).
import {
  basicCredentials,
  bearerError,
  bearerToken,
  type Ctx,
  intParam,
  type Reply,
  type Route,
  SimHttpError,
  SimState,
  type Simulator,
  type SimulatorOptions,
  serve,
  tokenError,
  visibleAppointments,
} from './common.ts';
import type { FakePatient, FakeStatus } from './fake-data.ts';
import { R4Gate } from './fhir-r4.ts';
import { localIsoWithOffset } from './local-time.ts';
import { customFieldProblem } from './patients.ts';

/**
 * The extension URL of a custom demographic field, before its name (the adapter's own copy is
 * operator/internal/emr/fhir.ts CUSTOM_FIELD_URL: a simulator never imports the code it tests).
 */
export const CUSTOM_FIELD_URL = 'https://cloudconnect.dev/fhir/StructureDefinition/custom-field/';

export interface FhirCredentials {
  clientId: string;
  clientSecret: string;
}

export const FHIR_DEV_CREDENTIALS: FhirCredentials = {
  clientId: 'sim-fhir-client-id',
  clientSecret: 'sim-fhir-client-secret-0c9b',
};

const HCN_SYSTEM = 'https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn';
const LICENSE_SYSTEM = 'https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-license-physician';
const FHIR_GENDER: Record<FakePatient['sex'], string> = { F: 'female', M: 'male', X: 'other' };

export interface FhirSimOptions extends SimulatorOptions {
  credentials?: FhirCredentials;
  /** Path of the FHIR base under the origin; default `/fhir`. */
  basePath?: string;
  /** Default and maximum `_count`. */
  defaultCount?: number;
  maxCount?: number;
  /** Validate written resources against R4 (fhir-r4.ts); default true (strict). At run time: `sim.r4.enabled`. */
  validateR4?: boolean;
}

export interface FhirSimulator extends Simulator {
  readonly credentials: FhirCredentials;
  readonly tokenUrl: string;
  providerId(index: number): string;
  patientId(index: number): string;
  /** DocumentReference resources as stored (what the adapter sent, plus id and meta). */
  readonly resources: Map<string, Record<string, unknown>>;
  /** Patient updates applied (PUT), in order; a repeated X-Request-Id is in `patientUpdateDuplicates` instead. */
  readonly patientUpdates: { patientId: string; requestId: string | undefined; version: number; resource: Record<string, unknown> }[];
  readonly patientUpdateDuplicates: { patientId: string; requestId: string }[];
  /** The R4 validation of writes (fhir-r4.ts): the switch `enabled` and the `refusals`. */
  readonly r4: R4Gate;
}

const practitionerId = (index: number) => `prac-${index + 1}`;
const fhirPatientId = (index: number) => `pat-${index + 1}`;

const outcome = (code: string, diagnostics: string, severity = 'error') => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity, code, diagnostics }],
});

const fhirJson = (json: unknown, status = 200, headers: Record<string, string> = {}): Reply => ({
  status,
  json,
  contentType: 'application/fhir+json',
  headers,
});

/** Upper and lower bounds from FHIR date search parameters (ge, gt, le, lt, eq; date or instant). */
function dateBounds(values: string[], defaultFrom: Date, defaultTo: Date): { from: Date; to: Date } {
  let from = defaultFrom;
  let to = defaultTo;
  for (const raw of values) {
    const match = /^(eq|ge|gt|le|lt)?(.+)$/.exec(raw);
    const prefix = match?.[1] ?? 'eq';
    const text = match?.[2] ?? '';
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
    const at = new Date(dateOnly ? `${text}T00:00:00Z` : text);
    if (Number.isNaN(at.getTime())) throw new SimHttpError(400, outcome('invalid', `date parameter is not a date`));
    const next = new Date(at.getTime() + (dateOnly ? 86_400_000 : 1));
    const lower = prefix === 'gt' ? next : at;
    const upper = prefix === 'le' || prefix === 'eq' ? next : at;
    if (prefix === 'ge' || prefix === 'gt' || prefix === 'eq') from = lower > from ? lower : from;
    if (prefix === 'le' || prefix === 'lt' || prefix === 'eq') to = upper < to ? upper : to;
  }
  return { from, to };
}

export async function start(options: FhirSimOptions = {}): Promise<FhirSimulator> {
  const credentials = options.credentials ?? FHIR_DEV_CREDENTIALS;
  const basePath = (options.basePath ?? '/fhir').replace(/\/+$/, '');
  const defaultCount = options.defaultCount ?? 20;
  const maxCount = options.maxCount ?? 100;
  const state = new SimState('fhir', options);
  const r4 = new R4Gate(options.validateR4 ?? true);
  const invalid = (body: Record<string, unknown>) => new SimHttpError(400, body, { 'content-type': 'application/fhir+json' });
  const data = state.data;
  const resources = new Map<string, Record<string, unknown>>();
  // Patients as updated by PUT (the fake data stays the base); version 1 is the generated record.
  const patientOverrides = new Map<number, Record<string, unknown>>();
  const patientUpdates: FhirSimulator['patientUpdates'] = [];
  const patientUpdateDuplicates: FhirSimulator['patientUpdateDuplicates'] = [];

  /** The Patient as the server holds it: the generated record (version 1), or its last update. */
  function patientResource(index: number): Record<string, unknown> {
    const updated = patientOverrides.get(index);
    if (updated) return updated;
    const p = data.patient(index);
    return {
      resourceType: 'Patient',
      id: fhirPatientId(index),
      meta: { versionId: '1' },
      identifier: [
        {
          system: HCN_SYSTEM,
          value: p.healthNumber,
          type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'JHN' }] },
        },
      ],
      active: true,
      name: [{ use: 'official', family: p.lastName, given: [p.firstName] }],
      telecom: [
        { system: 'phone', value: p.phone, use: 'home' },
        { system: 'email', value: p.email },
      ],
      gender: FHIR_GENDER[p.sex],
      birthDate: p.birthDate,
      address: [
        { line: [p.address.street], city: p.address.city, state: p.address.province, postalCode: p.address.postalCode, country: 'CA' },
      ],
      generalPractitioner: [{ reference: `Practitioner/${practitionerId(p.providerIndex)}` }],
    };
  }

  function token(ctx: Ctx): Reply {
    const form = ctx.form();
    const basic = basicCredentials(ctx);
    const clientId = basic?.user ?? form.get('client_id');
    const clientSecret = basic?.password ?? form.get('client_secret');
    if (state.faults.rejectCredentials || clientId !== credentials.clientId || clientSecret !== credentials.clientSecret) {
      throw tokenError(ctx, 401, 'invalid_client', 'client authentication failed');
    }
    if (state.faults.deauthorized) throw tokenError(ctx, 400, 'unauthorized_client', 'the client has been disabled');
    if (state.credentialExpired()) throw tokenError(ctx, 401, 'invalid_client', 'the client secret has expired');
    const grant = form.get('grant_type');
    if (grant === 'refresh_token') {
      const subject = state.useRefreshToken(form.get('refresh_token') ?? '');
      if (subject !== clientId) throw tokenError(ctx, 400, 'invalid_grant', 'unknown or used refresh token');
    } else if (grant !== 'client_credentials') {
      throw tokenError(ctx, 400, 'unsupported_grant_type', 'use client_credentials or refresh_token');
    }
    const issued = state.issueToken(clientId, true);
    return {
      json: {
        access_token: issued.value,
        token_type: 'Bearer',
        expires_in: Math.max(0, Math.round((issued.expiresAt.getTime() - issued.issuedAt.getTime()) / 1000)),
        refresh_token: issued.refreshToken,
        scope: 'system/Practitioner.read system/Appointment.read system/Patient.read system/DocumentReference.write',
      },
      headers: { 'cache-control': 'no-store' },
    };
  }

  function authorize(ctx: Ctx): void {
    if (state.faults.deauthorized) throw bearerError('invalid_token', 'The access token was revoked');
    const check = state.checkToken(bearerToken(ctx));
    if (!check.ok)
      throw bearerError('invalid_token', check.problem === 'expired' ? 'The access token expired' : 'The access token is invalid');
  }

  /** A searchset Bundle of one page with a `next` link carrying the cursor when there is more. */
  function bundle(
    ctx: Ctx,
    resourceType: string,
    entries: Record<string, unknown>[],
    nextCursor: number | undefined,
    total?: number,
  ): Reply {
    const self = new URL(`${state.baseUrl}/${resourceType}${ctx.url.search}`);
    const link = [{ relation: 'self', url: self.toString() }];
    if (nextCursor !== undefined) {
      const next = new URL(self);
      next.searchParams.set('_cursor', String(nextCursor));
      link.push({ relation: 'next', url: next.toString() });
    }
    return fhirJson({
      resourceType: 'Bundle',
      type: 'searchset',
      ...(total === undefined ? {} : { total }),
      link,
      entry: entries.map((resource) => ({
        fullUrl: `${state.baseUrl}/${resourceType}/${resource['id'] as string}`,
        resource,
        search: { mode: 'match' },
      })),
    });
  }

  function practitioner(index: number): Record<string, unknown> {
    const p = data.provider(index);
    return {
      resourceType: 'Practitioner',
      id: practitionerId(index),
      active: true,
      identifier: [{ system: LICENSE_SYSTEM, value: p.licenseNumber }],
      name: [{ use: 'official', family: p.lastName, given: [p.firstName], prefix: ['Dr.'] }],
    };
  }

  const indexOf = (id: string, prefix: string, count: number): number | undefined => {
    const m = new RegExp(`^${prefix}-(\\d+)$`).exec(id);
    const index = m?.[1] ? Number(m[1]) - 1 : -1;
    return index >= 0 && index < count ? index : undefined;
  };

  const routes: Route[] = [
    { method: 'POST', path: `${basePath}/oauth2/token`, handler: token },
    {
      method: 'GET',
      path: `${basePath}/metadata`,
      handler: () =>
        fhirJson({
          resourceType: 'CapabilityStatement',
          status: 'active',
          date: '2024-01-01',
          kind: 'instance',
          software: { name: 'Cloud Connect FHIR EMR simulator' },
          fhirVersion: '4.0.1',
          format: ['application/fhir+json'],
          rest: [
            {
              mode: 'server',
              security: {
                service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth' }] }],
                extension: [
                  {
                    url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
                    extension: [{ url: 'token', valueUri: `${state.baseUrl}/oauth2/token` }],
                  },
                ],
              },
              resource: [
                { type: 'Practitioner', interaction: [{ code: 'read' }, { code: 'search-type' }] },
                {
                  type: 'Appointment',
                  interaction: [{ code: 'read' }, { code: 'search-type' }, { code: 'update' }, { code: 'create' }],
                  conditionalCreate: true,
                  searchParam: [
                    { name: 'practitioner', type: 'reference' },
                    { name: 'date', type: 'date' },
                  ],
                },
                { type: 'Patient', interaction: [{ code: 'read' }, { code: 'search-type' }, { code: 'update' }] },
                {
                  type: 'DocumentReference',
                  interaction: [{ code: 'create' }, { code: 'read' }, { code: 'search-type' }],
                  conditionalCreate: state.honorIdempotencyKey,
                  searchParam: [{ name: 'identifier', type: 'token' }],
                },
              ],
            },
          ],
        }),
    },
    {
      method: 'GET',
      path: `${basePath}/Practitioner`,
      handler: (ctx) => {
        authorize(ctx);
        const count = Math.min(maxCount, intParam(ctx, '_count', defaultCount, 1, 10_000)); // servers cap _count
        const cursor = intParam(ctx, '_cursor', 0, 0, Number.MAX_SAFE_INTEGER);
        const visible: number[] = [];
        for (let i = 0; i < data.providerCount; i++) if (!state.isHidden(practitionerId(i))) visible.push(i);
        const page = visible.slice(cursor, cursor + count);
        return bundle(
          ctx,
          'Practitioner',
          page.map(practitioner),
          cursor + count < visible.length ? cursor + count : undefined,
          visible.length,
        );
      },
    },
    {
      method: 'GET',
      path: `${basePath}/Appointment`,
      handler: (ctx) => {
        authorize(ctx);
        // Search by identifier (token `system|value`): how a client finds the walk-in it created before a crash.
        const identifier = ctx.url.searchParams.get('identifier');
        if (identifier !== null) {
          const value = identifier.split('|').pop() ?? '';
          const exact = state.appointments
            .findByExternalRef(value)
            .filter((a) => a.externalRef === value && !state.isHidden(practitionerId(a.providerIndex)));
          return bundle(
            ctx,
            'Appointment',
            exact.map((a) => appointmentResource(state, a.index)),
            undefined,
            exact.length,
          );
        }
        const count = Math.min(maxCount, intParam(ctx, '_count', defaultCount, 1, 10_000)); // servers cap _count
        const cursor = intParam(ctx, '_cursor', 0, 0, Number.MAX_SAFE_INTEGER);
        const { from, to } = dateBounds(ctx.url.searchParams.getAll('date'), new Date(0), new Date(8.64e15));
        const practitionerParams = ctx.url.searchParams.getAll('practitioner').flatMap((v) => v.split(','));
        let providerIndexes: Set<number> | undefined;
        if (practitionerParams.length > 0) {
          providerIndexes = new Set();
          for (const ref of practitionerParams) {
            const index = indexOf(ref.replace(/^Practitioner\//, ''), 'prac', data.providerCount);
            if (index !== undefined) providerIndexes.add(index);
          }
        }
        const entries: Record<string, unknown>[] = [];
        let nextCursor: number | undefined;
        // The cursor is the index of the next appointment to look at: each page is O(page size).
        for (const i of visibleAppointments(state, from, to, practitionerId, {
          startIndex: cursor,
          ...(providerIndexes ? { providerIndexes } : {}),
        })) {
          if (entries.length === count) {
            nextCursor = i;
            break;
          }
          entries.push(appointmentResource(state, i));
        }
        return bundle(ctx, 'Appointment', entries, nextCursor);
      },
    },
    {
      method: 'GET',
      path: `${basePath}/Patient/:id`,
      handler: (ctx) => {
        authorize(ctx);
        const index = indexOf(ctx.params['id'] ?? '', 'pat', data.patientCount);
        if (index === undefined) throw new SimHttpError(404, outcome('not-found', 'Patient not found'));
        return fhirJson(patientResource(index));
      },
    },
    {
      method: 'PUT',
      path: `${basePath}/Patient/:id`,
      handler: (ctx) => {
        authorize(ctx);
        const index = indexOf(ctx.params['id'] ?? '', 'pat', data.patientCount);
        if (index === undefined) throw new SimHttpError(404, outcome('not-found', 'Patient not found'));
        const requestId = ctx.header('x-request-id');
        const current = patientResource(index);
        if (requestId && patientUpdates.some((u) => u.patientId === fhirPatientId(index) && u.requestId === requestId)) {
          patientUpdateDuplicates.push({ patientId: fhirPatientId(index), requestId });
          return fhirJson(current, 200, { 'idempotent-replayed': 'true' });
        }
        const resource = ctx.json() as Record<string, unknown>;
        r4.check(resource, 'Patient', invalid);
        if (resource?.['resourceType'] !== 'Patient' || resource['id'] !== fhirPatientId(index))
          throw new SimHttpError(400, outcome('invalid', 'the body must be this Patient (resourceType and id)'));
        if (resource['birthDate'] !== undefined && !isCalendarDay(String(resource['birthDate'])))
          throw new SimHttpError(400, outcome('invalid', 'birthDate must be a date (YYYY-MM-DD)'));
        const version = Number((current['meta'] as { versionId: string }).versionId);
        const ifMatch = ctx.header('if-match');
        if (ifMatch && ifMatch !== `W/"${version}"`) throw new SimHttpError(412, outcome('conflict', 'version conflict'));
        const custom = customFieldsOf(resource, state.patients.customFieldNames);
        const stored = { ...resource, meta: { versionId: String(version + 1), lastUpdated: state.now().toISOString() } };
        recordPatientWrite(state, fhirPatientId(index), requestId, current, stored, custom);
        patientOverrides.set(index, stored);
        patientUpdates.push({ patientId: fhirPatientId(index), requestId, version: version + 1, resource: stored });
        return fhirJson(stored, 200);
      },
    },
    {
      // Search by identifier (token `system|value`, or a bare value): how a client finds what it filed before a crash.
      method: 'GET',
      path: `${basePath}/DocumentReference`,
      handler: (ctx) => {
        authorize(ctx);
        const token = ctx.url.searchParams.get('identifier');
        if (!token) throw new SimHttpError(400, outcome('invalid', 'this server searches DocumentReference by identifier only'));
        const bar = token.indexOf('|');
        const system = bar < 0 ? undefined : token.slice(0, bar);
        const value = bar < 0 ? token : token.slice(bar + 1);
        const matches = [...resources.values()].filter((r) =>
          ((Array.isArray(r['identifier']) ? r['identifier'] : []) as { system?: string; value?: string }[]).some(
            (i) => i.value === value && (system === undefined || i.system === system),
          ),
        );
        return bundle(ctx, 'DocumentReference', matches, undefined, matches.length);
      },
    },
    {
      method: 'POST',
      path: `${basePath}/DocumentReference`,
      handler: (ctx) => {
        authorize(ctx);
        const resource = ctx.json() as Record<string, unknown>;
        r4.check(resource, 'DocumentReference', invalid);
        const problems = checkDocumentReference(resource);
        if (problems.length > 0)
          throw new SimHttpError(400, {
            resourceType: 'OperationOutcome',
            issue: problems.map((d) => ({ severity: 'error', code: 'invalid', diagnostics: d })),
          });
        const subject = ((resource['subject'] as Record<string, unknown> | undefined)?.['reference'] as string | undefined) ?? '';
        const patientId = subject.replace(/^Patient\//, '');
        if (indexOf(patientId, 'pat', data.patientCount) === undefined)
          throw new SimHttpError(422, outcome('not-found', 'subject Patient not found'));
        // Conditional create (FHIR R4 §3.1.0.8): If-None-Exist: identifier=system|value, only with the
        // honorIdempotencyKey switch; by default the server ignores it (conditional create is optional in FHIR).
        const ifNoneExist = ctx.header('if-none-exist');
        const conditional =
          ifNoneExist && state.honorIdempotencyKey ? (new URLSearchParams(ifNoneExist).get('identifier') ?? undefined) : undefined;
        const identifiers = (Array.isArray(resource['identifier']) ? resource['identifier'] : []) as { system?: string; value?: string }[];
        const key = conditional?.split('|').pop() ?? identifiers[0]?.value;
        const attachment = ((resource['content'] as Record<string, unknown>[])[0]?.['attachment'] ?? {}) as Record<string, string>;
        const categories = (Array.isArray(resource['category']) ? resource['category'] : []) as { text?: string }[];
        const typeCode = ((resource['type'] as { coding?: { code?: string }[] } | undefined)?.coding ?? [])[0]?.code;
        if (typeCode === PROGRESS_NOTE)
          return storeNote(resource, { key, patientId, conditional, letterType: categories[0]?.text, attachment });
        const { document, duplicate } = state.recordDocument({
          idempotencyKey: key,
          patientId,
          title: String(resource['description'] ?? attachment['title'] ?? ''),
          contentType: attachment['contentType'] ?? '',
          content: Buffer.from(attachment['data'] ?? '', 'base64'),
          folder: categories[0]?.text,
          subfolder: categories[1]?.text,
          honorKey: conditional !== undefined,
        });
        const id = `doc-${document.id}`;
        if (duplicate) return fhirJson(resources.get(id), 200);
        const stored = { ...resource, id, meta: { versionId: '1', lastUpdated: state.now().toISOString() } };
        resources.set(id, stored);
        return fhirJson(stored, 201, { location: `${state.baseUrl}/DocumentReference/${id}/_history/1` });
      },
    },
  ];

  /** A progress note (LOINC 11506-3): stored as a chart note, its text decoded from the attachment. */
  function storeNote(
    resource: Record<string, unknown>,
    n: {
      key: string | undefined;
      patientId: string;
      conditional: string | undefined;
      letterType: string | undefined;
      attachment: Record<string, string>;
    },
  ): Reply {
    const [title = '', ...rest] = Buffer.from(n.attachment['data'] ?? '', 'base64')
      .toString('utf8')
      .split('\n\n');
    const { note, duplicate } = state.recordNote({
      idempotencyKey: n.key,
      patientId: n.patientId,
      title,
      text: rest.join('\n\n'),
      letterType: n.letterType,
      honorKey: n.conditional !== undefined,
    });
    const id = `doc-${note.id}`;
    if (duplicate) return fhirJson(resources.get(id), 200);
    const stored = { ...resource, id, meta: { versionId: '1', lastUpdated: state.now().toISOString() } };
    resources.set(id, stored);
    return fhirJson(stored, 201, { location: `${state.baseUrl}/DocumentReference/${id}/_history/1` });
  }

  routes.push(...appointmentWriteRoutes(state, basePath, authorize, indexOf, (r) => r4.check(r, 'Appointment', invalid)));
  routes.push({
    method: 'GET',
    path: `${basePath}/StructureDefinition`,
    handler: (ctx) => {
      authorize(ctx);
      const wanted = (ctx.url.searchParams.get('url') ?? '').split(',').filter(Boolean);
      const entries = state.patients.customFieldNames
        .filter((name) => wanted.includes(`${CUSTOM_FIELD_URL}${name}`))
        .map(customFieldDefinition);
      return bundle(ctx, 'StructureDefinition', entries, undefined, entries.length);
    },
  });
  // What a test reads back is the stored resource, in the simulators' common vocabulary.
  state.patients.view = (index) => fakePatientOf(patientResource(index), data.patient(index));
  const sim = await serve({ state, routes, urlPath: basePath, host: options.host, port: options.port, tls: options.tls });
  return Object.assign(sim, {
    credentials,
    tokenUrl: `${sim.url}/oauth2/token`,
    providerId: practitionerId,
    patientId: fhirPatientId,
    resources,
    patientUpdates,
    patientUpdateDuplicates,
    r4,
  });
}

/** The server's own checks (independent of the adapter's validator): what an R4 server refuses. */
const PROGRESS_NOTE = '11506-3';

function checkDocumentReference(r: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (r['resourceType'] !== 'DocumentReference') problems.push('resourceType must be DocumentReference');
  if (!['current', 'superseded', 'entered-in-error'].includes(r['status'] as string)) problems.push('status is required');
  const content = r['content'];
  if (!Array.isArray(content) || content.length === 0) problems.push('content is required');
  else {
    for (const c of content as Record<string, unknown>[]) {
      const a = c?.['attachment'] as Record<string, unknown> | undefined;
      if (!a) problems.push('content.attachment is required');
      else {
        if (typeof a['contentType'] !== 'string') problems.push('attachment.contentType is required');
        if (typeof a['data'] !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(a['data'])) problems.push('attachment.data must be base64');
      }
    }
  }
  const subject = r['subject'] as Record<string, unknown> | undefined;
  if (!subject || typeof subject['reference'] !== 'string' || !/^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(subject['reference'])) {
    problems.push('subject must reference a Patient');
  }
  return problems;
}

/** HL7 v2 table 0276 (Appointment reason codes), the value set of Appointment.appointmentType. */
const FHIR_APPOINTMENT_TYPES = ['CHECKUP', 'EMERGENCY', 'FOLLOWUP', 'ROUTINE', 'WALKIN'];
const APPOINTMENT_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v2-0276';
const FHIR_STATUSES: readonly FakeStatus[] = ['booked', 'arrived', 'fulfilled', 'cancelled', 'noshow'];

/** The version of an appointment: 1, plus one per status change. */
const appointmentVersion = (state: SimState, index: number) => 1 + state.appointments.changes.filter((c) => c.index === index).length;

/** An appointment as the server holds it (generated or added, status changes applied). */
function appointmentResource(state: SimState, index: number): Record<string, unknown> {
  const a = state.appointments.get(index);
  const zone = state.data.timeZone;
  return {
    resourceType: 'Appointment',
    id: `appt-${index + 1}`,
    meta: { versionId: String(appointmentVersion(state, index)) },
    ...(a.externalRef ? { identifier: [{ system: 'urn:cloudconnect.dev:idempotency-key', value: a.externalRef }] } : {}),
    status: a.status,
    ...(a.appointmentType
      ? { appointmentType: { coding: [{ system: APPOINTMENT_TYPE_SYSTEM, code: a.appointmentType }], text: a.appointmentType } }
      : {}),
    start: localIsoWithOffset(a.start, zone),
    end: localIsoWithOffset(a.end, zone),
    minutesDuration: a.durationMinutes,
    participant: [
      { actor: { reference: `Patient/${fhirPatientId(a.patientIndex)}` }, status: 'accepted' },
      { actor: { reference: `Practitioner/${practitionerId(a.providerIndex)}` }, status: 'accepted' },
    ],
  };
}

const actors = (r: Record<string, unknown>): string[] =>
  (Array.isArray(r['participant']) ? (r['participant'] as { actor?: { reference?: string } }[]) : [])
    .map((p) => p.actor?.reference ?? '')
    .sort();

/** Check-in (status update) and walk-ins (create), see the header. */
function appointmentWriteRoutes(
  state: SimState,
  basePath: string,
  authorize: (ctx: Ctx) => void,
  indexOf: (id: string, prefix: string, count: number) => number | undefined,
  checkR4: (resource: unknown) => void,
): Route[] {
  const book = state.appointments;
  const unprocessable = (diagnostics: string) => new SimHttpError(422, outcome('invalid', diagnostics));
  const appointmentIndex = (ctx: Ctx) => {
    const index = indexOf(ctx.params['id'] ?? '', 'appt', book.count);
    if (index === undefined) throw new SimHttpError(404, outcome('not-found', 'Appointment not found'));
    return index;
  };
  const withEtag = (index: number, status = 200) =>
    fhirJson(appointmentResource(state, index), status, { etag: `W/"${appointmentVersion(state, index)}"` });
  return [
    {
      method: 'GET',
      path: `${basePath}/Appointment/:id`,
      handler: (ctx) => {
        authorize(ctx);
        return withEtag(appointmentIndex(ctx));
      },
    },
    {
      method: 'PUT',
      path: `${basePath}/Appointment/:id`,
      handler: (ctx) => {
        authorize(ctx);
        const index = appointmentIndex(ctx);
        const current = appointmentResource(state, index);
        const ifMatch = ctx.header('if-match');
        if (ifMatch && ifMatch !== `W/"${appointmentVersion(state, index)}"`)
          throw new SimHttpError(412, outcome('conflict', 'version conflict'));
        const r = ctx.json() as Record<string, unknown>;
        checkR4(r);
        if (r?.['resourceType'] !== 'Appointment' || r['id'] !== current['id'])
          throw new SimHttpError(400, outcome('invalid', 'the body must be this Appointment (resourceType and id)'));
        if (!FHIR_STATUSES.includes(r['status'] as FakeStatus)) throw unprocessable(`status must be one of ${FHIR_STATUSES.join(', ')}`);
        if (
          JSON.stringify(actors(r)) !== JSON.stringify(actors(current)) ||
          Date.parse(String(r['start'])) !== Date.parse(String(current['start']))
        )
          throw unprocessable('only the status of an appointment can be changed here (participants and start as stored)');
        book.setStatus(index, r['status'] as FakeStatus, ctx.header('x-request-id'));
        return withEtag(index);
      },
    },
    {
      method: 'POST',
      path: `${basePath}/Appointment`,
      handler: (ctx) => {
        authorize(ctx);
        const ifNoneExist = ctx.header('if-none-exist');
        const key = ifNoneExist ? (new URLSearchParams(ifNoneExist).get('identifier')?.split('|').pop() ?? undefined) : undefined;
        const existing = key ? book.replayOf(key) : undefined;
        if (existing) return withEtag(existing.index);
        const r = ctx.json() as Record<string, unknown>;
        checkR4(r);
        if (r?.['resourceType'] !== 'Appointment') throw new SimHttpError(400, outcome('invalid', 'resourceType must be Appointment'));
        const refs = actors(r);
        const patient = indexOf(refs.find((x) => x.startsWith('Patient/'))?.slice(8) ?? '', 'pat', state.data.patientCount);
        const practitionerRef = refs.find((x) => x.startsWith('Practitioner/'))?.slice(13) ?? '';
        const provider = indexOf(practitionerRef, 'prac', state.data.providerCount);
        if (patient === undefined) throw unprocessable('participant Patient not found');
        if (provider === undefined || state.isHidden(practitionerRef)) throw unprocessable('participant Practitioner not found');
        const status = (r['status'] ?? '') as FakeStatus;
        if (!FHIR_STATUSES.includes(status)) throw unprocessable(`status must be one of ${FHIR_STATUSES.join(', ')}`);
        const start = new Date(String(r['start'] ?? ''));
        const end = new Date(String(r['end'] ?? ''));
        if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end <= start)
          throw unprocessable('start and end are required, end after start');
        const coding = ((r['appointmentType'] as { coding?: { system?: string; code?: string }[] } | undefined)?.coding ?? [])[0];
        if (
          r['appointmentType'] !== undefined &&
          (coding?.system !== APPOINTMENT_TYPE_SYSTEM || !FHIR_APPOINTMENT_TYPES.includes(coding.code ?? ''))
        )
          throw unprocessable(`appointmentType must be a code of ${APPOINTMENT_TYPE_SYSTEM}`);
        const identifiers = (Array.isArray(r['identifier']) ? r['identifier'] : []) as { value?: string }[];
        const a = book.add(
          {
            patientIndex: patient,
            providerIndex: provider,
            start,
            durationMinutes: Math.round((end.getTime() - start.getTime()) / 60_000),
            appointmentType: coding?.code,
            externalRef: identifiers[0]?.value,
            idempotencyKey: key,
            status,
          },
          'api',
        );
        return {
          ...withEtag(a.index, 201),
          headers: { etag: `W/"1"`, location: `${state.baseUrl}/Appointment/appt-${a.index + 1}/_history/1` },
        };
      },
    },
  ];
}

/** The StructureDefinition of a custom-field extension (a string on Patient). */
function customFieldDefinition(name: string): Record<string, unknown> {
  return {
    resourceType: 'StructureDefinition',
    id: `custom-field-${name}`,
    url: `${CUSTOM_FIELD_URL}${name}`,
    name,
    status: 'active',
    kind: 'complex-type',
    abstract: false,
    context: [{ type: 'element', expression: 'Patient' }],
    type: 'Extension',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Extension',
    derivation: 'constraint',
  };
}

/** The custom field values of a Patient body, or a 422 for a name this server does not define. */
function customFieldsOf(resource: Record<string, unknown>, defined: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  const extensions = Array.isArray(resource['extension']) ? (resource['extension'] as Record<string, unknown>[]) : [];
  for (const e of extensions) {
    const url = typeof e?.['url'] === 'string' ? e['url'] : '';
    if (!url.startsWith(CUSTOM_FIELD_URL)) continue;
    const name = url.slice(CUSTOM_FIELD_URL.length);
    if (!defined.includes(name)) throw new SimHttpError(422, outcome('not-found', 'unknown extension'));
    const problem = customFieldProblem(name, e['valueString']);
    if (problem) throw new SimHttpError(400, outcome('invalid', problem));
    values[name] = e['valueString'] as string;
  }
  return values;
}

/** Records what a Patient PUT changed: its demographic content (fields by name) and its custom field values. */
function recordPatientWrite(
  state: SimState,
  patientId: string,
  requestId: string | undefined,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  custom: Record<string, string>,
): void {
  const changed = ['name', 'birthDate', 'gender', 'telecom', 'identifier', 'address'].filter(
    (key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]),
  );
  if (changed.length > 0) state.patients.recordDemographicWrite(patientId, requestId, changed);
  const current = state.patients.customFields(patientId);
  const changedCustom = Object.fromEntries(Object.entries(custom).filter(([k, v]) => current[k] !== v));
  if (Object.keys(changedCustom).length > 0) state.patients.setCustomFields(patientId, requestId, changedCustom);
}

const FHIR_SEX: Record<string, FakePatient['sex']> = { female: 'F', male: 'M' };

/** A stored Patient in the simulators' common vocabulary (patients.ts), the generated record for what it lacks. */
function fakePatientOf(r: Record<string, unknown>, base: FakePatient): FakePatient {
  const names = Array.isArray(r['name']) ? (r['name'] as Record<string, unknown>[]) : [];
  const name = names.find((n) => n['use'] === 'official') ?? names[0] ?? {};
  const telecom = Array.isArray(r['telecom']) ? (r['telecom'] as Record<string, unknown>[]) : [];
  const ids = Array.isArray(r['identifier']) ? (r['identifier'] as Record<string, unknown>[]) : [];
  const jhn = ids.find((i) => JSON.stringify(i['type'] ?? '').includes('"JHN"'));
  const given = Array.isArray(name['given']) ? (name['given'] as unknown[])[0] : undefined;
  return {
    ...base,
    firstName: typeof given === 'string' ? given : '',
    lastName: typeof name['family'] === 'string' ? name['family'] : '',
    birthDate: typeof r['birthDate'] === 'string' ? r['birthDate'] : '',
    sex: FHIR_SEX[String(r['gender'])] ?? 'X',
    healthNumber: typeof jhn?.['value'] === 'string' ? jhn['value'] : '',
    email: String(telecom.find((t) => t['system'] === 'email')?.['value'] ?? ''),
    phone: String(telecom.find((t) => t['system'] === 'phone')?.['value'] ?? ''),
  };
}

/** A FHIR `date` of full precision that is a day of the calendar (a parser refuses 1990-02-30). */
function isCalendarDay(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const day = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === value;
}
