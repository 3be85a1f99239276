import { describe, expect, it } from 'vitest';
import { EnvError, EnvReader, formatDuration, LOG_LEVELS } from './env.ts';

const read = (env: Record<string, string>, f: (r: EnvReader) => unknown): unknown => {
  const r = new EnvReader(env);
  const value = f(r);
  r.check();
  return value;
};

const refusal = (env: Record<string, string>, f: (r: EnvReader) => unknown): string => {
  try {
    read(env, f);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvError);
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('the env kit reads', () => {
  it.each([
    ['an unset integer as its default', {}, (r: EnvReader) => r.int('N', { default: 2, min: 1, max: 64 }), 2],
    ['an empty integer as its default', { N: '' }, (r: EnvReader) => r.int('N', { default: 2, min: 1, max: 64 }), 2],
    ['an integer within its bounds', { N: '64' }, (r: EnvReader) => r.int('N', { default: 2, min: 1, max: 64 }), 64],
    ['an integer with no upper bound', { N: '86400' }, (r: EnvReader) => r.int('N', { default: 1, min: 1 }), 86400],
    ['a duration in milliseconds', { D: '1h30m' }, (r: EnvReader) => r.duration('D', { default: 0 }), 5_400_000],
    ['an unset duration as its default', {}, (r: EnvReader) => r.duration('D', { default: 30_000 }), 30_000],
    ['true', { B: 'true' }, (r: EnvReader) => r.bool('B', { default: false }), true],
    ['false', { B: 'false' }, (r: EnvReader) => r.bool('B', { default: true }), false],
    ['an unset flag as its default', {}, (r: EnvReader) => r.bool('B', { default: true }), true],
    ['one of a set of words', { L: 'debug' }, (r: EnvReader) => r.oneOf('L', LOG_LEVELS, { default: 'info' }), 'debug'],
    ['an http URL', { U: 'http://vault:8200' }, (r: EnvReader) => r.url('U', 'https://x'), 'http://vault:8200'],
    ['an unset URL as its default', {}, (r: EnvReader) => r.url('U', 'https://x'), 'https://x'],
    ['a listen address', { A: '127.0.0.1:9443' }, (r: EnvReader) => r.listenAddress('A', ''), '127.0.0.1:9443'],
    ['a listen address on every interface', { A: ':9443' }, (r: EnvReader) => r.listenAddress('A', ''), ':9443'],
    ['a port alone where allowed', { A: '8080' }, (r: EnvReader) => r.listenAddress('A', '', { portAlone: true }), '8080'],
    ['a number above its floor', { S: '0.5' }, (r: EnvReader) => r.number('S', { above: 0, max: 10 }), 0.5],
    ['an ISO time', { T: '2030-01-01T00:00:00Z' }, (r: EnvReader) => r.time('T'), Date.parse('2030-01-01T00:00:00Z')],
    ['a string with surrounding space trimmed', { S: ' a ' }, (r: EnvReader) => r.string('S', undefined, { trim: true }), 'a'],
    ['a whitespace-only trimmed string as unset', { S: '  ' }, (r: EnvReader) => r.string('S', 'dflt', { trim: true }), 'dflt'],
  ] as const)('%s', (_name, env, f, expected) => {
    expect(read(env, f)).toEqual(expected);
  });
});

describe('the env kit refuses', () => {
  it.each([
    [
      'N=abc naming the variable and its bounds',
      { N: 'abc' },
      (r: EnvReader) => r.int('N', { default: 2, min: 1, max: 64 }),
      'N must be an integer from 1 to 64 (got N="abc")',
    ],
    [
      'N=0 below its minimum',
      { N: '0' },
      (r: EnvReader) => r.int('N', { default: 2, min: 1, max: 64 }),
      'N must be an integer from 1 to 64 (got N="0")',
    ],
    [
      'N=2.5 as no integer',
      { N: '2.5' },
      (r: EnvReader) => r.int('N', { default: 1, min: 1 }),
      'N must be an integer of at least 1 (got N="2.5")',
    ],
    [
      'N=" " as no integer',
      { N: ' ' },
      (r: EnvReader) => r.int('N', { default: 1, min: 0 }),
      'N must be an integer of at least 0 (got N=" ")',
    ],
    [
      'D=soon as no duration',
      { D: 'soon' },
      (r: EnvReader) => r.duration('D', { default: 0 }),
      'D must be a duration such as 30s or 15m (got D="soon")',
    ],
    [
      'D=100ms under its floor',
      { D: '100ms' },
      (r: EnvReader) => r.duration('D', { default: 0, min: 1000 }),
      'D must be a duration such as 30s or 15m, at least 1s (got D="100ms")',
    ],
    [
      'B=False (only true and false are flags)',
      { B: 'False' },
      (r: EnvReader) => r.bool('B', { default: true }),
      'B must be true or false (got B="False")',
    ],
    ['B=0', { B: '0' }, (r: EnvReader) => r.bool('B', { default: true }), 'B must be true or false (got B="0")'],
    [
      'L=loud outside its set',
      { L: 'loud' },
      (r: EnvReader) => r.oneOf('L', ['error', 'info'], { default: 'info' }),
      'L must be one of error, info (got L="loud")',
    ],
    [
      'U=vault:8200 without a scheme',
      { U: 'vault:8200' },
      (r: EnvReader) => r.url('U', 'https://x'),
      'U must be an http(s) URL (got U="vault:8200")',
    ],
    [
      'U=ftp://x with another scheme',
      { U: 'ftp://x' },
      (r: EnvReader) => r.url('U', 'https://x'),
      'U must be an http(s) URL (got U="ftp://x")',
    ],
    [
      'A=8080 where a host:port is needed',
      { A: '8080' },
      (r: EnvReader) => r.listenAddress('A', ''),
      'A must be host:port (port 0 to 65535) (got A="8080")',
    ],
    [
      'A=:99999 beyond the last port',
      { A: ':99999' },
      (r: EnvReader) => r.listenAddress('A', ''),
      'A must be host:port (port 0 to 65535) (got A=":99999")',
    ],
    [
      'S=-1 at or under its floor',
      { S: '-1' },
      (r: EnvReader) => r.number('S', { above: 0, max: 10, meaning: 'a scale' }),
      'S must be a number above 0 and at most 10 (a scale) (got S="-1")',
    ],
    ['T=yesterday as no time', { T: 'yesterday' }, (r: EnvReader) => r.time('T'), 'T must be an ISO 8601 time (got T="yesterday")'],
    ['an unset required variable', {}, (r: EnvReader) => r.required('R'), 'R is not set'],
    [
      'a required variable that fails its test',
      { R: 'x1' },
      (r: EnvReader) => r.required('R', { valid: { test: (t) => /^\d+$/.test(t), expected: 'digits' } }),
      'R must be digits (got R="x1")',
    ],
  ] as const)('%s', (_name, env, f, message) => {
    expect(refusal(env, f)).toBe(message);
  });

  it('every bad variable at once, in the order read, the values quoted at the end', () => {
    const message = refusal({ A: 'x', C: 'y' }, (r) => [
      r.int('A', { default: 1, min: 1, max: 9 }),
      r.required('B'),
      r.bool('C', { default: false }),
    ]);
    expect(message).toBe('A must be an integer from 1 to 9; B is not set; C must be true or false (got A="x", C="y")');
  });

  it('with the context first, or as the error a program makes of it', () => {
    const r = new EnvReader({ N: 'x' });
    r.int('N', { default: 1, min: 1 });
    expect(() => r.check({ context: 'invalid configuration' })).toThrow('invalid configuration: N must be an integer of at least 1');
    expect(() => r.check({ wrap: (e) => new RangeError(e.message) })).toThrow(RangeError);
  });

  it('a long value only in part', () => {
    expect(refusal({ N: 'x'.repeat(500) }, (r) => r.int('N', { default: 1, min: 1 }))).toContain(`N="${'x'.repeat(80)}")`);
  });
});

describe('durations in messages', () => {
  it.each([
    [1000, '1s'],
    [90_000, '90s'],
    [900_000, '15m'],
    [7_200_000, '2h'],
    [250, '250ms'],
  ])('%i ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
