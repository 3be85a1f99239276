import { describe, expect, it } from 'vitest';
import { planSupportAccess, roleMayExist, supportDue, supportHash } from './support-access-step.ts';

const now = new Date('2025-03-01T10:00:00Z');
const wanted = supportHash([{ name: 'helpdesk' }]);

describe('whether support access is applied', () => {
  it.each([
    ['applies it on a key recheck', false, wanted, undefined, true],
    ['applies it when the list changed', true, supportHash([]), undefined, true],
    ['applies it on the first reconcile', true, undefined, undefined, true],
    ['applies it once a grant expired', true, wanted, now.getTime(), true],
    ['leaves it before the next grant expires', true, wanted, now.getTime() + 1, false],
    ['leaves it between rechecks when nothing changed', true, wanted, undefined, false],
  ])('%s', (_name, fresh, applied, nextExpiry, expected) => {
    expect(supportDue({ fresh, applied, wanted, nextExpiry }, now)).toBe(expected);
  });
});

describe('the support access plan', () => {
  const soon = '2025-03-01T11:00:00Z';
  const past = '2025-03-01T09:00:00Z';
  const binding = (support: string) => `cloudconnect-support-maple-${support}`;

  it('grants active support sites that have no binding yet, in spec order, with their expiry', () => {
    const plan = planSupportAccess(
      { supportSites: [{ name: 'helpdesk' }, { name: 'vendor', expiresAt: soon }], site: 'maple', existing: [binding('helpdesk')] },
      now,
    );
    expect(plan.role).toBe('apply');
    expect(plan.grant).toEqual([
      {
        name: binding('vendor'),
        support: 'vendor',
        expiresAt: soon,
        event: {
          reason: 'SupportAccessGranted',
          message: `Support site vendor may read this namespace's cloudconnect resources and request work until ${soon}`,
        },
      },
    ]);
    expect(plan.revoke).toEqual([]);
    expect(plan.decision.nextExpiry).toEqual(new Date(soon));
  });

  it.each([
    [
      'says an expired grant expired',
      [{ name: 'vendor', expiresAt: past }],
      { reason: 'SupportAccessExpired', message: `Support access of vendor expired at ${past} and was removed` },
    ],
    [
      'says a grant taken out of the spec was removed',
      [],
      { reason: 'SupportAccessRemoved', message: `Support access binding ${binding('vendor')} removed` },
    ],
  ])('%s', (_name, supportSites, event) => {
    const plan = planSupportAccess({ supportSites, site: 'maple', existing: [binding('vendor')] }, now);
    expect(plan.revoke).toEqual([{ name: binding('vendor'), event }]);
    expect(plan.grant).toEqual([]);
    expect(plan.role).toBe('delete');
  });

  it('grants a site without expiry with no expiry and a message without "until"', () => {
    const plan = planSupportAccess({ supportSites: [{ name: 'helpdesk' }], site: 'maple', existing: [] }, now);
    expect(plan.grant).toEqual([
      {
        name: binding('helpdesk'),
        support: 'helpdesk',
        event: {
          reason: 'SupportAccessGranted',
          message: "Support site helpdesk may read this namespace's cloudconnect resources and request work",
        },
      },
    ]);
  });

  it('deletes the Role when no grant is active', () => {
    expect(planSupportAccess({ supportSites: undefined, site: 'maple', existing: [] }, now)).toMatchObject({
      role: 'delete',
      grant: [],
      revoke: [],
    });
  });
});

describe("whether the support Role is worth deleting (an idle site's key rechecks make no write)", () => {
  it.each([
    ['is, when a binding was there', ['b'], supportHash([]), true],
    ['is, when the last applied list had a grant', [], supportHash([{ name: 'oceanmd' }]), true],
    ['is, on the first apply since the operator started', [], undefined, true],
    ['is not, when no grant was applied and no binding exists', [], supportHash(undefined), false],
    ['is not, for an applied empty list either', [], supportHash([]), false],
  ] as const)('%s', (_n, existing, applied, expected) => {
    expect(roleMayExist(existing, applied)).toBe(expected);
  });
});
