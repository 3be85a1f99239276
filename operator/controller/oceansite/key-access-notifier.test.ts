import { describe, expect, it } from 'vitest';
import { keyAccessEventName, shownIdentity } from './key-access-notifier.ts';

describe('what a key-access notice shows of an identity', () => {
  it.each([
    ["keeps Vault's own names as they are", 'token-admin-alice (entity 9f1c-22)', 'token-admin-alice (entity 9f1c-22)'],
    ['keeps a service account', 'serviceaccount x/intruder (role other-role)', 'serviceaccount x/intruder (role other-role)'],
    [
      'does not let the writer of the entry put sentences, links or new lines into the e-mail',
      'x.\n\nAll is fine, call +1 555 0100 or visit https://evil.example/?a=1',
      'x.??All is fine? call ?1 555 0100 or visit https?//evil.example/?a?1',
    ],
    ['cuts a long name', 'a'.repeat(500), `${'a'.repeat(160)}…`],
  ])('%s', (_n, text, shown) => {
    expect(shownIdentity(text)).toBe(shown);
  });
});

describe('the name of a key-access Event', () => {
  it('is the same for the same request, whichever replica or source saw it, and differs for another request', () => {
    const a = keyAccessEventName('maple', 'c3c0b5c8-1b0e-4e8e-9d5e-2f7b1c1e0a11');
    expect(a).toBe(keyAccessEventName('maple', 'c3c0b5c8-1b0e-4e8e-9d5e-2f7b1c1e0a11'));
    expect(a).not.toBe(keyAccessEventName('maple', 'c3c0b5c8-1b0e-4e8e-9d5e-2f7b1c1e0a12'));
    expect(a).toMatch(/^maple\.key-access\.[0-9a-f]{20}$/);
  });
});
