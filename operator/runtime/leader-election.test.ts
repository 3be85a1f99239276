import { describe, expect, it } from 'vitest';
import { decideLease } from './leader-election.ts';

const now = new Date('2026-11-23T10:00:30Z');
const lease = (holder: string | undefined, renewTime: string, duration = 15) => ({
  spec: { holderIdentity: holder, renewTime: new Date(renewTime), leaseDurationSeconds: duration },
});

describe('decideLease', () => {
  it.each([
    ['creates the lease when there is none', undefined, 'create'],
    ['renews a lease it holds', lease('me', '2026-11-23T10:00:28Z'), 'renew'],
    ['waits while another holder is within its lease', lease('other', '2026-11-23T10:00:20Z'), 'wait'],
    ['takes over a lease its holder stopped renewing', lease('other', '2026-11-23T10:00:00Z'), 'acquire'],
    ['takes a released lease at once', lease(undefined, '2026-11-23T10:00:29Z', 1), 'acquire'],
  ] as const)('%s', (_n, l, expected) => {
    expect(decideLease(l as never, 'me', now)).toBe(expected);
  });
});
