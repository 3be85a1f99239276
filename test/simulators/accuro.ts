// QHR Accuro simulator, after the public Accuro REST API shapes:
//   POST /v1/token?tenant=TENANT   Basic clientId:clientSecret, form grant_type=password&username&password
//                                  (the per-site API user of Ocean's setup) → {access_token, expires_in, …}
//   every other call: Authorization: Bearer, header X-QHR-Subscription-Key, query uuid
//   GET  /v1/providers, /v1/offices, /v1/provider-portal/folders
//   GET  /v2/materials/appointments?startDate&endDate&pageSize(≤50)&startingId → {appointments, lastId}
//        (appointments with id > startingId, ascending; pass lastId back as startingId)
//   GET  /v1/patients/{id}
//   POST /v1/provider-portal/documents  multipart: `details` (JSON, with `folderId` and optional
//                                  `subFolderId`) + `document` (PDF)
//   GET  /v1/letter-types          → [{letterTypeId, name}]
//   POST /v1/patients/{id}/encounter-notes  JSON {title, note, letterTypeId?, noteDate, externalId?} → 201 {encounterNoteId}
//   GET  /v1/patients/{id}/documents       → [{documentId, fileName, description, folderId}]
//   GET  /v1/patients/{id}/encounter-notes?externalId=…  → [{encounterNoteId, title, externalId}]
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
import { localHms, localYmd } from './local-time.ts';

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
    if (form.get('username') !== credentials.apiUsername || form.get('password') !== credentials.apiPassword) {
      throw tokenError(ctx, 400, 'invalid_grant', 'the API user name or password is wrong');
    }
    if (state.faults.deauthorized) throw tokenError(ctx, 400, 'unauthorized_client', 'the API user has been disabled');
    if (state.credentialExpired()) throw tokenError(ctx, 400, 'invalid_grant', 'the API user password has expired');
    const token = state.issueToken(credentials.apiUsername);
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
          const a = data.appointment(i);
          appointments.push({
            appointmentId: i + 1,
            patientId: Number(accuroPatientId(a.patientIndex)),
            providerId: Number(accuroProviderId(a.providerIndex)),
            officeId: Number(accuroOfficeId(data.provider(a.providerIndex).officeIndex)),
            appointmentDate: localYmd(a.start, zone),
            startTime: localHms(a.start, zone).slice(0, 5),
            duration: a.durationMinutes,
            status: STATUS_NAMES[a.status],
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
        const p = data.patient(index);
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
