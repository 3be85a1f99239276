import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { isPhiField, isSecretField, REDACTED, Redactor } from './redact.ts';

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

/** A redactor that knows `values`, applied to `text`. */
function redacted(values: readonly (string | Buffer)[], text: string): string {
  const r = new Redactor();
  for (const v of values) r.register(v);
  return r.string(text);
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const b64url = (text: string) => Buffer.from(text).toString('base64url');

describe('a registered secret', () => {
  const PASSWORD = 'p@ss w/"rd+é';
  it.each([
    ['is removed as is', PASSWORD, `login ${PASSWORD} refused`],
    ['is removed URL-encoded (encodeURIComponent)', PASSWORD, `GET /x?pw=${encodeURIComponent(PASSWORD)}&a=1`],
    ['is removed form-encoded, as URLSearchParams sends it', PASSWORD, `body: ${new URLSearchParams({ password: PASSWORD, user: 'u' })}`],
    ['is removed URL-encoded with lower-case hex', PASSWORD, `pw=${encodeURIComponent(PASSWORD).toLowerCase()}`],
    ['is removed JSON-escaped', PASSWORD, `{"error_description":${JSON.stringify(`bad password ${PASSWORD}`)}}`],
    ['is removed JSON-escaped with escaped slashes', PASSWORD, `{"d":"${JSON.stringify(PASSWORD).slice(1, -1).replace(/\//g, '\\/')}"}`],
    [
      'is removed JSON-escaped with non-ASCII as \\u escapes',
      PASSWORD,
      `{"d":"${JSON.stringify(PASSWORD).slice(1, -1).replace('é', '\\u00e9')}"}`,
    ],
    ['is removed in standard base64, padded', 'abcd', `header ${b64('abcd')} end`],
    ['is removed in standard base64, unpadded', 'abcd', `header ${b64('abcd').replace(/=+$/, '')} end`],
    ['is removed in url-safe base64', '??>>??', `token ${b64url('??>>??')} end`],
    ['is removed inside a base64 Basic credential at any offset', 'hunter22', `Authorization ${b64('x:hunter22')}`],
    ['is removed inside a longer base64 stream after one byte', 'hunter22', `blob ${b64('xy:hunter22:tail')}`],
    ['is removed form-encoded inside base64, as OAuth 2 client authentication sends it', 'c/9+', `credential ${b64('client-id:c%2F9%2B')}`],
    ['of 4 characters is removed inside a word', 'k9Zq', 'userk9Zqx'],
    ['of 4 characters is removed in its base64', 'k9Zq', `basic ${b64('k9Zq')}`],
    ['of 3 characters is removed as a whole token', 'x7Q', 'pin=x7Q&next'],
    ['of 2 characters is removed when quoted', '42', '{"pin":"42"}'],
    ['of 1 character is removed after a colon', 'Z', 'user:Z'],
    ['of 3 characters is removed URL-encoded as a whole token', 'a b', 'q=a+b&r=1'],
    ['of 2 characters is removed in its base64', '42', `code ${b64('42')}`],
    ['read from a file with a trailing newline is removed without it', 'line-secret\n', 'value line-secret here'],
  ])('%s', (_name, secret, text) => {
    const out = redacted([secret], text);
    expect(out).toContain(REDACTED);
    const trimmed = secret.trim();
    for (const form of [trimmed, encodeURIComponent(trimmed), JSON.stringify(trimmed).slice(1, -1), b64(trimmed), b64url(trimmed)])
      if (form.length > 3) expect(out).not.toContain(form);
  });

  it.each([
    ['of 3 characters is kept inside a longer word', 'x7Q', 'abx7Qcd'],
    ['of 2 characters is kept inside a date', '42', '2042-01-01T00:00:00Z'],
    ['of 2 characters is kept inside a resource name', '42', 'clinic-42a'],
    ['of 1 character is kept inside ordinary words', 'a', 'reconciled the integration'],
  ])('%s (whole tokens only below 4 characters)', (_name, secret, text) => {
    expect(redacted([secret], text)).toBe(text);
  });

  it('is removed as raw bytes in base64, url-safe base64 and hex', () => {
    const key = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddee01', 'hex');
    const out = redacted(
      [key],
      `${key.toString('base64')} ${key.toString('base64url')} ${key.toString('hex')} ${key.toString('hex').toUpperCase()}`,
    );
    expect(out).toBe([REDACTED, REDACTED, REDACTED, REDACTED].join(' '));
  });

  it('leaves nothing of a Basic credential of which it is only a part', () => {
    expect(redacted(['sim-accuro-client-id'], `Authorization: Basic ${b64('sim-accuro-client-id:other-part')}; next`)).toBe(
      `Authorization: Basic ${REDACTED}; next`,
    );
  });

  it('wins over a registered value it contains, so nothing of the longer one is left', () => {
    expect(redacted(['abcd', 'abcdefgh'], 'x abcdefgh y')).toBe(`x ${REDACTED} y`);
  });

  it('is removed when only the caller knows it (an HTTP client’s credentials)', () => {
    expect(new Redactor().string('refused pin 12', ['12'])).toBe(`refused pin ${REDACTED}`);
  });

  it('never makes a redaction marker itself be redacted again', () => {
    expect(redacted(['REDACTED', 'ACT'], 'a REDACTED b')).toBe(`a ${REDACTED} b`);
  });
});

describe('remote text', () => {
  it.each([
    ['is redacted before it is used', 'bad password k9Zq', 'bad password [REDACTED]'],
    ['loses its control characters', 'line one\r\n\u001b[31mline two', 'line one [31mline two'],
    ['is cut to the given length', 'x'.repeat(300), `${'x'.repeat(199)}…`],
  ])('%s', (_name, text, expected) => {
    const r = new Redactor();
    r.register('k9Zq');
    expect(r.remoteText(text)).toBe(expected);
  });

  it('is redacted before it is cut, so a secret at the cut leaves no prefix', () => {
    const r = new Redactor();
    r.register('secret-value-long');
    expect(r.remoteText(`${'x'.repeat(190)}secret-value-long`, 200)).not.toContain('secret-v');
  });
});

describe('the one field list', () => {
  it.each([
    ...['id', 'firstName', 'lastName', 'birthDate', 'sex', 'healthNumber', 'email', 'phone'].map(
      (f) => [`says an EMR Patient's ${f} is patient data unless it is the id`, f] as const,
    ),
    ...['address', 'street', 'city', 'province', 'postalCode', 'middleName', 'demographics', 'hcn', 'notes'].map(
      (f) => [`says ${f} is patient data`, f] as const,
    ),
  ])('%s', (_name, field) => {
    expect(isPhiField(field)).toBe(field !== 'id');
  });

  it.each([
    ['says a password is secret', 'apiPassword', true],
    ['says a client secret is secret', 'clientSecret', true],
    ['says a PIN is secret', 'pin', true],
    ['says a reference to a Secret is not', 'credentialsSecretRef', false],
    ['says a fingerprint is not', 'fingerprint', false],
    ['says a Clinical Administrator e-mail is not patient data', 'clinicalAdminEmail', false],
  ])('%s', (_name, field, secret) => {
    expect(isSecretField(field) || isPhiField(field)).toBe(secret);
  });
});

/** A stream that keeps every line written to it. */
function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, stream };
}

describe('the logger', () => {
  it('cannot write a registered secret even when a caller logs it by mistake', () => {
    const { lines, stream } = capture();
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

  it('keeps its own level and timestamp when a short registered value matches them', () => {
    const { lines, stream } = capture();
    const r = new Redactor();
    r.register('info');
    r.register(String(new Date().getUTCFullYear()));
    createLogger({ stream, redactor: r }).info('the value info leaked');
    const entry = JSON.parse(lines[0] ?? '{}');
    expect(entry).toMatchObject({ level: 'info', message: `the value ${REDACTED} leaked` });
    expect(Date.parse(entry.timestamp)).not.toBeNaN();
  });
});

/** A redactor that counts the entries it is asked to clean. */
class CountingRedactor extends Redactor {
  calls = 0;
  override value(v: unknown): unknown {
    this.calls++;
    return super.value(v);
  }
}

describe('the logger and its level', () => {
  it('does not redact or write an entry below its level', () => {
    const { lines, stream } = capture();
    const r = new CountingRedactor();
    const logger = createLogger({ stream, redactor: r, level: 'info' });
    logger.debug('message stored', { key: 'k' });
    expect(r.calls).toBe(0);
    expect(lines).toEqual([]);
    logger.info('relay ready');
    expect(r.calls).toBeGreaterThan(0);
    expect(lines).toHaveLength(1);
  });

  it('follows a level changed after it was made', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ stream, level: 'warn' });
    logger.info('hidden');
    logger.level = 'debug';
    logger.debug('shown');
    expect(lines.map((l) => JSON.parse(l).message)).toEqual(['shown']);
  });

  it('applies the level to child loggers too', () => {
    const { lines, stream } = capture();
    const child = createLogger({ stream, level: 'info' }).child({ component: 'relay' });
    child.debug('hidden');
    child.info('shown');
    expect(lines.map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ message: 'shown', component: 'relay' })]);
  });
});
