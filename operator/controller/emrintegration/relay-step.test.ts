import { describe, expect, it } from 'vitest';
import { replayToken } from './relay-step.ts';

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
