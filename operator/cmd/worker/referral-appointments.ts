// A site without an integrated EMR: its booked eReferral dates in Ocean stand in for the EMR's
// appointments, so the reminders run (reminders.ts) is the same one — plan, still due, quiet hours,
// look-up before send. The referral is the appointment (its id, its date; `rescheduled` is booked at
// its new date, whose new start gives new reminder keys); its "patient" is only the contact, which
// stays the SEK envelope Ocean holds until a reminder for it is actually due (getPatient), and is
// decrypted then with the site's SEK, read at the first such need (a run with nothing due reads no key).
import type { Appointment, EmrAdapter, Patient } from '../../internal/emr/adapter.ts';
import type { ReferralBooking } from '../../internal/ocean/referral-bookings.ts';
import { decryptBatch } from '../../internal/sek/crypto.ts';
import { WorkerError } from '../../internal/sitepod/pod-env.ts';

/** A referral's appointment as the reminders run reads appointments: no provider, the referral as the patient. */
export function referralAppointment(booking: ReferralBooking): Appointment {
  return {
    id: booking.referralId,
    providerId: '',
    patientId: booking.referralId,
    start: booking.appointmentStart,
    end: booking.appointmentStart,
    status: booking.status === 'cancelled' ? 'cancelled' : 'booked',
  };
}

/** The batch id the contact of a referral is sealed under (with kind `patient`). */
export const referralContactBatch = (referralId: string): string => `referral/${referralId}`;

/** The decrypted contact of one referral: only a phone number and an e-mail address are read from it. */
export function openContact(booking: ReferralBooking, sek: string, siteNumber: string): Pick<Patient, 'phone' | 'email'> {
  const { records } = decryptBatch(booking.contact, sek, siteNumber, {
    batchId: referralContactBatch(booking.referralId),
    kind: 'patient',
  });
  const contact = records[0] as { phone?: unknown; email?: unknown } | undefined;
  return {
    ...(typeof contact?.phone === 'string' ? { phone: contact.phone } : {}),
    ...(typeof contact?.email === 'string' ? { email: contact.email } : {}),
  };
}

export interface ReferralSourceInput {
  bookings: { list(from: Date, to: Date): Promise<ReferralBooking[]> };
  /** The site's current SEK (called once, at the first due reminder). */
  sek: () => Promise<string>;
  siteNumber: string;
}

/** The EMR-shaped source of a non-integrated site's reminders run. */
export function referralSource(input: ReferralSourceInput): Pick<EmrAdapter, 'listAppointments' | 'getPatient'> {
  const seen = new Map<string, ReferralBooking>();
  let key: Promise<string> | undefined;
  return {
    async listAppointments(from: Date, to: Date) {
      const bookings = await input.bookings.list(from, to);
      for (const b of bookings) seen.set(b.referralId, b);
      return bookings.map(referralAppointment);
    },
    async getPatient(referralId: string) {
      const booking = seen.get(referralId);
      if (!booking) throw new Error('a contact was asked for a referral that was not listed');
      key ??= input.sek();
      try {
        return { id: referralId, firstName: '', lastName: '', birthDate: '', ...openContact(booking, await key, input.siteNumber) };
      } catch (error) {
        if (error instanceof WorkerError) throw error;
        // The envelope's reason only (wrong key, altered): never a byte of it.
        throw new WorkerError('ContactUndecryptable', "the referral's contact cannot be decrypted with the site's SEK");
      }
    },
  };
}
