// Pure cron decisions for SyncSchedules (cron-parser), with the clock passed in.
import { CronExpressionParser } from 'cron-parser';
import { isKnownTimeZone } from '../../runtime/time-zone.ts';

export type ParsedSchedule =
  | { ok: true; next: (after: Date) => Date }
  | { ok: false; reason: 'InvalidSchedule' | 'InvalidTimeZone'; message: string };

export function parseSchedule(schedule: string, timeZone: string): ParsedSchedule {
  if (!isKnownTimeZone(timeZone)) {
    return {
      ok: false,
      reason: 'InvalidTimeZone',
      message: `spec.timeZone ${JSON.stringify(timeZone)} is not a time zone known to the operator's tz database`,
    };
  }
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) {
    return { ok: false, reason: 'InvalidSchedule', message: `spec.schedule must have 5 fields, it has ${fields.length}` };
  }
  try {
    CronExpressionParser.parse(schedule, { tz: timeZone, currentDate: new Date(0) }).next();
  } catch (error) {
    return {
      ok: false,
      reason: 'InvalidSchedule',
      message: `spec.schedule ${JSON.stringify(schedule)} is not a valid cron expression: ${(error as Error).message}`,
    };
  }
  return {
    ok: true,
    next: (after: Date) => CronExpressionParser.parse(schedule, { tz: timeZone, currentDate: after }).next().toDate(),
  };
}
