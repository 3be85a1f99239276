// The booked eReferral dates Ocean holds for a site without an integrated EMR (seed 004: reminders
// "based on booked eReferral dates"). The API is our design (Ocean publishes none; see
// test/simulators/ocean-referral-bookings.ts):
//   GET svc/v1/sites/{site}/referrals/booked?from=&to=  → {referrals: [{referralId, appointmentStart, status, contact}]}
// `contact` stays the SEK envelope Ocean stores: it is decrypted only for a reminder that is due.
import { Reader } from '../httpx/json-reader.ts';
import type { OceanClient } from './client.ts';

export type ReferralBookingStatus = 'booked' | 'cancelled' | 'rescheduled';

export interface ReferralBooking {
  referralId: string;
  appointmentStart: string;
  status: ReferralBookingStatus;
  /** The patient's contact, encrypted with the site's SEK (kind patient, batch id referral/<referralId>). */
  contact: Record<string, unknown>;
}

const STATUSES: readonly string[] = ['booked', 'cancelled', 'rescheduled'];

function booking(read: Reader, value: unknown): ReferralBooking {
  const o = read.object(value, 'referral');
  const status = read.string(o['status'], 'status');
  if (!STATUSES.includes(status)) throw read.fail('status', 'booked, cancelled or rescheduled');
  return {
    referralId: read.id(o['referralId'], 'referralId'),
    appointmentStart: read.instant(o['appointmentStart'], 'appointmentStart').toISOString(),
    status: status as ReferralBookingStatus,
    contact: read.object(o['contact'], 'contact'),
  };
}

export class OceanReferralBookings {
  private readonly client: Pick<OceanClient, 'siteCall'>;

  constructor(client: Pick<OceanClient, 'siteCall'>) {
    this.client = client;
  }

  /** The site's referrals whose appointment starts in [from, to), whatever their status. */
  async list(from: Date, to: Date): Promise<ReferralBooking[]> {
    const read = new Reader('Ocean', 'GET referrals/booked');
    const query = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
    const body = await this.client.siteCall('GET', `referrals/booked?${query}`);
    if (body === undefined) throw read.fail('referrals', 'an answer');
    return read.array(read.object(body, 'answer')['referrals'], 'referrals').map((r) => booking(read, r));
  }
}
