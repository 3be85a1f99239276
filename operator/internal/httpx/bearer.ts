// Bearer-token plumbing shared by the token-based adapters (Accuro, FHIR, TELUS): the OAuth 2
// token request with the RFC 6749 §5.2 error vocabulary mapped to EmrError reasons, and a session
// that sends requests with a cached token, renews it once when the EMR calls it stale, and only
// then gives up.

import { type AuthErrorClassifier, type HttpClient, type HttpRequest, type HttpResponse, oauthErrorCode } from './http.ts';
import { Reader } from './json-reader.ts';
import type { EmrErrorReason, RemoteError } from './remote-error.ts';
import type { BearerToken, TokenCache } from './token-cache.ts';

/**
 * RFC 6749 §5.2 codes → reasons. `invalid_client` / `invalid_grant` say the credentials are wrong,
 * unless the server says they expired; `unauthorized_client` / `access_denied` say the client or
 * user was disabled. The endpoint's error_description is quoted after the reason, as the endpoint
 * wrote it but redacted (oauthErrorCode reads it as remote text: careless endpoints echo the
 * password or client secret they were sent).
 */
export function classifyTokenError(response: HttpResponse): { reason: EmrErrorReason; detail: string } {
  const { error, description } = oauthErrorCode(response);
  const decided = tokenErrorReason(response.status, error, description !== undefined && /expired/i.test(description));
  return { reason: decided.reason, detail: description ? `${decided.detail} (the endpoint says: ${description})` : decided.detail };
}

function tokenErrorReason(status: number, error: string | undefined, expired: boolean): { reason: EmrErrorReason; detail: string } {
  switch (error) {
    case 'invalid_client':
    case 'invalid_grant':
      return expired
        ? { reason: 'Expired', detail: `${error}: the credential has expired` }
        : { reason: 'InvalidCredentials', detail: `${error}: the credentials were rejected` };
    case 'unauthorized_client':
    case 'access_denied':
      return { reason: 'Deauthorized', detail: `${error}: access was revoked or the client is not allowed` };
    case 'invalid_request':
    case 'unsupported_grant_type':
    case 'invalid_scope':
      return { reason: 'InvalidCredentials', detail: `${error}: the token request was refused (check the tenant and client settings)` };
    default:
      return status === 403
        ? { reason: 'Deauthorized', detail: 'the token endpoint refused access' }
        : { reason: 'InvalidCredentials', detail: error ? `${error}: the credentials were rejected` : 'the credentials were rejected' };
  }
}

export interface TokenRequest {
  url: URL;
  headers?: Record<string, string>;
  form: URLSearchParams;
  now: Date;
  defaultLifetimeSeconds?: number;
  /** The error of another non-2xx answer (default: HttpClient.statusError). */
  refused?: (response: HttpResponse) => RemoteError;
}

/** POSTs a form to a token endpoint and reads an RFC 6749 §5.1 answer. */
export async function requestToken(http: HttpClient, request: TokenRequest): Promise<BearerToken> {
  const response = await http.send(request.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...request.headers },
    body: request.form.toString(),
  });
  if (response.status === 400 || response.status === 401 || response.status === 403) {
    const { reason, detail } = classifyTokenError(response);
    throw http.error(reason, `${response.what}: HTTP ${response.status}, ${detail}`);
  }
  if (response.status < 200 || response.status >= 300) throw request.refused?.(response) ?? http.statusError(response);
  const read = new Reader(http.emr, response.what);
  const body = read.object(http.parseJson(response), 'token response');
  const value = read.string(body['access_token'], 'access_token');
  if (value === '') throw read.fail('access_token', 'a token');
  const lifetime =
    body['expires_in'] === undefined ? (request.defaultLifetimeSeconds ?? 3600) : read.number(body['expires_in'], 'expires_in');
  const refresh = read.optionalString(body['refresh_token'], 'refresh_token');
  const token: BearerToken = { value, issuedAt: request.now, expiresAt: new Date(request.now.getTime() + lifetime * 1000) };
  if (refresh !== undefined) token.refreshToken = refresh;
  // RFC 7591: epoch seconds, 0 for a secret that does not expire.
  const secretExpiresAt = body['client_secret_expires_at'];
  if (secretExpiresAt !== undefined && read.number(secretExpiresAt, 'client_secret_expires_at') > 0)
    token.clientNotAfter = new Date((secretExpiresAt as number) * 1000);
  return token;
}

/** RFC 6750 §3.1: the token is expired, revoked or unknown; a new one may work. */
function isInvalidBearer(response: HttpResponse): boolean {
  return response.status === 401 && oauthErrorCode(response).error === 'invalid_token';
}

export interface BearerSessionOptions {
  http: HttpClient;
  tokens: TokenCache;
  /** Headers sent with every call besides Authorization (e.g. X-QHR-Subscription-Key). */
  headers?: Record<string, string>;
  /** Whether a response means "this token is no longer good, get another". */
  isStale?: (response: HttpResponse) => boolean;
  /** Reason when a freshly obtained token is rejected as stale too. */
  staleAgain?: (response: HttpResponse) => EmrErrorReason;
  classify?: AuthErrorClassifier;
}

export class BearerSession {
  private readonly options: BearerSessionOptions;

  constructor(options: BearerSessionOptions) {
    this.options = options;
  }

  /** Sends with the cached token; on a stale-token answer renews once and retries; requires a 2xx. */
  async request(url: URL, request: HttpRequest = {}, refine?: (response: HttpResponse) => RemoteError | undefined): Promise<HttpResponse> {
    const { http, tokens } = this.options;
    const isStale = this.options.isStale ?? isInvalidBearer;
    let response = await http.send(url, this.withToken(request, await tokens.get()));
    if (isStale(response)) {
      tokens.invalidate();
      response = await http.send(url, this.withToken(request, await tokens.get()));
      if (isStale(response)) {
        tokens.clear();
        const reason = this.options.staleAgain?.(response) ?? staleReason(response);
        throw http.error(reason, `${response.what}: HTTP ${response.status}, a freshly issued token was rejected too`);
      }
    }
    if (response.status >= 200 && response.status < 300) return response;
    throw refine?.(response) ?? http.statusError(response, this.options.classify);
  }

  async json(url: URL, request: HttpRequest = {}): Promise<unknown> {
    return this.options.http.parseJson(await this.request(url, request));
  }

  private withToken(request: HttpRequest, token: BearerToken): HttpRequest {
    return {
      ...request,
      headers: { accept: 'application/json', ...this.options.headers, ...request.headers, authorization: `Bearer ${token.value}` },
    };
  }
}

function staleReason(response: HttpResponse): EmrErrorReason {
  const { description } = oauthErrorCode(response);
  return description !== undefined && /revoked/i.test(description) ? 'Deauthorized' : 'Expired';
}
