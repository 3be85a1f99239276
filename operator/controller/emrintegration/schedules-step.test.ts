import { describe, expect, it } from 'vitest';
import type { OceanSite } from '../../api/v1alpha1/index.ts';
import { planDefaultSchedules } from './schedules-step.ts';

const now = new Date('2026-03-01T12:00:10Z');
const site = (timeZone?: string) =>
  ({
    metadata: { name: 'maple' },
    spec: { siteNumber: '1', clinicalAdminEmail: 'a@b.c', ...(timeZone ? { timeZone } : {}) },
  }) as unknown as OceanSite;

describe('the default SyncSchedules', () => {
  it.each([
    ['are not created when a schedule names the integration', true, '2026-01-01T00:00:00Z', site(), { kind: 'none' }],
    ['wait out the grace period after the integration was created', false, '2026-03-01T12:00:04Z', site(), { kind: 'wait', ms: 4000 }],
    ['wait the whole grace period for an integration without a creation time', false, undefined, site(), { kind: 'wait', ms: 10_000 }],
    [
      'are created in the site time zone after the grace period',
      false,
      '2026-03-01T12:00:00Z',
      site('America/Toronto'),
      { kind: 'create', timeZone: 'America/Toronto' },
    ],
    ['are created in UTC for a site without a time zone', false, '2026-01-01T00:00:00Z', site(), { kind: 'create', timeZone: 'UTC' }],
    ['are created in UTC while the site does not exist', false, '2026-01-01T00:00:00Z', undefined, { kind: 'create', timeZone: 'UTC' }],
  ] as const)('%s', (_n, hasSchedules, createdAt, oceanSite, expected) => {
    expect(planDefaultSchedules({ hasSchedules, createdAt: createdAt as never, site: oceanSite }, now)).toEqual(expected);
  });
});
