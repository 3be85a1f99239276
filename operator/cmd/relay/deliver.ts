// Performs a message in the EMR: the steps filing.ts plans from the integration's settings (chart
// notes, documents in their folders), each under its own idempotency key; records held because
// automatic import is off end the message in AttachmentsImportDisabled (dead-lettered, replayable).
// Demographic updates and custom fields go through the adapter's optional calls; the relay's intake
// already refused what the integration's EMR cannot take (capability.ts), and the runtime guards
// here stay for messages stored before that (dead-lettered as Unsupported, replayable).
import type { DocumentToPost, EmrAdapter } from '../../internal/emr/adapter.ts';
import { type CheckInSettings, DEFAULT_CHECK_IN } from './check-in.ts';
import { deliverCheckIn } from './deliver-check-in.ts';
import type { StepGuard } from './delivery-record.ts';
import { DEFAULT_FILING, type FilingSettings, type FilingStep, planFiling } from './filing.ts';
import type { OceanMessage } from './messages.ts';
import { RelayError } from './schedule.ts';

/** The EMR idempotency key of one step of a message's filing: the message's key for its main record, suffixed for the others. */
export function stepKeyOf(idempotencyKey: string, part: string): string {
  return part ? `${idempotencyKey}-${part}` : idempotencyKey;
}

/** One step's EMR call. */
function postStep(
  adapter: EmrAdapter,
  patientId: string,
  step: Exclude<FilingStep, { kind: 'customFields' }>,
  key: string,
): Promise<{ id: string }> {
  if (step.kind === 'note') {
    return adapter.postNote({
      patientId,
      title: step.title,
      text: step.text,
      idempotencyKey: key,
      ...(step.letterType ? { letterType: step.letterType } : {}),
    });
  }
  const doc: DocumentToPost = { patientId, title: step.title, pdf: Buffer.from(step.pdf, 'base64'), idempotencyKey: key };
  if (step.folder) doc.folder = step.folder;
  if (step.subfolder) doc.subfolder = step.subfolder;
  return adapter.postDocument(doc);
}

/**
 * Performs the steps in order, each under its own key; with a `guard` (delivery-record.ts) each step
 * is recorded before and after its post, and a redelivered step is skipped or looked up in the EMR
 * first, so a retry files nothing twice even in an EMR that ignores the key.
 */
export async function performSteps(
  adapter: EmrAdapter,
  patientId: string,
  steps: readonly FilingStep[],
  idempotencyKey: string,
  guard?: StepGuard,
): Promise<void> {
  for (const step of steps) {
    const key = stepKeyOf(idempotencyKey, step.part);
    // Custom fields are set to values: writing them again changes nothing, so they need no record.
    if (step.kind === 'customFields') {
      await updateCustomFields(adapter, patientId, step.fields, key);
      continue;
    }
    const post = () => postStep(adapter, patientId, step, key);
    if (guard) await guard({ recordKey: idempotencyKey, part: step.part, key, kind: step.kind, patientId }, post);
    else await post();
  }
}

/** Writes custom demographic fields; an adapter without the call is Unsupported (dead-lettered, never dropped). */
async function updateCustomFields(
  adapter: EmrAdapter,
  patientId: string,
  fields: { field: string; value: string }[],
  idempotencyKey: string,
): Promise<void> {
  if (!adapter.updateCustomFields) throw new RelayError('Unsupported', `the ${adapter.type} adapter cannot write custom fields`);
  await adapter.updateCustomFields({ patientId, fields, idempotencyKey });
}

/** Past the filed steps: the records held because automatic import is off (dead-lettered, replayable once it is on). */
export function heldError(message: OceanMessage, held: number): RelayError {
  return new RelayError(
    'AttachmentsImportDisabled',
    `${held} attachment(s) or PDF(s) of this ${message.type} are held: autoImportAttachments is off (turn it on, then replay the dead letters)`,
  );
}

/**
 * Performs the message in the EMR as the settings file it (filing.ts): chart notes, documents in
 * their folders; records held by `autoImportAttachments: false` end in AttachmentsImportDisabled.
 * Demographic updates go through `updateDemographics` (every adapter has it; see capability.ts).
 * Kiosk check-ins mark appointments arrived or create walk-ins (check-in.ts, deliver-check-in.ts).
 */
export async function deliverToEmr(
  adapter: EmrAdapter,
  message: OceanMessage,
  idempotencyKey: string,
  settings: FilingSettings = DEFAULT_FILING,
  checkIn: CheckInSettings = DEFAULT_CHECK_IN,
  guard?: StepGuard,
): Promise<{ duplicate: boolean }> {
  if (message.type === 'checkIn') return deliverCheckIn(adapter, message, idempotencyKey, checkIn, guard);
  if (message.type === 'demographicUpdate' && message.demographics) {
    // An adapter without the call: dead-lettered (replayable once it has one), never dropped.
    if (!adapter.updateDemographics) throw new RelayError('Unsupported', `the ${adapter.type} adapter cannot apply a demographic update`);
    return adapter.updateDemographics({ patientId: message.patient.emrId, changes: message.demographics, idempotencyKey });
  }
  const plan = planFiling(message, settings);
  await performSteps(adapter, message.patient.emrId, plan.steps, idempotencyKey, guard);
  if (plan.held.length > 0) throw heldError(message, plan.held.length);
  return { duplicate: false };
}
