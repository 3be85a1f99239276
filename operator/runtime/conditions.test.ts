import { describe, expect, it } from 'vitest';
import { fixedClock } from './clock.ts';
import { type Condition, setConditions, summarizeReady } from './conditions.ts';

const t0 = '2026-11-23T10:00:00.000Z';
const t1 = '2026-11-23T11:00:00.000Z';

describe('setConditions', () => {
  it('keeps lastTransitionTime when the status does not change', () => {
    const previous: Condition[] = [
      { type: 'Ready', status: 'True', reason: 'A', message: 'a', lastTransitionTime: t0, observedGeneration: 1 },
    ];
    const out = setConditions(previous, [{ type: 'Ready', status: 'True', reason: 'B', message: 'b' }], 2, fixedClock(t1));
    expect(out).toEqual([{ type: 'Ready', status: 'True', reason: 'B', message: 'b', lastTransitionTime: t0, observedGeneration: 2 }]);
  });

  it('moves lastTransitionTime when the status changes', () => {
    const previous: Condition[] = [{ type: 'Ready', status: 'True', reason: 'A', message: 'a', lastTransitionTime: t0 }];
    const out = setConditions(previous, [{ type: 'Ready', status: 'False', reason: 'B', message: 'b' }], 1, fixedClock(t1));
    expect(out[0]?.lastTransitionTime).toBe(t1);
  });

  it('drops Stalled and Reconciling once they are no longer true', () => {
    const previous: Condition[] = [{ type: 'Stalled', status: 'True', reason: 'Bad', message: 'x', lastTransitionTime: t0 }];
    const out = setConditions(
      previous,
      [
        { type: 'Stalled', status: 'False', reason: 'Ok', message: '' },
        { type: 'Ready', status: 'True', reason: 'Ok', message: '' },
      ],
      1,
      fixedClock(t1),
    );
    expect(out.map((c) => c.type)).toEqual(['Ready']);
  });

  it('keeps conditions that the caller did not mention', () => {
    const previous: Condition[] = [{ type: 'KeyStored', status: 'True', reason: 'Stored', message: '', lastTransitionTime: t0 }];
    const out = setConditions(previous, [{ type: 'Ready', status: 'True', reason: 'Ok', message: '' }], 1, fixedClock(t1));
    expect(out.map((c) => c.type)).toEqual(['Ready', 'KeyStored']);
  });
});

describe('summarizeReady', () => {
  it.each([
    [
      'is False with the stall reason when stalled',
      [],
      { type: 'Stalled', status: 'True', reason: 'InvalidTimeZone', message: 'm' },
      { status: 'False', reason: 'InvalidTimeZone' },
    ],
    [
      'is False with the first failing part',
      [{ type: 'KeyStored', status: 'False', reason: 'VaultUnavailable', message: 'm' }],
      undefined,
      { status: 'False', reason: 'VaultUnavailable' },
    ],
    [
      'is Unknown when a part is Unknown',
      [{ type: 'KeyStored', status: 'Unknown', reason: 'NotChecked', message: 'm' }],
      undefined,
      { status: 'Unknown', reason: 'NotChecked' },
    ],
    [
      'is True when every part is True',
      [{ type: 'KeyStored', status: 'True', reason: 'Stored', message: 'm' }],
      undefined,
      { status: 'True', reason: 'Succeeded' },
    ],
  ] as const)('%s', (_n, parts, stalled, expected) => {
    expect(summarizeReady(parts, stalled, { reason: 'Succeeded', message: 'ok' })).toMatchObject(expected);
  });
});
