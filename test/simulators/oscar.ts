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

export interface OscarSimOptions extends SimulatorOptions {
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
  const credentials = options.credentials ?? OSCAR_DEV_CREDENTIALS;
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
          const a = data.appointment(i);
          content.push({
            appointmentNo: i + 1,
            providerNo: providerNo(a.providerIndex),
            appointmentDate: localYmd(a.start, zone),
            startTime: localHms(a.start, zone),
            endTime: localHms(a.end, zone),
            demographicNo: Number(demographicNo(a.patientIndex)),
            status: STATUS_CODES[a.status],
            location: `Office ${data.provider(a.providerIndex).officeIndex + 1}`,
            type: 'Office Visit',
            notes: '',
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
        const p = data.patient(index);
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

  const sim = await serve({ state, routes, urlPath: contextPath, host: options.host, port: options.port, tls: options.tls });
  return Object.assign(sim, {
    credentials,
    providerId: providerNo,
    patientId: demographicNo,
    tokenExpiresAt,
  });
}
