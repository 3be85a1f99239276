// What every simulator shares: a node:http server on loopback (port 0 by default), a tiny router,
// JSON helpers, run-time faults, an in-memory token store, the document store with duplicate
// detection by idempotency key, and the /_sim control API:
//   GET    /_sim/health | /_sim/info | /_sim/requests
//   GET    /_sim/faults            POST /_sim/faults (merge; null clears a key)
//   PUT    /_sim/faults (replace)  DELETE /_sim/faults (clear all)
//   GET    /_sim/documents         DELETE /_sim/documents (forget documents, notes and duplicates)
//   POST   /_sim/expire-tokens     (every issued token becomes expired once; new ones work)
// A simulator is a test double of a remote SaaS; it never imports the code it is testing (OSCAR's
// OAuth 1.0a signatures are verified with the `oauth-1.0a` npm package, not with the operator's signer).

import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppointmentBook } from './appointment-book.ts';
import { FakeData, type Volume } from './fake-data.ts';
import { applyLimits, LimitCounter, type Limits } from './limits.ts';
import { DEFAULT_SIM_TIME_ZONE, zonedInstant } from './local-time.ts';
import { PatientStore } from './patients.ts';

export interface Faults {
  /** The service rejects the configured credentials as if they were wrong. */
  rejectCredentials?: boolean;
  /** Every token (or OAuth 1.0a access token) is reported expired, including freshly issued ones. */
  tokenExpired?: boolean;
  /** Access was revoked (OAuth 1.0a token revoked, API user disabled, TELUS instance revoked). */
  deauthorized?: boolean;
  /** Every API call answers 5xx (true → 503, or the given status). */
  serverError?: boolean | number;
  /** Every API call is delayed this long before it is answered. */
  slowMs?: number;
  /** Every API call answers 429 with Retry-After (true → 1 s). */
  rateLimit?: boolean | { retryAfterSeconds: number };
  /** Providers the API user cannot see: absent from provider lists; their appointments silently missing. */
  hiddenProviderIds?: string[];
  /** Lifetime of tokens issued from now on. */
  tokenLifetimeSeconds?: number;
  /** When the credential itself stops working (ISO 8601); tokens never outlive it. */
  credentialNotAfter?: string;
  /** Every document post (a POST whose path names a document) answers this 4xx: the EMR refuses the document. */
  rejectDocuments?: number;
  /**
   * Refusals of the OAuth 2 token endpoint quote the request as received in error_description (the
   * form body, the Authorization header, the submitted password and client secret), as careless
   * token endpoints do.
   */
  echoCredentials?: boolean;
  /** Every appointment status update (check-in) answers this 5xx: the EMR fails after a walk-in was created. */
  failStatusUpdates?: number;
}

const FAULT_TYPES: Record<keyof Faults, (v: unknown) => boolean> = {
  rejectCredentials: (v) => typeof v === 'boolean',
  tokenExpired: (v) => typeof v === 'boolean',
  deauthorized: (v) => typeof v === 'boolean',
  serverError: (v) => typeof v === 'boolean' || (typeof v === 'number' && v >= 500 && v <= 599),
  slowMs: (v) => typeof v === 'number' && v >= 0,
  rateLimit: (v) =>
    typeof v === 'boolean' ||
    (typeof v === 'object' && v !== null && typeof (v as { retryAfterSeconds?: unknown }).retryAfterSeconds === 'number'),
  hiddenProviderIds: (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
  tokenLifetimeSeconds: (v) => typeof v === 'number' && v > 0,
  credentialNotAfter: (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)),
  rejectDocuments: (v) => typeof v === 'number' && v >= 400 && v <= 499 && v !== 429,
  echoCredentials: (v) => typeof v === 'boolean',
  failStatusUpdates: (v) => typeof v === 'number' && v >= 500 && v <= 599,
};

/** A fault patch: a value sets the fault, null (or undefined) clears it. */
export type FaultPatch = { [K in keyof Faults]?: Faults[K] | null };

function validateFaultPatch(input: unknown): FaultPatch {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new SimHttpError(400, { error: 'faults must be a JSON object' });
  for (const [key, value] of Object.entries(input)) {
    const check = FAULT_TYPES[key as keyof Faults];
    if (!check) throw new SimHttpError(400, { error: `unknown fault ${key}`, known: Object.keys(FAULT_TYPES) });
    if (value !== null && !check(value)) throw new SimHttpError(400, { error: `fault ${key} has the wrong type` });
  }
  return input as FaultPatch;
}

export interface SimulatorOptions {
  host?: string;
  port?: number;
  seed?: number;
  volume?: Partial<Volume>;
  faults?: Faults;
  now?: () => Date;
  /**
   * IANA zone of the EMR's wall clock (default America/Toronto): the clinic's days and the local
   * dates and times the EMR serves (OSCAR, Accuro without offset; TELUS, FHIR with it).
   */
  timeZone?: string;
  /** Serve HTTPS with this certificate (PEM), as the real SaaS does; the CRDs accept only https URLs. */
  tls?: { cert: string; key: string };
  /**
   * Leniency, opt-in per test: honour the `Idempotency-Key` header (FHIR: `If-None-Exist`) and answer
   * a repeated key with the first record. Default false, the strict behaviour of the real EMRs (Accuro
   * and OSCAR publish no idempotency mechanism; FHIR servers need not support conditional create): a
   * repeat is stored again, and recorded in `duplicates` with `honored: false`.
   */
  honorIdempotencyKey?: boolean;
  /** The custom demographic fields the EMR defines (patients.ts; default DEFAULT_CUSTOM_FIELDS). */
  customFields?: readonly string[];
  /** Service limits (limits.ts): a request budget with Retry-After, the maximum document size. */
  limits?: Limits;
}

export interface StoredDocument {
  id: string;
  /** The key the client sent (test bookkeeping: a strict simulator records it but does not act on it). */
  idempotencyKey: string | undefined;
  patientId: string;
  title: string;
  /** The file name as the EMR keeps it (Accuro, OSCAR: the adapter writes the key into it, `[key]`). */
  fileName?: string | undefined;
  /** An external id field the EMR keeps and can search by (TELUS, our design). */
  externalId?: string | undefined;
  contentType: string;
  folder: string | undefined;
  /** The subfolder within `folder`, where the EMR has them. */
  subfolder: string | undefined;
  size: number;
  sha256: string;
  receivedAt: string;
  content: Buffer;
}

/** A chart note (encounter/progress note) as the EMR stored it: text, its letter type (or the EMR's equivalent). */
export interface StoredNote {
  id: string;
  idempotencyKey: string | undefined;
  patientId: string;
  title: string;
  text: string;
  letterType?: string | undefined;
  /** An external id field the EMR keeps and can search by (Accuro encounter notes, TELUS notes: our design). */
  externalId?: string | undefined;
  receivedAt: string;
}

export interface DuplicateDocument {
  idempotencyKey: string;
  /** The document first created with this key. */
  documentId: string;
  /** True when the API de-duplicated (answered with the first document); false when it created another. */
  honored: boolean;
  receivedAt: string;
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
}

export interface IssuedToken {
  value: string;
  subject: string;
  issuedAt: Date;
  expiresAt: Date;
  refreshToken?: string;
}

export type TokenCheck = { ok: true; token: IssuedToken } | { ok: false; problem: 'missing' | 'unknown' | 'expired' };

export class SimHttpError extends Error {
  readonly status: number;
  readonly reply: Reply;
  /** A JSON error, or a text one when `text` is given (e.g. OAuth 1.0a problem reports). */
  constructor(status: number, json: unknown, headers?: Record<string, string>, text?: string) {
    super(`HTTP ${status}`);
    this.status = status;
    this.reply = text === undefined ? { status, json, ...(headers ? { headers } : {}) } : { status, text, ...(headers ? { headers } : {}) };
  }
}

export interface Reply {
  status?: number;
  json?: unknown;
  text?: string;
  body?: Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

/** Shared mutable state of one simulator: the TypeScript control API works on it directly. */
export class SimState {
  readonly name: string;
  readonly data: FakeData;
  readonly now: () => Date;
  readonly startedAt: Date;
  faults: Faults;
  documents: StoredDocument[] = [];
  /** Chart notes (encounter/progress notes), as the EMR stored them. */
  notes: StoredNote[] = [];
  /** Patients as the EMR holds them: demographic updates and custom field values (patients.ts). */
  readonly patients: PatientStore;
  duplicates: DuplicateDocument[] = [];
  /** The schedule beyond the generated data: added appointments and status changes (appointment-book.ts). */
  readonly appointments: AppointmentBook;
  requests: RequestRecord[] = [];
  baseUrl = '';
  defaultTokenLifetimeSeconds = 3600;
  /** The switch: honour idempotency keys (lenient, opt-in) or ignore them as the real EMRs do (default). */
  honorIdempotencyKey: boolean;
  /** Service limits (limits.ts), switchable at run time; `limitCounter` counts against them. */
  limits: Limits;
  readonly limitCounter = new LimitCounter();
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly refreshTokens = new Map<string, string>();
  private documentSeq = 0;
  private noteSeq = 0;

  constructor(name: string, options: SimulatorOptions) {
    this.name = name;
    this.data = new FakeData(options.seed ?? 1, options.volume ?? {}, options.timeZone ?? DEFAULT_SIM_TIME_ZONE);
    this.now = options.now ?? (() => new Date());
    this.startedAt = this.now();
    this.faults = { ...options.faults };
    this.honorIdempotencyKey = options.honorIdempotencyKey ?? false;
    this.limits = { ...options.limits };
    this.appointments = new AppointmentBook(this.data, this.now, () => this.honorIdempotencyKey);
    this.patients = new PatientStore(this.data, this.now, options.customFields);
  }

  setFault(patch: FaultPatch): void {
    const next: Record<string, unknown> = { ...this.faults };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null || value === undefined) delete next[key];
      else next[key] = value;
    }
    this.faults = next as Faults;
  }

  clearFaults(): void {
    this.faults = {};
  }

  isHidden(providerId: string): boolean {
    return this.faults.hiddenProviderIds?.includes(providerId) ?? false;
  }

  /** When the credential stops working, if the simulator was told. */
  credentialNotAfter(): Date | undefined {
    return this.faults.credentialNotAfter ? new Date(this.faults.credentialNotAfter) : undefined;
  }

  credentialExpired(): boolean {
    const notAfter = this.credentialNotAfter();
    return notAfter !== undefined && this.now().getTime() >= notAfter.getTime();
  }

  issueToken(subject: string, withRefresh = false): IssuedToken {
    const issuedAt = this.now();
    const lifetime = this.faults.tokenLifetimeSeconds ?? this.defaultTokenLifetimeSeconds;
    let expiresMs = issuedAt.getTime() + lifetime * 1000;
    const notAfter = this.credentialNotAfter();
    if (notAfter) expiresMs = Math.min(expiresMs, notAfter.getTime());
    const token: IssuedToken = { value: randomToken('at'), subject, issuedAt, expiresAt: new Date(expiresMs) };
    if (withRefresh) {
      token.refreshToken = randomToken('rt');
      this.refreshTokens.set(token.refreshToken, subject);
    }
    this.tokens.set(token.value, token);
    return token;
  }

  /** The subject a refresh token was issued to; refresh tokens are single-use. */
  useRefreshToken(value: string): string | undefined {
    const subject = this.refreshTokens.get(value);
    this.refreshTokens.delete(value);
    return subject;
  }

  checkToken(value: string | undefined): TokenCheck {
    if (!value) return { ok: false, problem: 'missing' };
    const token = this.tokens.get(value);
    if (!token) return { ok: false, problem: 'unknown' };
    if (this.faults.tokenExpired || token.expiresAt.getTime() <= this.now().getTime()) return { ok: false, problem: 'expired' };
    return { ok: true, token };
  }

  expireTokens(): void {
    const past = new Date(this.now().getTime() - 1000);
    for (const token of this.tokens.values()) token.expiresAt = past;
  }

  /**
   * Stores a posted document. A repeated idempotency key is recorded in `duplicates`; when the API
   * honours the key (the simulator's `honorIdempotencyKey` switch, and `honorKey` for a request that
   * asked for it), the first document is returned instead of creating another.
   */
  recordDocument(input: {
    idempotencyKey: string | undefined;
    patientId: string;
    title: string;
    contentType: string;
    content: Buffer;
    folder?: string | undefined;
    subfolder?: string | undefined;
    fileName?: string | undefined;
    externalId?: string | undefined;
    honorKey?: boolean;
  }): { document: StoredDocument; duplicate: boolean } {
    const receivedAt = this.now().toISOString();
    if (input.idempotencyKey !== undefined) {
      const existing = this.documents.find((d) => d.idempotencyKey === input.idempotencyKey);
      if (existing) {
        const honored = this.honorIdempotencyKey && input.honorKey !== false;
        this.duplicates.push({ idempotencyKey: input.idempotencyKey, documentId: existing.id, honored, receivedAt });
        if (honored) return { document: existing, duplicate: true };
      }
    }
    const document: StoredDocument = {
      id: String(++this.documentSeq),
      idempotencyKey: input.idempotencyKey,
      patientId: input.patientId,
      title: input.title,
      fileName: input.fileName,
      externalId: input.externalId,
      contentType: input.contentType,
      folder: input.folder,
      subfolder: input.subfolder,
      size: input.content.length,
      sha256: createHash('sha256').update(input.content).digest('hex'),
      receivedAt,
      content: input.content,
    };
    this.documents.push(document);
    return { document, duplicate: false };
  }

  /** Stores a chart note; a repeated idempotency key is recorded in `duplicates`, and answered with the first note when honoured (as documents). */
  recordNote(input: {
    idempotencyKey: string | undefined;
    patientId: string;
    title: string;
    text: string;
    letterType?: string | undefined;
    externalId?: string | undefined;
    honorKey?: boolean;
  }): {
    note: StoredNote;
    duplicate: boolean;
  } {
    const receivedAt = this.now().toISOString();
    const { honorKey, ...fields } = input;
    const existing = input.idempotencyKey === undefined ? undefined : this.notes.find((n) => n.idempotencyKey === input.idempotencyKey);
    if (existing && input.idempotencyKey !== undefined) {
      const honored = this.honorIdempotencyKey && honorKey !== false;
      this.duplicates.push({ idempotencyKey: input.idempotencyKey, documentId: existing.id, honored, receivedAt });
      if (honored) return { note: existing, duplicate: true };
    }
    const note: StoredNote = { id: `note-${++this.noteSeq}`, receivedAt, ...fields };
    this.notes.push(note);
    return { note, duplicate: false };
  }

  findDocument(idempotencyKey: string): StoredDocument | undefined {
    return this.documents.find((d) => d.idempotencyKey === idempotencyKey);
  }

  resetDocuments(): void {
    this.documents = [];
    this.notes = [];
    this.duplicates = [];
  }

  record(entry: RequestRecord): void {
    this.requests.push(entry);
    if (this.requests.length > 5000) this.requests.splice(0, this.requests.length - 5000);
  }
}

function randomToken(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}

export interface Ctx {
  req: IncomingMessage;
  method: string;
  url: URL;
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: Buffer;
  state: SimState;
  header(name: string): string | undefined;
  json(): unknown;
  form(): URLSearchParams;
}

export interface Route {
  method: string;
  /** `/a/:param/b`; segments starting with ':' capture one decoded segment. */
  path: string;
  handler: (ctx: Ctx) => Reply | Promise<Reply>;
}

interface CompiledRoute extends Route {
  segments: string[];
}

function compile(route: Route): CompiledRoute {
  return { ...route, segments: route.path.split('/').filter(Boolean) };
}

function match(route: CompiledRoute, method: string, segments: string[]): Record<string, string> | undefined {
  if (route.method !== method || route.segments.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const want = route.segments[i] as string;
    const got = segments[i] as string;
    if (want.startsWith(':')) {
      try {
        params[want.slice(1)] = decodeURIComponent(got);
      } catch {
        return undefined;
      }
    } else if (want !== got) return undefined;
  }
  return params;
}

export interface Simulator {
  readonly name: string;
  /** Base URL of the API (for OSCAR it includes the context path, e.g. http://127.0.0.1:1234/oscar). */
  readonly url: string;
  /** Origin of the server, where /_sim lives. */
  readonly origin: string;
  readonly port: number;
  readonly state: SimState;
  readonly data: FakeData;
  readonly documents: StoredDocument[];
  readonly notes: StoredNote[];
  readonly duplicates: DuplicateDocument[];
  /** The schedule's added appointments and status changes (check-in, walk-ins). */
  readonly appointments: AppointmentBook;
  readonly requests: RequestRecord[];
  readonly faults: Faults;
  setFault(patch: FaultPatch): void;
  clearFaults(): void;
  expireTokens(): void;
  stop(): Promise<void>;
}

export interface ServeDefinition {
  state: SimState;
  routes: Route[];
  /** Extra control routes, under /_sim. */
  control?: Route[];
  /** Path appended to the origin to form `url`. */
  urlPath?: string;
  host?: string;
  port?: number;
  tls?: { cert: string; key: string };
}

const MAX_BODY = 64 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY) throw new SimHttpError(413, { error: 'body too large' });
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, reply: Reply): number {
  const status = reply.status ?? 200;
  const headers: Record<string, string> = { ...reply.headers };
  let body: Buffer | undefined;
  if (reply.json !== undefined) {
    body = Buffer.from(JSON.stringify(reply.json));
    headers['content-type'] ??= reply.contentType ?? 'application/json';
  } else if (reply.text !== undefined) {
    body = Buffer.from(reply.text);
    headers['content-type'] ??= reply.contentType ?? 'text/plain; charset=utf-8';
  } else if (reply.body !== undefined) {
    body = reply.body;
    headers['content-type'] ??= reply.contentType ?? 'application/octet-stream';
  }
  res.writeHead(status, { ...headers, 'content-length': String(body?.length ?? 0) });
  res.end(body);
  return status;
}

/** Replies a fault takes precedence over everything but the control API. */
async function applyCommonFaults(state: SimState, method: string, path: string): Promise<Reply | undefined> {
  const { slowMs, serverError, rateLimit, rejectDocuments, failStatusUpdates } = state.faults;
  if (slowMs) await sleep(slowMs);
  if (serverError) {
    const status = typeof serverError === 'number' ? serverError : 503;
    return { status, json: { error: 'server_error', message: `simulated ${status}` } };
  }
  if (rateLimit) {
    const seconds = typeof rateLimit === 'object' ? rateLimit.retryAfterSeconds : 1;
    return { status: 429, headers: { 'retry-after': String(seconds) }, json: { error: 'rate_limited', message: 'too many requests' } };
  }
  if (rejectDocuments && method === 'POST' && /document/i.test(path)) {
    return {
      status: rejectDocuments,
      json: { error: 'document_rejected', message: `simulated ${rejectDocuments}: the EMR refuses the document` },
    };
  }
  if (failStatusUpdates && (/\/(update)?status$/i.test(path) || (method === 'PUT' && /\/Appointment\//.test(path)))) {
    return { status: failStatusUpdates, json: { error: 'server_error', message: `simulated ${failStatusUpdates} on a status update` } };
  }
  return undefined;
}

function controlRoutes(state: SimState, extra: Route[]): CompiledRoute[] {
  const documentsView = () => ({
    documents: state.documents.map(({ content: _content, ...meta }) => meta),
    notes: state.notes,
    duplicates: state.duplicates,
  });
  const routes: Route[] = [
    { method: 'GET', path: '/_sim/health', handler: () => ({ json: { name: state.name, ok: true } }) },
    {
      method: 'GET',
      path: '/_sim/info',
      handler: () => ({
        json: {
          name: state.name,
          url: state.baseUrl,
          seed: state.data.seed,
          volume: state.data.volume,
          startedAt: state.startedAt.toISOString(),
        },
      }),
    },
    { method: 'GET', path: '/_sim/requests', handler: () => ({ json: { requests: state.requests } }) },
    { method: 'GET', path: '/_sim/faults', handler: () => ({ json: state.faults }) },
    {
      method: 'POST',
      path: '/_sim/faults',
      handler: (ctx) => {
        state.setFault(validateFaultPatch(ctx.json()));
        return { json: state.faults };
      },
    },
    {
      method: 'PUT',
      path: '/_sim/faults',
      handler: (ctx) => {
        const patch = validateFaultPatch(ctx.json());
        state.clearFaults();
        state.setFault(patch);
        return { json: state.faults };
      },
    },
    {
      method: 'DELETE',
      path: '/_sim/faults',
      handler: () => {
        state.clearFaults();
        return { json: state.faults };
      },
    },
    { method: 'GET', path: '/_sim/documents', handler: () => ({ json: documentsView() }) },
    {
      method: 'DELETE',
      path: '/_sim/documents',
      handler: () => {
        state.resetDocuments();
        return { json: documentsView() };
      },
    },
    {
      method: 'POST',
      path: '/_sim/expire-tokens',
      handler: () => {
        state.expireTokens();
        return { json: { expired: true } };
      },
    },
    ...extra,
  ];
  return routes.map(compile);
}

/** Starts the HTTP server of a simulator and returns its control handle. */
export async function serve(def: ServeDefinition): Promise<Simulator & { server: Server }> {
  const { state } = def;
  const routes = def.routes.map(compile);
  const control = controlRoutes(state, def.control ?? []);

  const server = def.tls
    ? createHttpsServer({ cert: def.tls.cert, key: def.tls.key }, (req, res) => {
        void handle(req, res);
      })
    : createServer((req, res) => {
        void handle(req, res);
      });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const segments = url.pathname.split('/').filter(Boolean);
    const isControl = segments[0] === '_sim';
    let status = 500;
    try {
      const body = await readBody(req);
      let parsedJson: unknown;
      const ctx: Ctx = {
        req,
        method,
        url,
        params: {},
        headers: req.headers,
        body,
        state,
        header: (name) => {
          const v = req.headers[name.toLowerCase()];
          return Array.isArray(v) ? v[0] : v;
        },
        json: () => {
          if (parsedJson !== undefined) return parsedJson;
          try {
            parsedJson = JSON.parse(body.toString('utf8'));
          } catch {
            throw new SimHttpError(400, { error: 'invalid_request', message: 'body is not JSON' });
          }
          return parsedJson;
        },
        form: () => new URLSearchParams(body.toString('utf8')),
      };
      let reply: Reply | undefined;
      if (!isControl)
        reply = applyLimits(state, method, url.pathname, body.length) ?? (await applyCommonFaults(state, method, url.pathname));
      if (!reply) {
        const candidates = isControl ? control : routes;
        for (const route of candidates) {
          const params = match(route, method, segments);
          if (params) {
            ctx.params = params;
            reply = await route.handler(ctx);
            break;
          }
        }
      }
      reply ??= { status: 404, json: { error: 'not_found', message: `no route for ${method} ${url.pathname}` } };
      status = send(res, reply);
    } catch (error) {
      if (error instanceof SimHttpError) status = send(res, error.reply);
      else {
        status = send(res, {
          status: 500,
          json: { error: 'simulator_error', message: error instanceof Error ? error.message : String(error) },
        });
      }
    } finally {
      if (!isControl) state.record({ method, path: url.pathname, status });
    }
  }

  const host = def.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(def.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `${def.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  state.baseUrl = origin + (def.urlPath ?? '');

  return {
    server,
    name: state.name,
    url: state.baseUrl,
    origin,
    port,
    state,
    data: state.data,
    get documents() {
      return state.documents;
    },
    get notes() {
      return state.notes;
    },
    get duplicates() {
      return state.duplicates;
    },
    get appointments() {
      return state.appointments;
    },
    get requests() {
      return state.requests;
    },
    get faults() {
      return state.faults;
    },
    setFault: (patch) => state.setFault(patch),
    clearFaults: () => state.clearFaults(),
    expireTokens: () => state.expireTokens(),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The Bearer token of a request, if any. */
export function bearerToken(ctx: Ctx): string | undefined {
  const header = ctx.header('authorization');
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

/** RFC 6750 §3 error for a rejected bearer token. */
export function bearerError(code: 'invalid_token' | 'invalid_request', description: string, status = 401): SimHttpError {
  return new SimHttpError(
    status,
    { error: code, error_description: description },
    { 'www-authenticate': `Bearer realm="simulator", error="${code}", error_description="${description}"` },
  );
}

/**
 * An RFC 6749 §5.2 token error. With the echoCredentials fault, error_description goes on to quote
 * what the request carried: its form body, its Authorization header and the secrets in both, raw.
 */
export function tokenError(ctx: Ctx, status: number, error: string, description: string): SimHttpError {
  if (!ctx.state.faults.echoCredentials) return new SimHttpError(status, { error, error_description: description });
  const form = ctx.form();
  const submitted = [form.get('password'), form.get('client_secret'), basicCredentials(ctx)?.password].filter((v) => v);
  const echo = [
    description,
    `request body: ${ctx.body.toString('utf8')}`,
    `Authorization: ${ctx.header('authorization') ?? '(none)'}`,
    `submitted secrets: ${submitted.join(', ')}`,
  ];
  return new SimHttpError(status, { error, error_description: echo.join('; ') });
}

/** Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1: form-encoded parts). */
export function basicCredentials(ctx: Ctx): { user: string; password: string } | undefined {
  const header = ctx.header('authorization');
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header) : null;
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const dec = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { user: dec(decoded.slice(0, colon)), password: dec(decoded.slice(colon + 1)) };
}

/** The Idempotency-Key header (draft-ietf-httpapi-idempotency-key-header), if any. */
export function idempotencyKey(ctx: Ctx): string | undefined {
  const value = ctx.header('idempotency-key');
  return value && value.trim() !== '' ? value.trim() : undefined;
}

/** Positive integer query parameter with bounds; 400 when malformed. */
export function intParam(ctx: Ctx, name: string, fallback: number, min: number, max: number): number {
  const raw = ctx.url.searchParams.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SimHttpError(400, { error: 'invalid_request', message: `${name} must be a whole number between ${min} and ${max}` });
  }
  return value;
}

/** A date or date-time query parameter; 400 when malformed. */
export function dateParam(ctx: Ctx, name: string, value: string | null = ctx.url.searchParams.get(name)): Date {
  if (value === null || value === '') throw new SimHttpError(400, { error: 'invalid_request', message: `${name} is required` });
  const at = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(at.getTime())) throw new SimHttpError(400, { error: 'invalid_request', message: `${name} is not a date` });
  return at;
}

/** A date-time query value as an EMR that works in local time reads it: with `Z` or an offset that instant, else the wall clock of `timeZone` (a bare date is its midnight). */
export function localDateParam(ctx: Ctx, name: string, timeZone: string): Date {
  const value = ctx.url.searchParams.get(name);
  if (value === null || value === '') throw new SimHttpError(400, { error: 'invalid_request', message: `${name} is required` });
  if (/(Z|[+-]\d{2}:?\d{2})$/i.test(value)) return dateParam(ctx, name, value);
  const m = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(value);
  if (!m?.[1]) throw new SimHttpError(400, { error: 'invalid_request', message: `${name} is not a date` });
  const minutes = Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) + Number(m[4] ?? 0) / 60;
  return zonedInstant(m[1], minutes, timeZone);
}

/** Appointment indexes in [from, to) whose provider is visible (and in `providerIndexes` if given): generated, then added ones. */
export function* visibleAppointments(
  state: SimState,
  from: Date,
  to: Date,
  providerId: (index: number) => string,
  options: { startIndex?: number; providerIndexes?: ReadonlySet<number> } = {},
): Generator<number> {
  const { first, end } = state.data.range(from, to);
  const providers = state.data.providerCount;
  const hidden = new Set<number>();
  for (let i = 0; i < providers; i++) if (state.isHidden(providerId(i))) hidden.add(i);
  for (let i = Math.max(first, options.startIndex ?? 0); i < end; i++) {
    const p = state.data.providerIndexOf(i);
    if (hidden.has(p)) continue;
    if (options.providerIndexes && !options.providerIndexes.has(p)) continue;
    yield i;
  }
  // Then the appointments added to the schedule (seeded by a test or created through the API).
  for (const i of state.appointments.addedIn(from, to, options.startIndex ?? 0)) {
    const p = state.appointments.get(i).providerIndex;
    if (hidden.has(p)) continue;
    if (options.providerIndexes && !options.providerIndexes.has(p)) continue;
    yield i;
  }
}

/** A 400 `invalid_request` with a message (the JSON error shape of Ocean's APIs and of the simulators' own designs). */
export const invalidRequest = (message: string) => new SimHttpError(400, { error: 'invalid_request', message });

/** `value` as an object with exactly `keys`, each present: no unknown field, none missing (strict like the real APIs). */
export function exactKeys(value: unknown, keys: readonly string[], what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidRequest(`${what} must be a JSON object`);
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => !keys.includes(k));
  if (unknown.length > 0) throw invalidRequest(`${what} has unknown field(s) ${unknown.join(', ')}`);
  const missing = keys.filter((k) => record[k] === undefined);
  if (missing.length > 0) throw invalidRequest(`${what} lacks ${missing.join(', ')}`);
  return record;
}
