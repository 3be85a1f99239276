// Pure: the EMR-bound messages the demo's Ocean sends to one integration's relay: the three shapes
// the Ocean simulator knows (an eForm note, a referral attachment, a demographic update), in turn,
// each for a patient that exists in that integration's EMR simulator. Demographic updates go only
// to EMRs whose adapter can apply them (updateDemographics: every EMR type today); the relay would
// refuse them at intake elsewhere, which is not what the demo is for.
import { appliesDemographicUpdates, type EmrAdapterType } from '../../../operator/internal/emr/index.ts';
import {
  demographicUpdateMessage,
  type EmrBoundMessage,
  eFormNoteMessage,
  type OceanPatient,
  referralAttachmentMessage,
} from '../../simulators/ocean.ts';

const FORMS = ['PHQ-9 questionnaire', 'GAD-7 anxiety screen', 'Patient intake form'];

/** `count` messages with ids `<prefix>-<n>`, patients taken in turn from `patient(0..)`. */
export function demoMessages(
  prefix: string,
  count: number,
  patient: (index: number) => OceanPatient,
  emrType: EmrAdapterType | 'None' = 'FHIR',
): EmrBoundMessage[] {
  const messages: EmrBoundMessage[] = [];
  const shapes = emrType !== 'None' && appliesDemographicUpdates(emrType) ? 3 : 2;
  for (let n = 0; n < count; n++) {
    const id = `${prefix}-${n + 1}`;
    const p = patient(n);
    const kind = n % shapes;
    if (kind === 0) messages.push(eFormNoteMessage(id, p, FORMS[n % FORMS.length]));
    else if (kind === 1) messages.push(referralAttachmentMessage(id, p, 'Referral to cardiology: letter'));
    else messages.push(demographicUpdateMessage(id, p, { phone: `+1-416-555-${String(1000 + n).slice(-4)}` }));
  }
  return messages;
}
