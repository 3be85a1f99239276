// QHR Accuro simulator, after the public Accuro REST API shapes:
//   POST /v1/token?tenant=TENANT   Basic clientId:clientSecret, form grant_type=password&username&password
//                                  (the per-site API user of Ocean's setup) → {access_token, expires_in, …}
//   every other call: Authorization: Bearer, header X-QHR-Subscription-Key, query uuid
//   GET  /v1/providers, /v1/offices, /v1/provider-portal/folders
//   GET  /v2/materials/appointments?startDate&endDate&pageSize(≤50)&startingId → {appointments, lastId}
//        (appointments with id > startingId, ascending; pass lastId back as startingId)
//   GET  /v1/patients/{id}
//   PUT  /v1/patients/{id}         the patient as read, changed (a full replace of `demographics`), with
//                                  Idempotency-Key (a repeat answers 200 + Idempotent-Replayed, changes nothing)
//   GET  /v1/custom-fields         → [{customFieldId, name}]: the patient custom fields the clinic defined
//   GET  /v1/patients/{id}/custom-fields → [{customFieldId, name, value}]
//   PUT  /v1/patients/{id}/custom-fields  [{customFieldId, value}] (only those change), Idempotency-Key
//   (the patient update and the custom-field calls are OUR design after Accuro's patient screens and the
//   public patient shape; an unknown customFieldId answers 400, a bad value 400 naming the field)
//   POST /v1/provider-portal/documents  multipart: `details` (JSON, with `folderId` and optional
//                                  `subFolderId`) + `document` (PDF)
//   GET  /v1/letter-types          → [{letterTypeId, name}]
//   POST /v1/patients/{id}/encounter-notes  JSON {title, note, letterTypeId?, noteDate, externalId?} → 201 {encounterNoteId}
//   GET  /v1/patients/{id}/documents       → [{documentId, fileName, description, folderId}]
//   GET  /v1/patients/{id}/encounter-notes?externalId=…  → [{encounterNoteId, title, externalId}]
//   GET  /v1/scheduler/appointment-types → [{appointmentTypeId, name}]
//   PUT  /v1/scheduler/appointments/{appointmentId}/status  JSON {status: 'Arrived' | …} → {appointmentId, status}
//   POST /v1/scheduler/appointments  JSON {patientId, providerId, appointmentDate, startTime (clinic wall clock,
//        no offset), duration, appointmentTypeId?, externalReference?} (Idempotency-Key) → 201 {appointmentId}
//        (the scheduler calls are OUR design too: an unknown provider or appointment type answers 400, an
//        appointment or patient that does not exist 404; a provider the API user cannot see is unknown)
//   (folders' `subFolders`, the letter-type list and the encounter-note call are OUR design after Accuro's
//   screens: QHR's public API reference for them is not available to us; an unknown folder, sub-folder
//   or letter type answers 400, as a real API would refuse a foreign key it does not have)
// Errors: token endpoint RFC 6749 §5.2 (`invalid_client`, `invalid_grant`, `unauthorized_client` when
// the API user is disabled, `invalid_request` for an unknown tenant); bearer errors RFC 6750
// (`invalid_token`); a bad subscription key answers like Azure API Management (401 {statusCode,message});
// revoked access answers 403. Our additions: `Idempotency-Key` on document and note posts, honoured
// only with the `honorIdempotencyKey` switch (off by default: real Accuro has no idempotency key); the
// two patient lists above and the note's `externalId` (how a client finds what it filed); `uuid`
// defaults to the tenant ID.
import {
  basicCredentials,
  bearerError,
  bearerToken,
  type Ctx,
  idempotencyKey,
  intParam,
  localDateParam,
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
import { localHms, localYmd, zonedInstant } from './local-time.ts';
import { customFieldProblem, type DemographicValues, demographicProblem } from './patients.ts';

export interface AccuroCredentials {
  apiUsername: string;
  apiPassword: string;
  clientId: string;
  clientSecret: string;
  subscriptionKey: string;
}

const ACCURO_DEV_TENANT = 'SIMCLINIC';

/** Fixed development credentials (fake). The API user follows QHR's OceanAPI<TENANT> naming. */
export const ACCURO_DEV_CREDENTIALS: AccuroCredentials = {
  apiUsername: `OceanAPI${ACCURO_DEV_TENANT}`,
  apiPassword: 'sim-accuro-api-password-71c2',
  clientId: 'sim-accuro-client-id',
  clientSecret: 'sim-accuro-client-secret-5d3a',
  subscriptionKey: 'sim-accuro-subscription-key-e8f0',
};

export interface AccuroSimOptions extends SimulatorOptions {
  credentials?: AccuroCredentials;
  tenantId?: string;
  /** More API users of the tenant (user name → password) beside `credentials`' (a tenant may have several; bench-fleet gives each clinic its own). */
  extraApiUsers?: ReadonlyMap<string, string>;
  /** The Accuro instance uuid expected in the `uuid` query parameter; defaults to the tenant ID. */
  uuid?: string;
}

export interface AccuroSimulator extends Simulator {
  readonly credentials: AccuroCredentials;
  readonly tenantId: string;
  readonly uuid: string;
  providerId(index: number): string;
  patientId(index: number): string;
  officeId(index: number): string;
}

/** Accuro's gender of a patient: its id and name. */
const ACCURO_GENDER: Record<FakePatient['sex'], { id: number; name: string }> = {
  F: { id: 2, name: 'Female' },
  M: { id: 1, name: 'Male' },
  X: { id: 3, name: 'Other' },
};

const STATUS_NAMES: Record<FakeStatus, string> = {
  booked: 'Booked',
  arrived: 'Arrived',
  fulfilled: 'Completed',
  cancelled: 'Cancelled',
  noshow: 'No Show',
};

const FOLDERS = [
  {
    folderId: 1,
    name: 'Ocean',
    subFolders: [
      { subFolderId: 11, name: 'Messages' },
      { subFolderId: 12, name: 'Attachments' },
    ],
  },
  { folderId: 2, name: 'Referrals', subFolders: [{ subFolderId: 21, name: 'Received' }] },
  { folderId: 3, name: 'eForms', subFolders: [] },
];

const LETTER_TYPES = [
  { letterTypeId: 1, name: 'Encounter Note' },
  { letterTypeId: 2, name: 'Ocean' },
  { letterTypeId: 3, name: 'Referral' },
];

const accuroProviderId = (index: number) => String(2001 + index);
const accuroPatientId = (index: number) => String(index + 1);
const accuroOfficeId = (index: number) => String(index + 1);

export async function start(options: AccuroSimOptions = {}): Promise<AccuroSimulator> {
  const credentials = options.credentials ?? ACCURO_DEV_CREDENTIALS;
  const tenantId = options.tenantId ?? ACCURO_DEV_TENANT;
  const uuid = options.uuid ?? tenantId;
  const state = new SimState('accuro', options);
  const data = state.data;

  function issue(ctx: Ctx) {
    if (ctx.url.searchParams.get('tenant') !== tenantId) throw tokenError(ctx, 400, 'invalid_request', 'unknown tenant');
    const form = ctx.form();
    if (form.get('grant_type') !== 'password') throw tokenError(ctx, 400, 'unsupported_grant_type', 'grant_type must be password');
    const client = basicCredentials(ctx);
    if (state.faults.rejectCredentials || !client || client.user !== credentials.clientId || client.password !== credentials.clientSecret) {
      throw tokenError(ctx, 401, 'invalid_client', 'client authentication failed');
    }
    const username = form.get('username') ?? '';
    const password = username === credentials.apiUsername ? credentials.apiPassword : options.extraApiUsers?.get(username);
    if (password === undefined || form.get('password') !== password) {
      throw tokenError(ctx, 400, 'invalid_grant', 'the API user name or password is wrong');
    }
    if (state.faults.deauthorized) throw tokenError(ctx, 400, 'unauthorized_client', 'the API user has been disabled');
    if (state.credentialExpired()) throw tokenError(ctx, 400, 'invalid_grant', 'the API user password has expired');
    const token = state.issueToken(username);
    return {
      json: {
        access_token: token.value,
        token_type: 'bearer',
        expires_in: Math.max(0, Math.round((token.expiresAt.getTime() - token.issuedAt.getTime()) / 1000)),
        scope: 'openid offline_access',
      },
      headers: { 'cache-control': 'no-store' },
    };
  }

  /** Subscription key, bearer token, revocation and uuid, in the order API Management and Accuro check them. */
  function authorize(ctx: Ctx): void {
    if (ctx.header('x-qhr-subscription-key') !== credentials.subscriptionKey) {
      throw new SimHttpError(401, {
        statusCode: 401,
        message: 'Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.',
      });
    }
    const check = state.checkToken(bearerToken(ctx));
    if (!check.ok) {
      throw bearerError('invalid_token', check.problem === 'expired' ? 'The access token expired' : 'The access token is invalid');
    }
    if (state.faults.deauthorized) throw new SimHttpError(403, { error: 'access_revoked', message: 'the API user has been disabled' });
    if (ctx.url.searchParams.get('uuid') !== uuid) throw new SimHttpError(400, { error: 'invalid_request', message: 'unknown uuid' });
  }

  const patientIndex = (id: string): number | undefined => {
    const index = Number(id) - 1;
    return /^\d+$/.test(id) && index >= 0 && index < data.patientCount ? index : undefined;
  };

  const routes: Route[] = [
    { method: 'POST', path: '/v1/token', handler: issue },
    {
      method: 'GET',
      path: '/v1/providers',
      handler: (ctx) => {
        authorize(ctx);
        const out = [];
        for (let i = 0; i < data.providerCount; i++) {
          const id = accuroProviderId(i);
          if (state.isHidden(id)) continue;
          const p = data.provider(i);
          out.push({
            providerId: Number(id),
            firstName: p.firstName,
            lastName: p.lastName,
            title: 'Dr.',
            billingNumber: p.licenseNumber,
            officeIds: [Number(accuroOfficeId(p.officeIndex))],
            active: true,
          });
        }
        return { json: out };
      },
    },
    {
      method: 'GET',
      path: '/v1/offices',
      handler: (ctx) => {
        authorize(ctx);
        return {
          json: Array.from({ length: data.officeCount }, (_, i) => ({ officeId: Number(accuroOfficeId(i)), name: `Sim Office ${i + 1}` })),
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/provider-portal/folders',
      handler: (ctx) => {
        authorize(ctx);
        return { json: FOLDERS };
      },
    },
    {
      method: 'GET',
      path: '/v2/materials/appointments',
      handler: (ctx) => {
        authorize(ctx);
        // Accuro works in the clinic's local time: dates without an offset are its wall clock.
        const zone = state.data.timeZone;
        const from = localDateParam(ctx, 'startDate', zone);
        const to = localDateParam(ctx, 'endDate', zone);
        const pageSize = intParam(ctx, 'pageSize', 50, 1, 50);
        const startingId = intParam(ctx, 'startingId', 0, 0, Number.MAX_SAFE_INTEGER);
        const appointments = [];
        let lastId = startingId;
        // id = index + 1, ascending with start time: "id > startingId" is "index >= startingId".
        for (const i of visibleAppointments(state, from, to, accuroProviderId, { startIndex: startingId })) {
          const a = state.appointments.get(i);
          appointments.push({
            appointmentId: i + 1,
            patientId: Number(accuroPatientId(a.patientIndex)),
            providerId: Number(accuroProviderId(a.providerIndex)),
            officeId: Number(accuroOfficeId(data.provider(a.providerIndex).officeIndex)),
            appointmentDate: localYmd(a.start, zone),
            startTime: localHms(a.start, zone).slice(0, 5),
            duration: a.durationMinutes,
            status: STATUS_NAMES[a.status],
            ...(a.appointmentType ? { appointmentType: a.appointmentType } : {}),
            ...(a.externalRef ? { externalReference: a.externalRef } : {}),
          });
          lastId = i + 1;
          if (appointments.length === pageSize) break;
        }
        return { json: { appointments, lastId } };
      },
    },
    {
      method: 'GET',
      path: '/v1/patients/:id',
      handler: (ctx) => {
        authorize(ctx);
        const index = patientIndex(ctx.params['id'] ?? '');
        if (index === undefined) throw new SimHttpError(404, { error: 'not_found', message: 'patient not found' });
        const p = state.patients.patient(index);
        return {
          json: {
            patientId: index + 1,
            demographics: {
              firstName: p.firstName,
              lastName: p.lastName,
              birthday: `${p.birthDate}T00:00:00`,
              genderId: ACCURO_GENDER[p.sex].id,
              gender: ACCURO_GENDER[p.sex].name,
              healthCard: { phn: p.healthNumber, province: 'ON' },
              email: { address: p.email },
              phones: [{ number: p.phone, type: 'Home' }],
              addresses: [
                { street: p.address.street, city: p.address.city, province: p.address.province, postalCode: p.address.postalCode },
              ],
            },
            officeId: Number(accuroOfficeId(0)),
          },
        };
      },
    },
    {
      method: 'POST',
      path: '/v1/provider-portal/documents',
      handler: async (ctx) => {
        authorize(ctx);
        const contentType = ctx.header('content-type') ?? '';
        if (!contentType.startsWith('multipart/form-data')) throw new SimHttpError(415, { error: 'multipart/form-data expected' });
        let form: FormData;
        try {
          form = await new Response(new Uint8Array(ctx.body), { headers: { 'content-type': contentType } }).formData();
        } catch {
          throw new SimHttpError(400, { error: 'invalid_request', message: 'malformed multipart body' });
        }
        const detailsPart = form.get('details');
        const documentPart = form.get('document');
        let detailsText: string | undefined;
        if (typeof detailsPart === 'string') detailsText = detailsPart;
        else if (detailsPart) detailsText = await detailsPart.text();
        if (detailsText === undefined || !documentPart || typeof documentPart === 'string') {
          throw new SimHttpError(400, { error: 'invalid_request', message: 'details and document parts are required' });
        }
        let details: Record<string, unknown>;
        try {
          details = JSON.parse(detailsText) as Record<string, unknown>;
        } catch {
          throw new SimHttpError(400, { error: 'invalid_request', message: 'details is not JSON' });
        }
        const patientId = String(details['patientId'] ?? '');
        if (patientIndex(patientId) === undefined) throw new SimHttpError(404, { error: 'not_found', message: 'patient not found' });
        const folder = FOLDERS.find((f) => f.folderId === Number(details['folderId']));
        if (!folder) throw new SimHttpError(400, { error: 'invalid_request', message: 'unknown folderId' });
        const subFolder =
          details['subFolderId'] === undefined
            ? undefined
            : folder.subFolders.find((f) => f.subFolderId === Number(details['subFolderId']));
        if (details['subFolderId'] !== undefined && !subFolder)
          throw new SimHttpError(400, { error: 'invalid_request', message: 'unknown subFolderId for this folder' });
        const { document, duplicate } = state.recordDocument({
          idempotencyKey: idempotencyKey(ctx),
          patientId,
          title: String(details['description'] ?? details['fileName'] ?? ''),
          contentType: documentPart.type || 'application/octet-stream',
          content: Buffer.from(await documentPart.arrayBuffer()),
          folder: folder.name,
          subfolder: subFolder?.name,
          fileName: typeof details['fileName'] === 'string' ? details['fileName'] : documentPart.name,
        });
        return {
          status: duplicate ? 200 : 201,
          json: { documentId: Number(document.id) },
          headers: duplicate ? { 'idempotent-replayed': 'true' } : ({} as Record<string, string>),
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/letter-types',
      handler: (ctx) => {
        authorize(ctx);
        return { json: LETTER_TYPES };
      },
    },
    {
      method: 'POST',
      path: '/v1/patients/:id/encounter-notes',
      handler: (ctx) => {
        authorize(ctx);
        const patientId = ctx.params['id'] ?? '';
        if (patientIndex(patientId) === undefined) throw new SimHttpError(404, { error: 'not_found', message: 'patient not found' });
        const body = ctx.json() as Record<string, unknown>;
        if (typeof body['note'] !== 'string' || body['note'] === '')
          throw new SimHttpError(400, { error: 'invalid_request', message: 'note is required' });
        const letterType =
          body['letterTypeId'] === undefined ? undefined : LETTER_TYPES.find((t) => t.letterTypeId === Number(body['letterTypeId']));
        if (body['letterTypeId'] !== undefined && !letterType)
          throw new SimHttpError(400, { error: 'invalid_request', message: 'unknown letterTypeId' });
        const { note, duplicate } = state.recordNote({
          idempotencyKey: idempotencyKey(ctx),
          patientId,
          title: typeof body['title'] === 'string' ? body['title'] : '',
          text: body['note'],
          letterType: letterType?.name,
          externalId: typeof body['externalId'] === 'string' ? body['externalId'] : undefined,
        });
        return {
          status: duplicate ? 200 : 201,
          json: { encounterNoteId: Number(note.id.replace('note-', '')) },
          headers: duplicate ? { 'idempotent-replayed': 'true' } : ({} as Record<string, string>),
        };
      },
    },
    // A patient's documents and encounter notes (our design, see the header): how a client finds what it filed before a crash.
    {
      method: 'GET',
      path: '/v1/patients/:id/documents',
      handler: (ctx) => {
        authorize(ctx);
        const patientId = ctx.params['id'] ?? '';
        if (patientIndex(patientId) === undefined) throw new SimHttpError(404, { error: 'not_found', message: 'patient not found' });
        const json = state.documents
          .filter((d) => d.patientId === patientId)
          .map((d) => ({
            documentId: Number(d.id),
            fileName: d.fileName ?? '',
            description: d.title,
            folderId: FOLDERS.find((f) => f.name === d.folder)?.folderId,
          }));
        return { json };
      },
    },
    {
      method: 'GET',
      path: '/v1/patients/:id/encounter-notes',
      handler: (ctx) => {
        authorize(ctx);
        const patientId = ctx.params['id'] ?? '';
        if (patientIndex(patientId) === undefined) throw new SimHttpError(404, { error: 'not_found', message: 'patient not found' });
        const externalId = ctx.url.searchParams.get('externalId');
        const json = state.notes
          .filter((n) => n.patientId === patientId && (externalId === null || n.externalId === externalId))
          .map((n) => ({ encounterNoteId: Number(n.id.replace('note-', '')), title: n.title, externalId: n.externalId ?? null }));
        return { json };
      },
    },
  ];

  routes.push(...accuroPatientRoutes(state, authorize, patientIndex));
  routes.push(...schedulerRoutes(state, authorize, patientIndex));
  const sim = await serve({ state, routes, host: options.host, port: options.port, tls: options.tls });
  return Object.assign(sim, {
    credentials,
    tenantId,
    uuid,
    providerId: accuroProviderId,
    patientId: accuroPatientId,
    officeId: accuroOfficeId,
  });
}

const replayed = (duplicate: boolean): Record<string, string> => (duplicate ? { 'idempotent-replayed': 'true' } : {});
const badRequest = (message: string) => new SimHttpError(400, { error: 'invalid_request', message });

/** The demographic values of an Accuro patient body (PUT /v1/patients/{id}), or a 400 naming the field. */
function accuroDemographics(body: unknown): DemographicValues {
  const d = (body as { demographics?: Record<string, unknown> } | null)?.demographics;
  if (!d || typeof d !== 'object') throw badRequest('demographics is required');
  const sub = (key: string, field: string): unknown => {
    const v = d[key];
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[field] : undefined;
  };
  const phones = Array.isArray(d['phones']) ? (d['phones'] as Record<string, unknown>[]) : [];
  const sex = (Object.entries(ACCURO_GENDER) as [FakePatient['sex'], { id: number }][]).find(([, g]) => g.id === d['genderId'])?.[0];
  if (sex === undefined) throw badRequest('demographics.genderId is not a gender of this Accuro');
  const values: Record<string, unknown> = {
    firstName: d['firstName'],
    lastName: d['lastName'],
    birthDate: typeof d['birthday'] === 'string' ? d['birthday'].replace(/T00:00:00$/, '') : d['birthday'],
    sex,
    healthNumber: sub('healthCard', 'phn'),
    email: sub('email', 'address'),
    phone: phones[0]?.['number'],
  };
  for (const [key, value] of Object.entries(values)) if (typeof value !== 'string') throw badRequest(`demographics: ${key} is required`);
  return values as DemographicValues;
}

/** Patient updates and custom fields (our design, see the header). */
function accuroPatientRoutes(state: SimState, authorize: (ctx: Ctx) => void, patientIndex: (id: string) => number | undefined): Route[] {
  const patients = state.patients;
  const fieldId = (name: string) => patients.customFieldNames.indexOf(name) + 1;
  const known = (ctx: Ctx): { index: number; patientId: string } => {
    authorize(ctx);
    const patientId = ctx.params['id'] ?? '';
    const index = patientIndex(patientId);
    if (index === undefined) throw new SimHttpError(404, { error: 'not_found', message: 'patient not found' });
    return { index, patientId };
  };
  return [
    {
      method: 'PUT',
      path: '/v1/patients/:id',
      handler: (ctx) => {
        const { index, patientId } = known(ctx);
        const key = idempotencyKey(ctx);
        if (patients.repeated('demographics', patientId, key))
          return { status: 200, json: { patientId: index + 1 }, headers: replayed(true) };
        const values = accuroDemographics(ctx.json());
        const problem = demographicProblem(values, state.now());
        if (problem) throw badRequest(`demographics: ${problem}`);
        patients.updateDemographics(index, patientId, key, values);
        return { json: { patientId: index + 1 } };
      },
    },
    {
      method: 'GET',
      path: '/v1/custom-fields',
      handler: (ctx) => {
        authorize(ctx);
        return { json: patients.customFieldNames.map((name) => ({ customFieldId: fieldId(name), name })) };
      },
    },
    {
      method: 'GET',
      path: '/v1/patients/:id/custom-fields',
      handler: (ctx) => {
        const { patientId } = known(ctx);
        const values = patients.customFields(patientId);
        return { json: Object.entries(values).map(([name, value]) => ({ customFieldId: fieldId(name), name, value })) };
      },
    },
    {
      method: 'PUT',
      path: '/v1/patients/:id/custom-fields',
      handler: (ctx) => {
        const { patientId } = known(ctx);
        const key = idempotencyKey(ctx);
        if (patients.repeated('customFields', patientId, key)) return { status: 200, json: { updated: 0 }, headers: replayed(true) };
        const body = ctx.json();
        if (!Array.isArray(body) || body.length === 0) throw badRequest('a list of {customFieldId, value} is required');
        const values: Record<string, string> = {};
        for (const item of body as Record<string, unknown>[]) {
          const name = patients.customFieldNames[Number(item?.['customFieldId']) - 1];
          if (!name) throw badRequest('unknown customFieldId');
          const problem = customFieldProblem(name, item['value']);
          if (problem) throw badRequest(problem);
          values[name] = item['value'] as string;
        }
        patients.setCustomFields(patientId, key, values);
        return { json: { updated: Object.keys(values).length } };
      },
    },
  ];
}

/** Accuro's appointment types (the walk-in settings name one by name). */
const ACCURO_APPOINTMENT_TYPES = [
  { appointmentTypeId: 1, name: 'Office Visit' },
  { appointmentTypeId: 2, name: 'Walk-in' },
  { appointmentTypeId: 3, name: 'Follow-up' },
];

/** Check-in and walk-ins: the scheduler calls (our design, see the header). */
function schedulerRoutes(state: SimState, authorize: (ctx: Ctx) => void, patientIndex: (id: string) => number | undefined): Route[] {
  const book = state.appointments;
  const zone = state.data.timeZone;
  const bad = (message: string) => new SimHttpError(400, { error: 'invalid_request', message });
  const providerIndex = (id: unknown): number | undefined => {
    const index = Number(id) - 2001;
    if (!Number.isInteger(index) || index < 0 || index >= state.data.providerCount) return undefined;
    return state.isHidden(accuroProviderId(index)) ? undefined : index;
  };
  return [
    {
      method: 'GET',
      path: '/v1/scheduler/appointment-types',
      handler: (ctx) => {
        authorize(ctx);
        return { json: ACCURO_APPOINTMENT_TYPES };
      },
    },
    {
      method: 'PUT',
      path: '/v1/scheduler/appointments/:id/status',
      handler: (ctx) => {
        authorize(ctx);
        const index = Number(ctx.params['id']) - 1;
        if (
          !/^\d+$/.test(ctx.params['id'] ?? '') ||
          !book.has(index) ||
          providerIndex(accuroProviderId(book.get(index).providerIndex)) === undefined
        )
          throw new SimHttpError(404, { error: 'not_found', message: 'appointment not found' });
        const body = ctx.json() as Record<string, unknown>;
        const status = (Object.entries(STATUS_NAMES) as [FakeStatus, string][]).find(([, name]) => name === body['status'])?.[0];
        if (!status) throw bad(`status must be one of ${Object.values(STATUS_NAMES).join(', ')}`);
        const a = book.setStatus(index, status, idempotencyKey(ctx));
        return { json: { appointmentId: index + 1, status: STATUS_NAMES[a.status] } };
      },
    },
    {
      method: 'POST',
      path: '/v1/scheduler/appointments',
      handler: (ctx) => {
        authorize(ctx);
        const key = idempotencyKey(ctx);
        const existing = key ? book.replayOf(key) : undefined;
        if (existing) return { status: 200, json: { appointmentId: existing.index + 1 }, headers: { 'idempotent-replayed': 'true' } };
        const body = ctx.json() as Record<string, unknown>;
        const patient = patientIndex(String(body['patientId'] ?? ''));
        if (patient === undefined) throw new SimHttpError(404, { error: 'not_found', message: 'patient not found' });
        const provider = providerIndex(body['providerId']);
        if (provider === undefined) throw bad('unknown providerId');
        const type =
          body['appointmentTypeId'] === undefined
            ? undefined
            : ACCURO_APPOINTMENT_TYPES.find((t) => t.appointmentTypeId === Number(body['appointmentTypeId']));
        if (body['appointmentTypeId'] !== undefined && !type) throw bad('unknown appointmentTypeId');
        const date = String(body['appointmentDate'] ?? '');
        const time = /^(\d{2}):(\d{2})$/.exec(String(body['startTime'] ?? ''));
        if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !time)
          throw bad('appointmentDate (YYYY-MM-DD) and startTime (HH:mm, clinic time) are required');
        const duration = body['duration'];
        if (typeof duration !== 'number' || !Number.isInteger(duration) || duration < 1 || duration > 480)
          throw bad('duration must be 1 to 480 minutes');
        const a = book.add(
          {
            patientIndex: patient,
            providerIndex: provider,
            start: zonedInstant(date, Number(time[1]) * 60 + Number(time[2]), zone),
            durationMinutes: duration,
            appointmentType: type?.name,
            externalRef: typeof body['externalReference'] === 'string' ? body['externalReference'] : undefined,
            idempotencyKey: key,
          },
          'api',
        );
        return { status: 201, json: { appointmentId: a.index + 1 } };
      },
    },
  ];
}
