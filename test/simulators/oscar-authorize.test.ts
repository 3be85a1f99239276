// The OSCAR simulator's OAuth 1.0a legs (oscar-authorize.ts) as a client meets them: signed with the
// operator's signer, verified by the simulator with the independent `oauth-1.0a` package.
import { afterEach, describe, expect, it } from 'vitest';
import { authorizationHeader } from '../../operator/internal/httpx/oauth1.ts';
import { type OscarSimOptions, type OscarSimulator, start } from './oscar.ts';
import { OSCAR_DEV_EMR_USER } from './oscar-authorize.ts';
import { authorizeInBrowser } from './oscar-authorize-browser.ts';

let sim: OscarSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function started(options: OscarSimOptions = {}): Promise<OscarSimulator> {
  sim = await start({ volume: { providers: 2, patients: 3, appointmentsPerDay: 2, days: 1 }, ...options });
  return sim;
}

const CALLBACK = 'http://127.0.0.1:9/callback';

async function requestToken(s: OscarSimulator, callback: string | null = CALLBACK, secret = s.credentials.clientSecret) {
  const url = new URL(`${s.url}/ws/oauth/initiate`);
  const authorization = authorizationHeader({
    method: 'POST',
    url,
    credentials: { consumerKey: s.credentials.clientKey, consumerSecret: secret },
    ...(callback === null ? {} : { protocolParams: { oauth_callback: callback } }),
  });
  const response = await fetch(url, { method: 'POST', headers: { authorization } });
  const body = new URLSearchParams(await response.text());
  return { status: response.status, token: body.get('oauth_token') ?? '', secret: body.get('oauth_token_secret') ?? '', body };
}

async function accessToken(s: OscarSimulator, token: string, tokenSecret: string, verifier: string) {
  const url = new URL(`${s.url}/ws/oauth/token`);
  const credentials = { consumerKey: s.credentials.clientKey, consumerSecret: s.credentials.clientSecret, token, tokenSecret };
  const authorization = authorizationHeader({ method: 'POST', url, credentials, protocolParams: { oauth_verifier: verifier } });
  const response = await fetch(url, { method: 'POST', headers: { authorization } });
  return { status: response.status, body: new URLSearchParams(await response.text()) };
}

async function providers(s: OscarSimulator, token: string, tokenSecret: string): Promise<number> {
  const url = new URL(`${s.url}/ws/services/providerService/providers_json`);
  const credentials = { consumerKey: s.credentials.clientKey, consumerSecret: s.credentials.clientSecret, token, tokenSecret };
  return (await fetch(url, { headers: { authorization: authorizationHeader({ method: 'GET', url, credentials }) } })).status;
}

const authorizeUrl = (s: OscarSimulator, token: string) => `${s.url}/ws/oauth/authorize?oauth_token=${encodeURIComponent(token)}`;
const verifierOf = (location: string | undefined) => new URL(location ?? 'http://x/').searchParams.get('oauth_verifier') ?? '';

describe('the OSCAR simulator’s authorization legs', () => {
  it('issues a request token, takes the OceanConnect user and PIN, redirects with a verifier, and swaps the access pair', async () => {
    const s = await started();
    const old = { ...s.credentials };
    const rt = await requestToken(s);
    expect(rt.status).toBe(200);
    expect(rt.body.get('oauth_callback_confirmed')).toBe('true');
    const page = await authorizeInBrowser(authorizeUrl(s, rt.token), OSCAR_DEV_EMR_USER, { followRedirect: false });
    expect(page.status).toBe(303);
    const location = new URL(page.location ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(CALLBACK);
    expect(location.searchParams.get('oauth_token')).toBe(rt.token);
    const at = await accessToken(s, rt.token, rt.secret, verifierOf(page.location));
    expect(at.status).toBe(200);
    const issued = { token: at.body.get('oauth_token') ?? '', secret: at.body.get('oauth_token_secret') ?? '' };
    expect(issued.token).not.toBe(old.accessToken);
    expect(await providers(s, issued.token, issued.secret)).toBe(200);
    expect(await providers(s, old.accessToken, old.tokenSecret)).toBe(401);
    expect(s.authorization.issued).toEqual([expect.objectContaining({ username: OSCAR_DEV_EMR_USER.username })]);
  });

  it.each([
    ['a wrong PIN', { ...OSCAR_DEV_EMR_USER, pin: '0000' }],
    ['a wrong password', { ...OSCAR_DEV_EMR_USER, password: 'guess' }],
    ['another user', { ...OSCAR_DEV_EMR_USER, username: 'doctor' }],
  ])('refuses the login with %s: the page again, no verifier', async (_n, user) => {
    const s = await started();
    const rt = await requestToken(s);
    const page = await authorizeInBrowser(authorizeUrl(s, rt.token), user, { followRedirect: false });
    expect(page.status).toBe(401);
    expect(page.location).toBeUndefined();
    expect(page.body).toContain('Login Failed');
    expect((await accessToken(s, rt.token, rt.secret, '')).status).toBe(400);
    expect(s.authorization.refusedLogins).toHaveLength(1);
    expect(s.authorization.issued).toEqual([]);
  });

  it.each([
    ['without oauth_callback', null, 400, 'oauth_problem=parameter_absent'],
    ['with a callback outside the client’s registered URI', 'https://attacker.example/cb', 400, 'oauth_problem=parameter_rejected'],
    ['with oob when the client was not registered for it', 'oob', 400, 'oauth_problem=parameter_rejected'],
  ])('refuses a request token %s', async (_n, callback, status, problem) => {
    const s = await started();
    const rt = await requestToken(s, callback);
    expect(rt.status).toBe(status);
    expect(rt.body.toString()).toBe(problem);
  });

  it('refuses a request token signed with the wrong client secret', async () => {
    const s = await started();
    const rt = await requestToken(s, CALLBACK, 'not-the-secret');
    expect(rt.status).toBe(401);
    expect(rt.body.get('oauth_problem')).toBe('signature_invalid');
  });

  it('refuses a verifier replayed after its request token was exchanged', async () => {
    const s = await started();
    const rt = await requestToken(s);
    const verifier = verifierOf(
      (await authorizeInBrowser(authorizeUrl(s, rt.token), OSCAR_DEV_EMR_USER, { followRedirect: false })).location,
    );
    expect((await accessToken(s, rt.token, rt.secret, verifier)).status).toBe(200);
    const again = await accessToken(s, rt.token, rt.secret, verifier);
    expect(again.status).toBe(401);
    expect(again.body.get('oauth_problem')).toBe('token_rejected');
    expect(s.authorization.issued).toHaveLength(1);
  });

  it('refuses a verifier used with another request token', async () => {
    const s = await started();
    const a = await requestToken(s);
    const b = await requestToken(s);
    const verifierA = verifierOf(
      (await authorizeInBrowser(authorizeUrl(s, a.token), OSCAR_DEV_EMR_USER, { followRedirect: false })).location,
    );
    await authorizeInBrowser(authorizeUrl(s, b.token), OSCAR_DEV_EMR_USER, { followRedirect: false });
    const crossed = await accessToken(s, b.token, b.secret, verifierA);
    expect(crossed.status).toBe(401);
    expect(crossed.body.get('oauth_problem')).toBe('verifier_invalid');
    expect(s.authorization.issued).toEqual([]);
  });

  it('refuses a verifier whose request token is older than an hour', async () => {
    let now = Date.now();
    const s = await started({ now: () => new Date(now) });
    const rt = await requestToken(s);
    const verifier = verifierOf(
      (await authorizeInBrowser(authorizeUrl(s, rt.token), OSCAR_DEV_EMR_USER, { followRedirect: false })).location,
    );
    now += 3600_000;
    // The simulator's clock moved; the client's timestamps follow it, or they would be refused first.
    const url = new URL(`${s.url}/ws/oauth/token`);
    const credentials = {
      consumerKey: s.credentials.clientKey,
      consumerSecret: s.credentials.clientSecret,
      token: rt.token,
      tokenSecret: rt.secret,
    };
    const authorization = authorizationHeader({
      method: 'POST',
      url,
      credentials,
      timestamp: Math.floor(now / 1000),
      protocolParams: { oauth_verifier: verifier },
    });
    const response = await fetch(url, { method: 'POST', headers: { authorization } });
    expect(response.status).toBe(401);
    expect(await response.text()).toBe('oauth_problem=token_rejected');
  });

  it('shows the verifier on the page for oob when the client was registered with the URI oob', async () => {
    const s = await started({ clientUri: 'oob' });
    const rt = await requestToken(s, 'oob');
    const page = await authorizeInBrowser(authorizeUrl(s, rt.token), OSCAR_DEV_EMR_USER, { followRedirect: false });
    expect(page.status).toBe(200);
    const verifier = /<code id="oauth_verifier">([^<]+)<\/code>/.exec(page.body)?.[1] ?? '';
    expect((await accessToken(s, rt.token, rt.secret, verifier)).status).toBe(200);
  });

  it('takes no decision without the page’s authenticity token, and drops the request token on Cancel', async () => {
    const s = await started();
    const rt = await requestToken(s);
    const forged = await fetch(`${s.url}/ws/oauth/authorize/decision`, {
      method: 'POST',
      body: new URLSearchParams({ oauth_token: rt.token, oauthDecision: 'allow', ...OSCAR_DEV_EMR_USER }),
      redirect: 'manual',
    });
    expect(forged.status).toBe(200);
    expect(forged.headers.get('location')).toBeNull();
    const denied = await authorizeInBrowser(authorizeUrl(s, rt.token), OSCAR_DEV_EMR_USER, { decision: 'deny', followRedirect: false });
    expect(denied.status).toBe(303);
    expect(new URL(denied.location ?? '').searchParams.has('oauth_verifier')).toBe(false);
    expect(s.authorization.pending()).toBe(0);
  });
});
