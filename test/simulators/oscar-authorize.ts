// OSCAR's OAuth 1.0a authorization, the three legs (RFC 5849 §2), after OSCAR's own CXF setup
// (applicationContextREST.xml: the JAX-RS server `/oauth` with CXF's RequestTokenService,
// AuthorizationRequestService and AccessTokenService over OscarOAuthDataProvider; the consent page
// login/3rdpartyLogin.jsp; OSCAR's admin page lists the same three URIs):
//   POST {ctx}/ws/oauth/initiate   signed with the client (consumer) key/secret; `oauth_callback` is
//        required and must start with the REST client's registered URI (OscarRequestTokenHandler's
//        validateCallbackURL; `oob` only when the client was registered with the URI `oob`) →
//        `oauth_token=…&oauth_token_secret=…&oauth_callback_confirmed=true` (form-encoded)
//   GET  {ctx}/ws/oauth/authorize?oauth_token=…   the login and consent page (HTML): the OSCAR user
//        name, password and PIN of the "OceanConnect" EMR user, the permission "EMR Access", the
//        button "Authorize <application>"; a session_authenticity_token (CXF's) bound to the request
//        token, single use
//   POST {ctx}/ws/oauth/authorize/decision   the form above. A wrong user name, password or PIN is
//        refused (401, the page again, no verifier); `oauthDecision=allow` with the right ones
//        redirects (303) to the callback with `oauth_token` and `oauth_verifier`, or for `oob` shows
//        the verifier; `deny` drops the request token (the callback gets `oauth_token` only)
//   POST {ctx}/ws/oauth/token   signed with the client key/secret and the request token/secret,
//        with `oauth_verifier`: the request token is single use and lives one hour from /initiate
//        (OscarOAuthDataProvider), so its verifier dies with it → `oauth_token=…&oauth_token_secret=…`
// OSCAR's login is a separate `login.do` call from that page (user name, password, PIN); here the
// decision form carries them, one request instead of two (the checks are the same).
// After /token the simulator accepts only the newly issued access token/secret on ws/services (the
// previous pair stops working, and a `deauthorized` fault, which revoked that pair, is cleared): our
// simplification, a real OSCAR keeps older tokens until an administrator removes them. Signatures are
// verified with the `oauth-1.0a` package (oscar.ts's signatureValid), never with the operator's signer.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Ctx, Reply, Route, SimHttpError, SimState } from './common.ts';

/** The "OceanConnect" EMR user the clinic created for the integration (seed 000). */
export interface OscarEmrUser {
  username: string;
  password: string;
  pin: string;
}

/** Fixed development EMR user (fake; `make up` and tests unless overridden). */
export const OSCAR_DEV_EMR_USER: OscarEmrUser = { username: 'oceanconnect', password: 'sim-oceanconnect-pw-61d0', pin: '4826' };

export interface OscarAuthorizeOptions {
  /** The OceanConnect EMR user whose name, password and PIN the authorize page accepts. */
  emrUser?: OscarEmrUser;
  /** The REST client's registered URI: every oauth_callback must start with it. Default `http://127.0.0.1`. */
  clientUri?: string;
  /** The REST client's name, shown on the consent page. Default `Cloud Connect`. */
  clientName?: string;
  /** How long a request token (and its verifier) lives; default 3600 s, as OscarOAuthDataProvider. */
  requestTokenLifetimeSeconds?: number;
}

/** The credentials the simulator's REST services accept; /token replaces the access pair in place. */
interface MutableCredentials {
  clientKey: string;
  clientSecret: string;
  accessToken: string;
  tokenSecret: string;
}

export interface AuthorizeDeps {
  state: SimState;
  contextPath: string;
  credentials: MutableCredentials;
  maxSkewSeconds: number;
  parseOAuthHeader: (header: string | undefined) => Record<string, string> | undefined;
  signatureValid: (ctx: Ctx, oauth: Record<string, string>, credentials: MutableCredentials) => boolean;
  problem: (name: string, status?: number) => SimHttpError;
  tokenExpiresAt: () => Date;
}

/** What a test may look at: the authorizations granted and refused, never a token or a secret. */
export interface OscarAuthorization {
  readonly emrUser: OscarEmrUser;
  /** Request tokens issued, still pending. */
  pending(): number;
  /** Access tokens issued through /token (user and time). */
  readonly issued: { username: string; at: string }[];
  /** Logins refused on the authorize page (user name as typed and time). */
  readonly refusedLogins: { username: string; at: string }[];
}

interface RequestToken {
  secret: string;
  callback: string;
  createdAt: number;
  authenticity?: string;
  verifier?: string;
  username?: string;
}

const randomValue = (bytes = 24) => randomBytes(bytes).toString('base64url');

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const formReply = (params: Record<string, string>, headers: Record<string, string> = {}): Reply => ({
  text: new URLSearchParams(params).toString(),
  contentType: 'application/x-www-form-urlencoded',
  headers,
});

export function authorizationRoutes(
  deps: AuthorizeDeps,
  options: OscarAuthorizeOptions = {},
): { routes: Route[]; authorization: OscarAuthorization } {
  const emrUser = options.emrUser ?? OSCAR_DEV_EMR_USER;
  const clientUri = options.clientUri ?? 'http://127.0.0.1';
  const clientName = options.clientName ?? 'Cloud Connect';
  const lifetimeMs = (options.requestTokenLifetimeSeconds ?? 3600) * 1000;
  const tokens = new Map<string, RequestToken>();
  const nonces = new Set<string>();
  const authorization: OscarAuthorization = { emrUser, pending: () => tokens.size, issued: [], refusedLogins: [] };
  const base = `${deps.contextPath}/ws/oauth`;
  const now = () => deps.state.now().getTime();

  /** The live request token, or undefined (unknown, used or older than its lifetime: OSCAR then deletes it). */
  const live = (key: string | undefined | null): RequestToken | undefined => {
    const token = key ? tokens.get(key) : undefined;
    if (token && now() - token.createdAt >= lifetimeMs) tokens.delete(key as string);
    return token && now() - token.createdAt < lifetimeMs ? token : undefined;
  };

  /** RFC 5849 §3.2 for the two signed legs: required parameters, client, signature, timestamp, nonce. */
  function verify(ctx: Ctx, required: readonly string[], tokenSecret: string): Record<string, string> {
    const oauth = deps.parseOAuthHeader(ctx.header('authorization'));
    if (!oauth) throw deps.problem('parameter_absent', 400);
    for (const name of ['oauth_consumer_key', 'oauth_signature_method', 'oauth_timestamp', 'oauth_nonce', 'oauth_signature', ...required])
      if (!oauth[name]) throw deps.problem('parameter_absent', 400);
    if (oauth['oauth_signature_method'] !== 'HMAC-SHA1') throw deps.problem('signature_method_rejected', 400);
    const { clientKey, clientSecret } = deps.credentials;
    if (deps.state.faults.rejectCredentials || oauth['oauth_consumer_key'] !== clientKey) throw deps.problem('consumer_key_unknown');
    if (!deps.signatureValid(ctx, oauth, { clientKey, clientSecret, accessToken: '', tokenSecret }))
      throw deps.problem('signature_invalid');
    const timestamp = Number(oauth['oauth_timestamp']);
    if (!Number.isInteger(timestamp) || Math.abs(now() / 1000 - timestamp) > deps.maxSkewSeconds)
      throw deps.problem('timestamp_refused', 400);
    const nonce = `${timestamp}:${oauth['oauth_nonce']}`;
    if (nonces.has(nonce)) throw deps.problem('nonce_used');
    if (nonces.size > 10_000) nonces.clear();
    nonces.add(nonce);
    return oauth;
  }

  const page = (key: string, token: RequestToken, status = 200, error = ''): Reply => {
    token.authenticity = randomValue(16);
    const html = `<!DOCTYPE html>
<html><head><title>Login and Authorize 3rd party application</title></head>
<body>
<h2>Please sign in</h2>
${error ? `<p id="login_error"><strong>Login Failed: </strong>${escapeHtml(error)}</p>\n` : ''}<form id="scopeForm" method="post" action="${escapeHtml(`${base}/authorize/decision`)}">
<input type="text" name="username" placeholder="Username">
<input type="password" name="password" placeholder="Password">
<input type="password" name="pin" placeholder="Pin">
<h5>The 3rd party application "${escapeHtml(clientName)}" is requesting access to your OSCAR account.<br>URL for ${escapeHtml(clientName)} is ${escapeHtml(clientUri)}.</h5>
<h5>Permissions requested:</h5>
<label><input type="checkbox" readonly="readonly" checked="checked"> EMR Access</label>
<input type="hidden" name="session_authenticity_token" value="${escapeHtml(token.authenticity)}">
<input type="hidden" name="oauth_token" value="${escapeHtml(key)}">
<button type="submit" name="oauthDecision" value="allow">Authorize ${escapeHtml(clientName)}</button>
<button type="submit" name="oauthDecision" value="deny">Cancel</button>
</form>
</body></html>
`;
    return { status, text: html, contentType: 'text/html; charset=utf-8' };
  };

  const initiate = (ctx: Ctx): Reply => {
    const oauth = verify(ctx, ['oauth_callback'], '');
    const callback = oauth['oauth_callback'] ?? '';
    if (!callback.startsWith(clientUri) || (callback !== 'oob' && !URL.canParse(callback))) throw deps.problem('parameter_rejected', 400);
    const key = randomValue();
    const token: RequestToken = { secret: randomValue(), callback, createdAt: now() };
    tokens.set(key, token);
    return formReply({ oauth_token: key, oauth_token_secret: token.secret, oauth_callback_confirmed: 'true' });
  };

  const decision = (ctx: Ctx): Reply => {
    const form = ctx.form();
    const key = form.get('oauth_token') ?? '';
    const token = live(key);
    if (!token || token.verifier) throw deps.problem('token_rejected', 400);
    const authenticity = token.authenticity;
    token.authenticity = undefined;
    // CXF: without the page's (single-use) authenticity token no decision is taken; the page comes again.
    if (!authenticity || !sameText(form.get('session_authenticity_token') ?? '', authenticity)) return page(key, token);
    if (form.get('oauthDecision') !== 'allow') {
      tokens.delete(key);
      return callbackReply(token.callback, { oauth_token: key });
    }
    const username = form.get('username') ?? '';
    const ok =
      sameText(username, emrUser.username) &&
      sameText(form.get('password') ?? '', emrUser.password) &&
      sameText(form.get('pin') ?? '', emrUser.pin);
    if (!ok) {
      authorization.refusedLogins.push({ username: username.slice(0, 64), at: deps.state.now().toISOString() });
      return page(key, token, 401, 'the user name, password or PIN is not right');
    }
    token.verifier = randomValue(16);
    token.username = username;
    return callbackReply(token.callback, { oauth_token: key, oauth_verifier: token.verifier });
  };

  const accessToken = (ctx: Ctx): Reply => {
    const header = deps.parseOAuthHeader(ctx.header('authorization'));
    const key = header?.['oauth_token'];
    const token = live(key);
    if (!header || !key) throw deps.problem('parameter_absent', 400);
    if (!token) throw deps.problem('token_rejected');
    const oauth = verify(ctx, ['oauth_token', 'oauth_verifier'], token.secret);
    if (!token.verifier || !sameText(oauth['oauth_verifier'] ?? '', token.verifier)) throw deps.problem('verifier_invalid');
    tokens.delete(key);
    deps.credentials.accessToken = randomValue();
    deps.credentials.tokenSecret = randomValue();
    deps.state.setFault({ deauthorized: null });
    authorization.issued.push({ username: token.username ?? '', at: deps.state.now().toISOString() });
    return formReply(
      { oauth_token: deps.credentials.accessToken, oauth_token_secret: deps.credentials.tokenSecret },
      { 'x-oauth-token-expires': deps.tokenExpiresAt().toISOString() },
    );
  };

  const routes: Route[] = [
    { method: 'POST', path: `${base}/initiate`, handler: initiate },
    {
      method: 'GET',
      path: `${base}/authorize`,
      handler: (ctx) => {
        const key = ctx.url.searchParams.get('oauth_token') ?? '';
        const token = live(key);
        if (!token || token.verifier) throw deps.problem('token_rejected', 400);
        return page(key, token);
      },
    },
    { method: 'POST', path: `${base}/authorize/decision`, handler: decision },
    { method: 'POST', path: `${base}/token`, handler: accessToken },
  ];
  return { routes, authorization };
}

/** CXF's answer to a decision: 303 to the callback with the parameters, or for `oob` a page showing them. */
function callbackReply(callback: string, params: Record<string, string>): Reply {
  if (callback === 'oob') {
    const verifier = params['oauth_verifier'];
    const body = verifier
      ? `<p>Access granted. Enter this verification code in the application:</p>\n<code id="oauth_verifier">${escapeHtml(verifier)}</code>`
      : '<p>Access denied.</p>';
    return { text: `<!DOCTYPE html>\n<html><body>\n${body}\n</body></html>\n`, contentType: 'text/html; charset=utf-8' };
  }
  const url = new URL(callback);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return { status: 303, headers: { location: url.toString() } };
}
