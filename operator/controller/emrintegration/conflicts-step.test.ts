import { describe, expect, it } from 'vitest';
import type { EmrIntegrationSpec } from '../../api/v1alpha1/index.ts';
import { conflictCondition, endpointOf } from './conflicts-step.ts';

describe('CredentialConflict', () => {
  it('is False when no integration of another site shares the API user, and leaves Ready alone', () => {
    expect(conflictCondition(undefined)).toEqual({
      condition: { type: 'CredentialConflict', status: 'False', reason: 'NoConflict', message: 'No other site uses this EMR API user' },
    });
  });

  it('is True naming the others, and makes Ready False with reason CredentialConflict', () => {
    const { condition, readyPart } = conflictCondition(['a/x', 'b/y']);
    expect(condition).toMatchObject({ type: 'CredentialConflict', status: 'True', reason: 'SharedApiUser' });
    expect(condition.message).toContain('a/x, b/y of another site');
    expect(readyPart).toEqual({ type: 'CredentialConflict', status: 'False', reason: 'CredentialConflict', message: condition.message });
  });

  it('names five of a fleet sharing the API user and counts the rest, so the message stays short', () => {
    const others = Array.from({ length: 999 }, (_, i) => `fleet/site-${String(i).padStart(3, '0')}-accuro`);
    const { condition } = conflictCondition(others);
    expect(condition.message).toContain(
      'fleet/site-000-accuro, fleet/site-001-accuro, fleet/site-002-accuro, fleet/site-003-accuro, fleet/site-004-accuro and 994 more of another site',
    );
    expect(condition.message).not.toContain('site-005');
    expect(condition.message.length).toBeLessThan(300);
  });
});

describe('the EMR endpoint of an API user', () => {
  it.each([
    ['is the Accuro URL and tenant', { type: 'Accuro', accuro: { apiUrl: 'https://a.example', tenantId: 'T1' } }, 'https://a.example|T1'],
    [
      'is the TELUS URL and instance',
      { type: 'PSSuite', psSuite: { apiUrl: 'https://p.example', instanceId: 'I1' } },
      'https://p.example|I1',
    ],
    ['is the OSCAR server alone', { type: 'OSCARPro', oscarPro: { serverUrl: 'https://o.example' } }, 'https://o.example|'],
  ] as const)('%s', (_n, emr, expected) => {
    expect(endpointOf({ siteRef: { name: 's' }, emr } as unknown as EmrIntegrationSpec)).toBe(expected);
  });
});
