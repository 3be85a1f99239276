import { describe, expect, it } from 'vitest';
import type { EmrIntegrationSpec } from '../../api/v1alpha1/index.ts';
import { checkDue, checkTiming, type Seen } from './auth-step.ts';

const now = new Date('2026-03-01T12:00:00Z');
const seen: Seen = { siteReady: true, secretVersion: '7', generation: 2, requestedAt: 'r1' };
const last = { ...seen, nextCheckAt: new Date('2026-03-01T13:00:00Z') };

describe('whether authentication is checked against the EMR now', () => {
  it.each([
    ['checks at the first reconcile', undefined, seen, true],
    ['re-reads the last check while nothing changed and the next check is not due', last, seen, false],
    ['checks when the site turned Ready or stopped being Ready', last, { ...seen, siteReady: false }, true],
    ['checks when the credentials Secret was edited', last, { ...seen, secretVersion: '8' }, true],
    ['checks when the spec changed', last, { ...seen, generation: 3 }, true],
    ['checks when a recheck is requested with the requestedAt annotation', last, { ...seen, requestedAt: 'r2' }, true],
    ['checks once the next check is due', { ...last, nextCheckAt: now }, seen, true],
  ] as const)('%s', (_n, previous, current, expected) => {
    expect(checkDue(previous, current, now)).toBe(expected);
  });
});

describe('the check timing from spec.auth', () => {
  it.each([
    ['checks hourly by default, with no renewBefore', {}, { checkIntervalMs: 3_600_000 }],
    ['follows spec.auth.checkInterval', { auth: { checkInterval: '10m' } }, { checkIntervalMs: 600_000 }],
    ['follows spec.auth.renewBefore', { auth: { renewBefore: '48h' } }, { checkIntervalMs: 3_600_000, renewBeforeMs: 172_800_000 }],
  ] as const)('%s', (_n, spec, expected) => {
    expect(checkTiming(spec as Pick<EmrIntegrationSpec, 'auth'>)).toEqual(expected);
  });

  it('throws on a checkInterval that is not a duration', () => {
    expect(() => checkTiming({ auth: { checkInterval: 'often' } })).toThrow(/not a duration/);
  });
});
