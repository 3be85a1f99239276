// OAuth 1.0a request signing (RFC 5849), HMAC-SHA1 only: what OSCAR's CXF OAuth provider accepts.
// Written here rather than taken from a library so that every byte of the signature base string is
// visible and tested against the published vectors (RFC 5849 §1.2 and §3.4.1.1, Twitter's guide).
// The OSCAR simulator verifies signatures with another implementation (the `oauth-1.0a` npm package),
// rebuilding them from the request it actually received, so a mistake here fails there.
import { createHmac, randomBytes } from 'node:crypto';

export interface OAuth1Credentials {
  consumerKey: string;
  consumerSecret: string;
  token?: string;
  tokenSecret?: string;
}

export type Param = readonly [string, string];

/** RFC 5849 §3.6: RFC 3986 percent-encoding; only ALPHA, DIGIT, '-', '.', '_', '~' stay as they are. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** RFC 5849 §3.4.1.2: scheme and host lower case, default port dropped, no query nor fragment. */
function baseStringUri(url: URL): string {
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  const host = url.hostname.toLowerCase();
  const defaultPort = (scheme === 'http' && url.port === '80') || (scheme === 'https' && url.port === '443') || url.port === '';
  return `${scheme}://${host}${defaultPort ? '' : `:${url.port}`}${url.pathname}`;
}

/** Byte order of two percent-encoded (ASCII) strings, as RFC 5849 sorts them. */
function compareCodeUnits(a: string, b: string): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

/** RFC 5849 §3.4.1.3.2: encode names and values, sort by name then value, join with '=' and '&'. */
function normalizeParameters(params: readonly Param[]): string {
  return params
    .filter(([name]) => name !== 'oauth_signature' && name !== 'realm')
    .map(([name, value]) => [percentEncode(name), percentEncode(value)] as const)
    .sort(([an, av], [bn, bv]) => compareCodeUnits(an, bn) || compareCodeUnits(av, bv))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/**
 * RFC 5849 §3.4.1: METHOD & encoded base URI & encoded normalized parameters. `params` holds the
 * query parameters, the oauth_* protocol parameters and, for form-encoded bodies, the body's.
 */
export function signatureBaseString(method: string, url: URL, params: readonly Param[]): string {
  return [method.toUpperCase(), percentEncode(baseStringUri(url)), percentEncode(normalizeParameters(params))].join('&');
}

/** RFC 5849 §3.4.2: HMAC-SHA1 keyed with encoded consumer secret '&' encoded token secret, base64. */
export function hmacSha1Signature(baseString: string, consumerSecret: string, tokenSecret = ''): string {
  const key = `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`;
  return createHmac('sha1', key).update(baseString).digest('base64');
}

/** Query parameters of a URL, decoded as application/x-www-form-urlencoded (RFC 5849 §3.4.1.3.1). */
export function queryParams(url: URL): Param[] {
  return [...new URLSearchParams(url.search)];
}

export interface SignOptions {
  method: string;
  url: URL;
  credentials: OAuth1Credentials;
  /** Only an application/x-www-form-urlencoded body takes part in the signature. */
  formBody?: URLSearchParams;
  nonce?: string;
  /** Seconds since the epoch. */
  timestamp?: number;
  realm?: string;
  /** Twitter's and most servers' clients send it; RFC 5849 makes it optional. */
  includeVersion?: boolean;
  /**
   * Protocol parameters of the authorization legs (RFC 5849 §2): `oauth_callback` on the temporary
   * credentials request, `oauth_verifier` on the token request. Signed and sent with the others.
   */
  protocolParams?: { oauth_callback?: string; oauth_verifier?: string };
}

/** The oauth_* protocol parameters including oauth_signature. */
export function signRequest(options: SignOptions): Record<string, string> {
  const { credentials } = options;
  const oauth: Record<string, string> = {
    oauth_consumer_key: credentials.consumerKey,
    oauth_nonce: options.nonce ?? randomBytes(16).toString('hex'),
    oauth_signature_method: 'HMAC-SHA1',
    oauth_timestamp: String(options.timestamp ?? Math.floor(Date.now() / 1000)),
  };
  if (credentials.token !== undefined) oauth['oauth_token'] = credentials.token;
  if (options.includeVersion !== false) oauth['oauth_version'] = '1.0';
  for (const [name, value] of Object.entries(options.protocolParams ?? {})) if (value !== undefined) oauth[name] = value;
  const params: Param[] = [...queryParams(options.url), ...Object.entries(oauth), ...(options.formBody ? [...options.formBody] : [])];
  const base = signatureBaseString(options.method, options.url, params);
  oauth['oauth_signature'] = hmacSha1Signature(base, credentials.consumerSecret, credentials.tokenSecret ?? '');
  return oauth;
}

/** RFC 5849 §3.5.1: `OAuth realm="…", name="encoded value", …`. */
export function authorizationHeader(options: SignOptions): string {
  const oauth = signRequest(options);
  const parts = Object.entries(oauth).map(([name, value]) => `${percentEncode(name)}="${percentEncode(value)}"`);
  if (options.realm !== undefined) parts.unshift(`realm="${options.realm.replace(/"/g, '')}"`);
  return `OAuth ${parts.join(', ')}`;
}

/** Parses an `Authorization: OAuth …` header into decoded parameters; undefined when it is not one. */
export function parseAuthorizationHeader(header: string | undefined): Record<string, string> | undefined {
  if (!header || !/^OAuth\s/i.test(header)) return undefined;
  const out: Record<string, string> = {};
  const re = /([A-Za-z0-9_%.~-]+)="([^"]*)"/g;
  for (const match of header.slice(6).matchAll(re)) {
    const [, name, value] = match;
    if (name === undefined || value === undefined) continue;
    try {
      out[decodeURIComponent(name)] = decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  return out;
}
