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
//   GET  {base}/DocumentReference?identifier=system|value   searchset Bundle of the matches
//   POST {base}/DocumentReference   validated; conditional create with If-None-Exist only with the
//        `honorIdempotencyKey` switch (off by default: conditional create is optional in FHIR, and
//        the server then creates another). A document's
//        folder is category[0].text, its subfolder category[1].text; a DocumentReference typed LOINC
//        11506-3 (Progress note) is stored as a chart note (its letter type: category[0].text)
//                              (identifier=system|value): 201 Created, or 200 with the existing one
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
import type { FakePatient } from './fake-data.ts';
import { localIsoWithOffset } from './local-time.ts';

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
                  interaction: [{ code: 'read' }, { code: 'search-type' }],
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
          const a = data.appointment(i);
          entries.push({
            resourceType: 'Appointment',
            id: `appt-${i + 1}`,
            status: a.status,
            start: localIsoWithOffset(a.start, state.data.timeZone),
            end: localIsoWithOffset(a.end, state.data.timeZone),
            minutesDuration: a.durationMinutes,
            participant: [
              { actor: { reference: `Patient/${fhirPatientId(a.patientIndex)}` }, status: 'accepted' },
              { actor: { reference: `Practitioner/${practitionerId(a.providerIndex)}` }, status: 'accepted' },
            ],
          });
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
        if (resource?.['resourceType'] !== 'Patient' || resource['id'] !== fhirPatientId(index))
          throw new SimHttpError(400, outcome('invalid', 'the body must be this Patient (resourceType and id)'));
        if (resource['birthDate'] !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(String(resource['birthDate'])))
          throw new SimHttpError(400, outcome('invalid', 'birthDate must be YYYY-MM-DD'));
        const version = Number((current['meta'] as { versionId: string }).versionId);
        const ifMatch = ctx.header('if-match');
        if (ifMatch && ifMatch !== `W/"${version}"`) throw new SimHttpError(412, outcome('conflict', 'version conflict'));
        const stored = { ...resource, meta: { versionId: String(version + 1), lastUpdated: state.now().toISOString() } };
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

  const sim = await serve({ state, routes, urlPath: basePath, host: options.host, port: options.port, tls: options.tls });
  return Object.assign(sim, {
    credentials,
    tokenUrl: `${sim.url}/oauth2/token`,
    providerId: practitionerId,
    patientId: fhirPatientId,
    resources,
    patientUpdates,
    patientUpdateDuplicates,
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
