import { describe, expect, it } from 'vitest';
import { type AuthCheck, decideAuth, renewalTime, withReauthorizeHint } from './auth-decision.ts';

const h = 3600_000;
const t0 = new Date('2026-11-23T00:00:00Z');
const at = (hours: number) => new Date(t0.getTime() + hours * h);

function decide(check: AuthCheck, nowHours: number, previous = {}, renewBeforeMs?: number) {
  return decideAuth({
    check,
    previous,
    now: at(nowHours),
    checkIntervalMs: h,
    random: 0.5,
    ...(renewBeforeMs === undefined ? {} : { renewBeforeMs }),
  });
}

describe('renewalTime', () => {
  it('is a third of the lifetime before expiry by default', () => {
    expect(renewalTime(at(90), at(0), undefined).toISOString()).toBe(at(60).toISOString());
  });
  it('follows spec.auth.renewBefore when given', () => {
    expect(renewalTime(at(90), at(0), 10 * h).toISOString()).toBe(at(80).toISOString());
  });
});

describe('decideAuth along a credential lifetime', () => {
  const ok: AuthCheck = { ok: true, at: at(1), notBefore: at(0), notAfter: at(90) };
  it.each([
    ['is Authenticated and not expiring early in the lifetime', ok, 1, { authenticated: 'True', expiring: 'False' }],
    ['warns AuthExpiringSoon from the renewal time', { ...ok, at: at(61) }, 61, { authenticated: 'True', expiring: 'True' }],
    [
      'turns Authenticated False with Expired at notAfter',
      { ...ok, at: at(91) },
      91,
      { authenticated: 'False', reason: 'Expired', expiring: 'False' },
    ],
    [
      'clears the warning once a renewed credential is seen',
      { ok: true, at: at(70), notBefore: at(70), notAfter: at(160) } as AuthCheck,
      70,
      { authenticated: 'True', expiring: 'False' },
    ],
    [
      'reports Deauthorized from a failed check',
      { ok: false, at: at(5), reason: 'Deauthorized', message: 'revoked' } as AuthCheck,
      5,
      { authenticated: 'False', reason: 'Deauthorized' },
    ],
  ] as const)('%s', (_n, check, now, expected) => {
    const d = decide(check, now);
    expect(d.authenticated.status).toBe(expected.authenticated);
    if ('reason' in expected) expect(d.authenticated.reason).toBe(expected.reason);
    if ('expiring' in expected) expect(d.expiringSoon.status).toBe(expected.expiring);
  });

  it('schedules the next check at the renewal time when that comes before the interval', () => {
    const d = decide({ ok: true, at: at(59.5), notBefore: at(0), notAfter: at(90) }, 59.5);
    expect(d.nextCheckAt.toISOString()).toBe(at(60).toISOString());
  });

  it('backs off after failures: 1 minute, then 2, then 4', () => {
    const fail: AuthCheck = { ok: false, at: at(1), reason: 'EmrUnreachable', message: '503' };
    const first = decide(fail, 1);
    const second = decide(fail, 1, first.auth);
    const third = decide(fail, 1, second.auth);
    expect([first, second, third].map((d) => (d.nextCheckAt.getTime() - at(1).getTime()) / 60_000)).toEqual([1, 2, 4]);
    expect(third.auth.failedAttempts).toBe(3);
  });

  it('keeps notAfter from before while checks fail', () => {
    const good = decide(ok, 1);
    const bad = decide({ ok: false, at: at(2), reason: 'EmrUnreachable', message: 'down' }, 2, good.auth);
    expect(bad.auth.notAfter).toBe(at(90).toISOString());
    expect(bad.auth.lastFailureTime).toBe(at(2).toISOString());
  });
});

describe('the command to authorize again (OSCAR Pro)', () => {
  const command = 'kubectl cloudconnect authorize maple-oscar -n clinic-maple';
  const failed = (reason: string, message: string) => ({ type: 'Authenticated', status: 'False' as const, reason, message });
  it.each([
    ['is named when the token was revoked', failed('Deauthorized', 'oauth_problem=token_revoked'), true],
    ['is named when the token expired', failed('Expired', 'oauth_problem=token_expired'), true],
    [
      'is named when the Secret still lacks the access token',
      failed('InvalidCredentials', 'Secret s lacks the key(s) accessToken, tokenSecret'),
      true,
    ],
    ['is not named when the client key is wrong', failed('InvalidCredentials', 'oauth_problem=consumer_key_unknown'), false],
    ['is not named when the EMR is unreachable', failed('EmrUnreachable', 'connection failed'), false],
    [
      'is not named when authentication works',
      { type: 'Authenticated', status: 'True' as const, reason: 'Authenticated', message: 'ok' },
      false,
    ],
  ])('%s', (_n, condition, named) => {
    const out = withReauthorizeHint(condition, command);
    expect(out.message.endsWith(`; to authorize again, run: ${command}`)).toBe(named);
    expect(out.message.startsWith(condition.message)).toBe(true);
    expect(out.reason).toBe(condition.reason);
  });

  it('is named in the decision of a revoked check when the integration is OSCAR Pro, and only then', () => {
    const check: AuthCheck = { ok: false, at: at(5), reason: 'Deauthorized', message: 'revoked' };
    const input = { check, previous: {}, now: at(5), checkIntervalMs: h, random: 0.5 };
    expect(decideAuth({ ...input, reauthorizeCommand: command }).authenticated.message).toBe(
      `revoked; to authorize again, run: ${command}`,
    );
    expect(decideAuth(input).authenticated.message).toBe('revoked');
  });
});
