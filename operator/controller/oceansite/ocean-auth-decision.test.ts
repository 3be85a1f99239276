import { describe, expect, it } from 'vitest';
import type { Condition } from '../../runtime/conditions.ts';
import { decideOceanAuth, type OceanCheck, oceanAuthNotice, oceanCheckDue } from './ocean-auth-decision.ts';

const h = 3600_000;
const t0 = new Date('2026-12-01T00:00:00Z');
const at = (hours: number) => new Date(t0.getTime() + hours * h);

function decide(check: OceanCheck | undefined, nowHours: number, failures = 0) {
  return decideOceanAuth({ check, failures, now: at(nowHours), checkIntervalMs: h, renewBeforeMs: 24 * h, random: 0.5 });
}

describe('decideOceanAuth', () => {
  const ok: OceanCheck = { ok: true, at: at(0) };
  const expiring: OceanCheck = { ok: true, at: at(0), notAfter: at(100) };
  it.each([
    ['is Unknown NotConfigured without spec.ocean.credentialsSecretRef', undefined, 0, 'Unknown', 'NotConfigured'],
    ['is Authenticated when Ocean accepted the client', ok, 0, 'True', 'Authenticated'],
    ['is Authenticated before the renewal time of a secret Ocean says expires', expiring, 10, 'True', 'Authenticated'],
    ['turns to ExpiresSoon from notAfter minus renewBefore, without another check', expiring, 80, 'True', 'ExpiresSoon'],
    ['turns False Expired at notAfter, without another check', expiring, 100, 'False', 'Expired'],
    [
      'is False with the reason of a failed check',
      { ok: false, at: at(0), reason: 'InvalidCredentials', message: 'refused' },
      0,
      'False',
      'InvalidCredentials',
    ],
  ] as const)('%s', (_name, check, nowHours, status, reason) => {
    const d = decide(check, nowHours);
    expect([d.condition.type, d.condition.status, d.condition.reason]).toEqual(['OceanAuthenticated', status, reason]);
  });

  it('checks again after the jittered interval when all is well', () => {
    expect(decide({ ok: true, at: at(0) }, 0).nextCheckAt).toEqual(at(1));
  });
  it('checks again at the renewal time when it comes before the interval', () => {
    expect(decide({ ok: true, at: at(0), notAfter: at(24.5) }, 0).nextCheckAt).toEqual(at(0.5));
  });
  it('retries a failure after a minute, doubling with each failure, never beyond the interval', () => {
    const failed: OceanCheck = { ok: false, at: at(0), reason: 'OceanUnreachable', message: 'down' };
    expect(decide(failed, 0, 1).nextCheckAt).toEqual(new Date(t0.getTime() + 60_000));
    expect(decide(failed, 0, 3).nextCheckAt).toEqual(new Date(t0.getTime() + 240_000));
    expect(decide(failed, 0, 20).nextCheckAt).toEqual(at(1));
  });
  it('shows the expiry in status, never the client', () => {
    expect(decide({ ok: true, at: at(0), notAfter: at(100) }, 0).status).toEqual({
      lastCheckTime: at(0).toISOString(),
      notAfter: at(100).toISOString(),
      renewalTime: at(76).toISOString(),
    });
  });
});

describe('oceanCheckDue', () => {
  const seen = { secretName: 'ocean', secretVersion: '5', generation: 2, requestedAt: undefined };
  it.each([
    ['is due at the first reconcile', undefined, seen, 0, true],
    ['is not due before the next check time when nothing changed', { ...seen, nextCheckAt: at(1) }, seen, 0.5, false],
    ['is due at the next check time', { ...seen, nextCheckAt: at(1) }, seen, 1, true],
    ['is due at once when the Secret was edited', { ...seen, nextCheckAt: at(1) }, { ...seen, secretVersion: '6' }, 0.5, true],
    ['is due at once when the spec changed', { ...seen, nextCheckAt: at(1) }, { ...seen, generation: 3 }, 0.5, true],
    ['is due at once when a check is requested', { ...seen, nextCheckAt: at(1) }, { ...seen, requestedAt: 'now' }, 0.5, true],
    ['is never due by time without a configured client', { ...seen, nextCheckAt: undefined }, seen, 100, false],
  ] as const)('%s', (_name, last, now, hours, due) => {
    expect(oceanCheckDue(last, now, at(hours))).toBe(due);
  });
});

describe('oceanAuthNotice', () => {
  const was = (status: Condition['status'], reason: string): Condition[] => [
    { type: 'OceanAuthenticated', status, reason, message: '', lastTransitionTime: t0.toISOString() },
  ];
  const cond = (status: 'True' | 'False' | 'Unknown', reason: string) => ({ type: 'OceanAuthenticated', status, reason, message: 'm' });
  it.each([
    [
      'e-mails when the client starts failing',
      was('True', 'Authenticated'),
      cond('False', 'InvalidCredentials'),
      'OceanAuthenticationFailed',
    ],
    [
      'e-mails again when it fails for another reason',
      was('False', 'OceanUnreachable'),
      cond('False', 'Expired'),
      'OceanAuthenticationFailed',
    ],
    ['e-mails once when the expiry nears', was('True', 'Authenticated'), cond('True', 'ExpiresSoon'), 'OceanCredentialsExpiringSoon'],
    ['stays quiet while the failure is the same', was('False', 'InvalidCredentials'), cond('False', 'InvalidCredentials'), undefined],
    ['stays quiet on recovery', was('False', 'InvalidCredentials'), cond('True', 'Authenticated'), undefined],
    ['stays quiet for a site that names no Ocean client', undefined, cond('Unknown', 'NotConfigured'), undefined],
  ] as const)('%s', (_name, before, now, reason) => {
    expect(oceanAuthNotice(before, now)?.reason).toBe(reason);
  });
});
