import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { EmrIntegrationSpec } from '../../api/v1alpha1/index.ts';
import { eReferralTargetCondition } from './ereferral-step.ts';

const forward = (auth?: 'Bearer' | 'Basic'): Pick<EmrIntegrationSpec, 'eReferral'> => ({
  eReferral: { forward: { url: 'https://referrals.example.org/in', credentialsSecretRef: { name: 'target' }, ...(auth ? { auth } : {}) } },
});
const secret = (data: Record<string, string>): V1Secret => ({ metadata: { name: 'target' }, data });

describe('the EReferralTargetReady condition', () => {
  it.each([
    ['is absent without an eReferral endpoint', {}, secret({}), undefined],
    ['is SecretNotFound when the Secret is not in the namespace', forward(), undefined, { status: 'False', reason: 'SecretNotFound' }],
    ['is MissingKeys naming the token for Bearer', forward(), secret({ username: 'dQ==' }), { status: 'False', reason: 'MissingKeys' }],
    [
      'is MissingKeys for Basic without a password',
      forward('Basic'),
      secret({ username: 'dQ==' }),
      { status: 'False', reason: 'MissingKeys' },
    ],
    [
      'is TargetConfigured with the keys of its auth',
      forward('Basic'),
      secret({ username: 'dQ==', password: 'cA==' }),
      { status: 'True', reason: 'TargetConfigured' },
    ],
  ])('%s', (_name, spec, s, expected) => {
    const c = eReferralTargetCondition(spec, s);
    if (expected === undefined) expect(c).toBeUndefined();
    else expect(c).toMatchObject({ type: 'EReferralTargetReady', ...expected });
  });

  it('names the missing key and the target host, never a value', () => {
    expect(eReferralTargetCondition(forward(), secret({ username: 'c2VjcmV0' }))?.message).toBe('Secret target lacks token (auth Bearer)');
    expect(eReferralTargetCondition(forward(), secret({ token: 'c2VjcmV0' }))?.message).toBe(
      'Referral bundles are forwarded to referrals.example.org',
    );
  });
});
