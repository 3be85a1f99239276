// Pure: what a kiosk check-in (message type `checkIn`) does in the EMR, from the integration's
// settings "Mark Arrived within N hours" (`markArrivedWithinHours`) and "Walk-in" (`walkIn`); seed 000.
// No clock: the check-in instant comes from the message.
//   - An ordinary check-in marks as arrived the patient's appointments that are still `booked` and
//     START in [checkIn − 30 min, checkIn + N h): those of the next N hours, and one the patient is up
//     to 30 minutes late for. Later ones, other patients', cancelled, no-show, completed and already
//     arrived ones are never touched. N = 0 turns it off: nothing is marked.
//   - A walk-in check-in (`walkIn: true`) with walk-ins enabled creates one appointment for the
//     configured provider, appointment type and duration, starting at the check-in, and marks it
//     arrived (whatever N is: the appointment exists because the patient is there). With walk-ins
//     disabled it is refused: WalkInDisabled (dead-lettered, replayable once they are enabled).
// deliver.ts performs the plan. See operator/internal/emr/README.md "Settings × EMR: check-in".
import type { EmrSettings } from '../../api/v1alpha1/index.ts';
import type { Appointment } from '../../internal/emr/adapter.ts';

export interface CheckInSettings {
  /** 0 turns marking off. */
  markArrivedWithinHours: number;
  walkIn: { enabled: boolean; providerId?: string; appointmentType?: string; durationMinutes: number };
}

export const DEFAULT_CHECK_IN: CheckInSettings = { markArrivedWithinHours: 2, walkIn: { enabled: false, durationMinutes: 15 } };

/** How late a patient may be and still have the appointment they came for marked arrived. */
const LATE_GRACE_MS = 30 * 60_000;
const HOUR_MS = 3_600_000;

/** The check-in settings of a spec's `settings`, with the CRD's defaults (a spec read before defaulting gets the same answer). */
export function checkInSettingsOf(settings: EmrSettings | undefined): CheckInSettings {
  const w = settings?.walkIn;
  const providerId = w?.providerId?.trim();
  const appointmentType = w?.appointmentType?.trim();
  return {
    markArrivedWithinHours: settings?.markArrivedWithinHours ?? DEFAULT_CHECK_IN.markArrivedWithinHours,
    walkIn: {
      enabled: w?.enabled ?? false,
      ...(providerId ? { providerId } : {}),
      ...(appointmentType ? { appointmentType } : {}),
      durationMinutes: w?.durationMinutes ?? DEFAULT_CHECK_IN.walkIn.durationMinutes,
    },
  };
}

/** The start times whose appointments a check-in at `at` marks arrived: [at − grace, at + N h), or none when N is 0. */
export function arrivalWindow(at: Date, hours: number): { from: Date; to: Date } | undefined {
  if (!(hours > 0)) return undefined;
  return { from: new Date(at.getTime() - LATE_GRACE_MS), to: new Date(at.getTime() + hours * HOUR_MS) };
}

/** The appointments of `patientId` a check-in at `at` marks arrived, in start order. */
export function appointmentsToMarkArrived(input: {
  at: Date;
  hours: number;
  patientId: string;
  appointments: readonly Appointment[];
}): Appointment[] {
  const window = arrivalWindow(input.at, input.hours);
  if (!window) return [];
  return input.appointments
    .filter((a) => a.patientId === input.patientId && a.status === 'booked')
    .filter((a) => {
      const start = Date.parse(a.start);
      return start >= window.from.getTime() && start < window.to.getTime();
    })
    .sort((a, b) => a.start.localeCompare(b.start) || a.id.localeCompare(b.id));
}

type CheckInPlan =
  | { kind: 'markArrived'; window: { from: Date; to: Date } | undefined }
  | { kind: 'walkIn'; providerId: string; appointmentType?: string; start: Date; durationMinutes: number }
  | { kind: 'walkInDisabled' };

/** What a check-in does: mark the patient's appointments, create a walk-in, or refuse a walk-in. */
export function planCheckIn(checkIn: { at: string; walkIn?: boolean }, s: CheckInSettings): CheckInPlan {
  const at = new Date(checkIn.at);
  if (!checkIn.walkIn) return { kind: 'markArrived', window: arrivalWindow(at, s.markArrivedWithinHours) };
  if (!s.walkIn.enabled || !s.walkIn.providerId) return { kind: 'walkInDisabled' };
  return {
    kind: 'walkIn',
    providerId: s.walkIn.providerId,
    ...(s.walkIn.appointmentType ? { appointmentType: s.walkIn.appointmentType } : {}),
    start: at,
    durationMinutes: s.walkIn.durationMinutes,
  };
}
