// Pure parts of `kubectl cloudconnect authorize`: which OSCAR server and Secret an EmrIntegration
// names, the client (consumer) key and secret its Secret holds, the OAuth 1.0a answers (form-encoded
// token pairs, oauth_problem), the authorize URL, what the callback brought, the Secret patch and the
// lines printed about it. Never a token or a secret in a line or an error.
import type { EmrIntegration } from '../../api/v1alpha1/index.ts';
import { OSCAR_CREDENTIAL_KEYS } from '../../internal/emr/oscar-pro.ts';

const [CLIENT_KEY, CLIENT_SECRET, ACCESS_TOKEN, TOKEN_SECRET] = OSCAR_CREDENTIAL_KEYS;

/** The OAuth 1.0a endpoints of OSCAR's CXF setup, under the server URL (which includes the EMR path). */
export const OSCAR_OAUTH_PATHS = { initiate: 'ws/oauth/initiate', authorize: 'ws/oauth/authorize', token: 'ws/oauth/token' } as const;

export class AuthorizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthorizeError';
  }
}

export interface OscarTarget {
  name: string;
  namespace: string;
  serverUrl: string;
  secretName: string;
  caBundle?: { name: string; key: string };
}

/** The OSCAR server and credentials Secret of an integration; an error for any other EMR type. */
export function oscarTarget(integration: EmrIntegration): OscarTarget {
  const { name = '', namespace = '' } = integration.metadata;
  const emr = integration.spec.emr;
  if (emr.type !== 'OSCARPro' || !emr.oscarPro)
    throw new AuthorizeError(
      `EmrIntegration ${name} is emr.type ${emr.type}, not OSCARPro: only OSCAR Pro is authorized with OAuth 1.0a (the others take their credentials in the Secret as they are)`,
    );
  const target: OscarTarget = { name, namespace, serverUrl: emr.oscarPro.serverUrl, secretName: emr.oscarPro.credentialsSecretRef.name };
  if (emr.caBundleSecretRef) target.caBundle = { name: emr.caBundleSecretRef.name, key: emr.caBundleSecretRef.key ?? 'ca.crt' };
  return target;
}

export interface Consumer {
  consumerKey: string;
  consumerSecret: string;
}

/** The REST client's key and secret from the Secret's data (base64); an error naming the missing keys. */
export function consumerOf(secretName: string, data: Record<string, string> | undefined): Consumer {
  const value = (key: string) => Buffer.from(data?.[key] ?? '', 'base64').toString('utf8');
  const missing = [CLIENT_KEY, CLIENT_SECRET].filter((key) => value(key).trim() === '');
  if (missing.length > 0)
    throw new AuthorizeError(
      `Secret ${secretName} lacks ${missing.join(' and ')}: put the REST client's key and secret there first (OSCAR: Administration > Integration > REST Clients)`,
    );
  return { consumerKey: value(CLIENT_KEY), consumerSecret: value(CLIENT_SECRET) };
}

/** A form-encoded OAuth 1.0a token answer (RFC 5849 §2.1, §2.3): the pair, or an error naming what is missing. */
export function tokenPair(body: string, what: string): { token: string; secret: string; params: URLSearchParams } {
  const params = new URLSearchParams(body.slice(0, 8192));
  const token = params.get('oauth_token') ?? '';
  const secret = params.get('oauth_token_secret') ?? '';
  if (token === '' || secret === '') throw new AuthorizeError(`OSCAR's ${what} answer has no oauth_token and oauth_token_secret`);
  return { token, secret, params };
}

/** The OAuth Problem Reporting code of a refusal (WWW-Authenticate or the body), when it is a plain word. */
export function oauthProblem(wwwAuthenticate: string | null, body: string): string | undefined {
  const fromHeader = /oauth_problem="?([a-z_]{1,64})"?/.exec(wwwAuthenticate ?? '')?.[1];
  return fromHeader ?? /(?:^|&)oauth_problem=([a-z_]{1,64})/.exec(body.slice(0, 1024))?.[1];
}

/** What a refused leg means for the person running the command. */
const PROBLEM_HINTS: Record<string, string> = {
  consumer_key_unknown: 'OSCAR does not know the clientKey of the Secret',
  consumer_key_rejected: 'OSCAR does not know the clientKey of the Secret',
  signature_invalid: 'the clientSecret of the Secret is not the REST client’s secret',
  parameter_rejected:
    "OSCAR refused the callback: the REST client's URI must be http://127.0.0.1 for the local callback, or oob with --verifier-stdin",
  timestamp_refused: 'this machine’s clock and OSCAR’s differ by more than OSCAR allows',
  token_rejected: 'the request token is unknown, used or older than OSCAR allows (an hour): run the command again',
  token_expired: 'the request token expired: run the command again',
  verifier_invalid: 'the verification code is not the one OSCAR issued for this request: run the command again',
  permission_denied: 'the authorization was refused',
};

/** The error of a refused leg: the HTTP status, oauth_problem and what to do. */
export function refusal(what: string, status: number, problem: string | undefined): AuthorizeError {
  const hint = problem ? PROBLEM_HINTS[problem] : undefined;
  return new AuthorizeError(
    `OSCAR refused the ${what} (HTTP ${status}${problem ? `, oauth_problem=${problem}` : ''})${hint ? `: ${hint}` : ''}`,
  );
}

/** Where the clinic's EMR administrator authorizes the request (RFC 5849 §2.2). */
export function authorizeUrl(serverUrl: string, requestToken: string): string {
  const url = new URL(`${serverUrl.replace(/\/+$/, '')}/${OSCAR_OAUTH_PATHS.authorize}`);
  url.searchParams.set('oauth_token', requestToken);
  return url.toString();
}

/** What OSCAR's redirect to the callback brought: the verifier, or why there is none. */
export function callbackVerifier(query: URLSearchParams, requestToken: string): { verifier: string } | { refused: string } {
  if (query.get('oauth_token') !== requestToken) return { refused: 'the callback is for another request (oauth_token differs)' };
  const verifier = query.get('oauth_verifier');
  if (!verifier) return { refused: 'the EMR administrator cancelled the authorization (no oauth_verifier)' };
  return { verifier };
}

/** The expiry the server announced with the access token, if any (our simulator's header, or OAuth Session's oauth_expires_in). */
export function tokenExpiry(header: string | null, params: URLSearchParams, now: Date): Date | undefined {
  if (header) {
    const at = new Date(header);
    if (!Number.isNaN(at.getTime())) return at;
  }
  const seconds = Number(params.get('oauth_expires_in'));
  return Number.isFinite(seconds) && seconds > 0 ? new Date(now.getTime() + seconds * 1000) : undefined;
}

/** The merge patch of the credentials Secret: the two keys the OSCAR adapter reads, nothing else. */
export function secretPatch(token: string, secret: string): { data: Record<string, string> } {
  return {
    data: {
      [ACCESS_TOKEN]: Buffer.from(token, 'utf8').toString('base64'),
      [TOKEN_SECRET]: Buffer.from(secret, 'utf8').toString('base64'),
    },
  };
}

/** What the command reports once the Secret is written: key names, Secret, expiry. */
export function writtenLine(target: OscarTarget, expiresAt: Date | undefined): string {
  const expiry = expiresAt ? `; OSCAR says the token expires at ${expiresAt.toISOString()}` : '; OSCAR gave no expiry';
  return `Wrote ${ACCESS_TOKEN} and ${TOKEN_SECRET} to Secret ${target.namespace}/${target.secretName}${expiry}`;
}
