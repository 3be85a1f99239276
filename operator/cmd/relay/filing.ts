// Pure: how an EMR-bound message is filed, from the integration's Cloud Connect settings (seed 000,
// "Clinical notes" and "Referrals"; seed 004, "Combine Progress Notes", "Automatically Import
// Attachments"). The plan is a list of steps, each a chart note or a document in a folder; what
// automatic import would have brought in (attachments, eForm PDFs, referral PDFs) is held instead
// when `autoImportAttachments` is off. No I/O: messages.ts performs the steps, combine.ts joins the
// progress notes of one sitting. See operator/internal/emr/README.md "Settings × EMR: filing".
// Custom fields (seed 000, "Custom fields"): with `customFields` on, an eForm's answers mapped to the
// EMR's custom demographic fields are written as the FIRST step, so a field the EMR does not have
// fails the message before anything of it is filed; with it off they are not written (the note is
// filed as always, and nothing is logged or counted: the clinic chose it, and the answers are in the form).
import type { EmrSettings } from '../../api/v1alpha1/index.ts';
import type { CustomFieldAnswer, OceanMessage } from './messages.ts';

export type SaveAs = 'Documents' | 'EncounterNotes';

export interface FilingSettings {
  combineProgressNotes: boolean;
  autoImportAttachments: boolean;
  secureMessages: { saveAs: SaveAs; documentFolder?: string; documentSubfolder?: string; letterType?: string };
  referrals: { sentSaveAs: SaveAs; receivedSaveAs: SaveAs; documentFolder?: string };
  /** Write eForm answers mapped to custom demographic fields (`settings.customFields`). */
  customFields: boolean;
}

/** One EMR call. `part` names the step within its message ('' is the message's main record): its idempotency key suffix. */
export type FilingStep =
  | { kind: 'note'; part: string; title: string; text: string; letterType?: string }
  | { kind: 'document'; part: string; title: string; pdf: string; folder?: string; subfolder?: string }
  | { kind: 'customFields'; part: string; fields: CustomFieldAnswer[] };

export interface FilingPlan {
  /** What is filed now, in order. */
  steps: FilingStep[];
  /** What automatic import would file: held while `autoImportAttachments` is off. */
  held: FilingStep[];
}

export const DEFAULT_FILING: FilingSettings = {
  combineProgressNotes: false,
  autoImportAttachments: true,
  secureMessages: { saveAs: 'Documents' },
  referrals: { sentSaveAs: 'Documents', receivedSaveAs: 'Documents' },
  customFields: false,
};

const named = (value: string | undefined) => (value?.trim() ? value.trim() : undefined);

/** The filing settings of a spec's `settings`, with the CRD's defaults (a spec read before defaulting gets the same answer). */
export function filingSettingsOf(settings: EmrSettings | undefined): FilingSettings {
  const sm = settings?.secureMessages;
  const r = settings?.referrals;
  const folder = named(sm?.documentFolder);
  const subfolder = named(sm?.documentSubfolder);
  const letterType = named(sm?.letterType);
  const referralFolder = named(r?.documentFolder);
  return {
    combineProgressNotes: settings?.combineProgressNotes ?? false,
    autoImportAttachments: settings?.autoImportAttachments ?? true,
    secureMessages: {
      saveAs: sm?.saveAs ?? 'Documents',
      ...(folder ? { documentFolder: folder } : {}),
      ...(subfolder ? { documentSubfolder: subfolder } : {}),
      ...(letterType ? { letterType } : {}),
    },
    referrals: {
      sentSaveAs: r?.sentSaveAs ?? 'Documents',
      receivedSaveAs: r?.receivedSaveAs ?? 'Documents',
      ...(referralFolder ? { documentFolder: referralFolder } : {}),
    },
    customFields: settings?.customFields ?? false,
  };
}

function document(part: string, title: string, pdf: string, folder?: string, subfolder?: string): FilingStep {
  return { kind: 'document', part, title, pdf, ...(folder ? { folder } : {}), ...(folder && subfolder ? { subfolder } : {}) };
}

function note(part: string, title: string, text: string, letterType?: string): FilingStep {
  return { kind: 'note', part, title, text, ...(letterType ? { letterType } : {}) };
}

/** The message's attachments as documents in `folder` (parts a0, a1, …). */
function attachmentSteps(message: OceanMessage, folder?: string, subfolder?: string): FilingStep[] {
  return (message.attachments ?? []).map((a, i) => document(`a${i}`, a.title, a.data, folder, subfolder));
}

/** The eForm's custom field answers as one step (part `cf`), when the setting is on and there are any. */
function customFieldSteps(message: OceanMessage, s: FilingSettings): FilingStep[] {
  const fields = message.customFields ?? [];
  return s.customFields && fields.length > 0 ? [{ kind: 'customFields', part: 'cf', fields: fields.map((f) => ({ ...f })) }] : [];
}

/** The steps of a message, split into what is filed and what automatic import would bring (`imports`). */
function stepsOf(message: OceanMessage, s: FilingSettings): { filed: FilingStep[]; imports: FilingStep[] } {
  if (message.type === 'eFormNote' && message.note) {
    // The form's progress note goes to the chart; its PDF is a form submission, imported automatically.
    const text = message.note.text;
    const filed = [...customFieldSteps(message, s), ...(text ? [note('note', message.note.title, text)] : [])];
    return { filed, imports: [document('', message.note.title, message.note.pdf)] };
  }
  if (message.type === 'referralAttachment' && message.attachment) {
    return { filed: [], imports: [document('', message.attachment.title, message.attachment.data, s.referrals.documentFolder)] };
  }
  if (message.type === 'secureMessage' && message.message) {
    const m = message.message;
    const sm = s.secureMessages;
    const main =
      sm.saveAs === 'EncounterNotes'
        ? note('', m.subject, m.text, sm.letterType)
        : document('', m.subject, m.pdf, sm.documentFolder, sm.documentSubfolder);
    // Seed 000: with Encounter Notes too, the patient's attachments go to the document folder.
    return { filed: [main], imports: attachmentSteps(message, sm.documentFolder, sm.documentSubfolder) };
  }
  if (message.type === 'referral' && message.referral) {
    const r = message.referral;
    const saveAs = r.direction === 'sent' ? s.referrals.sentSaveAs : s.referrals.receivedSaveAs;
    const attachments = attachmentSteps(message, s.referrals.documentFolder);
    if (saveAs === 'EncounterNotes') return { filed: [note('', r.title, r.text)], imports: attachments };
    return { filed: [], imports: [document('', r.title, r.pdf, s.referrals.documentFolder), ...attachments] };
  }
  return { filed: [], imports: [] };
}

/** What filing `message` takes under the settings `s`. */
export function planFiling(message: OceanMessage, s: FilingSettings): FilingPlan {
  const { filed, imports } = stepsOf(message, s);
  return s.autoImportAttachments ? { steps: [...filed, ...imports], held: [] } : { steps: filed, held: imports };
}

/** The session (sitting) an eForm note joins for a combined progress note, or undefined when it is filed alone. */
export function sittingOf(message: OceanMessage, s: FilingSettings): string | undefined {
  if (!s.combineProgressNotes || message.type !== 'eFormNote' || !message.sessionId || !message.note?.text) return undefined;
  return `${message.patient.emrId}/${message.sessionId}`;
}

/** One progress note of the forms of one sitting, in the order they were received. */
export function combinedNote(forms: readonly { title: string; text: string }[]): { title: string; text: string } {
  const title = forms.length === 1 ? (forms[0]?.title ?? '') : `Ocean eForms (${forms.length})`;
  return { title, text: forms.map((f) => `${f.title}\n${f.text}`).join('\n\n') };
}
