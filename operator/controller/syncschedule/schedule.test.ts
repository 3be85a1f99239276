import { CronExpressionParser } from 'cron-parser';
import { describe, expect, it } from 'vitest';
import { hashSeedOf, parseSchedule } from './schedule.ts';

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

  it.each([
    ['stalls on a hashed minute range beyond 59', 'H(0-99) * * * *', 'minute field'],
    ['stalls on a hashed range that ends before it starts', 'H(30-20) * * * *', 'minute field'],
    ['stalls on a hashed step wider than its range', 'H(0-9)/30 * * * *', 'step wider than its range'],
    ['stalls on a hashed hour beyond 23', '0 H(20-30) * * *', 'hour field'],
  ])('%s', (_name, schedule, message) => {
    const parsed = parseSchedule(schedule, 'UTC', 'ns/emr');
    expect(parsed).toMatchObject({ ok: false, reason: 'InvalidSchedule' });
    if (!parsed.ok) expect(parsed.message).toContain(message);
  });
});

describe("a schedule with Jenkins' H", () => {
  const resolved = (schedule: string, seed: string) => {
    const parsed = parseSchedule(schedule, 'UTC', seed);
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed;
  };

  it('runs every 30 minutes at a minute drawn for the schedule, the same on every parse', () => {
    const a = resolved('H/30 * * * *', hashSeedOf('clinic-a', 'emr'));
    const b = resolved('H/30 * * * *', hashSeedOf('clinic-a', 'emr'));
    expect(a.resolved).toBe(b.resolved);
    const [minute, other] = (a.resolved ?? '').split(' ')[0]?.split(',').map(Number) ?? [];
    expect(minute).toBeLessThan(30);
    expect(other).toBe((minute ?? 0) + 30);
    const first = a.next(new Date('2030-01-01T10:00:00Z'));
    expect(first.getUTCMinutes()).toBe(minute);
    expect(a.next(first).getTime() - first.getTime()).toBe(30 * 60_000);
  });

  it('spreads 200 schedules over at least 25 of the 30 minutes of the window', () => {
    const minutes = new Set(Array.from({ length: 200 }, (_, i) => resolved('H/30 * * * *', hashSeedOf(`clinic-${i}`, 'emr')).resolved));
    expect(minutes.size).toBeGreaterThanOrEqual(25);
  });

  it('keeps a hashed full sync within its range: H(0-29) 0 is in the first half hour after midnight', () => {
    for (let i = 0; i < 50; i++) {
      const parsed = resolved('H(0-29) 0 * * *', hashSeedOf(`clinic-${i}`, 'emr'));
      const next = parsed.next(new Date('2030-01-01T12:00:00Z'));
      expect(next.getUTCHours()).toBe(0);
      expect(next.getUTCMinutes()).toBeLessThan(30);
    }
  });

  it('has no resolved form without an H', () => {
    expect(resolved('*/30 * * * *', 'ns/emr').resolved).toBeUndefined();
  });
});

describe('parsed schedules are kept and reused', () => {
  it('hands back the same parse for the same expression, time zone and seed, and a new one when any differs', () => {
    const a = parseSchedule('H/30 * * * *', 'UTC', 'ns/a');
    expect(parseSchedule('H/30 * * * *', 'UTC', 'ns/a')).toBe(a);
    expect(parseSchedule('H/30 * * * *', 'UTC', 'ns/b')).not.toBe(a);
    expect(parseSchedule('H/30 * * * *', 'America/Toronto', 'ns/a')).not.toBe(a);
  });

  // One expression moved from date to date must answer as a fresh parse at each date would, in any
  // order (a reconcile asks about the past after the future) and across daylight saving changes.
  it.each([
    ['every half hour', '*/30 * * * *', 'UTC'],
    ['midnight in Toronto', '0 0 * * *', 'America/Toronto'],
    ['2:30 in Toronto, a time the spring change skips', '30 2 * * *', 'America/Toronto'],
    ['a hashed appointment schedule', 'H/30 * * * *', 'America/Vancouver'],
  ])('%s: the reused expression agrees with a fresh parse at every date', (_name, expression, timeZone) => {
    const dates = ['2026-03-08T06:00:00Z', '2026-11-01T05:30:00Z', '2026-03-07T23:59:59Z', '2026-11-23T17:10:00Z', '2026-03-08T06:00:00Z'];
    const reused = parseSchedule(expression, timeZone, 'ns/s');
    if (!reused.ok) throw new Error('expected a valid schedule');
    for (const at of dates) {
      const fresh = CronExpressionParser.parse(expression, { tz: timeZone, hashSeed: 'ns/s', currentDate: new Date(at) });
      expect(reused.next(new Date(at)).toISOString()).toBe(fresh.next().toDate().toISOString());
    }
  });
});
