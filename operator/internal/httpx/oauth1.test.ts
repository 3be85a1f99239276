import { describe, expect, it } from 'vitest';
import {
  authorizationHeader,
  hmacSha1Signature,
  type Param,
  parseAuthorizationHeader,
  percentEncode,
  queryParams,
  signatureBaseString,
  signRequest,
} from './oauth1.ts';

// Published vectors: RFC 5849 §1.2 (photos), RFC 5849 §3.4.1.1 (base string), Twitter's
// "Creating a signature" guide (the /1/ and the /1.1/ versions of the same request).
const twitter = {
  consumerKey: 'xvz1evFS4wEEPTGEFPHBog',
  consumerSecret: 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw',
  token: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
  tokenSecret: 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE',
};
const twitterBody = new URLSearchParams({ status: 'Hello Ladies + Gentlemen, a signed OAuth request!' });

describe('OAuth 1.0a signer', () => {
  it.each([
    ['percent-encodes reserved characters as RFC 3986 says', 'Ladies + Gentlemen', 'Ladies%20%2B%20Gentlemen'],
    ['percent-encodes the characters encodeURIComponent leaves alone', "!*'()", '%21%2A%27%28%29'],
    ['leaves unreserved characters alone', 'a-Z_0.9~', 'a-Z_0.9~'],
    ['percent-encodes UTF-8 bytes', '☃', '%E2%98%83'],
  ])('%s', (_name, input, expected) => {
    expect(percentEncode(input)).toBe(expected);
  });

  it('builds the signature base string of RFC 5849 section 3.4.1.1', () => {
    const url = new URL('http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b');
    const params: Param[] = [
      ...queryParams(url),
      ['oauth_consumer_key', '9djdj82h48djs9d2'],
      ['oauth_token', 'kkk9d7dh3k39sjv7'],
      ['oauth_signature_method', 'HMAC-SHA1'],
      ['oauth_timestamp', '137131201'],
      ['oauth_nonce', '7d8f3e4a'],
      ...new URLSearchParams('c2&a3=2+q'),
    ];
    expect(signatureBaseString('POST', url, params)).toBe(
      'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7',
    );
  });

  // RFC 5849 §1.2's first two legs: the temporary credentials request (oauth_callback) and the token request (oauth_verifier).
  it.each([
    [
      'reproduces the signature of the RFC 5849 section 1.2 temporary credentials request, oauth_callback signed',
      'https://photos.example.net/initiate',
      { consumerKey: 'dpf43f3p2l4k3l03', consumerSecret: 'kd94hf93k423kf44' },
      { nonce: 'wIjqoS', timestamp: 137131200, protocolParams: { oauth_callback: 'http://printer.example.com/ready' } },
      '74KNZJeDHnMBp0EMJ9ZHt/XKycU=',
    ],
    [
      'reproduces the signature of the RFC 5849 section 1.2 token request, oauth_verifier signed',
      'https://photos.example.net/token',
      { consumerKey: 'dpf43f3p2l4k3l03', consumerSecret: 'kd94hf93k423kf44', token: 'hh5s93j4hdidpola', tokenSecret: 'hdhd0244k9j7ao03' },
      { nonce: 'walatlh', timestamp: 137131201, protocolParams: { oauth_verifier: 'hfdp7dh39dks9884' } },
      'gKgrFCywp7rO0OXSjdot/IHF7IU=',
    ],
  ])('%s', (_name, url, credentials, options, expected) => {
    const oauth = signRequest({ method: 'POST', url: new URL(url), credentials, includeVersion: false, ...options });
    expect(oauth['oauth_signature']).toBe(expected);
    expect(Object.keys(oauth)).toEqual(expect.arrayContaining(Object.keys(options.protocolParams)));
  });

  it('reproduces the signature of the RFC 5849 section 1.2 photos request', () => {
    const oauth = signRequest({
      method: 'GET',
      url: new URL('http://photos.example.net/photos?file=vacation.jpg&size=original'),
      credentials: {
        consumerKey: 'dpf43f3p2l4k3l03',
        consumerSecret: 'kd94hf93k423kf44',
        token: 'nnch734d00sl2jdk',
        tokenSecret: 'pfkkdhi9sl3r4s00',
      },
      nonce: 'chapoH',
      timestamp: 137131202,
      includeVersion: false,
    });
    expect(oauth['oauth_signature']).toBe('MdpQcU8iPSUjWoN/UDMsK2sui9I=');
  });

  it.each([
    [
      'reproduces the signature of the Twitter guide example',
      'https://api.twitter.com/1/statuses/update.json?include_entities=true',
      'tnnArxj06cWHq44gCs1OSKk/jLY=',
    ],
    [
      'reproduces the signature of the Twitter guide example for API 1.1',
      'https://api.twitter.com/1.1/statuses/update.json?include_entities=true',
      'hCtSmYh+iHYCEqBWrE7C7hYmtUk=',
    ],
  ])('%s', (_name, url, expected) => {
    const oauth = signRequest({
      method: 'POST',
      url: new URL(url),
      credentials: twitter,
      formBody: twitterBody,
      nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg',
      timestamp: 1318622958,
    });
    expect(oauth['oauth_signature']).toBe(expected);
  });

  it('signs with an empty token secret when there is no token', () => {
    expect(hmacSha1Signature('GET&x&y', 'secret')).toBe(hmacSha1Signature('GET&x&y', 'secret', ''));
  });

  it('keeps a non-default port in the base string URI and drops a default one', () => {
    const withPort = signatureBaseString('GET', new URL('http://127.0.0.1:8080/oscar/ws'), []);
    const withDefault = signatureBaseString('GET', new URL('HTTPS://Example.COM:443/oscar/ws'), []);
    expect(withPort).toBe('GET&http%3A%2F%2F127.0.0.1%3A8080%2Foscar%2Fws&');
    expect(withDefault).toBe('GET&https%3A%2F%2Fexample.com%2Foscar%2Fws&');
  });

  it('writes an Authorization header that parses back to the same parameters', () => {
    const options = {
      method: 'GET',
      url: new URL('http://photos.example.net/photos?file=vacation.jpg&size=original'),
      credentials: {
        consumerKey: 'dpf43f3p2l4k3l03',
        consumerSecret: 'kd94hf93k423kf44',
        token: 'nnch734d00sl2jdk',
        tokenSecret: 'pfkkdhi9sl3r4s00',
      },
      nonce: 'chapoH',
      timestamp: 137131202,
      includeVersion: false,
      realm: 'Photos',
    };
    const header = authorizationHeader(options);
    expect(header).toContain('oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D"');
    expect(header.startsWith('OAuth realm="Photos", ')).toBe(true);
    expect(parseAuthorizationHeader(header)).toEqual({ realm: 'Photos', ...signRequest(options) });
  });

  it('does not parse a header of another scheme', () => {
    expect(parseAuthorizationHeader('Bearer abc')).toBeUndefined();
    expect(parseAuthorizationHeader(undefined)).toBeUndefined();
  });
});
