// Performs a kiosk check-in in the EMR as check-in.ts plans it: marks the patient's appointments of
// the window arrived (each under its own idempotency key), or creates the walk-in appointment (the
// message's key: sent to the EMR and stored in the appointment) and marks it arrived; a walk-in with
// walk-ins disabled ends in WalkInDisabled (dead-lettered at once, replayable once they are enabled).
// With a step guard (delivery-record.ts) the create is recorded before and after it, like a filing
// step: a redelivery after a crash between the EMR's create and the ack looks the appointment up by
// its key (findAppointmentByKey) instead of creating a second one in an EMR that ignores the key.
// Marking arrived needs no record: setting the status again changes nothing.
import type { AppointmentToCreate, EmrAdapter } from '../../internal/emr/adapter.ts';
import { appointmentsToMarkArrived, type CheckInSettings, planCheckIn } from './check-in.ts';
import type { StepGuard } from './delivery-record.ts';
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
  guard?: StepGuard,
): Promise<{ duplicate: boolean; marked: number }> {
  if (!message.checkIn) throw new RelayError('InvalidMessage', 'checkIn is required for a checkIn');
  const patientId = message.patient.emrId;
  const plan = planCheckIn(message.checkIn, settings);
  if (plan.kind === 'walkInDisabled')
    throw new RelayError('WalkInDisabled', 'a walk-in check-in was refused: walk-ins are disabled (spec.settings.walkIn.enabled)');
  if (plan.kind === 'walkIn') {
    const walkIn: AppointmentToCreate = {
      patientId,
      providerId: plan.providerId,
      ...(plan.appointmentType ? { appointmentType: plan.appointmentType } : {}),
      start: plan.start,
      durationMinutes: plan.durationMinutes,
      idempotencyKey,
    };
    let duplicate = false;
    const create = async () => {
      const created = await adapter.createAppointment(walkIn);
      duplicate = created.duplicate;
      return created;
    };
    const where = { providerId: walkIn.providerId, start: walkIn.start };
    const { id } = guard
      ? await guard(
          { recordKey: idempotencyKey, part: 'walk-in', key: idempotencyKey, kind: 'appointment', patientId, appointment: where },
          create,
        )
      : await create();
    await adapter.markArrived(id, arrivalKeyOf(idempotencyKey));
    return { duplicate, marked: 1 };
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
