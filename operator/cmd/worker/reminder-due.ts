// Pure: which reminders a run sends at time `now`, for the appointments it listed. A reminder is one
// (appointment, offset): due from `start − offset` until the appointment starts. Only the due
// reminder nearest the appointment is sent (after a pause the 72 h reminder is not sent 3 hours
// before the visit together with the 24 h one; it is `superseded`). Cancelled and no-longer-booked
// appointments get none. During quiet hours a due reminder is `deferred` to the end of the window
// (the first run at or after it sends it, if it is still due then). Each reminder has a key from the
// site, the appointment id, its start and the offset: a rescheduled appointment gets new keys, so
// reminders for its new time, and the keys of its old time are never sent again (no stale reminder).
import { createHash } from 'node:crypto';
import type { Appointment } from '../../internal/emr/adapter.ts';
import { type QuietHours, quietUntil } from './quiet-hours.ts';

export interface ReminderPlanInput {
  appointments: readonly Appointment[];
  /** Offsets in ms (72 h, 24 h), any order. */
  offsetsMs: readonly number[];
  /** Only these providers' appointments; empty or absent: all. */
  providerIds?: readonly string[] | undefined;
  quietHours?: QuietHours | undefined;
  timeZone: string;
  siteNumber: string;
  now: Date;
}

export type ReminderDecision =
  | { action: 'send'; appointment: Appointment; offsetMs: number; key: string }
  | { action: 'deferred'; appointment: Appointment; offsetMs: number; key: string; until: Date }
  | { action: 'superseded'; appointment: Appointment; offsetMs: number; key: string };

/** Statuses that still expect the patient; others (cancelled, no-show, arrived, fulfilled, unknown) get no reminder. */
const REMINDABLE = new Set(['booked']);

/** The reminder's durable key: a hash of (site, appointment id, start, offset); no PHI, stable across runs and restarts. */
export function reminderKey(siteNumber: string, appointment: Pick<Appointment, 'id' | 'start'>, offsetMs: number): string {
  const start = new Date(appointment.start).toISOString();
  const digest = createHash('sha256').update(`${siteNumber}\n${appointment.id}\n${start}\n${offsetMs}`).digest('base64url');
  return `rem-${digest.slice(0, 32)}`;
}

/** The longest offset: how far ahead a run lists appointments. */
export function lookaheadMs(offsetsMs: readonly number[]): number {
  return Math.max(0, ...offsetsMs);
}

/** The offsets due for an appointment at `now`, nearest to the appointment first. */
function dueOffsets(appointment: Appointment, offsetsMs: readonly number[], now: Date): number[] {
  const start = new Date(appointment.start).getTime();
  if (Number.isNaN(start) || start <= now.getTime()) return [];
  return [...new Set(offsetsMs)].filter((offset) => now.getTime() >= start - offset).sort((a, b) => a - b);
}

export function planReminders(input: ReminderPlanInput): ReminderDecision[] {
  const { now, siteNumber } = input;
  const providers = input.providerIds && input.providerIds.length > 0 ? new Set(input.providerIds) : undefined;
  const quiet = quietUntil(now, input.quietHours, input.timeZone);
  const out: ReminderDecision[] = [];
  for (const appointment of input.appointments) {
    if (!REMINDABLE.has(appointment.status)) continue;
    if (providers && !providers.has(appointment.providerId)) continue;
    const [nearest, ...older] = dueOffsets(appointment, input.offsetsMs, now);
    if (nearest === undefined) continue;
    const key = reminderKey(siteNumber, appointment, nearest);
    out.push(
      quiet
        ? { action: 'deferred', appointment, offsetMs: nearest, key, until: quiet }
        : { action: 'send', appointment, offsetMs: nearest, key },
    );
    for (const offset of older)
      out.push({ action: 'superseded', appointment, offsetMs: offset, key: reminderKey(siteNumber, appointment, offset) });
  }
  return out;
}

/** Is the appointment still as planned right before the send: listed again, same start, still booked? */
export function stillDue(planned: Appointment, current: readonly Appointment[]): boolean {
  const now = current.find((a) => a.id === planned.id);
  return now !== undefined && REMINDABLE.has(now.status) && new Date(now.start).getTime() === new Date(planned.start).getTime();
}
