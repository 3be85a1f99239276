import { describe, expect, it } from 'vitest';
import { addCalendarDays, instantOf, isValidWallClock, localDate, offsetMs, startOfDay, wallClockOf } from './zoned-time.ts';

const wall = (text: string) => {
  const [date = '', time = ''] = text.split('T');
  const [year = 0, month = 0, day = 0] = date.split('-').map(Number);
  const [hour = 0, minute = 0, second = 0] = time.split(':').map(Number);
  return { year, month, day, hour, minute, second };
};

describe('instantOf', () => {
  it.each([
    ['reads a winter time in Toronto at UTC-5', '2026-01-15T09:00:00', 'America/Toronto', '2026-01-15T14:00:00.000Z'],
    ['reads a summer time in Toronto at UTC-4', '2026-07-15T09:00:00', 'America/Toronto', '2026-07-15T13:00:00.000Z'],
    [
      'moves a time in the skipped spring-forward hour forward by the gap (02:30 is 03:30 EDT)',
      '2026-03-08T02:30:00',
      'America/Toronto',
      '2026-03-08T07:30:00.000Z',
    ],
    ['reads the first time after the gap at the new offset', '2026-03-08T03:00:00', 'America/Toronto', '2026-03-08T07:00:00.000Z'],
    ['takes the earlier of the two 01:30s of the fall-back day', '2026-11-01T01:30:00', 'America/Toronto', '2026-11-01T05:30:00.000Z'],
    ['reads a half-hour zone (Kolkata, UTC+5:30)', '2026-05-06T09:00:00', 'Asia/Kolkata', '2026-05-06T03:30:00.000Z'],
    ['reads Auckland summer time at UTC+13', '2026-12-01T00:00:00', 'Pacific/Auckland', '2026-11-30T11:00:00.000Z'],
    ['reads UTC as is', '2026-05-06T09:00:00', 'UTC', '2026-05-06T09:00:00.000Z'],
  ])('%s', (_name, local, zone, expected) => {
    expect(instantOf(wall(local), zone).toISOString()).toBe(expected);
  });
});

describe('wallClockOf, localDate, offsetMs', () => {
  it('shows the Toronto wall clock of an instant, the hour 0 as 0 (not 24)', () => {
    expect(wallClockOf(new Date('2026-12-02T05:00:00Z'), 'America/Toronto')).toEqual(wall('2026-12-02T00:00:00'));
  });
  it('gives the local calendar day, which differs from the UTC day in the evening in Toronto', () => {
    expect(localDate(new Date('2026-12-02T04:30:00Z'), 'America/Toronto')).toBe('2026-12-01');
  });
  it('gives the offset of Toronto in winter as minus five hours', () => {
    expect(offsetMs(Date.parse('2026-01-15T12:00:00Z'), 'America/Toronto')).toBe(-5 * 3_600_000);
  });
});

describe('isValidWallClock', () => {
  it.each([
    ['accepts 29 February of a leap year', '2028-02-29T09:00:00', true],
    ['refuses 29 February of a common year', '2030-02-29T09:00:00', false],
    ['refuses 31 April', '2030-04-31T09:00:00', false],
    ['refuses the hour 24', '2030-05-06T24:00:00', false],
    ['refuses the second 60', '2030-05-06T09:00:60', false],
    ['accepts a year below 100 as itself, not as 19xx', '0050-01-01T00:00:00', true],
  ])('%s', (_name, local, valid) => {
    expect(isValidWallClock(wall(local))).toBe(valid);
  });
});

describe('addCalendarDays and startOfDay', () => {
  it.each([
    ['crosses a month and a leap day', '2028-02-28', 2, '2028-03-01'],
    ['crosses the end of February of a common year', '2030-02-20', 10, '2030-03-02'],
    ['crosses a year', '2030-12-30', 3, '2031-01-02'],
  ])('%s', (_name, date, days, expected) => {
    expect(addCalendarDays(date, days)).toBe(expected);
  });
  it('starts the spring-forward day in Toronto at midnight EST', () => {
    expect(startOfDay('2026-03-08', 'America/Toronto').toISOString()).toBe('2026-03-08T05:00:00.000Z');
  });
});
