import { describe, expect, it } from 'vitest';
import { Reader } from './json-reader.ts';

const read = new Reader('EMR', 'GET /appointments');

describe('Reader date-times', () => {
  it.each([
    ['reads a wall-clock time without an offset in the given zone', '2030-05-06T09:00:00', 'America/Toronto', '2030-05-06T13:00:00.000Z'],
    ['reads a wall-clock time without seconds in the given zone', '2030-01-06T09:00', 'America/Toronto', '2030-01-06T14:00:00.000Z'],
    ['keeps a time with Z as that instant, whatever the zone', '2030-05-06T09:00:00Z', 'America/Toronto', '2030-05-06T09:00:00.000Z'],
    [
      'keeps a time with an offset as that instant, whatever the zone',
      '2030-05-06T09:00:00+12:00',
      'America/Toronto',
      '2030-05-05T21:00:00.000Z',
    ],
    ['keeps fractional seconds of a wall-clock time out of the way', '2030-05-06T09:00:00.250', 'UTC', '2030-05-06T09:00:00.000Z'],
  ])('%s', (_name, text, zone, expected) => {
    expect(read.zonedDateTime(text, 'start', zone).toISOString()).toBe(expected);
  });

  it.each([
    ['refuses a date without a time', '2030-05-06'],
    ['refuses an hour past 23', '2030-05-06T24:30:00'],
    ['refuses words', 'tomorrow at nine'],
    ['refuses a day the calendar does not have (31 April)', '2030-04-31T09:00:00'],
    ['refuses a thirteenth month', '2030-13-01T09:00:00'],
  ])('%s, naming the field and not the value', (_name, text) => {
    expect(() => read.zonedDateTime(text, 'start', 'UTC')).toThrow(/field start is not a date-time$/);
  });

  it.each([
    ['reads an OSCAR/Accuro date and time of day in the given zone', '2030-05-06', '09:30', 'Pacific/Auckland', '2030-05-05T21:30:00.000Z'],
    [
      'reads a time in the skipped spring-forward hour as the hour after it',
      '2030-03-10',
      '02:30:00',
      'America/Toronto',
      '2030-03-10T07:30:00.000Z',
    ],
  ])('%s', (_name, date, time, zone, expected) => {
    expect(read.localDateTime(date, time, 'start', zone).toISOString()).toBe(expected);
  });

  it.each([
    ['refuses a time of day past 23:59', '2030-05-06', '25:00', /field start is not a date and a time of day$/],
    ['refuses a minute 60', '2030-05-06', '09:60', /field start is not a date and a time of day$/],
    ['refuses 29 February of a common year', '2030-02-29', '09:00', /field start is not a date and a time of day$/],
    ['refuses a time of day that is not HH:mm[:ss]', '2030-05-06', '9h30', /field start time is not a time of day/],
  ])('%s', (_name, date, time, message) => {
    expect(() => read.localDateTime(date, time, 'start', 'UTC')).toThrow(message);
  });
});
