import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { REDACTED, Redactor } from './redact.ts';

const SEK = 'c2VrLXNlY3JldC1mb3ItdGVzdHMtMzItYnl0ZXMhIQ==';

describe('the redactor', () => {
  it.each([
    [
      'removes a registered secret from a free-text message',
      (r: Redactor) => r.string(`failed with key ${SEK} oops`),
      `failed with key ${REDACTED} oops`,
    ],
    ['removes a bearer token', (r: Redactor) => r.string('Authorization: Bearer abcdefghijklmnop'), `Authorization: Bearer ${REDACTED}`],
    ['removes a Vault token', (r: Redactor) => r.string('token hvs.CAESIJ1234567890abcdefghijklmnop used'), `token ${REDACTED} used`],
    [
      'removes OAuth parameters from a URL',
      (r: Redactor) => r.string('GET /x?oauth_signature=abc%3D&b=1'),
      `GET /x?oauth_signature=${REDACTED}&b=1`,
    ],
    ['removes a PEM block', (r: Redactor) => r.string('-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----'), REDACTED],
  ])('%s', (_n, apply, expected) => {
    const r = new Redactor();
    r.register(SEK);
    expect(apply(r)).toBe(expected);
  });

  it('replaces secret-named and patient fields of objects, keeping references', () => {
    const r = new Redactor();
    const out = r.value({
      password: 'hunter22',
      credentialsSecretRef: { name: 'accuro-creds' },
      patient: { firstName: 'Jane' },
      birthDate: '1970-01-01',
      secret: { data: { sek: 'AAAA' } },
      count: 3,
    });
    expect(out).toEqual({
      password: REDACTED,
      credentialsSecretRef: { name: 'accuro-creds' },
      patient: REDACTED,
      birthDate: REDACTED,
      secret: REDACTED,
      count: 3,
    });
  });

  it('redacts the data of a Secret dumped whole', () => {
    const r = new Redactor();
    expect(r.value({ kind: 'Secret', data: { sek: 'AAAA', other: 'BBBB' } })).toEqual({
      kind: 'Secret',
      data: { sek: REDACTED, other: REDACTED },
    });
  });
});

describe('the logger', () => {
  it('cannot write a registered secret even when a caller logs it by mistake', () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const r = new Redactor();
    r.register(SEK);
    const logger = createLogger({ stream, redactor: r });
    logger.info(`imported ${SEK}`, { sek: SEK, nested: { note: `the key is ${SEK}` }, error: new Error(`bad key ${SEK}`) });
    logger.warn('patient', { patient: { name: 'Jane Doe', hcn: '1234567890' } });
    const text = lines.join('');
    expect(text).not.toContain(SEK);
    expect(text).not.toContain('Jane Doe');
    expect(text).not.toContain('1234567890');
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', message: `imported ${REDACTED}` });
  });
});
