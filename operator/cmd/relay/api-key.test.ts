import { describe, expect, it } from 'vitest';
import { matchWebhookKey, parseWebhookKeyRecord, type WebhookKeys } from './api-key.ts';

const CURRENT = 'c'.repeat(43);
const PREVIOUS = 'p'.repeat(43);
const SALT = 's'.repeat(43);
const NOW = new Date('2030-01-01T12:00:00Z');
const keys: WebhookKeys = { current: CURRENT, idSalt: SALT, previous: { key: PREVIOUS, validUntil: Date.parse('2030-01-02T12:00:00Z') } };

describe('the webhook key check', () => {
  it.each([
    ['accepts the current key', CURRENT, NOW, 'current'],
    ['accepts the previous key within its grace period', PREVIOUS, NOW, 'previous'],
    ['refuses the previous key once its grace period is over', PREVIOUS, new Date('2030-01-02T12:00:00Z'), undefined],
    ['refuses no key', undefined, NOW, undefined],
    ['refuses an empty key', '', NOW, undefined],
    ['refuses a wrong key of the same length', 'x'.repeat(43), NOW, undefined],
    ['refuses a prefix of the current key', CURRENT.slice(0, 42), NOW, undefined],
    ['refuses the current key with something appended', `${CURRENT}x`, NOW, undefined],
    ['refuses the id salt, which is no key', SALT, NOW, undefined],
  ] as const)('%s', (_name, presented, now, expected) => {
    expect(matchWebhookKey(presented, keys, now)).toBe(expected);
  });

  it('refuses everything but the current key when there is no previous one', () => {
    expect(matchWebhookKey(PREVIOUS, { current: CURRENT, idSalt: SALT }, NOW)).toBeUndefined();
    expect(matchWebhookKey(CURRENT, { current: CURRENT, idSalt: SALT }, NOW)).toBe('current');
  });
});

describe('the webhook key record from Vault', () => {
  it('reads the current key, the salt and a previous key with its end of grace', () => {
    expect(
      parseWebhookKeyRecord({
        current: CURRENT,
        idSalt: SALT,
        previous: PREVIOUS,
        previousValidUntil: '2030-01-02T12:00:00Z',
        rotatedAt: 'x',
      }),
    ).toEqual(keys);
  });

  it.each([
    ['ignores a previous key without an end of grace (fail closed)', { current: CURRENT, idSalt: SALT, previous: PREVIOUS }],
    [
      'ignores a previous key whose end of grace is not a time',
      { current: CURRENT, idSalt: SALT, previous: PREVIOUS, previousValidUntil: 'soon' },
    ],
    [
      'ignores a previous key that is too short',
      { current: CURRENT, idSalt: SALT, previous: 'short', previousValidUntil: '2030-01-02T12:00:00Z' },
    ],
  ])('%s', (_name, data) => {
    expect(parseWebhookKeyRecord(data)).toEqual({ current: CURRENT, idSalt: SALT });
  });

  it.each([
    ['refuses a record without a current key', { idSalt: SALT }, /no field current/],
    ['refuses a current key under 32 characters', { current: 'short', idSalt: SALT }, /no field current of at least 32 characters/],
    ['refuses a record without an id salt', { current: CURRENT }, /no field idSalt/],
    ['refuses no record at all', undefined, /no field current/],
  ])('%s, naming the field and never a value', (_name, data, message) => {
    expect(() => parseWebhookKeyRecord(data)).toThrow(message);
    try {
      parseWebhookKeyRecord(data);
    } catch (error) {
      expect((error as Error).message).not.toContain(SALT);
    }
  });
});
