import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../runtime/clock.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import { conditionsOf, nextStatus, requeueOf, statusFields } from './status.ts';

const authenticated: ConditionInput = { type: 'Authenticated', status: 'True', reason: 'Authenticated', message: 'ok' };
const conflict: ConditionInput = { type: 'CredentialConflict', status: 'False', reason: 'CredentialConflict', message: 'shared' };
const ready = { reason: 'Succeeded', message: 'Authenticated with the EMR' };

describe('Ready', () => {
  it.each([
    ['is True with the summary when every part is True', [authenticated], ready, { status: 'True', ...ready }],
    [
      'takes the reason of the first part that is not True',
      [authenticated, conflict],
      ready,
      { status: 'False', reason: 'CredentialConflict', message: 'shared' },
    ],
    [
      'says Suspended when the integration is suspended and otherwise Ready',
      [authenticated],
      { reason: 'Suspended', message: 'm' },
      { status: 'True', reason: 'Suspended' },
    ],
  ] as const)('%s', (_n, readyParts, summary, expected) => {
    const conditions = conditionsOf({ conditions: [authenticated], readyParts: [...readyParts], ready: summary });
    expect(conditions[0]).toEqual(authenticated);
    expect(conditions.at(-1)).toMatchObject({ type: 'Ready', ...expected });
  });
});

describe('the status', () => {
  it('writes no auth, providers, sync or relay field for a reconcile that stopped before authenticating', () => {
    expect(statusFields({})).toEqual({});
  });

  it('keeps fields no step set, records the generation and the handled requestedAt', () => {
    const clock = fixedClock('2026-03-01T00:00:00Z');
    const status = nextStatus(
      { relay: { pending: 1 }, lastHandledRequestedAt: 'old' },
      { conditions: [authenticated], fields: { sync: {} }, requestedAt: 'r2' },
      4,
      clock,
    );
    expect(status).toEqual({
      relay: { pending: 1 },
      sync: {},
      observedGeneration: 4,
      lastHandledRequestedAt: 'r2',
      conditions: [{ ...authenticated, observedGeneration: 4, lastTransitionTime: '2026-03-01T00:00:00.000Z' }],
    });
  });

  it('keeps the last handled requestedAt when none is set now', () => {
    const status = nextStatus(
      { lastHandledRequestedAt: 'old' },
      { conditions: [], fields: {}, requestedAt: undefined },
      1,
      fixedClock('2026-03-01T00:00:00Z'),
    );
    expect(status.lastHandledRequestedAt).toBe('old');
  });
});

describe('the requeue', () => {
  it.each([
    ['is none without a hint (an integration without an EMR)', [], {}],
    ['follows the shortest hint', [60_000, 30_000, 3_600_000], { requeueAfterMs: 30_000 }],
    ['is never sooner than a second', [5, 60_000], { requeueAfterMs: 1000 }],
  ] as const)('%s', (_n, hints, expected) => {
    expect(requeueOf(hints)).toEqual(expected);
  });
});
