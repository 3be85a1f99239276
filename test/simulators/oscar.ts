// OSCAR Pro simulator: the REST services under `{contextPath}/ws/services/...` that Cloud Connect
// uses, behind OAuth 1.0a (RFC 5849) HMAC-SHA1 request signing that is really verified, by the
// `oauth-1.0a` npm package, not by the operator's own signer: the signature is recomputed from the
// request as received (Host header, path, query, form body), timestamps older than the allowed skew
// and replayed nonces are refused.
// Errors follow the OAuth Problem Reporting extension: 401 with
// `WWW-Authenticate: OAuth realm="OSCAR", oauth_problem="…"` and a form-encoded body
// (`consumer_key_unknown`, `token_rejected`, `token_revoked`, `token_expired`, `signature_invalid`,
// `timestamp_refused`, `nonce_used`, `parameter_absent`, `signature_method_rejected`).
// Our design, not OSCAR's: every successful answer carries `X-OAuth-Token-Expires` (ISO 8601), the
// access token's expiry, so the operator can warn before a person has to authorize again.
// Idempotency: OSCAR has none; the simulator honours `Idempotency-Key` on document and note posts only
// with the `honorIdempotencyKey` switch (off by default, as the real server). What a client filed is
// found in `POST notes/{demographicNo}/all` (OSCAR's NotesService note list, newest first, paged with
// numToReturn/offset) and `GET document/demographic/{demographicNo}` (a demographic's documents: OUR
// design, OSCAR's DocumentService publishes no such list that we know of).
// Filing: a document's `docType` is its folder and `docSubClass` its subfolder; encounter notes are
// `POST notes/{demographicNo}/save` (OSCAR's NotesService, NoteTo1 `{note, encounterType}` → `{noteId}`);
// OSCAR has no letter types, the settings' letter type is stored as the note's encounter type.
// Demographics: `PUT demographics` takes a whole DemographicTo1 (OSCAR's DemographicService
// updateDemographicData, a full replace keyed by `demographicNo`; firstName, lastName, dateOfBirth,
// sex, hin, email, phone are required here, as a replace would blank them) and its `extras`
// ([{key, value}], OSCAR's DemographicExt) are the custom demographic fields: the keys this clinic
// defines (SimulatorOptions.customFields); an unknown key answers 400 {error, key}. `GET
// demographics/{id}` serves the stored record with its extras. Idempotency-Key is honoured as on
// documents (ours; OSCAR has none).
// Check-in and walk-ins, after OSCAR's ScheduleService (ws/rest/ScheduleService.java):
//   POST schedule/appointment/{id}/updateStatus  AppointmentTo1 {status} → {appointment}  (status codes
//        of `schedule/statuses`: t To do, H Here (arrived), B Billed, C Cancelled, N No show; unknown → 400)
//   GET  schedule/types → {types: [{id, name, duration}]}
//   POST schedule/add  NewAppointmentTo1 {providerNo, demographicNo, appointmentDate, startTime (HH:mm,
//        server wall clock), duration, type, notes, status} → {appointment: {id, …}}; an unknown
//        provider, patient or type answers 400 (OSCAR itself checks little here: the simulator is not
//        more forgiving than a careful clinic setup); Idempotency-Key honoured (ours, as for documents)
// Authorization, OAuth 1.0a's three legs under `{contextPath}/ws/oauth/...`: oscar-authorize.ts.
import { createHmac, timingSafeEqual } from 'node:crypto';
import OAuth from 'oauth-1.0a';
import {
  type Ctx,
  idempotencyKey,
  intParam,
  type Reply,
  type Route,
  SimHttpError,
  SimState,
  type Simulator,
  type SimulatorOptions,
  serve,
  visibleAppointments,
} from './common.ts';
import type { FakeStatus } from './fake-data.ts';
import { localHms, localYmd, nextDays, zonedInstant } from './local-time.ts';
import { authorizationRoutes, type OscarAuthorization, type OscarAuthorizeOptions } from './oscar-authorize.ts';
import { customFieldProblem, type DemographicValues, demographicProblem } from './patients.ts';

/** OSCAR's appointment types (`schedule/types`). */
const OSCAR_APPOINTMENT_TYPES = [
  { id: 1, name: 'Office Visit', duration: 15 },
  { id: 2, name: 'Walk-in', duration: 15 },
  { id: 3, name: 'Follow-up', duration: 10 },
];

export interface OscarCredentials {
  clientKey: string;
  clientSecret: string;
  accessToken: string;
  tokenSecret: string;
}

/** Fixed development credentials (fake; used by `make up` and tests unless overridden). */
export const OSCAR_DEV_CREDENTIALS: OscarCredentials = {
  clientKey: 'sim-oscar-consumer-key',
  clientSecret: 'sim-oscar-consumer-secret-4f1c',
  accessToken: 'sim-oscar-access-token-9a7e',
  tokenSecret: 'sim-oscar-token-secret-2b8d',
};

export interface OscarSimOptions extends SimulatorOptions, OscarAuthorizeOptions {
  credentials?: OscarCredentials;
  /** The EMR path in the server URL; default `/oscar`. */
  contextPath?: string;
  maxClockSkewSeconds?: number;
}

export interface OscarSimulator extends Simulator {
  readonly credentials: OscarCredentials;
  providerId(index: number): string;
  patientId(index: number): string;
  /** When the access token expires, as announced in X-OAuth-Token-Expires. */
  tokenExpiresAt(): Date;
  /** The OAuth 1.0a authorization legs (oscar-authorize.ts): the EMR user, authorizations granted and refused. */
  readonly authorization: OscarAuthorization;
}

const STATUS_CODES: Record<FakeStatus, string> = { booked: 't', arrived: 'H', fulfilled: 'B', cancelled: 'C', noshow: 'N' };
const ONE_YEAR_SECONDS = 365 * 86_400;

const providerNo = (index: number) => String(1001 + index);
const demographicNo = (index: number) => String(index + 1);

/**
 * RFC 5849 §3.5.1: the `Authorization: OAuth k="v", …` header as received, its names and values
 * percent-decoded; undefined when it is not one (or repeats a parameter). Written here, apart from the
 * operator's signer (operator/internal/httpx/oauth1.ts), so that a parsing bug there is not mirrored.
 */
function parseOAuthHeader(header: string | undefined): Record<string, string> | undefined {
  const m = header ? /^OAuth\s+(.*)$/is.exec(header) : null;
  if (!m?.[1]) return undefined;
  const out: Record<string, string> = {};
  for (const part of m[1].split(',')) {
    const pair = /^\s*([^=\s]+)\s*=\s*"([^"]*)"\s*$/.exec(part);
    if (!pair?.[1] || pair[2] === undefined) return undefined;
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(pair[1]);
      value = decodeURIComponent(pair[2]);
    } catch {
      return undefined;
    }
    if (name in out) return undefined;
    out[name] = value;
  }
  return out;
}

/**
 * Recomputes the request's HMAC-SHA1 signature with the `oauth-1.0a` npm package (an implementation
 * independent of the operator's signer: a signing bug shared by both sides would otherwise pass) from
 * the request as received: the scheme it came in on, its Host header, path and query, the oauth_*
 * parameters of the header and a form-encoded body; compared in constant time.
 */
function signatureValid(ctx: Ctx, oauth: Record<string, string>, credentials: OscarCredentials): boolean {
  const host = ctx.header('host') ?? 'localhost';
  const scheme = (ctx.req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const oauthData = Object.fromEntries(Object.entries(oauth).filter(([k]) => k.startsWith('oauth_') && k !== 'oauth_signature'));
  const form = (ctx.header('content-type') ?? '').startsWith('application/x-www-form-urlencoded') ? Object.fromEntries(ctx.form()) : {};
  const verifier = new OAuth({
    consumer: { key: credentials.clientKey, secret: credentials.clientSecret },
    signature_method: 'HMAC-SHA1',
    hash_function: (base, key) => createHmac('sha1', key).update(base).digest('base64'),
  });
  const expected = verifier.getSignature(
    { url: `${scheme}://${host}${ctx.req.url ?? '/'}`, method: ctx.method, data: form },
    credentials.tokenSecret,
    oauthData as unknown as OAuth.Data,
  );
  const a = Buffer.from(expected);
  const b = Buffer.from(oauth['oauth_signature'] ?? '');
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function start(options: OscarSimOptions = {}): Promise<OscarSimulator> {
  // A copy: the authorization legs replace the access pair in it (oscar-authorize.ts).
  const credentials = { ...(options.credentials ?? OSCAR_DEV_CREDENTIALS) };
  const contextPath = (options.contextPath ?? '/oscar').replace(/\/+$/, '');
  const maxSkew = options.maxClockSkewSeconds ?? 600;
  const state = new SimState('oscar', options);
  // OSCAR access tokens live as long as the registered client says; a year unless told otherwise.
  state.defaultTokenLifetimeSeconds = ONE_YEAR_SECONDS;
  const seenNonces = new Set<string>();
  /** Each note's text as the client sent it, by note id: what OSCAR's note list serves. */
  const notesAsSent = new Map<string, string>();
  const data = state.data;

  const tokenExpiresAt = (): Date =>
    state.credentialNotAfter() ??
    new Date(state.startedAt.getTime() + (state.faults.tokenLifetimeSeconds ?? state.defaultTokenLifetimeSeconds) * 1000);

  const problem = (name: string, status = 401) =>
    new SimHttpError(
      status,
      undefined,
      { 'www-authenticate': `OAuth realm="OSCAR", oauth_problem="${name}"`, 'content-type': 'application/x-www-form-urlencoded' },
      `oauth_problem=${name}`,
    );

  /** Verifies the OAuth 1.0a signature and the token's state; throws the OAuth problem. */
  function authorize(ctx: Ctx): void {
    const oauth = parseOAuthHeader(ctx.header('authorization'));
    if (!oauth) throw problem('parameter_absent');
    for (const required of [
      'oauth_consumer_key',
      'oauth_token',
      'oauth_signature_method',
      'oauth_timestamp',
      'oauth_nonce',
      'oauth_signature',
    ]) {
      if (!oauth[required]) throw problem('parameter_absent');
    }
    if (oauth['oauth_signature_method'] !== 'HMAC-SHA1') throw problem('signature_method_rejected');
    if (state.faults.rejectCredentials || oauth['oauth_consumer_key'] !== credentials.clientKey) throw problem('consumer_key_unknown');
    if (oauth['oauth_token'] !== credentials.accessToken) throw problem('token_rejected');

    if (!signatureValid(ctx, oauth, credentials)) throw problem('signature_invalid');

    const timestamp = Number(oauth['oauth_timestamp']);
    if (!Number.isInteger(timestamp) || Math.abs(state.now().getTime() / 1000 - timestamp) > maxSkew) throw problem('timestamp_refused');
    const nonceKey = `${timestamp}:${oauth['oauth_nonce']}`;
    if (seenNonces.has(nonceKey)) throw problem('nonce_used');
    if (seenNonces.size > 50_000) seenNonces.clear();
    seenNonces.add(nonceKey);

    if (state.faults.deauthorized) throw problem('token_revoked');
    if (state.faults.tokenExpired || tokenExpiresAt().getTime() <= state.now().getTime()) throw problem('token_expired');
  }

  const ok = (json: unknown, headers: Record<string, string> = {}): Reply => ({
    json,
    headers: { 'x-oauth-token-expires': tokenExpiresAt().toISOString(), ...headers },
  });

  const providerIndex = (id: string): number | undefined => {
    const index = Number(id) - 1001;
    return Number.isInteger(index) && index >= 0 && index < data.providerCount ? index : undefined;
  };
  const patientIndex = (id: string): number | undefined => {
    const index = Number(id) - 1;
    return /^\d+$/.test(id) && index >= 0 && index < data.patientCount ? index : undefined;
  };

  const services = `${contextPath}/ws/services`;
  const routes: Route[] = [
    {
      method: 'GET',
      path: `${services}/providerService/providers_json`,
      handler: (ctx) => {
        authorize(ctx);
        const content = [];
        for (let i = 0; i < data.providerCount; i++) {
          const id = providerNo(i);
          if (state.isHidden(id)) continue;
          const p = data.provider(i);
          content.push({
            providerNo: id,
            firstName: p.firstName,
            lastName: p.lastName,
            providerType: 'doctor',
            specialty: p.specialty,
            ohipNo: p.licenseNumber,
            enabled: true,
          });
        }
        return ok({ content, total: content.length });
      },
    },
    {
      method: 'GET',
      path: `${services}/schedule/fetchDays/:start/:end/:providers`,
      handler: (ctx) => {
        authorize(ctx);
        const { start: startDay, end: endDay, providers } = ctx.params as { start: string; end: string; providers: string };
        if (!/^\d{4}-\d{2}-\d{2}$/.test(startDay) || !/^\d{4}-\d{2}-\d{2}$/.test(endDay)) {
          throw new SimHttpError(400, { error: 'dates must be yyyy-MM-dd' });
        }
        const wanted = new Set<number>();
        for (const id of providers.split(',').filter(Boolean)) {
          const index = providerIndex(id);
          if (index !== undefined) wanted.add(index);
        }
        // The clinic's days (OSCAR works in its server's local time); the end day is inclusive.
        const zone = data.timeZone;
        const from = zonedInstant(startDay, 0, zone);
        const to = zonedInstant(nextDays(endDay, 1), 0, zone);
        const content = [];
        for (const i of visibleAppointments(state, from, to, providerNo, { providerIndexes: wanted })) {
          const a = state.appointments.get(i);
          content.push({
            appointmentNo: i + 1,
            providerNo: providerNo(a.providerIndex),
            appointmentDate: localYmd(a.start, zone),
            startTime: localHms(a.start, zone),
            endTime: localHms(a.end, zone),
            demographicNo: Number(demographicNo(a.patientIndex)),
            status: STATUS_CODES[a.status],
            location: `Office ${data.provider(a.providerIndex).officeIndex + 1}`,
            type: a.appointmentType ?? 'Office Visit',
            notes: a.externalRef ?? '',
            duration: a.durationMinutes,
          });
        }
        return ok({ content, total: content.length });
      },
    },
    {
      method: 'GET',
      path: `${services}/demographics/:id`,
      handler: (ctx) => {
        authorize(ctx);
        const index = patientIndex(ctx.params['id'] ?? '');
        if (index === undefined) throw new SimHttpError(404, { error: 'demographic not found' });
        const p = state.patients.patient(index);
        const extras = Object.entries(state.patients.customFields(demographicNo(index))).map(([key, value]) => ({
          demographicNo: index + 1,
          key,
          value,
        }));
        return ok({
          demographicNo: index + 1,
          firstName: p.firstName,
          lastName: p.lastName,
          dateOfBirth: p.birthDate,
          sex: p.sex === 'X' ? 'O' : p.sex,
          hin: p.healthNumber,
          hcType: 'ON',
          email: p.email,
          phone: p.phone,
          address: { address: p.address.street, city: p.address.city, province: p.address.province, postal: p.address.postalCode },
          providerNo: providerNo(p.providerIndex),
          patientStatus: 'AC',
          extras,
        });
      },
    },
    {
      method: 'POST',
      path: `${services}/document/saveDocumentToDemographic`,
      handler: (ctx) => {
        authorize(ctx);
        const body = ctx.json() as Record<string, unknown>;
        const demo = typeof body['demographicNo'] === 'number' ? String(body['demographicNo']) : body['demographicNo'];
        if (typeof demo !== 'string' || patientIndex(demo) === undefined) throw new SimHttpError(404, { error: 'demographic not found' });
        const fileContents = body['fileContents'];
        const fileName = body['fileName'];
        if (typeof fileName !== 'string' || fileName === '') throw new SimHttpError(400, { error: 'fileName is required' });
        if (typeof fileContents !== 'string' || fileContents === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(fileContents)) {
          throw new SimHttpError(400, { error: 'fileContents must be base64' });
        }
        const { document, duplicate } = state.recordDocument({
          idempotencyKey: idempotencyKey(ctx),
          patientId: demo,
          title: typeof body['documentDescription'] === 'string' ? body['documentDescription'] : fileName,
          contentType: typeof body['contentType'] === 'string' ? body['contentType'] : 'application/pdf',
          content: Buffer.from(fileContents, 'base64'),
          folder: typeof body['docType'] === 'string' ? body['docType'] : undefined,
          subfolder: typeof body['docSubClass'] === 'string' ? body['docSubClass'] : undefined,
          fileName,
        });
        return ok({ success: true, documentNo: Number(document.id) }, duplicate ? { 'idempotent-replayed': 'true' } : {});
      },
    },
    {
      method: 'POST',
      path: `${services}/notes/:demographicNo/save`,
      handler: (ctx) => {
        authorize(ctx);
        const demo = ctx.params['demographicNo'] ?? '';
        if (patientIndex(demo) === undefined) throw new SimHttpError(404, { error: 'demographic not found' });
        const body = ctx.json() as Record<string, unknown>;
        if (typeof body['note'] !== 'string' || body['note'] === '') throw new SimHttpError(400, { error: 'note is required' });
        const [title = '', ...rest] = body['note'].split('\n\n');
        const { note, duplicate } = state.recordNote({
          idempotencyKey: idempotencyKey(ctx),
          patientId: demo,
          title,
          text: rest.join('\n\n'),
          letterType: typeof body['encounterType'] === 'string' ? body['encounterType'] : undefined,
        });
        notesAsSent.set(note.id, body['note']);
        return ok({ noteId: Number(note.id.replace('note-', '')), note: body['note'] }, duplicate ? { 'idempotent-replayed': 'true' } : {});
      },
    },
    {
      // Our design: OSCAR's DocumentService publishes no list of a demographic's documents that we know of.
      method: 'GET',
      path: `${services}/document/demographic/:demographicNo`,
      handler: (ctx) => {
        authorize(ctx);
        const demo = ctx.params['demographicNo'] ?? '';
        if (patientIndex(demo) === undefined) throw new SimHttpError(404, { error: 'demographic not found' });
        const content = state.documents
          .filter((d) => d.patientId === demo)
          .map((d) => ({ documentNo: Number(d.id), fileName: d.fileName ?? '', description: d.title, docType: d.folder ?? '' }));
        return ok({ content, total: content.length });
      },
    },
    {
      // OSCAR's NotesService getNotesWithFilter: POST {demographicNo}/all?numToReturn&offset, newest first.
      method: 'POST',
      path: `${services}/notes/:demographicNo/all`,
      handler: (ctx) => {
        authorize(ctx);
        const demo = ctx.params['demographicNo'] ?? '';
        if (patientIndex(demo) === undefined) throw new SimHttpError(404, { error: 'demographic not found' });
        const numToReturn = intParam(ctx, 'numToReturn', 20, 1, 1000);
        const offset = intParam(ctx, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
        const all = state.notes.filter((n) => n.patientId === demo).reverse();
        const notelist = all.slice(offset, offset + numToReturn).map((n) => ({
          noteId: Number(n.id.replace('note-', '')),
          note: notesAsSent.get(n.id) ?? `${n.title}\n\n${n.text}`,
          encounterType: n.letterType ?? '',
          observationDate: n.receivedAt,
        }));
        return ok({ notelist, moreNotes: offset + numToReturn < all.length });
      },
    },
  ];

  routes.push({
    method: 'PUT',
    path: `${services}/demographics`,
    handler: (ctx) => updateDemographic(ctx, state, authorize, patientIndex, ok),
  });
  routes.push(...scheduleRoutes(state, services, authorize, ok, patientIndex));
  const oauthLegs = authorizationRoutes(
    { state, contextPath, credentials, maxSkewSeconds: maxSkew, parseOAuthHeader, signatureValid, problem, tokenExpiresAt },
    options,
  );
  routes.push(...oauthLegs.routes);
  const sim = await serve({ state, routes, urlPath: contextPath, host: options.host, port: options.port, tls: options.tls });
  return Object.assign(sim, {
    credentials,
    providerId: providerNo,
    patientId: demographicNo,
    tokenExpiresAt,
    authorization: oauthLegs.authorization,
  });
}

/** OSCAR's sex codes of the simulator's (O is other). */
const OSCAR_SEX: Record<string, DemographicValues['sex']> = { M: 'M', F: 'F', O: 'X' };

/** The demographic values of a DemographicTo1, or a 400 naming the field. */
function oscarDemographic(body: Record<string, unknown>): DemographicValues {
  const values: Record<string, unknown> = {
    firstName: body['firstName'],
    lastName: body['lastName'],
    birthDate: body['dateOfBirth'],
    sex: OSCAR_SEX[String(body['sex'])],
    healthNumber: body['hin'],
    email: body['email'],
    phone: body['phone'],
  };
  for (const [key, value] of Object.entries(values))
    if (typeof value !== 'string') throw new SimHttpError(400, { error: `${key === 'sex' ? 'sex (M, F or O)' : key} is required` });
  return values as DemographicValues;
}

/** The extras (DemographicExt) of a DemographicTo1 as values by key, or a 400 naming the unknown key. */
function oscarExtras(body: Record<string, unknown>, state: SimState): Record<string, string> {
  const extras = body['extras'] ?? [];
  if (!Array.isArray(extras)) throw new SimHttpError(400, { error: 'extras must be a list' });
  const values: Record<string, string> = {};
  for (const extra of extras as Record<string, unknown>[]) {
    const key = String(extra?.['key'] ?? '');
    if (state.patients.unknownCustomField([key]) !== undefined)
      throw new SimHttpError(400, { error: 'unknown demographic extra key', key });
    const problem = customFieldProblem(key, extra['value']);
    if (problem) throw new SimHttpError(400, { error: problem, key });
    values[key] = extra['value'] as string;
  }
  return values;
}

/** PUT demographics: a full replace of the demographic and its extras (see the header). */
function updateDemographic(
  ctx: Ctx,
  state: SimState,
  authorize: (ctx: Ctx) => void,
  patientIndex: (id: string) => number | undefined,
  ok: (json: unknown, headers?: Record<string, string>) => Reply,
): Reply {
  authorize(ctx);
  const body = ctx.json() as Record<string, unknown>;
  const id = String(body?.['demographicNo'] ?? '');
  const index = patientIndex(id);
  if (index === undefined) throw new SimHttpError(404, { error: 'demographic not found' });
  const patients = state.patients;
  const key = idempotencyKey(ctx);
  if (patients.repeated('demographics', id, key) || patients.repeated('customFields', id, key))
    return ok({ demographicNo: index + 1 }, { 'idempotent-replayed': 'true' });
  const values = oscarDemographic(body);
  const problem = demographicProblem(values, state.now());
  if (problem) throw new SimHttpError(400, { error: problem });
  const extras = oscarExtras(body, state);
  const stored = patients.patient(index);
  const changed = (Object.keys(values) as (keyof DemographicValues)[]).some((k) => values[k] !== stored[k]);
  const current = patients.customFields(id);
  const changedExtras = Object.fromEntries(Object.entries(extras).filter(([k, v]) => current[k] !== v));
  if (changed) patients.updateDemographics(index, id, key, values);
  if (Object.keys(changedExtras).length > 0) patients.setCustomFields(id, key, changedExtras);
  return ok({ demographicNo: index + 1 });
}

/** Check-in and walk-ins: ScheduleService's status update, types and add (see the header). */
function scheduleRoutes(
  state: SimState,
  services: string,
  authorize: (ctx: Ctx) => void,
  ok: (json: unknown, headers?: Record<string, string>) => Reply,
  patientIndex: (id: string) => number | undefined,
): Route[] {
  const book = state.appointments;
  const zone = state.data.timeZone;
  const codeToStatus = (code: unknown) => (Object.entries(STATUS_CODES) as [FakeStatus, string][]).find(([, c]) => c === code)?.[0];
  const transfer = (index: number) => {
    const a = book.get(index);
    return {
      id: index + 1,
      providerNo: providerNo(a.providerIndex),
      demographicNo: Number(demographicNo(a.patientIndex)),
      appointmentDate: localYmd(a.start, zone),
      startTime: localHms(a.start, zone),
      endTime: localHms(a.end, zone),
      duration: a.durationMinutes,
      status: STATUS_CODES[a.status],
      type: a.appointmentType ?? '',
      notes: a.externalRef ?? '',
    };
  };
  const providerIndex = (id: unknown): number | undefined => {
    const index = Number(id) - 1001;
    if (typeof id !== 'string' || !Number.isInteger(index) || index < 0 || index >= state.data.providerCount) return undefined;
    return state.isHidden(id) ? undefined : index;
  };
  return [
    {
      method: 'POST',
      path: `${services}/schedule/appointment/:id/updateStatus`,
      handler: (ctx) => {
        authorize(ctx);
        const index = Number(ctx.params['id']) - 1;
        if (!/^\d+$/.test(ctx.params['id'] ?? '') || !book.has(index)) throw new SimHttpError(404, { error: 'appointment not found' });
        const status = codeToStatus((ctx.json() as Record<string, unknown>)['status']);
        if (!status) throw new SimHttpError(400, { error: `status must be one of ${Object.values(STATUS_CODES).join(', ')}` });
        book.setStatus(index, status, idempotencyKey(ctx));
        return ok({ appointment: transfer(index) });
      },
    },
    {
      method: 'GET',
      path: `${services}/schedule/types`,
      handler: (ctx) => {
        authorize(ctx);
        return ok({ types: OSCAR_APPOINTMENT_TYPES });
      },
    },
    {
      method: 'POST',
      path: `${services}/schedule/add`,
      handler: (ctx) => {
        authorize(ctx);
        const key = idempotencyKey(ctx);
        const existing = key ? book.replayOf(key) : undefined;
        if (existing) return ok({ appointment: transfer(existing.index) }, { 'idempotent-replayed': 'true' });
        const body = ctx.json() as Record<string, unknown>;
        const patient = patientIndex(String(body['demographicNo'] ?? ''));
        if (patient === undefined) throw new SimHttpError(400, { error: 'demographicNo is not a demographic' });
        const provider = providerIndex(body['providerNo']);
        if (provider === undefined) throw new SimHttpError(400, { error: 'providerNo is not a provider' });
        const type = typeof body['type'] === 'string' && body['type'] !== '' ? body['type'] : undefined;
        if (type !== undefined && !OSCAR_APPOINTMENT_TYPES.some((t) => t.name === type))
          throw new SimHttpError(400, { error: 'unknown type' });
        const date = String(body['appointmentDate'] ?? '');
        const time = /^(\d{2}):(\d{2})(?::\d{2})?$/.exec(String(body['startTime'] ?? ''));
        if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !time)
          throw new SimHttpError(400, { error: 'appointmentDate yyyy-MM-dd and startTime HH:mm are required' });
        const duration = body['duration'];
        if (typeof duration !== 'number' || !Number.isInteger(duration) || duration < 1 || duration > 480)
          throw new SimHttpError(400, { error: 'duration must be 1 to 480 minutes' });
        const status = body['status'] === undefined ? 'booked' : codeToStatus(body['status']);
        if (!status) throw new SimHttpError(400, { error: 'unknown status' });
        const a = book.add(
          {
            patientIndex: patient,
            providerIndex: provider,
            start: zonedInstant(date, Number(time[1]) * 60 + Number(time[2]), zone),
            durationMinutes: duration,
            appointmentType: type,
            externalRef: typeof body['notes'] === 'string' && body['notes'] !== '' ? body['notes'] : undefined,
            idempotencyKey: key,
            status,
          },
          'api',
        );
        return ok({ appointment: transfer(a.index) });
      },
    },
  ];
}
