import { describe, expect, it } from 'vitest';
import { syncWindow } from './sync-window.ts';

const TORONTO = 'America/Toronto';

describe('syncWindow', () => {
  it.each([
    // name, now, days, zone, from, to
    [
      'at 23:30 in Toronto (04:30 UTC the next day) picks the Toronto day, not the UTC one',
      '2026-12-02T04:30:00Z',
      1,
      TORONTO,
      '2026-12-01T05:00:00.000Z',
      '2026-12-02T05:00:00.000Z',
    ],
    [
      'at 00:00 in Toronto the new day has begun',
      '2026-12-02T05:00:00Z',
      1,
      TORONTO,
      '2026-12-02T05:00:00.000Z',
      '2026-12-03T05:00:00.000Z',
    ],
    [
      'one minute before midnight in Toronto is still the old day',
      '2026-12-02T04:59:00Z',
      1,
      TORONTO,
      '2026-12-01T05:00:00.000Z',
      '2026-12-02T05:00:00.000Z',
    ],
    [
      'with 7 days in Toronto covers seven local days',
      '2026-12-02T04:30:00Z',
      7,
      TORONTO,
      '2026-12-01T05:00:00.000Z',
      '2026-12-08T05:00:00.000Z',
    ],
    [
      'on the spring-forward day in Toronto is 23 hours long',
      '2026-03-08T12:00:00Z',
      1,
      TORONTO,
      '2026-03-08T05:00:00.000Z',
      '2026-03-09T04:00:00.000Z',
    ],
    [
      'in the spring-forward hour itself (03:30 EDT) picks that day',
      '2026-03-08T07:30:00Z',
      1,
      TORONTO,
      '2026-03-08T05:00:00.000Z',
      '2026-03-09T04:00:00.000Z',
    ],
    [
      'on the fall-back day in Toronto is 25 hours long',
      '2026-11-01T12:00:00Z',
      1,
      TORONTO,
      '2026-11-01T04:00:00.000Z',
      '2026-11-02T05:00:00.000Z',
    ],
    [
      'in the repeated hour of the fall-back day (second 01:30) picks that day',
      '2026-11-01T06:30:00Z',
      1,
      TORONTO,
      '2026-11-01T04:00:00.000Z',
      '2026-11-02T05:00:00.000Z',
    ],
    [
      'with 7 days across the spring-forward day in Toronto is 167 hours long',
      '2026-03-05T15:00:00Z',
      7,
      TORONTO,
      '2026-03-05T05:00:00.000Z',
      '2026-03-12T04:00:00.000Z',
    ],
    ['for a site in UTC is the UTC day', '2026-12-01T23:30:00Z', 1, 'UTC', '2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z'],
    [
      'for a site in UTC with 7 days is seven UTC days',
      '2026-12-01T23:30:00Z',
      7,
      'UTC',
      '2026-12-01T00:00:00.000Z',
      '2026-12-08T00:00:00.000Z',
    ],
    [
      'in Auckland (UTC+13 in summer) is already tomorrow while UTC is at noon',
      '2026-12-01T12:00:00Z',
      1,
      'Pacific/Auckland',
      '2026-12-01T11:00:00.000Z',
      '2026-12-02T11:00:00.000Z',
    ],
    [
      'in Auckland on its spring-forward day (27 September 2026) is 23 hours long',
      '2026-09-27T00:00:00Z',
      1,
      'Pacific/Auckland',
      '2026-09-26T12:00:00.000Z',
      '2026-09-27T11:00:00.000Z',
    ],
    [
      'in Auckland with 7 days across its fall-back day (5 April 2026) is 169 hours long',
      '2026-04-01T00:00:00Z',
      7,
      'Pacific/Auckland',
      '2026-03-31T11:00:00.000Z',
      '2026-04-07T12:00:00.000Z',
    ],
    ['counts a day count below 1 as one day', '2026-12-02T04:30:00Z', 0, TORONTO, '2026-12-01T05:00:00.000Z', '2026-12-02T05:00:00.000Z'],
  ])('%s', (_name, now, days, zone, from, to) => {
    const window = syncWindow(new Date(now), days, zone);
    expect({ from: window.from.toISOString(), to: window.to.toISOString() }).toEqual({ from, to });
  });
});
