// TELUS PS Suite / Med Access simulator. TELUS publishes NO public API for Cloud Connect; this is
// the project's own "TELUS-style" design, built from what Ocean's help pages say the clinic enters
// (an EMR Instance ID, an EMR Secret and, for PS Suite, a Mobile Activation Code that expires):
//   POST /api/v1/instances/{instanceId}/session  {instanceSecret, activationCode?}
//        → 201 {token, expiresAt, activationCodeExpiresAt, instanceSecretExpiresAt?}
//   GET  /api/v1/instances/{instanceId}/providers → {items:[{id, firstName, lastName, active}]}
//   GET  /api/v1/instances/{instanceId}/appointments?from&to&providerIds&page&pageSize(≤200)
//        → {items, page, pageSize, totalItems, totalPages}   (page is 1-based)
//   GET  /api/v1/instances/{instanceId}/patients/{id}
//   POST /api/v1/instances/{instanceId}/patients/{id}/documents {title, folder?, subfolder?, contentType, data}
//        with Idempotency-Key → 201 {id}, or 200 {id} + Idempotent-Replayed: true
//   POST /api/v1/instances/{instanceId}/patients/{id}/notes {title, text, letterType?}: a chart note, same answers
//   (both take an optional `externalId`, kept with the record; `Idempotency-Key` is honoured only with
//   the `honorIdempotencyKey` switch, off by default)
//   GET  /api/v1/instances/{instanceId}/patients/{id}/documents?externalId=…, …/notes?externalId=…
//        → {items:[{id, title, externalId}]}: the lookup of a record by the client's external id
//   PUT  /api/v1/instances/{instanceId}/patients/{id} {firstName, lastName, birthDate, sex, healthNumber, email,
//        phone}: the whole record as read, changed (Idempotency-Key; a repeat answers 200 + Idempotent-Replayed)
//   GET  /api/v1/instances/{instanceId}/custom-fields → {items:[{name}]}: the custom demographic fields defined
//   GET  /api/v1/instances/{instanceId}/patients/{id}/custom-fields → {items:[{name, value}]}
//   PUT  /api/v1/instances/{instanceId}/patients/{id}/custom-fields {fields:[{name, value}]} (only those change;
//        Idempotency-Key); an undefined name → 422 {error: unknown_custom_field, field}
//   GET  /api/v1/instances/{instanceId}/appointment-types → {items:[{code, name}]}
//   PUT  /api/v1/instances/{instanceId}/appointments/{id}/status {status} → {id, status} (Idempotency-Key recorded)
//   POST /api/v1/instances/{instanceId}/appointments {patientId, providerId, start (ISO 8601 with offset),
//        durationMinutes, appointmentType?, externalReference?} with Idempotency-Key → 201 {id}, or 200 {id}
//        + Idempotent-Replayed: true; unknown provider or appointment type → 400 invalid_request
// Errors: {error, message} with error ∈ invalid_instance_secret, invalid_activation_code,
// activation_code_required, activation_code_expired, instance_secret_expired (401),
// instance_revoked (403), instance_not_found (404), invalid_session, session_expired (401).
// One simulator serves any number of instances of either product.
import {
  bearerToken,
  type Ctx,
  dateParam,
  idempotencyKey,
  intParam,
  type Route,
  SimHttpError,
  SimState,
  type Simulator,
  type SimulatorOptions,
  serve,
  visibleAppointments,
} from './common.ts';
import type { FakeStatus } from './fake-data.ts';
import { localIsoWithOffset } from './local-time.ts';
import { customFieldProblem, type DemographicValues, demographicProblem } from './patients.ts';

export type TelusProduct = 'PSSuite' | 'MedAccess';

export interface TelusInstance {
  instanceId: string;
  instanceSecret: string;
  product: TelusProduct;
  /** PS Suite: the mobile activation code. */
  activationCode?: string;
}

const TELUS_DEV_INSTANCES: TelusInstance[] = [
  { instanceId: 'SIM-PSS-0001', instanceSecret: 'sim-pss-instance-secret-1a2b', product: 'PSSuite', activationCode: 'SIMACT-7788-4411' },
  { instanceId: 'SIM-MA-0001', instanceSecret: 'sim-ma-instance-secret-3c4d', product: 'MedAccess' },
];

export interface TelusSimOptions extends SimulatorOptions {
  instances?: TelusInstance[];
  /** PS Suite activation codes expire this long after the simulator starts unless credentialNotAfter says otherwise. */
  activationCodeLifetimeSeconds?: number;
}

export interface TelusSimulator extends Simulator {
  readonly instances: TelusInstance[];
  instance(product: TelusProduct): TelusInstance;
  providerId(index: number): string;
  patientId(index: number): string;
  activationCodeExpiresAt(): Date;
}

const STATUS: Record<FakeStatus, string> = {
  booked: 'booked',
  arrived: 'arrived',
  fulfilled: 'completed',
  cancelled: 'cancelled',
  noshow: 'no-show',
};

const telusProviderId = (index: number) => `P${1001 + index}`;
const telusPatientId = (index: number) => String(index + 1);

export async function start(options: TelusSimOptions = {}): Promise<TelusSimulator> {
  const instances = options.instances ?? TELUS_DEV_INSTANCES;
  const state = new SimState('telus', options);
  state.defaultTokenLifetimeSeconds = 1800;
  const data = state.data;
  const activationLifetime = options.activationCodeLifetimeSeconds ?? 30 * 86_400;
  const activationCodeExpiresAt = () => state.credentialNotAfter() ?? new Date(state.startedAt.getTime() + activationLifetime * 1000);
  const listCache = new Map<string, number[]>();

  const fail = (status: number, error: string, message: string) => new SimHttpError(status, { error, message });

  function instanceOf(ctx: Ctx): TelusInstance {
    const instance = instances.find((i) => i.instanceId === ctx.params['instanceId']);
    if (!instance) throw fail(404, 'instance_not_found', 'no such EMR instance');
    return instance;
  }

  function session(ctx: Ctx) {
    const instance = instanceOf(ctx);
    const body = ctx.json() as { instanceSecret?: unknown; activationCode?: unknown };
    if (state.faults.rejectCredentials || body.instanceSecret !== instance.instanceSecret) {
      throw fail(401, 'invalid_instance_secret', 'the EMR secret is not valid for this instance');
    }
    if (state.faults.deauthorized) throw fail(403, 'instance_revoked', 'Cloud Connect access to this instance was revoked');
    let codeExpiry: string | null = null;
    let secretExpiry: string | undefined;
    if (instance.product === 'PSSuite') {
      if (body.activationCode === undefined) throw fail(401, 'activation_code_required', 'PS Suite requires the mobile activation code');
      if (body.activationCode !== instance.activationCode) throw fail(401, 'invalid_activation_code', 'the activation code is not valid');
      if (activationCodeExpiresAt().getTime() <= state.now().getTime())
        throw fail(401, 'activation_code_expired', 'the activation code has expired');
      codeExpiry = activationCodeExpiresAt().toISOString();
    } else {
      if (state.credentialExpired()) throw fail(401, 'instance_secret_expired', 'the EMR secret has expired');
      secretExpiry = state.credentialNotAfter()?.toISOString();
    }
    const token = state.issueToken(instance.instanceId);
    return {
      status: 201,
      json: {
        token: token.value,
        expiresAt: token.expiresAt.toISOString(),
        activationCodeExpiresAt: codeExpiry,
        ...(secretExpiry ? { instanceSecretExpiresAt: secretExpiry } : {}),
      },
    };
  }

  function authorize(ctx: Ctx): TelusInstance {
    const instance = instanceOf(ctx);
    const check = state.checkToken(bearerToken(ctx));
    if (!check.ok) {
      throw check.problem === 'expired'
        ? fail(401, 'session_expired', 'the session has expired')
        : fail(401, 'invalid_session', 'no valid session');
    }
    if (check.token.subject !== instance.instanceId) throw fail(401, 'invalid_session', 'the session belongs to another instance');
    if (state.faults.deauthorized) throw fail(403, 'instance_revoked', 'Cloud Connect access to this instance was revoked');
    if (instance.product === 'PSSuite' && activationCodeExpiresAt().getTime() <= state.now().getTime()) {
      throw fail(401, 'activation_code_expired', 'the activation code has expired');
    }
    return instance;
  }

  const patientIndex = (id: string): number | undefined => {
    const index = Number(id) - 1;
    return /^\d+$/.test(id) && index >= 0 && index < data.patientCount ? index : undefined;
  };

  const base = '/api/v1/instances/:instanceId';
  const routes: Route[] = [
    { method: 'POST', path: `${base}/session`, handler: session },
    {
      method: 'GET',
      path: `${base}/providers`,
      handler: (ctx) => {
        authorize(ctx);
        const items = [];
        for (let i = 0; i < data.providerCount; i++) {
          const id = telusProviderId(i);
          if (state.isHidden(id)) continue;
          const p = data.provider(i);
          items.push({ id, firstName: p.firstName, lastName: p.lastName, active: true });
        }
        return { json: { items } };
      },
    },
    {
      method: 'GET',
      path: `${base}/appointments`,
      handler: (ctx) => {
        authorize(ctx);
        const from = dateParam(ctx, 'from');
        const to = dateParam(ctx, 'to');
        const page = intParam(ctx, 'page', 1, 1, 1_000_000);
        const pageSize = intParam(ctx, 'pageSize', 50, 1, 200);
        const providerIds = (ctx.url.searchParams.get('providerIds') ?? '').split(',').filter(Boolean);
        let providerIndexes: Set<number> | undefined;
        if (providerIds.length > 0) {
          providerIndexes = new Set();
          for (const id of providerIds) {
            const index = Number(id.replace(/^P/, '')) - 1001;
            if (Number.isInteger(index) && index >= 0 && index < data.providerCount) providerIndexes.add(index);
          }
        }
        // Offset paging needs the whole filtered list; keep the last few lists for the next pages.
        const key = JSON.stringify([from, to, providerIds, state.faults.hiddenProviderIds ?? [], state.appointments.version]);
        let list = listCache.get(key);
        if (!list) {
          list = [...visibleAppointments(state, from, to, telusProviderId, providerIndexes ? { providerIndexes } : {})];
          if (listCache.size > 16) listCache.clear();
          listCache.set(key, list);
        }
        const items = list.slice((page - 1) * pageSize, page * pageSize).map((i) => {
          const a = state.appointments.get(i);
          return {
            id: String(i + 1),
            providerId: telusProviderId(a.providerIndex),
            patientId: telusPatientId(a.patientIndex),
            start: localIsoWithOffset(a.start, state.data.timeZone),
            end: localIsoWithOffset(a.end, state.data.timeZone),
            status: STATUS[a.status],
            ...(a.appointmentType ? { appointmentType: a.appointmentType } : {}),
            ...(a.externalRef ? { externalReference: a.externalRef } : {}),
          };
        });
        return { json: { items, page, pageSize, totalItems: list.length, totalPages: Math.ceil(list.length / pageSize) } };
      },
    },
    {
      method: 'GET',
      path: `${base}/patients/:patientId`,
      handler: (ctx) => {
        authorize(ctx);
        const index = patientIndex(ctx.params['patientId'] ?? '');
        if (index === undefined) throw fail(404, 'patient_not_found', 'no such patient');
        const p = state.patients.patient(index);
        return {
          json: {
            id: telusPatientId(index),
            firstName: p.firstName,
            lastName: p.lastName,
            birthDate: p.birthDate,
            sex: p.sex,
            healthNumber: p.healthNumber,
            email: p.email,
            phone: p.phone,
          },
        };
      },
    },
    {
      method: 'POST',
      path: `${base}/patients/:patientId/documents`,
      handler: (ctx) => {
        authorize(ctx);
        const patientId = ctx.params['patientId'] ?? '';
        if (patientIndex(patientId) === undefined) throw fail(404, 'patient_not_found', 'no such patient');
        const body = ctx.json() as Record<string, unknown>;
        if (typeof body['title'] !== 'string' || body['title'] === '') throw fail(400, 'invalid_request', 'title is required');
        if (body['contentType'] !== 'application/pdf') throw fail(400, 'invalid_request', 'contentType must be application/pdf');
        if (typeof body['data'] !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(body['data']))
          throw fail(400, 'invalid_request', 'data must be base64');
        const { document, duplicate } = state.recordDocument({
          idempotencyKey: idempotencyKey(ctx),
          patientId,
          title: body['title'],
          contentType: body['contentType'],
          content: Buffer.from(body['data'], 'base64'),
          folder: typeof body['folder'] === 'string' ? body['folder'] : undefined,
          subfolder: typeof body['subfolder'] === 'string' ? body['subfolder'] : undefined,
          externalId: typeof body['externalId'] === 'string' ? body['externalId'] : undefined,
        });
        return duplicate
          ? { status: 200, json: { id: document.id }, headers: { 'idempotent-replayed': 'true' } }
          : { status: 201, json: { id: document.id } };
      },
    },
    {
      method: 'POST',
      path: `${base}/patients/:patientId/notes`,
      handler: (ctx) => {
        authorize(ctx);
        const patientId = ctx.params['patientId'] ?? '';
        if (patientIndex(patientId) === undefined) throw fail(404, 'patient_not_found', 'no such patient');
        const body = ctx.json() as Record<string, unknown>;
        if (typeof body['text'] !== 'string' || body['text'] === '') throw fail(400, 'invalid_request', 'text is required');
        const { note, duplicate } = state.recordNote({
          idempotencyKey: idempotencyKey(ctx),
          patientId,
          title: typeof body['title'] === 'string' ? body['title'] : '',
          text: body['text'],
          letterType: typeof body['letterType'] === 'string' ? body['letterType'] : undefined,
          externalId: typeof body['externalId'] === 'string' ? body['externalId'] : undefined,
        });
        return duplicate
          ? { status: 200, json: { id: note.id }, headers: { 'idempotent-replayed': 'true' } }
          : { status: 201, json: { id: note.id } };
      },
    },
    // Lookups by the client's external id (our design): how a client finds what it filed before a crash.
    {
      method: 'GET',
      path: `${base}/patients/:patientId/documents`,
      handler: (ctx) => {
        authorize(ctx);
        const patientId = ctx.params['patientId'] ?? '';
        if (patientIndex(patientId) === undefined) throw fail(404, 'patient_not_found', 'no such patient');
        const externalId = ctx.url.searchParams.get('externalId');
        const items = state.documents
          .filter((d) => d.patientId === patientId && (externalId === null || d.externalId === externalId))
          .map((d) => ({ id: d.id, title: d.title, folder: d.folder, externalId: d.externalId }));
        return { json: { items } };
      },
    },
    {
      method: 'GET',
      path: `${base}/patients/:patientId/notes`,
      handler: (ctx) => {
        authorize(ctx);
        const patientId = ctx.params['patientId'] ?? '';
        if (patientIndex(patientId) === undefined) throw fail(404, 'patient_not_found', 'no such patient');
        const externalId = ctx.url.searchParams.get('externalId');
        const items = state.notes
          .filter((n) => n.patientId === patientId && (externalId === null || n.externalId === externalId))
          .map((n) => ({ id: n.id, title: n.title, externalId: n.externalId }));
        return { json: { items } };
      },
    },
  ];

  routes.push(...telusPatientRoutes(state, base, authorize, patientIndex, fail));
  routes.push(...appointmentRoutes(state, base, authorize, patientIndex));
  const sim = await serve({ state, routes, host: options.host, port: options.port, tls: options.tls });
  return Object.assign(sim, {
    instances,
    instance(product: TelusProduct): TelusInstance {
      const found = instances.find((i) => i.product === product);
      if (!found) throw new Error(`no ${product} instance configured`);
      return found;
    },
    providerId: telusProviderId,
    patientId: telusPatientId,
    activationCodeExpiresAt,
  });
}

const DEMOGRAPHIC_KEYS = ['firstName', 'lastName', 'birthDate', 'sex', 'healthNumber', 'email', 'phone'] as const;

/** Patient updates and custom fields (our design, see the header). */
function telusPatientRoutes(
  state: SimState,
  base: string,
  authorize: (ctx: Ctx) => unknown,
  patientIndex: (id: string) => number | undefined,
  fail: (status: number, error: string, message: string) => SimHttpError,
): Route[] {
  const patients = state.patients;
  const replayed = { 'idempotent-replayed': 'true' };
  const known = (ctx: Ctx): { index: number; patientId: string } => {
    authorize(ctx);
    const patientId = ctx.params['patientId'] ?? '';
    const index = patientIndex(patientId);
    if (index === undefined) throw fail(404, 'patient_not_found', 'no such patient');
    return { index, patientId };
  };
  return [
    {
      method: 'PUT',
      path: `${base}/patients/:patientId`,
      handler: (ctx) => {
        const { index, patientId } = known(ctx);
        const key = idempotencyKey(ctx);
        if (patients.repeated('demographics', patientId, key)) return { json: { id: patientId }, headers: replayed };
        const body = ctx.json() as Record<string, unknown>;
        for (const k of DEMOGRAPHIC_KEYS) if (typeof body?.[k] !== 'string') throw fail(400, 'invalid_request', `${k} is required`);
        const values = Object.fromEntries(DEMOGRAPHIC_KEYS.map((k) => [k, body[k]])) as DemographicValues;
        const problem = demographicProblem(values, state.now());
        if (problem) throw fail(400, 'invalid_request', problem);
        patients.updateDemographics(index, patientId, key, values);
        return { json: { id: patientId } };
      },
    },
    {
      method: 'GET',
      path: `${base}/custom-fields`,
      handler: (ctx) => {
        authorize(ctx);
        return { json: { items: patients.customFieldNames.map((name) => ({ name })) } };
      },
    },
    {
      method: 'GET',
      path: `${base}/patients/:patientId/custom-fields`,
      handler: (ctx) => {
        const { patientId } = known(ctx);
        return { json: { items: Object.entries(patients.customFields(patientId)).map(([name, value]) => ({ name, value })) } };
      },
    },
    {
      method: 'PUT',
      path: `${base}/patients/:patientId/custom-fields`,
      handler: (ctx) => {
        const { patientId } = known(ctx);
        const key = idempotencyKey(ctx);
        if (patients.repeated('customFields', patientId, key)) return { json: { updated: 0 }, headers: replayed };
        const fields = (ctx.json() as { fields?: unknown } | null)?.fields;
        if (!Array.isArray(fields) || fields.length === 0) throw fail(400, 'invalid_request', 'fields must be a non-empty list');
        const values: Record<string, string> = {};
        for (const f of fields as Record<string, unknown>[]) {
          const name = String(f?.['name'] ?? '');
          if (patients.unknownCustomField([name]) !== undefined)
            throw new SimHttpError(422, { error: 'unknown_custom_field', message: 'no such custom field', field: name });
          const problem = customFieldProblem(name, f['value']);
          if (problem) throw fail(400, 'invalid_request', problem);
          values[name] = f['value'] as string;
        }
        patients.setCustomFields(patientId, key, values);
        return { json: { updated: Object.keys(values).length } };
      },
    },
  ];
}

/** The appointment types of the TELUS-style API. */
const TELUS_APPOINTMENT_TYPES = [
  { code: 'OFFICE', name: 'Office Visit' },
  { code: 'WALKIN', name: 'Walk-in' },
  { code: 'FOLLOWUP', name: 'Follow-up' },
];

/** Check-in and walk-ins (our design, see the header). */
function appointmentRoutes(
  state: SimState,
  base: string,
  authorize: (ctx: Ctx) => unknown,
  patientIndex: (id: string) => number | undefined,
): Route[] {
  const book = state.appointments;
  const bad = (message: string) => new SimHttpError(400, { error: 'invalid_request', message });
  const providerIndex = (id: unknown): number | undefined => {
    const index = Number(String(id).replace(/^P/, '')) - 1001;
    if (typeof id !== 'string' || !/^P\d+$/.test(id) || index < 0 || index >= state.data.providerCount) return undefined;
    return state.isHidden(id) ? undefined : index;
  };
  return [
    {
      method: 'GET',
      path: `${base}/appointment-types`,
      handler: (ctx) => {
        authorize(ctx);
        return { json: { items: TELUS_APPOINTMENT_TYPES } };
      },
    },
    {
      method: 'PUT',
      path: `${base}/appointments/:appointmentId/status`,
      handler: (ctx) => {
        authorize(ctx);
        const id = ctx.params['appointmentId'] ?? '';
        const index = Number(id) - 1;
        if (!/^\d+$/.test(id) || !book.has(index))
          throw new SimHttpError(404, { error: 'appointment_not_found', message: 'no such appointment' });
        const wanted = (ctx.json() as Record<string, unknown>)['status'];
        const status = (Object.entries(STATUS) as [FakeStatus, string][]).find(([, name]) => name === wanted)?.[0];
        if (!status) throw bad(`status must be one of ${Object.values(STATUS).join(', ')}`);
        const a = book.setStatus(index, status, idempotencyKey(ctx));
        return { json: { id, status: STATUS[a.status] } };
      },
    },
    {
      method: 'POST',
      path: `${base}/appointments`,
      handler: (ctx) => {
        authorize(ctx);
        const key = idempotencyKey(ctx);
        const existing = key ? book.replayOf(key) : undefined;
        if (existing) return { status: 200, json: { id: String(existing.index + 1) }, headers: { 'idempotent-replayed': 'true' } };
        const body = ctx.json() as Record<string, unknown>;
        const patient = patientIndex(String(body['patientId'] ?? ''));
        if (patient === undefined) throw new SimHttpError(404, { error: 'patient_not_found', message: 'no such patient' });
        const provider = providerIndex(body['providerId']);
        if (provider === undefined) throw bad('unknown providerId');
        const type = body['appointmentType'];
        if (type !== undefined && !TELUS_APPOINTMENT_TYPES.some((t) => t.code === type)) throw bad('unknown appointmentType');
        const start = typeof body['start'] === 'string' && /(Z|[+-]\d{2}:\d{2})$/.test(body['start']) ? new Date(body['start']) : undefined;
        if (!start || Number.isNaN(start.getTime())) throw bad('start must be ISO 8601 with an offset');
        const duration = body['durationMinutes'];
        if (typeof duration !== 'number' || !Number.isInteger(duration) || duration < 1 || duration > 480)
          throw bad('durationMinutes must be 1 to 480');
        const a = book.add(
          {
            patientIndex: patient,
            providerIndex: provider,
            start,
            durationMinutes: duration,
            appointmentType: type as string | undefined,
            externalRef: typeof body['externalReference'] === 'string' ? body['externalReference'] : undefined,
            idempotencyKey: key,
          },
          'api',
        );
        return { status: 201, json: { id: String(a.index + 1) } };
      },
    },
  ];
}
