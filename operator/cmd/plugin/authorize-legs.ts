// The two signed legs of OAuth 1.0a against OSCAR (RFC 5849 §2.1, §2.3), signed with the operator's
// own signer (internal/httpx/oauth1.ts) and sent through its HTTP client: the egress sandbox of the
// environment (EGRESS_*, as the operator's), the EMR's CA bundle, a deadline, a size cap, no redirect.
// Answers are read for the token pair or the oauth_problem only; nothing of them is printed.
import { type HttpClient, type HttpResponse, joinUrl } from '../../internal/httpx/http.ts';
import { authorizationHeader } from '../../internal/httpx/oauth1.ts';
import { type Consumer, OSCAR_OAUTH_PATHS, oauthProblem, refusal, tokenPair } from './authorize-plan.ts';

export interface TokenAnswer {
  token: string;
  secret: string;
  params: URLSearchParams;
  /** The X-OAuth-Token-Expires header, if the server sent one. */
  expiresHeader: string | null;
}

export class OscarOAuthClient {
  private readonly http: HttpClient;
  private readonly serverUrl: string;
  private readonly consumer: Consumer;

  constructor(options: { serverUrl: string; consumer: Consumer; http: HttpClient }) {
    this.serverUrl = options.serverUrl;
    this.consumer = options.consumer;
    this.http = options.http;
  }

  /** Temporary credentials (a request token) for `callback` (a URL, or `oob`). */
  async requestToken(callback: string): Promise<TokenAnswer> {
    const url = joinUrl(this.serverUrl, OSCAR_OAUTH_PATHS.initiate);
    const authorization = authorizationHeader({
      method: 'POST',
      url,
      credentials: this.consumer,
      protocolParams: { oauth_callback: callback },
    });
    return this.answer(await this.post(url, authorization), 'request token');
  }

  /** The access token for an authorized request token and its verifier. */
  async accessToken(request: { token: string; secret: string }, verifier: string): Promise<TokenAnswer> {
    const url = joinUrl(this.serverUrl, OSCAR_OAUTH_PATHS.token);
    const authorization = authorizationHeader({
      method: 'POST',
      url,
      credentials: { ...this.consumer, token: request.token, tokenSecret: request.secret },
      protocolParams: { oauth_verifier: verifier },
    });
    return this.answer(await this.post(url, authorization), 'access token request');
  }

  private post(url: URL, authorization: string): Promise<HttpResponse> {
    return this.http.send(url, { method: 'POST', headers: { authorization, accept: 'application/x-www-form-urlencoded' } });
  }

  private answer(response: HttpResponse, what: string): TokenAnswer {
    const body = response.body.toString('utf8');
    if (response.status < 200 || response.status >= 300)
      throw refusal(what, response.status, oauthProblem(response.headers.get('www-authenticate'), body));
    return { ...tokenPair(body, what), expiresHeader: response.headers.get('x-oauth-token-expires') };
  }
}
