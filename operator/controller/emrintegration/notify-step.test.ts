import { describe, expect, it } from 'vitest';
import type { Condition, ConditionInput } from '../../runtime/conditions.ts';
import { authNotices } from './notify-step.ts';

const was = (type: string, status: 'True' | 'False', reason: string): Condition => ({
  type,
  status,
  reason,
  message: 'm',
  lastTransitionTime: '2026-01-01T00:00:00Z',
});
const auth = (status: 'True' | 'False', reason: string, message = 'msg'): ConditionInput => ({
  type: 'Authenticated',
  status,
  reason,
  message,
});
const expiring = (status: 'True' | 'False'): ConditionInput => ({
  type: 'AuthExpiringSoon',
  status,
  reason: status === 'True' ? 'RenewalTimeReached' : 'NotYetDue',
  message: 'The EMR credential expires at T',
});
const ok = [was('Authenticated', 'True', 'Authenticated'), was('AuthExpiringSoon', 'False', 'NotYetDue')];

describe('notices of authentication transitions', () => {
  it.each([
    ['sends none while authentication stays good', ok, auth('True', 'Authenticated'), expiring('False'), []],
    ['mails when authentication starts failing', ok, auth('False', 'InvalidCredentials'), expiring('False'), ['AuthenticationFailed']],
    [
      'mails at the first reconcile when authentication fails',
      undefined,
      auth('False', 'Deauthorized'),
      expiring('False'),
      ['AuthenticationFailed'],
    ],
    [
      'does not mail again for the same failure',
      [was('Authenticated', 'False', 'InvalidCredentials')],
      auth('False', 'InvalidCredentials'),
      expiring('False'),
      [],
    ],
    [
      'mails again when authentication fails for another reason',
      [was('Authenticated', 'False', 'EmrUnreachable')],
      auth('False', 'Expired'),
      expiring('False'),
      ['AuthenticationFailed'],
    ],
    ['does not mail for a site that is not Ready (the site reports it)', ok, auth('False', 'SiteNotReady'), expiring('False'), []],
    ['mails once when the renewal time is reached', ok, auth('True', 'Authenticated'), expiring('True'), ['AuthExpiringSoon']],
    [
      'does not mail again while the credential stays near expiry',
      [was('Authenticated', 'True', 'Authenticated'), was('AuthExpiringSoon', 'True', 'RenewalTimeReached')],
      auth('True', 'Authenticated'),
      expiring('True'),
      [],
    ],
  ] as const)('%s', (_n, before, authenticated, expiringSoon, reasons) => {
    expect(authNotices('Accuro', before, authenticated, expiringSoon).map((n) => n.reason)).toEqual(reasons);
  });

  it('says which EMR failed and why, with the failure subject', () => {
    expect(authNotices('OSCARPro', ok, auth('False', 'Deauthorized', 'token revoked'), expiring('False'))).toEqual([
      {
        reason: 'AuthenticationFailed',
        text: 'OSCARPro authentication failed (Deauthorized): token revoked',
        subject: 'EMR authentication failed',
      },
    ]);
  });

  it('tells when the credential expires, with the expiry subject', () => {
    expect(authNotices('Accuro', ok, auth('True', 'Authenticated'), expiring('True'))).toEqual([
      { reason: 'AuthExpiringSoon', text: 'The EMR credential expires at T', subject: 'EMR authentication expires soon' },
    ]);
  });
});
