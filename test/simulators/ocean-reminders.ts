// Ocean's patient reminder delivery (seed 004: "automated Patient Reminders and Patient Alerts ...
// delivered to the patient on a scheduled basis"). Ocean publishes no API for it: the shape is OUR
// DESIGN, kept as strict as a real service's:
//   POST /svc/v1/sites/{siteNumber}/reminders   Bearer; one delivery →
//        201 {id, reminderKey, status: 'queued'} or, for a recipient who opted out of Ocean's
//        messages (replied STOP), 201 {id, reminderKey, status: 'suppressed', reason: 'RecipientOptedOut'}
//        body {reminderKey, channel: SMS|Email, templateId, recipient: {phone}|{email},
//              appointment: {start (ISO 8601 instant), timeZone}, offsetMinutes}; exactly these fields
//   GET  /svc/v1/sites/{siteNumber}/reminders?reminderKey=K → 200 {reminders: [{id, reminderKey, status, reason?, createdAt}]}
//        (never the recipient)
// Ocean does NOT deduplicate: the same reminderKey posted twice is two deliveries, both recorded (a
// client must look up its key before sending; tests count deliveries per key). Fault `loseAnswers`:
// a delivery is stored and answered 504, as behind a gateway that gave up waiting. Unknown fields, a
// key that is not `rem-` + 16 to 64 url-safe characters, a channel without its contact kind (SMS
// needs a phone number, Email an address), an unknown template id, a start that is not an instant
// or is in the past, a zone the runtime does not know, an offset outside 1 minute to 30 days are 400.
import { type Ctx, exactKeys, invalidRequest, SimHttpError } from './common.ts';

export interface ReminderInput {
  reminderKey: string;
  channel: 'SMS' | 'Email';
  templateId: string;
  recipient: { phone: string } | { email: string };
  appointment: { start: string; timeZone: string };
  offsetMinutes: number;
}

export interface StoredReminder extends ReminderInput {
  id: string;
  siteNumber: string;
  status: 'queued' | 'suppressed';
  reason?: 'RecipientOptedOut';
  createdAt: string;
}

/** Template ids the simulated site has (Menu > Admin > Patient Messaging); tests may add more. */
const DEFAULT_REMINDER_TEMPLATES = ['appointment-reminder', 'appointment-reminder-fr'];

const FIELDS = ['reminderKey', 'channel', 'templateId', 'recipient', 'appointment', 'offsetMinutes'];

function recipient(value: unknown, channel: ReminderInput['channel']): ReminderInput['recipient'] {
  if (channel === 'SMS') {
    const phone = exactKeys(value, ['phone'], 'recipient')['phone'];
    if (typeof phone !== 'string' || !/^\+?[0-9][0-9 ().-]{6,24}$/.test(phone))
      throw invalidRequest('recipient.phone is not a phone number');
    return { phone };
  }
  const email = exactKeys(value, ['email'], 'recipient')['email'];
  if (typeof email !== 'string' || !/^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{2,}$/.test(email))
    throw invalidRequest('recipient.email is not an e-mail address');
  return { email };
}

function appointment(value: unknown, now: Date): ReminderInput['appointment'] {
  const a = exactKeys(value, ['start', 'timeZone'], 'appointment');
  const start = a['start'];
  if (
    typeof start !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(start) ||
    Number.isNaN(Date.parse(start))
  )
    throw invalidRequest('appointment.start must be an ISO 8601 instant with an offset');
  if (Date.parse(start) <= now.getTime()) throw invalidRequest('appointment.start is in the past');
  const timeZone = a['timeZone'];
  try {
    if (typeof timeZone !== 'string') throw new Error();
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    throw invalidRequest('appointment.timeZone is not an IANA time zone');
  }
  return { start, timeZone: timeZone as string };
}

/** The reminder in a request body, or a 400 naming what is wrong (never the value). */
export function parseReminder(body: unknown, templates: readonly string[], now: Date): ReminderInput {
  const r = exactKeys(body, FIELDS, 'the reminder');
  const key = r['reminderKey'];
  if (typeof key !== 'string' || !/^rem-[A-Za-z0-9_-]{16,64}$/.test(key))
    throw invalidRequest('reminderKey must be rem- and 16 to 64 url-safe characters');
  const channel = r['channel'];
  if (channel !== 'SMS' && channel !== 'Email') throw invalidRequest('channel must be SMS or Email');
  const templateId = r['templateId'];
  if (typeof templateId !== 'string' || !templates.includes(templateId)) throw invalidRequest('templateId is not a template of this site');
  const offset = r['offsetMinutes'];
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 1 || offset > 43_200)
    throw invalidRequest('offsetMinutes must be an integer from 1 to 43200');
  return {
    reminderKey: key,
    channel,
    templateId,
    recipient: recipient(r['recipient'], channel),
    appointment: appointment(r['appointment'], now),
    offsetMinutes: offset,
  };
}

const contactOf = (r: ReminderInput['recipient']): string => ('phone' in r ? r.phone.replace(/[^0-9]/g, '') : r.email.toLowerCase());

/** The site's reminder deliveries, opt-outs and templates, with the routes' handlers; `now` is the simulator's clock. */
export class ReminderOutbox {
  readonly delivered: StoredReminder[] = [];
  readonly templates: string[] = [...DEFAULT_REMINDER_TEMPLATES];
  private readonly optedOut = new Set<string>();
  /**
   * Fault: this many next deliveries are stored and then answered 504, as a gateway that timed out
   * after the service accepted the request does (the client cannot tell it was delivered).
   */
  loseAnswers = 0;
  private next = 1;
  private readonly now: () => Date;

  constructor(now: () => Date) {
    this.now = now;
  }

  /** The patient replied STOP: Ocean suppresses every later reminder to this phone number or address. */
  optOut(contact: string): void {
    this.optedOut.add(contact.includes('@') ? contact.toLowerCase() : contact.replace(/[^0-9]/g, ''));
  }

  /** Deliveries posted under this key (more than one means the client sent it twice). */
  withKey(reminderKey: string): StoredReminder[] {
    return this.delivered.filter((d) => d.reminderKey === reminderKey);
  }

  create(siteNumber: string, ctx: Ctx) {
    const input = parseReminder(ctx.json(), this.templates, this.now());
    const suppressed = this.optedOut.has(contactOf(input.recipient));
    const stored: StoredReminder = {
      ...input,
      id: `rem-${this.next++}`,
      siteNumber,
      status: suppressed ? 'suppressed' : 'queued',
      ...(suppressed ? { reason: 'RecipientOptedOut' as const } : {}),
      createdAt: this.now().toISOString(),
    };
    this.delivered.push(stored);
    if (this.loseAnswers > 0) {
      this.loseAnswers--;
      throw new SimHttpError(504, { error: 'gateway_timeout', message: 'the upstream did not answer in time' });
    }
    return { status: 201, json: publicView(stored) };
  }

  find(siteNumber: string, ctx: Ctx) {
    const key = ctx.url.searchParams.get('reminderKey');
    if (!key || !/^rem-[A-Za-z0-9_-]{16,64}$/.test(key)) throw invalidRequest('the reminderKey query parameter is required');
    return { json: { reminders: this.delivered.filter((d) => d.siteNumber === siteNumber && d.reminderKey === key).map(publicView) } };
  }
}

/** What Ocean answers about a delivery: never the recipient. */
function publicView(r: StoredReminder): Record<string, unknown> {
  return { id: r.id, reminderKey: r.reminderKey, status: r.status, ...(r.reason ? { reason: r.reason } : {}), createdAt: r.createdAt };
}
