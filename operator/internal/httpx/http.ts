// The one HTTP path every adapter uses: per-request timeout, optional extra CA bundle, and the
// shared mapping of transport failures and HTTP statuses to EmrError reasons. Error messages name
// the EMR, the method and the URL path only (never the query, headers or body: those carry tokens,
// credentials or patient data) and are scrubbed of the adapter's credential values as a last line.
import { rootCertificates } from 'node:tls';
import { redactor, remoteText } from '../../runtime/redact.ts';
import { EmrError, type EmrErrorReason } from './remote-error.ts';

const DEFAULT_TIMEOUT_MS = 30_000;

export interface HttpClientOptions {
  /** Label used in messages: 'OSCAR', 'Accuro', … */
  emr: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  caBundle?: string;
  /** Credential values; scrubbed from every message this client produces. */
  secrets?: readonly string[];
  now?: () => Date;
}

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

  /** Sends a request; throws only for transport failures (EmrUnreachable). Any HTTP status returns. */
  async send(url: URL, request: HttpRequest = {}): Promise<HttpResponse> {
    const method = request.method ?? 'GET';
    const what = `${method} ${url.pathname}`;
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const doFetch = await this.fetchImpl();
    try {
      const response = await doFetch(url, {
        method,
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = Buffer.from(await response.arrayBuffer());
      return { status: response.status, headers: response.headers, body, what };
    } catch (error) {
      throw this.error('EmrUnreachable', `${what}: ${transportFailure(error, timeoutMs)}`);
    }
  }

  /** Sends and requires a 2xx; anything else becomes the matching EmrError. */
  async request(url: URL, request: HttpRequest = {}, classify?: AuthErrorClassifier): Promise<HttpResponse> {
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
    if (status >= 300 && status < 400) return this.error('InvalidResponse', `${what}: HTTP ${status}, unexpected redirect`);
    return this.error('InvalidResponse', `${what}: HTTP ${status}, the EMR refused the request`);
  }

  /** An EmrError whose message names the EMR and is scrubbed of every credential value. */
  error(reason: EmrErrorReason, message: string, retryAfterMs?: number): EmrError {
    return new EmrError(reason, this.scrub(`${this.options.emr} ${message}`), retryAfterMs);
  }

  scrub(text: string): string {
    return redactor.string(text, this.options.secrets);
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private fetchImpl(): Promise<typeof fetch> {
    if (this.options.fetch) return Promise.resolve(this.options.fetch);
    if (!this.options.caBundle) return Promise.resolve(fetch);
    // Node's global fetch cannot take extra CAs; undici (a dependency of @kubernetes/client-node)
    // can, through an Agent. Its own fetch is used with its own Agent so that versions match.
    this.fetchPromise ??= import('undici').then((undici) => {
      const agent = new undici.Agent({ connect: { ca: [...rootCertificates, this.options.caBundle as string] } });
      const withAgent = (input: URL | string, init?: RequestInit) =>
        undici.fetch(input, { ...(init as Parameters<typeof undici.fetch>[1]), dispatcher: agent });
      return withAgent as unknown as typeof fetch;
    });
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

function transportFailure(error: unknown, timeoutMs: number): string {
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const code = errorCode(error);
  return code ? `connection failed (${code})` : 'connection failed';
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
