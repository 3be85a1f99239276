import { describe, expect, it } from 'vitest';
import { deadLetterExpiresInSeconds, replayToken } from './relay-step.ts';

const annotation = 'cloudconnect.dev/replayRequestedAt';

describe('the dead-letter replay', () => {
  it.each([
    ['is asked for by a new value of the replay annotation', { [annotation]: 't2' }, { lastHandledReplayAt: 't1' }, 't2'],
    ['is asked for at the first value of the annotation', { [annotation]: 't1' }, undefined, 't1'],
    ['is not repeated for a value already handled', { [annotation]: 't1' }, { lastHandledReplayAt: 't1' }, undefined],
    ['is not asked for without the annotation', {}, undefined, undefined],
    ['is not asked for by an empty value', { [annotation]: '' }, undefined, undefined],
  ] as const)('%s', (_n, annotations, before, expected) => {
    expect(replayToken(annotations, before)).toBe(expected);
  });
});

describe('the dead-letter expiry gauge', () => {
  const now = new Date('2030-01-15T00:00:00Z');
  const DAY = 86_400_000;
  it.each([
    ['is absent without dead letters', { deadLettered: 0 }, undefined],
    ['is absent when the relay names no oldest dead letter', { deadLettered: 2 }, undefined],
    [
      'counts down from the max age after the oldest dead letter',
      { deadLettered: 2, oldestDeadLetterAt: '2030-01-10T00:00:00Z' },
      9 * 86_400,
    ],
    ['stays at zero once past', { deadLettered: 1, oldestDeadLetterAt: '2029-12-01T00:00:00Z' }, 0],
  ])('%s', (_name, record, expected) => {
    expect(deadLetterExpiresInSeconds(record, now, 14 * DAY)).toBe(expected);
  });
});
