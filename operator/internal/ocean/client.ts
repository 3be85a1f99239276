// Ocean's side of a sync: an OAuth 2 client-credentials token from
// `{OCEAN_API_URL}/svc/oauth2/token?grant_type=client_credentials` (client in HTTP Basic), then one
// `POST /svc/v1/sites/{siteNumber}/sync-batches` per encrypted batch, with the batch's deterministic
// id as `Idempotency-Key` so that a retried upload never stores a batch twice. The upload endpoint
// is our design (Ocean's sync protocol is not public; see test/simulators/ocean.ts).
// Transport, timeouts, message scrubbing and the renew-once-on-a-stale-token session are the EMR
// adapters' HttpClient and BearerSession; failures are
// OceanErrors with reasons of their own, so a run's errorReason says which side failed.
import { BearerSession, requestToken } from '../httpx/bearer.ts';
import type { EgressPolicy } from '../httpx/egress-config.ts';
import { basicAuth, HttpClient, type HttpResponse, joinUrl, parseRetryAfter } from '../httpx/http.ts';
import { Reader } from '../httpx/json-reader.ts';
import { EmrError, RemoteError } from '../httpx/remote-error.ts';
import { type BearerToken, TokenCache } from '../httpx/token-cache.ts';
import type { Envelope, RecordKind } from '../sek/crypto.ts';

export type OceanErrorReason =
  | 'OceanUnreachable' // connection failure, timeout, 5xx
  | 'OceanInvalidCredentials' // the client id / secret were refused
  | 'OceanExpired' // the client secret expired, or fresh tokens are refused as expired
  | 'OceanDeauthorized' // the client was disabled or may not upload for this site
  | 'OceanRateLimited' // 429
  | 'OceanRejected'; // Ocean refused the batch (other 4xx) or answered off-shape

export class OceanError extends RemoteError<OceanErrorReason> {}

/** The body of one upload: routing metadata in the clear (no PHI), the records only in `envelope`. */
export interface SyncBatchUpload {
  /** The run (Job) name. */
  run: string;
  /** `<run>:<kind>:<n>`, unique across runs; also the Idempotency-Key and part of the AAD. */
  batchId: string;
  kind: RecordKind;
  /** Records in the batch (a count is not PHI). */
  count: number;
  envelope: Envelope;
}

export interface OceanUploader {
  upload(batch: SyncBatchUpload): Promise<{ batchId: string; duplicate: boolean }>;
}

export interface OceanClientOptions {
  apiUrl: string;
  siteNumber: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** What Ocean's URL may reach and answer; default DEFAULT_EGRESS. */
  egress?: EgressPolicy;
  /** Extra CA certificates (PEM) to trust for Ocean's URL, besides the public ones (OCEAN_CA_BUNDLE). */
  caBundle?: string;
  now?: () => Date;
}

const REASONS: Record<EmrError['reason'], OceanErrorReason> = {
  EmrUnreachable: 'OceanUnreachable',
  InvalidCredentials: 'OceanInvalidCredentials',
  Expired: 'OceanExpired',
  Deauthorized: 'OceanDeauthorized',
  RateLimited: 'OceanRateLimited',
  NotFound: 'OceanRejected',
  InvalidResponse: 'OceanRejected',
  DocumentTooLarge: 'OceanRejected',
};

function fromEmrError(error: unknown): unknown {
  return error instanceof EmrError ? new OceanError(REASONS[error.reason], error.message, error.retryAfterMs, error.egress) : error;
}

export class OceanClient implements OceanUploader {
  private readonly options: OceanClientOptions;
  private readonly http: HttpClient;
  private readonly session: BearerSession;
  private readonly now: () => Date;
  private readonly tokens: TokenCache;

  constructor(options: OceanClientOptions) {
    if (!options.clientId || !options.clientSecret) throw new OceanError('OceanInvalidCredentials', 'Ocean client id or secret is missing');
    this.options = options;
    this.now = options.now ?? (() => new Date());
    this.http = new HttpClient({
      emr: 'Ocean',
      fetch: options.fetch,
      timeoutMs: options.timeoutMs,
      ...(options.egress ? { egress: options.egress } : {}),
      ...(options.caBundle ? { caBundle: options.caBundle } : {}),
      secrets: [options.clientId, options.clientSecret],
      now: this.now,
    });
    // A stale token is renewed once; a fresh one refused too means the client secret expired.
    this.tokens = new TokenCache(() => this.fetchToken(), this.now);
    this.session = new BearerSession({
      http: this.http,
      tokens: this.tokens,
      staleAgain: () => 'Expired',
    });
  }

  async upload(batch: SyncBatchUpload): Promise<{ batchId: string; duplicate: boolean }> {
    const url = joinUrl(this.options.apiUrl, `svc/v1/sites/${encodeURIComponent(this.options.siteNumber)}/sync-batches`);
    const body = JSON.stringify(batch);
    try {
      const response = await this.session.request(
        url,
        { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': batch.batchId }, body },
        (refused) => this.statusError(refused),
      );
      const read = new Reader('Ocean', response.what);
      const answer = read.object(this.http.parseJson(response), 'body');
      return {
        batchId: read.id(answer['batchId'], 'batchId'),
        duplicate: response.headers.get('idempotent-replayed')?.toLowerCase() === 'true',
      };
    } catch (error) {
      throw fromEmrError(error);
    }
  }

  /**
   * Checks the client against Ocean's token endpoint (a fresh token, not a cached one); returns when
   * the client secret expires, when Ocean says so. Throws an OceanError with the reason.
   */
  async authenticate(): Promise<{ notAfter?: Date }> {
    try {
      this.tokens.clear();
      const token = await this.tokens.get();
      return token.clientNotAfter ? { notAfter: token.clientNotAfter } : {};
    } catch (error) {
      throw fromEmrError(error);
    }
  }

  /**
   * A JSON call on the site's API (`svc/v1/sites/{siteNumber}/<path>`) with the client's token;
   * undefined for a 404 or an answer without a body. Throws an OceanError with the reason otherwise.
   */
  async siteCall(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    const url = joinUrl(this.options.apiUrl, `svc/v1/sites/${encodeURIComponent(this.options.siteNumber)}/${path}`);
    let notFound = false;
    try {
      const response = await this.session.request(
        url,
        { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) },
        (refused) => {
          notFound = refused.status === 404;
          return this.statusError(refused);
        },
      );
      return response.body.length === 0 ? undefined : this.http.parseJson(response);
    } catch (error) {
      if (notFound) return undefined;
      throw fromEmrError(error);
    }
  }

  private statusError(response: HttpResponse): OceanError {
    const { status, what } = response;
    const message = (text: string) => this.http.scrub(`Ocean ${what}: HTTP ${status}, ${text}`);
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.now());
      return new OceanError('OceanRateLimited', message('rate limited'), retryAfterMs);
    }
    if (status >= 500) return new OceanError('OceanUnreachable', message('Ocean is failing'));
    if (status === 401) return new OceanError('OceanInvalidCredentials', message('the client was not accepted'));
    if (status === 403) return new OceanError('OceanDeauthorized', message('the client may not act for this site'));
    return new OceanError('OceanRejected', message('Ocean refused the request'));
  }

  /** A client-credentials token (client in HTTP Basic); Ocean's own errors for answers other than 400/401/403. */
  private fetchToken(): Promise<BearerToken> {
    return requestToken(this.http, {
      url: joinUrl(this.options.apiUrl, 'svc/oauth2/token', { grant_type: 'client_credentials' }),
      headers: { authorization: basicAuth(this.options.clientId, this.options.clientSecret, true) },
      form: new URLSearchParams({ grant_type: 'client_credentials' }),
      now: this.now(),
      refused: (response) => this.statusError(response),
    });
  }
}
