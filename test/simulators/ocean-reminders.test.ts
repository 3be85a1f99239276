// The Ocean simulator's reminder API (our design) is never more forgiving than a real delivery
// service: strict bodies, and no deduplication by reminderKey (a client must look its key up first).
import { describe, expect, it } from 'vitest';
import type { Ctx } from './common.ts';
import { parseReminder, ReminderOutbox } from './ocean-reminders.ts';

const NOW = new Date('2030-05-05T16:00:00Z');
const TEMPLATES = ['appointment-reminder'];
const valid = {
  reminderKey: 'rem-abcdefghijklmnopqrstuvwxyz012345',
  channel: 'SMS',
  templateId: 'appointment-reminder',
  recipient: { phone: '613-555-0142' },
  appointment: { start: '2030-05-06T13:00:00.000Z', timeZone: 'America/Toronto' },
  offsetMinutes: 1440,
};

function refusal(body: unknown): { status?: number; reply?: unknown } {
  try {
    parseReminder(body, TEMPLATES, NOW);
  } catch (error) {
    return error as { status?: number; reply?: unknown };
  }
  return {};
}

describe('parseReminder', () => {
  it('accepts a reminder with exactly the documented fields', () => {
    expect(parseReminder(valid, TEMPLATES, NOW)).toEqual(valid);
  });
  it.each([
    ['refuses an unknown field', { ...valid, patientName: 'x' }, /unknown field/],
    ['refuses a missing field', { ...valid, offsetMinutes: undefined }, /lacks offsetMinutes/],
    ['refuses a key of another shape', { ...valid, reminderKey: 'appointment-41' }, /reminderKey/],
    ['refuses an unknown channel', { ...valid, channel: 'Fax' }, /channel/],
    ['refuses an SMS without a phone number', { ...valid, recipient: { email: 'a@example.invalid' } }, /unknown field|lacks phone/],
    ['refuses an e-mail reminder with a phone number', { ...valid, channel: 'Email' }, /unknown field|lacks email/],
    ['refuses a phone number that is not one', { ...valid, recipient: { phone: 'call me' } }, /phone number/],
    ['refuses an unknown template', { ...valid, templateId: 'nope' }, /templateId/],
    ['refuses a start without an offset', { ...valid, appointment: { ...valid.appointment, start: '2030-05-06T09:00:00' } }, /instant/],
    ['refuses a start in the past', { ...valid, appointment: { ...valid.appointment, start: '2030-05-05T15:00:00Z' } }, /past/],
    ['refuses an unknown zone', { ...valid, appointment: { ...valid.appointment, timeZone: 'Mars/Olympus' } }, /time zone/],
    ['refuses an offset of zero', { ...valid, offsetMinutes: 0 }, /offsetMinutes/],
    ['refuses an offset over 30 days', { ...valid, offsetMinutes: 43_201 }, /offsetMinutes/],
  ])('%s', (_name, body, message) => {
    const error = refusal(body);
    expect(error.status).toBe(400);
    expect(JSON.stringify(error.reply)).toMatch(message);
  });
});

describe('ReminderOutbox', () => {
  const ctx = (body: unknown, query = '') =>
    ({ json: () => body, url: new URL(`http://ocean/svc/v1/sites/1/reminders${query}`) }) as unknown as Ctx;

  it('records the same key twice as two deliveries (no deduplication) and finds both by key, without the recipient', () => {
    const outbox = new ReminderOutbox(() => NOW);
    outbox.create('1', ctx(valid));
    outbox.create('1', ctx(valid));
    expect(outbox.withKey(valid.reminderKey)).toHaveLength(2);
    const found = outbox.find('1', ctx(undefined, `?reminderKey=${valid.reminderKey}`)).json.reminders;
    expect(found).toHaveLength(2);
    expect(JSON.stringify(found)).not.toContain('613-555-0142');
    expect(outbox.find('2', ctx(undefined, `?reminderKey=${valid.reminderKey}`)).json.reminders).toHaveLength(0);
  });

  it('suppresses a delivery to a phone number that opted out, whatever its punctuation', () => {
    const outbox = new ReminderOutbox(() => NOW);
    outbox.optOut('(613) 555 0142');
    expect(outbox.create('1', ctx(valid)).json).toMatchObject({ status: 'suppressed', reason: 'RecipientOptedOut' });
  });
});
