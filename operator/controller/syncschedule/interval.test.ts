import { describe, expect, it } from 'vitest';
import { longestIntervalSeconds } from './interval.ts';

describe('longestIntervalSeconds', () => {
  const friday = new Date('2026-11-27T12:00:00Z');
  it.each([
    ['appointments every 30 minutes', '*/30 * * * *', 'America/Toronto', 1800],
    ['a full sync at midnight', '0 0 * * *', 'America/Toronto', 86_400],
    ['weekdays at 9: the weekend gap counts', '0 9 * * 1-5', 'UTC', 3 * 86_400],
    ['twice a day at 8 and 17: the night gap counts', '0 8,17 * * *', 'UTC', 15 * 3600],
  ])('%s', (_name, cron, tz, expected) => {
    expect(longestIntervalSeconds(cron, tz, friday)).toBe(expected);
  });

  it('is undefined for a schedule the reconciler would stall on', () => {
    expect(longestIntervalSeconds('0 0 * *', 'UTC', friday)).toBeUndefined();
    expect(longestIntervalSeconds('0 0 * * *', 'Mars/Olympus', friday)).toBeUndefined();
  });
});
