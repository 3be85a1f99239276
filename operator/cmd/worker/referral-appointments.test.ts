import { describe, expect, it } from 'vitest';
import type { ReferralBooking } from '../../internal/ocean/referral-bookings.ts';
import { SekEncryptor } from '../../internal/sek/crypto.ts';
import { openContact, referralAppointment, referralContactBatch } from './referral-appointments.ts';

const SEK = 'site-sek-for-the-referral-tests-0001';
const sealed = (referralId: string, contact: object, batchId = referralContactBatch(referralId), site = '42') => ({
  ...new SekEncryptor(SEK, site).encryptBatch({ batchId, kind: 'patient' }, [contact]),
});
const booking = (status: ReferralBooking['status'], contact: Record<string, unknown> = {}): ReferralBooking => ({
  referralId: 'r1',
  appointmentStart: '2030-05-06T14:00:00.000Z',
  status,
  contact,
});

describe('a booked referral as the appointment a reminder is for', () => {
  const cases: [string, ReferralBooking['status'], string][] = [
    ['a booked referral is a booked appointment', 'booked', 'booked'],
    ['a referral booked again at a new date is a booked appointment at that date', 'rescheduled', 'booked'],
    ['a cancelled referral is a cancelled appointment (no reminder)', 'cancelled', 'cancelled'],
  ];
  it.each(cases)('%s', (_name, status, expected) => {
    expect(referralAppointment(booking(status))).toEqual({
      id: 'r1',
      providerId: '',
      patientId: 'r1',
      start: '2030-05-06T14:00:00.000Z',
      end: '2030-05-06T14:00:00.000Z',
      status: expected,
    });
  });
});

describe("a referral's contact", () => {
  it('opens with the site key and keeps only the phone number and the e-mail address', () => {
    const contact = sealed('r1', { phone: '+1 416 555 0101', email: 'p@example.org', name: 'Jane' });
    expect(openContact(booking('booked', contact), SEK, '42')).toEqual({ phone: '+1 416 555 0101', email: 'p@example.org' });
  });
  const refused: [string, Record<string, unknown>][] = [
    ["refuses another referral's contact moved onto this one", sealed('r2', { phone: '+1 416 555 0102' })],
    ["refuses another site's contact", sealed('r1', { phone: '+1 416 555 0103' }, referralContactBatch('r1'), '43')],
  ];
  it.each(refused)('%s', (_name, contact) => {
    expect(() => openContact(booking('booked', contact), SEK, '42')).toThrow(/batch|site/);
  });
});
