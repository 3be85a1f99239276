import { describe, expect, it } from 'vitest';
import { quietUntil } from './quiet-hours.ts';

const TORONTO = 'America/Toronto';
const NIGHT = { start: '21:00', end: '08:00' };
const LUNCH = { start: '12:00', end: '13:30' };

describe('quietUntil (quiet hours in the site zone, clock injected)', () => {
  it.each([
    [
      'a winter evening inside a window across midnight ends at 08:00 EST the next morning',
      '2030-01-15T02:30:00Z',
      NIGHT,
      '2030-01-15T13:00:00.000Z',
    ],
    ['a winter morning before 08:00 ends the same morning', '2030-01-15T11:59:00Z', NIGHT, '2030-01-15T13:00:00.000Z'],
    ['08:00 itself is outside the window', '2030-01-15T13:00:00Z', NIGHT, undefined],
    ['20:59 local is outside the window', '2030-01-16T01:59:00Z', NIGHT, undefined],
    ['21:00 local is inside', '2030-01-16T02:00:00Z', NIGHT, '2030-01-16T13:00:00.000Z'],
    ['a summer night ends at 08:00 EDT (12:00 UTC), not 13:00 UTC', '2030-07-15T03:00:00Z', NIGHT, '2030-07-15T12:00:00.000Z'],
    [
      'the night clocks spring forward (10 March 2030) ends at 08:00 EDT, a 10-hour window',
      '2030-03-10T02:00:00Z',
      NIGHT,
      '2030-03-10T12:00:00.000Z',
    ],
    [
      'the night clocks fall back (3 November 2030) ends at 08:00 EST, a 12-hour window',
      '2030-11-03T01:00:00Z',
      NIGHT,
      '2030-11-03T13:00:00.000Z',
    ],
    ['a daytime window that does not span midnight ends the same day', '2030-01-15T17:15:00Z', LUNCH, '2030-01-15T18:30:00.000Z'],
    ['after a daytime window nothing is quiet', '2030-01-15T18:30:00Z', LUNCH, undefined],
  ] as const)('%s', (_name, at, quiet, expected) => {
    expect(quietUntil(new Date(at), quiet, TORONTO)?.toISOString()).toBe(expected);
  });

  it('no quiet hours means never quiet', () => {
    expect(quietUntil(new Date('2030-01-15T03:00:00Z'), undefined, TORONTO)).toBeUndefined();
  });

  it('an end skipped by the spring-forward gap (02:30) ends the window when the clocks jump', () => {
    // 10 March 2030 in Toronto: 02:00 EST becomes 03:00 EDT; 02:30 does not exist that day.
    expect(quietUntil(new Date('2030-03-10T06:10:00Z'), { start: '01:00', end: '02:30' }, TORONTO)?.toISOString()).toBe(
      '2030-03-10T07:30:00.000Z',
    );
  });

  it('the same instant is quiet in one zone and not in another', () => {
    const at = new Date('2030-01-15T04:00:00Z'); // 23:00 in Toronto, 18:00 in Honolulu (no DST)
    expect(quietUntil(at, NIGHT, TORONTO)).toBeDefined();
    expect(quietUntil(at, NIGHT, 'Pacific/Honolulu')).toBeUndefined();
  });
});
