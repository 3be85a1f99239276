import { describe, expect, it } from 'vitest';
import { type Ctx, SimHttpError } from './common.ts';
import { ReferralBookings } from './ocean-referral-bookings.ts';

const ctxOf = (query: string) => ({ url: new URL(`https://ocean.test/svc/v1/sites/1/referrals/booked?${query}`) }) as unknown as Ctx;
const bookings = new ReferralBookings();
bookings.book('1', { referralId: 'r1', appointmentStart: '2030-05-06T14:00:00Z', status: 'booked', contact: { v: 1 } });
bookings.book('1', { referralId: 'r2', appointmentStart: '2030-05-08T14:00:00Z', status: 'booked', contact: { v: 1 } });
bookings.book('2', { referralId: 'r3', appointmentStart: '2030-05-06T15:00:00Z', status: 'booked', contact: { v: 1 } });

describe("the Ocean simulator's booked referral dates", () => {
  it("lists the site's referrals starting in [from, to) only", () => {
    const { json } = bookings.list('1', ctxOf('from=2030-05-06T00:00:00Z&to=2030-05-07T00:00:00Z'));
    expect(json.referrals.map((r) => r.referralId)).toEqual(['r1']);
  });
  const refused: [string, string, RegExp][] = [
    ['refuses a window without from', 'to=2030-05-07T00:00:00Z', /from must be/],
    ['refuses a date without a time', 'from=2030-05-06&to=2030-05-07T00:00:00Z', /from must be/],
    ['refuses from twice', 'from=2030-05-06T00:00:00Z&from=2030-05-05T00:00:00Z&to=2030-05-07T00:00:00Z', /from must be one/],
    ['refuses an unknown parameter', 'from=2030-05-06T00:00:00Z&to=2030-05-07T00:00:00Z&status=booked', /unknown query parameter/],
    ['refuses from after to', 'from=2030-05-07T00:00:00Z&to=2030-05-06T00:00:00Z', /before to/],
    ['refuses a window over 62 days', 'from=2030-01-01T00:00:00Z&to=2030-05-06T00:00:00Z', /62 days/],
  ];
  it.each(refused)('%s', (_name, query, message) => {
    let error: unknown;
    try {
      bookings.list('1', ctxOf(query));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SimHttpError);
    const { status, json } = (error as SimHttpError).reply as { status: number; json: { message: string } };
    expect(status).toBe(400);
    expect(json.message).toMatch(message);
  });
});
