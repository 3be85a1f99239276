// One Reminders run, every dependency injected (EMR adapter, Ocean's reminder API, clock): list the
// booked appointments of the next `max(offsets)`, decide which reminders are due (reminder-due.ts,
// pure), then for each one to send: list the appointments again and drop those cancelled or moved
// since (no stale reminder), read the patient's one contact the channel needs (skipped and counted
// when there is none), ask Ocean whether it already holds a delivery under the reminder's key (a
// re-run, or a run that crashed after its send, sends nothing twice) and only then ask Ocean to
// deliver it. Ocean's delivery under our key is the durable record: Ocean is not trusted to
// deduplicate (the simulator does not), the look-up before each send is what makes it exactly once.
// Nothing is decrypted: the EMR's answers are read in memory and only the contact leaves, to Ocean.
import type { RemindersSpec } from '../../api/v1alpha1/index.ts';
import type { Appointment, EmrAdapter, Patient } from '../../internal/emr/adapter.ts';
import { OceanError } from '../../internal/ocean/client.ts';
import type { OceanReminders, ReminderRequest } from '../../internal/ocean/reminders.ts';
import { WorkerError } from '../../internal/sitepod/pod-env.ts';
import { parseDuration } from '../../runtime/duration.ts';
import { lookaheadMs, planReminders, type ReminderDecision, stillDue } from './reminder-due.ts';
import { DEFAULT_RETRY, failureOf, type RetryPolicy, withRetry } from './sync.ts';

export interface RemindersInput {
  adapter: Pick<EmrAdapter, 'listAppointments' | 'getPatient'>;
  ocean: Pick<OceanReminders, 'find' | 'send'>;
  reminders: RemindersSpec;
  siteNumber: string;
  /** The site's IANA zone: quiet hours are its wall clock. */
  timeZone: string;
  now: () => Date;
  retry?: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
  /** Warnings without PHI (reasons and counts; never a name, contact or id). */
  onWarning?: (message: string, fields: Record<string, unknown>) => void;
}

export interface RemindersResult {
  result: 'Succeeded' | 'Failed';
  type: 'Reminders';
  sent: number;
  skipped: number;
  failed: number;
  /** Due reminders Ocean already held (sent by an earlier run): not sent again, not counted as skipped. */
  alreadySent: number;
  skippedReasons: Record<string, number>;
  failedReasons: Record<string, number>;
  durationSeconds: number;
  errorReason?: string;
  message?: string;
}

/** Ocean refusing the client stops the run: every other reminder would be refused the same way. */
const RUN_STOPPERS = new Set(['OceanInvalidCredentials', 'OceanExpired', 'OceanDeauthorized']);

class Tally {
  sent = 0;
  alreadySent = 0;
  readonly skipped: Record<string, number> = {};
  readonly failed: Record<string, number> = {};
  skip(reason: string): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
  }
  fail(reason: string): void {
    this.failed[reason] = (this.failed[reason] ?? 0) + 1;
  }
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** The one contact the channel needs, or undefined when the EMR has none. */
function recipientOf(patient: Patient, channel: RemindersSpec['channel']): ReminderRequest['recipient'] | undefined {
  if (channel === 'SMS') return patient.phone?.trim() ? { phone: patient.phone.trim() } : undefined;
  return patient.email?.trim() ? { email: patient.email.trim() } : undefined;
}

interface RunContext {
  input: RemindersInput;
  tally: Tally;
  retry: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** Sends one due reminder, unless the appointment changed, the patient has no contact or Ocean holds it already. */
async function sendOne(ctx: RunContext, decision: Extract<ReminderDecision, { action: 'send' }>, current: readonly Appointment[]) {
  const { input, tally, retry } = ctx;
  if (!stillDue(decision.appointment, current)) {
    const now = current.find((a) => a.id === decision.appointment.id);
    return tally.skip(now && now.status !== 'booked' ? 'Cancelled' : 'Rescheduled');
  }
  const patient = await retry(() => input.adapter.getPatient(decision.appointment.patientId));
  const recipient = recipientOf(patient, input.reminders.channel);
  if (!recipient) return tally.skip('NoContact');
  // The look-up is part of every attempt: a send whose answer was lost (a timeout, a reset) may have
  // reached Ocean, and its retry must find it rather than send it again.
  const delivery = await retry(async () =>
    (await input.ocean.find(decision.key)).length > 0
      ? undefined
      : input.ocean.send({
          reminderKey: decision.key,
          channel: input.reminders.channel,
          templateId: input.reminders.templateId,
          recipient,
          appointment: { start: new Date(decision.appointment.start).toISOString(), timeZone: input.timeZone },
          offsetMinutes: Math.round(decision.offsetMs / 60_000),
        }),
  );
  if (!delivery) {
    tally.alreadySent++;
    return;
  }
  if (delivery.status === 'suppressed') return tally.skip(delivery.reason === 'RecipientOptedOut' ? 'OptedOut' : 'Suppressed');
  tally.sent++;
}

/** Each reminder on its own: one that fails is counted and the others still go; a refused Ocean client stops the run. */
async function sendAll(ctx: RunContext, due: Extract<ReminderDecision, { action: 'send' }>[], current: readonly Appointment[]) {
  for (const decision of due) {
    try {
      await sendOne(ctx, decision, current);
    } catch (error) {
      if (error instanceof OceanError && RUN_STOPPERS.has(error.reason)) throw error;
      // The SEK unreadable (Vault down, access denied) stops the run; one contact that does not open is that reminder's failure.
      if (error instanceof WorkerError && error.reason !== 'ContactUndecryptable') throw error;
      const errorReason = error instanceof WorkerError ? error.reason : failureOf(error).errorReason;
      ctx.tally.fail(errorReason);
      ctx.input.onWarning?.('a reminder could not be sent', { errorReason });
    }
  }
}

function report(tally: Tally, started: Date, now: Date): RemindersResult {
  const failed = sum(tally.failed);
  const reasons = Object.entries(tally.failed).sort((a, b) => b[1] - a[1]);
  return {
    result: failed === 0 ? 'Succeeded' : 'Failed',
    type: 'Reminders',
    sent: tally.sent,
    skipped: sum(tally.skipped),
    failed,
    alreadySent: tally.alreadySent,
    skippedReasons: tally.skipped,
    failedReasons: tally.failed,
    durationSeconds: Math.max(0, Math.round((now.getTime() - started.getTime()) / 1000)),
    ...(failed > 0 ? { errorReason: reasons[0]?.[0] ?? 'ReminderFailed', message: `${failed} reminder(s) could not be sent` } : {}),
  };
}

export async function runReminders(input: RemindersInput): Promise<RemindersResult> {
  const started = input.now();
  const sleep = input.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const ctx: RunContext = {
    input,
    tally: new Tally(),
    retry: (fn) => withRetry(fn, input.retry ?? DEFAULT_RETRY, sleep),
  };
  const offsetsMs = input.reminders.offsets.map(parseDuration);
  const providers = input.reminders.providerIds?.length ? [...input.reminders.providerIds] : undefined;
  // One minute past the longest offset: a reminder due in this run is inside the window.
  const until = new Date(started.getTime() + lookaheadMs(offsetsMs) + 60_000);
  const list = () => ctx.retry(() => input.adapter.listAppointments(started, until, providers));
  const plan = planReminders({
    ...input.reminders,
    appointments: await list(),
    offsetsMs,
    timeZone: input.timeZone,
    siteNumber: input.siteNumber,
    now: started,
  });
  for (const d of plan) if (d.action === 'deferred') ctx.tally.skip('QuietHours');
  const due = plan.filter((d): d is Extract<ReminderDecision, { action: 'send' }> => d.action === 'send');
  // The schedule as it is now, right before the sends: a cancellation or a move since the plan wins.
  if (due.length > 0) await sendAll(ctx, due, await list());
  return report(ctx.tally, started, input.now());
}
