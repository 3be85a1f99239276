// Ocean's patient reminder delivery (seed 004: "automated Patient Reminders and Patient Alerts ...
// delivered to the patient on a scheduled basis"). The API is our design (Ocean publishes none; see
// test/simulators/ocean-reminders.ts):
//   GET  svc/v1/sites/{site}/reminders?reminderKey=K   the deliveries Ocean holds under our key
//   POST svc/v1/sites/{site}/reminders                 one delivery → 201 {id, status: queued|suppressed, reason?}
// Ocean does NOT deduplicate by reminderKey (no real service promises that here): the worker looks up
// the key before each send, so the delivery Ocean holds is the durable record of "sent".
import { Reader } from '../httpx/json-reader.ts';
import type { OceanClient } from './client.ts';

export interface ReminderRequest {
  /** Our key for (site, appointment, start, offset): no PHI. */
  reminderKey: string;
  channel: 'SMS' | 'Email';
  templateId: string;
  /** The one contact the channel needs (the phone number for SMS, the address for Email). */
  recipient: { phone: string } | { email: string };
  appointment: { start: string; timeZone: string };
  offsetMinutes: number;
}

export interface ReminderDelivery {
  id: string;
  status: 'queued' | 'suppressed';
  /** Why Ocean suppressed it (RecipientOptedOut). */
  reason?: string;
}

function delivery(body: unknown, what: string): ReminderDelivery {
  const read = new Reader('Ocean', what);
  const o = read.object(body, 'reminder');
  const status = read.string(o['status'], 'status');
  if (status !== 'queued' && status !== 'suppressed') throw read.fail('status', 'queued or suppressed');
  const reason = o['reason'] === undefined ? undefined : read.string(o['reason'], 'reason');
  return { id: read.id(o['id'], 'id'), status, ...(reason ? { reason } : {}) };
}

export class OceanReminders {
  private readonly client: Pick<OceanClient, 'siteCall'>;

  constructor(client: Pick<OceanClient, 'siteCall'>) {
    this.client = client;
  }

  /** The deliveries Ocean already holds under this key (normally none or one). */
  async find(reminderKey: string): Promise<ReminderDelivery[]> {
    const what = 'GET reminders';
    const body = await this.client.siteCall('GET', `reminders?reminderKey=${encodeURIComponent(reminderKey)}`);
    const read = new Reader('Ocean', what);
    if (body === undefined) throw read.fail('reminders', 'an answer');
    return read.array(read.object(body, 'answer')['reminders'], 'reminders').map((r) => delivery(r, what));
  }

  async send(request: ReminderRequest): Promise<ReminderDelivery> {
    return delivery(await this.client.siteCall('POST', 'reminders', request), 'POST reminders');
  }
}
