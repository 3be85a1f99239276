import { describe, expect, it } from 'vitest';
import type { EmrIntegration } from '../../api/v1alpha1/index.ts';
import {
  AuthorizeError,
  authorizeUrl,
  callbackVerifier,
  consumerOf,
  oauthProblem,
  oscarTarget,
  refusal,
  secretPatch,
  tokenExpiry,
  tokenPair,
  writtenLine,
} from './authorize-plan.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function integration(emr: Record<string, unknown>): EmrIntegration {
  return {
    metadata: { name: 'maple-oscar', namespace: 'clinic-maple' },
    spec: { siteRef: { name: 'maple' }, emr },
  } as unknown as EmrIntegration;
}

describe('the OSCAR server and Secret an integration names', () => {
  it('are the serverUrl, the credentials Secret and the CA bundle of spec.emr', () => {
    const target = oscarTarget(
      integration({
        type: 'OSCARPro',
        oscarPro: { serverUrl: 'https://emr.example.org/oscar', credentialsSecretRef: { name: 'maple-oscar-credentials' } },
        caBundleSecretRef: { name: 'maple-oscar-ca' },
      }),
    );
    expect(target).toEqual({
      name: 'maple-oscar',
      namespace: 'clinic-maple',
      serverUrl: 'https://emr.example.org/oscar',
      secretName: 'maple-oscar-credentials',
      caBundle: { name: 'maple-oscar-ca', key: 'ca.crt' },
    });
  });

  it.each([
    ['refuses an Accuro integration', { type: 'Accuro', accuro: {} }, 'is emr.type Accuro, not OSCARPro'],
    ['refuses a non-integrated site', { type: 'None' }, 'is emr.type None, not OSCARPro'],
  ])('%s', (_n, emr, message) => {
    expect(() => oscarTarget(integration(emr))).toThrow(message);
  });
});

describe('the REST client in the credentials Secret', () => {
  it.each([
    ['is read from clientKey and clientSecret', { clientKey: b64('k'), clientSecret: b64('s') }, undefined],
    ['is refused without clientKey', { clientSecret: b64('s') }, 'Secret creds lacks clientKey: put the REST client'],
    ['is refused with a blank clientSecret', { clientKey: b64('k'), clientSecret: b64(' ') }, 'Secret creds lacks clientSecret'],
    ['is refused when the Secret has no data', undefined, 'Secret creds lacks clientKey and clientSecret'],
  ])('%s', (_n, data, message) => {
    if (message) expect(() => consumerOf('creds', data)).toThrow(message);
    else expect(consumerOf('creds', data)).toEqual({ consumerKey: 'k', consumerSecret: 's' });
  });
});

describe('OSCAR’s answers', () => {
  it('reads a token pair from a form-encoded body', () => {
    const pair = tokenPair('oauth_token=t%2B1&oauth_token_secret=s&oauth_callback_confirmed=true', 'request token');
    expect([pair.token, pair.secret, pair.params.get('oauth_callback_confirmed')]).toEqual(['t+1', 's', 'true']);
  });

  it('refuses an answer without the pair, naming neither value', () => {
    expect(() => tokenPair('oauth_token=only-this', 'request token')).toThrow(
      "OSCAR's request token answer has no oauth_token and oauth_token_secret",
    );
  });

  it.each([
    ['reads oauth_problem from WWW-Authenticate', 'OAuth realm="OSCAR", oauth_problem="signature_invalid"', '', 'signature_invalid'],
    ['reads oauth_problem from the body', null, 'oauth_problem=verifier_invalid', 'verifier_invalid'],
    ['ignores a problem that is not a plain word', null, 'oauth_problem=<script>', undefined],
    ['finds none in an unrelated body', null, '<html>error</html>', undefined],
  ])('%s', (_n, header, body, expected) => {
    expect(oauthProblem(header, body)).toBe(expected);
  });

  it.each([
    [
      'names the problem and what to do about it',
      401,
      'signature_invalid',
      'OSCAR refused the request token (HTTP 401, oauth_problem=signature_invalid): the clientSecret',
    ],
    [
      'names the callback rule when OSCAR rejects the callback',
      400,
      'parameter_rejected',
      "the REST client's URI must be http://127.0.0.1",
    ],
    ['says only the status when there is no problem code', 503, undefined, 'OSCAR refused the request token (HTTP 503)'],
  ])('%s', (_n, status, problem, message) => {
    const error = refusal('request token', status, problem);
    expect(error).toBeInstanceOf(AuthorizeError);
    expect(error.message).toContain(message);
  });
});

describe('the authorize URL and the callback', () => {
  it('puts the request token on OSCAR’s authorize path under the EMR path', () => {
    expect(authorizeUrl('https://emr.example.org/oscar', 'a b+c')).toBe(
      'https://emr.example.org/oscar/ws/oauth/authorize?oauth_token=a+b%2Bc',
    );
  });

  it.each([
    ['gives the verifier of the request', 'oauth_token=rt&oauth_verifier=v', { verifier: 'v' }],
    [
      'refuses a callback for another request',
      'oauth_token=other&oauth_verifier=v',
      { refused: 'the callback is for another request (oauth_token differs)' },
    ],
    [
      'reports a cancelled authorization',
      'oauth_token=rt',
      { refused: 'the EMR administrator cancelled the authorization (no oauth_verifier)' },
    ],
  ])('%s', (_n, query, expected) => {
    expect(callbackVerifier(new URLSearchParams(query), 'rt')).toEqual(expected);
  });
});

describe('what is written and printed', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  it.each([
    ['takes the expiry from X-OAuth-Token-Expires', '2031-01-01T00:00:00Z', '', '2031-01-01T00:00:00.000Z'],
    ['takes the expiry from oauth_expires_in', null, 'oauth_expires_in=3600', '2030-01-01T01:00:00.000Z'],
    ['has none when the server says nothing', null, '', undefined],
  ])('%s', (_n, header, body, expected) => {
    expect(tokenExpiry(header, new URLSearchParams(body), now)?.toISOString()).toBe(expected);
  });

  it('patches only accessToken and tokenSecret, base64', () => {
    expect(secretPatch('tok', 'sec')).toEqual({ data: { accessToken: b64('tok'), tokenSecret: b64('sec') } });
  });

  it('reports key names, the Secret and the expiry, no value', () => {
    const target = { name: 'i', namespace: 'ns', serverUrl: 'https://e/oscar', secretName: 'creds' };
    expect(writtenLine(target, new Date('2031-01-01T00:00:00Z'))).toBe(
      'Wrote accessToken and tokenSecret to Secret ns/creds; OSCAR says the token expires at 2031-01-01T00:00:00.000Z',
    );
    expect(writtenLine(target, undefined)).toBe('Wrote accessToken and tokenSecret to Secret ns/creds; OSCAR gave no expiry');
  });
});
