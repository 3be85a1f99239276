import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FormIndex, replaceForms } from './form-index.ts';
import { REDACTED, Redactor } from './redact.ts';

const indexOf = (...forms: string[]) => {
  const index = new FormIndex();
  for (const f of forms) index.add(f);
  return index;
};
const same = (s: string) => s;

describe('the form index', () => {
  it.each([
    ['finds nothing in an empty index', [], 'some text', 'some text'],
    ['replaces a form anywhere, inside words too', ['s3cret'], 'as3crets', `a${REDACTED}s`],
    ['prefers the longest form starting at a position', ['abcd', 'abcdefgh'], 'xabcdefghx', `x${REDACTED}x`],
    [
      'replaces every occurrence, left to right',
      ['pass'],
      'pass, pass and passpass',
      `${REDACTED}, ${REDACTED} and ${REDACTED}${REDACTED}`,
    ],
    ['does not match a form cut short by the end of the text', ['secret'], 'a secre', 'a secre'],
    ['keeps a form that shares only its prefix', ['abcdXYZ'], 'abcdXY abcdQ', 'abcdXY abcdQ'],
    ['finds forms that share a prefix, each whole', ['tokenAAA', 'tokenBB'], 'tokenBB tokenAAA tokenC', `${REDACTED} ${REDACTED} tokenC`],
  ])('%s', (_name, forms, text, expected) => {
    expect(replaceForms(text, [indexOf(...forms)], REDACTED, same)).toBe(expected);
  });

  it('refuses a form shorter than its prefix (short forms are matched as tokens elsewhere)', () => {
    expect(() => new FormIndex().add('abc')).toThrow(/too short/);
  });

  it('counts a form added twice once', () => {
    const index = indexOf('abcdef', 'abcdef', 'abcdefg');
    expect(index.size).toBe(2);
  });

  it('passes the text between replacements, and only that, to the short-form matcher', () => {
    const seen: string[] = [];
    const out = replaceForms('a 42 secret 42 b', [indexOf('secret')], REDACTED, (s) => {
      seen.push(s);
      return s.replace('42', '##');
    });
    expect(seen).toEqual(['a 42 ', ' 42 b']);
    expect(out).toBe(`a ## ${REDACTED} ## b`);
  });
});

describe('a redactor holding the keys of a large fleet', () => {
  it('removes every one of 5,000 registered keys in each of its forms and leaves other text alone', () => {
    const r = new Redactor();
    const keys = Array.from({ length: 5000 }, () => randomBytes(32).toString('base64'));
    for (const k of keys) r.register(k);
    for (const k of [keys[0], keys[2500], keys[4999]] as string[]) {
      expect(r.string(`sek=${k};`)).toBe(`sek=${REDACTED};`);
      expect(r.string(`q=${encodeURIComponent(k)}&x=1`)).toBe(`q=${REDACTED}&x=1`);
      expect(r.string(`"${Buffer.from(k).toString('base64')}"`)).toBe(`"${REDACTED}"`);
    }
    const plain = 'site 10042 Ready: the key is in Vault at cloudconnect/clinic-maple/sek (version 3)';
    expect(r.string(plain)).toBe(plain);
  });
});
