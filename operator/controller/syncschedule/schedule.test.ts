import { describe, expect, it } from 'vitest';
import { parseSchedule } from './schedule.ts';

describe('parseSchedule', () => {
  it.each([
    ['runs the appointment sync at the next half hour', '*/30 * * * *', 'UTC', '2026-11-23T17:10:00Z', '2026-11-23T17:30:00.000Z'],
    [
      'runs the full sync at midnight in Toronto, which is 05:00 UTC in winter',
      '0 0 * * *',
      'America/Toronto',
      '2026-11-23T17:10:00Z',
      '2026-11-24T05:00:00.000Z',
    ],
    [
      'runs the full sync at midnight in Toronto, which is 04:00 UTC in summer',
      '0 0 * * *',
      'America/Toronto',
      '2026-07-01T12:00:00Z',
      '2026-07-02T04:00:00.000Z',
    ],
    ['moves strictly past the current minute', '0 * * * *', 'UTC', '2026-11-23T17:00:00Z', '2026-11-23T18:00:00.000Z'],
  ])('%s', (_name, schedule, tz, now, expected) => {
    const parsed = parseSchedule(schedule, tz);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.next(new Date(now)).toISOString()).toBe(expected);
  });

  it.each([
    ['stalls on an unknown time zone', '0 0 * * *', 'Mars/Olympus_Mons', 'InvalidTimeZone'],
    ['stalls on a minute out of range', '61 * * * *', 'UTC', 'InvalidSchedule'],
    ['stalls on a six-field expression', '0 0 0 * * *', 'UTC', 'InvalidSchedule'],
    ['stalls on a month out of range', '0 0 1 13 *', 'UTC', 'InvalidSchedule'],
  ])('%s', (_name, schedule, tz, reason) => {
    const parsed = parseSchedule(schedule, tz);
    expect(parsed).toMatchObject({ ok: false, reason });
  });
});
