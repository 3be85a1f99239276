import { describe, expect, it } from 'vitest';
import { authorizationOf } from './forward-referral.ts';

describe("the eReferral target's Authorization header", () => {
  it.each([
    ['is Bearer with the token', { auth: 'Bearer' as const, credentials: { token: 'tok\n' } }, { header: 'Bearer tok' }],
    [
      'is Basic with the username and password',
      { auth: 'Basic' as const, credentials: { username: 'u', password: 'p' } },
      { header: `Basic ${Buffer.from('u:p').toString('base64')}` },
    ],
    ['names the token when the Secret lacks it', { auth: 'Bearer' as const, credentials: { username: 'u' } }, { missing: ['token'] }],
    [
      'names the password when Basic lacks it',
      { auth: 'Basic' as const, credentials: { username: 'u', password: ' ' } },
      { missing: ['password'] },
    ],
  ])('%s', (_name, target, expected) => {
    expect(authorizationOf(target)).toEqual(expected);
  });
});
