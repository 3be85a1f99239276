// Performs a kiosk check-in in the EMR as check-in.ts plans it: marks the patient's appointments of
// the window arrived (each under its own idempotency key), or creates the walk-in appointment (the
// message's key: sent to the EMR and stored in the appointment) and marks it arrived; a walk-in with
// walk-ins disabled ends in WalkInDisabled (dead-lettered at once, replayable once they are enabled).
import type { EmrAdapter } from '../../internal/emr/adapter.ts';
import { appointmentsToMarkArrived, type CheckInSettings, planCheckIn } from './check-in.ts';
import type { OceanMessage } from './messages.ts';
import { RelayError } from './schedule.ts';

/** The key of one status change of a check-in: the message's key, suffixed (as deliver.ts's stepKeyOf does for filing steps). */
const arrivalKeyOf = (idempotencyKey: string, appointmentId?: string) =>
  appointmentId === undefined ? `${idempotencyKey}-arrived` : `${idempotencyKey}-arrived-${appointmentId}`;

export async function deliverCheckIn(
  adapter: EmrAdapter,
  message: OceanMessage,
  idempotencyKey: string,
  settings: CheckInSettings,
): Promise<{ duplicate: boolean; marked: number }> {
  if (!message.checkIn) throw new RelayError('InvalidMessage', 'checkIn is required for a checkIn');
  const patientId = message.patient.emrId;
  const plan = planCheckIn(message.checkIn, settings);
  if (plan.kind === 'walkInDisabled')
    throw new RelayError('WalkInDisabled', 'a walk-in check-in was refused: walk-ins are disabled (spec.settings.walkIn.enabled)');
  if (plan.kind === 'walkIn') {
    const created = await adapter.createAppointment({
      patientId,
      providerId: plan.providerId,
      ...(plan.appointmentType ? { appointmentType: plan.appointmentType } : {}),
      start: plan.start,
      durationMinutes: plan.durationMinutes,
      idempotencyKey,
    });
    await adapter.markArrived(created.id, arrivalKeyOf(idempotencyKey));
    return { duplicate: created.duplicate, marked: 1 };
  }
  if (!plan.window) return { duplicate: false, marked: 0 };
  const appointments = await adapter.listAppointments(plan.window.from, plan.window.to);
  const toMark = appointmentsToMarkArrived({
    at: new Date(message.checkIn.at),
    hours: settings.markArrivedWithinHours,
    patientId,
    appointments,
  });
  for (const a of toMark) await adapter.markArrived(a.id, arrivalKeyOf(idempotencyKey, a.id));
  return { duplicate: false, marked: toMark.length };
}
