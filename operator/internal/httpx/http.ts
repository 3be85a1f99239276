// The one HTTP path every adapter uses: the egress sandbox (egress-agent.ts: refused addresses,
// connect deadline; capped-body.ts: response size cap), a whole-request deadline, optional extra CA
// bundle, no redirect followed, and the shared mapping of transport failures and HTTP statuses to
// EmrError reasons. Error messages name the EMR, the method and the URL path only (never the query,
// headers or body: those carry tokens, credentials or patient data) and are scrubbed of the
// adapter's credential values as a last line.
import { redactor, remoteText } from '../../runtime/redact.ts';
import { EndpointNotAllowedError } from './address-policy.ts';
import { ResponseTooLargeError, readCapped } from './capped-body.ts';
import { DEFAULT_EGRESS, type EgressPolicy } from './egress-config.ts';
import { type EgressReason, EmrError, type EmrErrorReason } from './remote-error.ts';

export interface HttpClientOptions {
  /** Label used in messages: 'OSCAR', 'Accuro', … */
  emr: string;
  /** Injected for tests: replaces the sandboxed dispatcher (the size cap and the deadline still apply). */
  fetch?: typeof fetch;
  /** The whole-request deadline; default the policy's. */
  timeoutMs?: number;
  caBundle?: string;
  /** What the endpoint may be and answer; default DEFAULT_EGRESS (nothing non-public reachable). */
  egress?: EgressPolicy;
  /** Credential values; scrubbed from every message this client produces. */
  secrets?: readonly string[];
  now?: () => Date;
  /** Waiting out a 429 here (RateLimitWaits); absent: a 429 returns at once and the caller's retry policy decides. */
  rateLimitWaits?: RateLimitWaits;
}

/**
 * A 429 answered by sending the same request again after its Retry-After, up to `attempts` sends in
 * all, so that a paged listing resumes at the page that was refused instead of starting over (which,
 * against a per-window budget, spends the budget on the same first pages again and never ends). A
 * 429 without Retry-After, or asking for longer than `maxWaitMs`, returns at once.
 */
export interface RateLimitWaits {
  attempts: number;
  maxWaitMs: number;
  /** Injected for tests; default a timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** The request, or how to build it for each send (a signed request, e.g. OAuth 1.0a, needs a fresh nonce each time). */
export type RequestInit = HttpRequest | (() => HttpRequest);

export interface HttpRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: Buffer;
  /** `METHOD /path` for messages. */
  what: string;
}

/** Decides the reason of a 401/403 from the EMR's own error vocabulary; undefined → the default. */
export type AuthErrorClassifier = (response: HttpResponse) => { reason: EmrErrorReason; detail?: string } | undefined;

export class HttpClient {
  private readonly options: HttpClientOptions;
  private fetchPromise: Promise<typeof fetch> | undefined;

  constructor(options: HttpClientOptions) {
    this.options = options;
  }

  get emr(): string {
    return this.options.emr;
  }

  /**
   * Sends a request; throws only for transport failures and the sandbox's refusals. Any HTTP status
   * returns (a 429 after the waits of `rateLimitWaits`, when set, ran out).
   */
  async send(url: URL, init: RequestInit = {}): Promise<HttpResponse> {
    const waits = this.options.rateLimitWaits;
    for (let attempt = 1; ; attempt++) {
      const response = await this.sendOnce(url, typeof init === 'function' ? init() : init);
      if (response.status !== 429 || !waits || attempt >= waits.attempts) return response;
      const waitMs = parseRetryAfter(response.headers.get('retry-after'), this.now());
      if (waitMs === undefined || waitMs > waits.maxWaitMs) return response;
      await (waits.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))))(waitMs);
    }
  }

  private async sendOnce(url: URL, request: HttpRequest): Promise<HttpResponse> {
    const method = request.method ?? 'GET';
    const what = `${method} ${url.pathname}`;
    const egress = this.options.egress ?? DEFAULT_EGRESS;
    const timeoutMs = this.options.timeoutMs ?? egress.timeoutMs;
    try {
      const response = await (await this.fetchImpl())(url, {
        method,
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = await readCapped(response.body, egress.maxResponseBytes, response.headers.get('content-length'));
      return { status: response.status, headers: response.headers, body, what };
    } catch (error) {
      const failure = transportFailure(error, { timeoutMs, maxResponseBytes: egress.maxResponseBytes });
      throw this.error(failure.reason, `${what}: ${failure.text}`, undefined, failure.egress);
    }
  }

  /** Sends and requires a 2xx; anything else becomes the matching EmrError. */
  async request(url: URL, request: RequestInit = {}, classify?: AuthErrorClassifier): Promise<HttpResponse> {
    const response = await this.send(url, request);
    if (response.status >= 200 && response.status < 300) return response;
    throw this.statusError(response, classify);
  }

  /** Sends, requires a 2xx and parses a JSON body. */
  async json(url: URL, request: HttpRequest = {}, classify?: AuthErrorClassifier): Promise<unknown> {
    return this.parseJson(await this.request(url, request, classify));
  }

  parseJson(response: HttpResponse): unknown {
    try {
      return JSON.parse(response.body.toString('utf8'));
    } catch {
      throw this.error('InvalidResponse', `${response.what}: HTTP ${response.status} with a body that is not JSON`);
    }
  }

  /** The shared mapping of a non-2xx response. */
  statusError(response: HttpResponse, classify?: AuthErrorClassifier): EmrError {
    const { status, what } = response;
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.now());
      return this.error(
        'RateLimited',
        `${what}: HTTP 429, rate limited${retryAfterMs === undefined ? '' : `, retry after ${Math.ceil(retryAfterMs / 1000)}s`}`,
        retryAfterMs,
      );
    }
    if (status >= 500) return this.error('EmrUnreachable', `${what}: HTTP ${status}, the EMR is failing`);
    if (status === 401 || status === 403) {
      const decided = classify?.(response);
      const reason = decided?.reason ?? (status === 401 ? 'InvalidCredentials' : 'Deauthorized');
      return this.error(reason, `${what}: HTTP ${status}${decided?.detail ? `, ${decided.detail}` : ''}`);
    }
    if (status === 404 || status === 410) return this.error('NotFound', `${what}: HTTP ${status}, not found`);
    if (status === 413) return this.error('DocumentTooLarge', `${what}: HTTP 413, the EMR refuses a request body this large`);
    if (status >= 300 && status < 400) return this.error('InvalidResponse', `${what}: HTTP ${status}, unexpected redirect`);
    return this.error('InvalidResponse', `${what}: HTTP ${status}, the EMR refused the request`);
  }

  /** An EmrError whose message names the EMR and is scrubbed of every credential value. */
  error(reason: EmrErrorReason, message: string, retryAfterMs?: number, egress?: EgressReason): EmrError {
    return new EmrError(reason, this.scrub(`${this.options.emr} ${message}`), retryAfterMs, egress);
  }

  scrub(text: string): string {
    return redactor.string(text, this.options.secrets);
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** The injected fetch, or undici's through the sandboxed Agent (egress-agent.ts, loaded on the first call). */
  private fetchImpl(): Promise<typeof fetch> {
    if (this.options.fetch) return Promise.resolve(this.options.fetch);
    this.fetchPromise ??= import('./egress-agent.ts').then((m) =>
      m.egressFetch(this.options.egress ?? DEFAULT_EGRESS, this.options.caBundle),
    );
    return this.fetchPromise;
  }
}

/** Retry-After as delta-seconds or an HTTP date, in milliseconds from now (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now: Date): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

interface TransportFailure {
  reason: EmrErrorReason;
  text: string;
  egress?: EgressReason;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Pure: what a failed fetch or body read means, from the error and its causes. */
export function transportFailure(error: unknown, limits: { timeoutMs: number; maxResponseBytes: number }): TransportFailure {
  const { timeoutMs, maxResponseBytes } = limits;
  // Ours (capped-body.ts), or undici's backstop at the same cap, which can see the bytes first.
  if (causeOf(error, ResponseTooLargeError) || errorCode(error) === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
    const text = `the response is larger than ${maxResponseBytes} bytes (EGRESS_MAX_RESPONSE_BYTES)`;
    return { reason: 'InvalidResponse', text, egress: 'ResponseTooLarge' };
  }
  const refused = causeOf(error, EndpointNotAllowedError);
  if (refused) return { reason: 'EmrUnreachable', text: refused.message, egress: 'EndpointNotAllowed' };
  const name = error instanceof Error ? error.name : '';
  const code = errorCode(error);
  if (name === 'TimeoutError' || name === 'AbortError' || (code !== undefined && TIMEOUT_CODES.has(code)))
    return { reason: 'EmrUnreachable', text: `no answer within ${timeoutMs} ms (EGRESS_TIMEOUT)`, egress: 'EndpointTimeout' };
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT')
    return { reason: 'EmrUnreachable', text: 'no connection within the deadline (EGRESS_CONNECT_TIMEOUT)', egress: 'EndpointTimeout' };
  return { reason: 'EmrUnreachable', text: code ? `connection failed (${code})` : 'connection failed' };
}

/** The first error of class `type` in the cause chain. */
function causeOf<T extends Error>(error: unknown, type: new (...args: never[]) => T): T | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    if (e instanceof type) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const { code, cause } = e as { code?: unknown; cause?: unknown };
    if (typeof code === 'string' && /^[A-Z0-9_]+$/.test(code)) return code;
    e = cause;
  }
  return undefined;
}

/**
 * Fields of an OAuth 2 error body (RFC 6749 §5.2): the code when it is a safe token, and the
 * description as remote text (redacted, one line, bounded), since endpoints echo what they were sent.
 */
export function oauthErrorCode(response: HttpResponse): { error?: string; description?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const out: { error?: string; description?: string } = {};
  if (parsed && typeof parsed === 'object') {
    const { error, error_description: description } = parsed as { error?: unknown; error_description?: unknown };
    if (typeof error === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(error)) out.error = error;
    if (typeof description === 'string') out.description = remoteText(description);
  }
  // RFC 6750 §3: the bearer error may come in WWW-Authenticate instead of the body.
  const header = response.headers.get('www-authenticate');
  if (out.error === undefined && header) {
    const match = /error="([A-Za-z0-9_.-]{1,64})"/.exec(header);
    if (match?.[1]) out.error = match[1];
    const desc = /error_description="([^"]*)"/.exec(header);
    if (desc?.[1] && out.description === undefined) out.description = remoteText(desc[1]);
  }
  return out;
}

/** `Basic base64(user:password)`, RFC 7617; OAuth 2 (RFC 6749 §2.3.1) form-encodes both parts first. */
export function basicAuth(user: string, password: string, formEncode = false): string {
  const enc = (s: string) => (formEncode ? encodeURIComponent(s).replace(/%20/g, '+') : s);
  return `Basic ${Buffer.from(`${enc(user)}:${enc(password)}`).toString('base64')}`;
}

/** Appends a path to a base URL that may itself have a path (`https://h/oscar` + `ws/x`). */
export function joinUrl(base: string, path: string, query?: Record<string, string | number | undefined>): URL {
  const url = new URL(`${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`);
  for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
  return url;
}

/** The idempotent replay marker our simulators and several APIs (Stripe's convention) send back. */
export function isReplayed(response: HttpResponse): boolean {
  return response.headers.get('idempotent-replayed')?.toLowerCase() === 'true';
}
