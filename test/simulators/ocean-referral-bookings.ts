// Booked eReferral dates of a site (seed 004: appointment reminders "based on booked eReferral
// dates" for sites without an integrated EMR). Ocean publishes no API for it: the shape is OUR
// DESIGN, kept as strict as a real service's:
//   GET /svc/v1/sites/{siteNumber}/referrals/booked?from=<instant>&to=<instant>   Bearer →
//       200 {referrals: [{referralId, appointmentStart, status: booked|cancelled|rescheduled, contact}]}
//       every referral of the site whose appointment starts in [from, to); `rescheduled` is a
//       referral booked again at a new date (appointmentStart is the new one), `cancelled` keeps the
//       date it had. `contact` is the patient's {phone?, email?} as Ocean stores PHI: encrypted with
//       the site's SEK, one envelope of the project's format (operator/internal/sek/crypto.ts) with
//       kind `patient` and batch id `referral/<referralId>`; Ocean never holds it in the clear, so
//       the simulator stores the envelope as given and never decrypts it.
// Exactly the parameters from and to (ISO 8601 instants with an offset), from before to, a window of
// at most 62 days; anything else is 400.
import { type Ctx, invalidRequest } from './common.ts';

export type ReferralBookingStatus = 'booked' | 'cancelled' | 'rescheduled';

export interface ReferralBooking {
  referralId: string;
  appointmentStart: string;
  status: ReferralBookingStatus;
  /** The SEK envelope of the patient's contact, opaque to Ocean. */
  contact: Record<string, unknown>;
}

const MAX_WINDOW_MS = 62 * 86_400_000;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function instantParam(ctx: Ctx, name: string): number {
  const value = ctx.url.searchParams.getAll(name);
  if (value.length !== 1 || !INSTANT.test(value[0] ?? '') || Number.isNaN(Date.parse(value[0] ?? '')))
    throw invalidRequest(`${name} must be one ISO 8601 instant with an offset`);
  return Date.parse(value[0] ?? '');
}

/** The site's booked referral dates, as tests set them, and the route's handler. */
export class ReferralBookings {
  private readonly bySite = new Map<string, ReferralBooking[]>();

  /** Books (or, same referral id, replaces) a referral's appointment. */
  book(siteNumber: string, booking: ReferralBooking): void {
    const list = (this.bySite.get(siteNumber) ?? []).filter((b) => b.referralId !== booking.referralId);
    this.bySite.set(siteNumber, [...list, { ...booking }]);
  }

  /** Forgets every booking of the site (tests). */
  clear(siteNumber: string): void {
    this.bySite.delete(siteNumber);
  }

  /** The clinic cancelled the referral's appointment. */
  cancel(siteNumber: string, referralId: string): void {
    for (const b of this.bySite.get(siteNumber) ?? []) if (b.referralId === referralId) b.status = 'cancelled';
  }

  /** The referral's appointment moved to `start`. */
  reschedule(siteNumber: string, referralId: string, start: string): void {
    for (const b of this.bySite.get(siteNumber) ?? [])
      if (b.referralId === referralId) Object.assign(b, { status: 'rescheduled', appointmentStart: start });
  }

  list(siteNumber: string, ctx: Ctx) {
    const unknown = [...ctx.url.searchParams.keys()].filter((k) => k !== 'from' && k !== 'to');
    if (unknown.length > 0) throw invalidRequest(`unknown query parameter(s) ${[...new Set(unknown)].join(', ')}`);
    const from = instantParam(ctx, 'from');
    const to = instantParam(ctx, 'to');
    if (from >= to) throw invalidRequest('from must be before to');
    if (to - from > MAX_WINDOW_MS) throw invalidRequest('the window may be at most 62 days');
    const referrals = (this.bySite.get(siteNumber) ?? []).filter((b) => {
      const start = Date.parse(b.appointmentStart);
      return start >= from && start < to;
    });
    return { json: { referrals } };
  }
}
