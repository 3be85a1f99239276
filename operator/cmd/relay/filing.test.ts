import { describe, expect, it } from 'vitest';
import { eFormNoteMessage, referralAttachmentMessage, referralMessage, secureMessageMessage } from '../../../test/simulators/ocean.ts';
import type { EmrSettings } from '../../api/v1alpha1/index.ts';
import { combinedKeyOf, SITTING_GRACE_MS, SITTING_WINDOW_MS, sittingDelayMs } from './combine.ts';
import { stepKeyOf } from './deliver.ts';
import { combinedNote, DEFAULT_FILING, type FilingStep, filingSettingsOf, planFiling, sittingOf } from './filing.ts';
import { type OceanMessage, parseOceanMessage } from './messages.ts';

const patient = { emrId: '17', firstName: 'Ada', lastName: 'Lovelace-Sim', birthDate: '1980-02-03' };
const parse = (m: unknown) => parseOceanMessage(JSON.parse(JSON.stringify(m)));

/** A step without its content: what it is and where it goes. */
function shape(step: FilingStep): string {
  if (step.kind === 'customFields') return `customFields[${step.part}] ${step.fields.map((f) => f.field).join(',')}`;
  if (step.kind === 'note') return `note${step.part ? `[${step.part}]` : ''}${step.letterType ? ` letterType=${step.letterType}` : ''}`;
  const where = [step.folder && `folder=${step.folder}`, step.subfolder && `subfolder=${step.subfolder}`].filter(Boolean).join(' ');
  return `document${step.part ? `[${step.part}]` : ''}${where ? ` ${where}` : ''}`;
}

const plan = (message: OceanMessage, settings: EmrSettings | undefined) => {
  const p = planFiling(message, filingSettingsOf(settings));
  return { steps: p.steps.map(shape), held: p.held.map(shape) };
};

const secure = parse(secureMessageMessage('sm-1', patient, { attachments: ['Photo of rash'] }));
const sent = parse(referralMessage('rf-1', patient, 'sent', { attachments: ['ECG'] }));
const received = parse(referralMessage('rf-2', patient, 'received'));
const eForm = parse(eFormNoteMessage('ef-1', patient));
const attachment = parse(referralAttachmentMessage('ra-1', patient));
const smFolders = { documentFolder: 'Ocean', documentSubfolder: 'Messages' };

describe('how a message is filed', () => {
  it.each([
    [
      'a secure message saved as Documents goes to the folder and subfolder, with its attachments',
      secure,
      { secureMessages: { saveAs: 'Documents', ...smFolders } },
      ['document folder=Ocean subfolder=Messages', 'document[a0] folder=Ocean subfolder=Messages'],
      [],
    ],
    [
      'a secure message saved as Encounter Notes is a note of the letter type, its attachments still documents in the folder',
      secure,
      { secureMessages: { saveAs: 'EncounterNotes', letterType: 'Ocean', ...smFolders } },
      ['note letterType=Ocean', 'document[a0] folder=Ocean subfolder=Messages'],
      [],
    ],
    ['a secure message with no settings is a document in the default folder', secure, undefined, ['document', 'document[a0]'], []],
    [
      'a sent referral saved as Documents goes to the referral folder with its attachments',
      sent,
      { referrals: { sentSaveAs: 'Documents', receivedSaveAs: 'EncounterNotes', documentFolder: 'Referrals' } },
      ['document folder=Referrals', 'document[a0] folder=Referrals'],
      [],
    ],
    [
      'a sent referral saved as Encounter Notes is a note, its attachments documents in the referral folder',
      sent,
      { referrals: { sentSaveAs: 'EncounterNotes', receivedSaveAs: 'Documents', documentFolder: 'Referrals' } },
      ['note', 'document[a0] folder=Referrals'],
      [],
    ],
    [
      'a received referral follows receivedSaveAs, not sentSaveAs',
      received,
      { referrals: { sentSaveAs: 'Documents', receivedSaveAs: 'EncounterNotes' } },
      ['note'],
      [],
    ],
    ['an eForm is a progress note and its PDF a document', eForm, undefined, ['note[note]', 'document'], []],
    [
      'a referral attachment goes to the referral folder',
      attachment,
      { referrals: { documentFolder: 'Referrals' } },
      ['document folder=Referrals'],
      [],
    ],
    [
      'with automatic import off, a secure message is filed and its attachments held',
      secure,
      { autoImportAttachments: false, secureMessages: { saveAs: 'EncounterNotes', letterType: 'Ocean', ...smFolders } },
      ['note letterType=Ocean'],
      ['document[a0] folder=Ocean subfolder=Messages'],
    ],
    [
      'with automatic import off, a referral saved as Documents is held whole (its PDF and attachments)',
      sent,
      { autoImportAttachments: false, referrals: { documentFolder: 'Referrals' } },
      [],
      ['document folder=Referrals', 'document[a0] folder=Referrals'],
    ],
    [
      'with automatic import off, an eForm is a progress note and its PDF is held',
      eForm,
      { autoImportAttachments: false },
      ['note[note]'],
      ['document'],
    ],
    ['with automatic import off, a referral attachment is held', attachment, { autoImportAttachments: false }, [], ['document']],
  ] as const)('%s', (_name, message, settings, steps, held) => {
    expect(plan(message, settings as EmrSettings | undefined)).toEqual({ steps, held });
  });
});

describe('the filing settings', () => {
  it('a spec without settings files as the CRD defaults say', () => {
    expect(filingSettingsOf(undefined)).toEqual(DEFAULT_FILING);
  });
  it('blank folder, subfolder and letter type names count as not set', () => {
    const s = filingSettingsOf({ secureMessages: { documentFolder: ' ', documentSubfolder: '', letterType: '  ' } });
    expect(s.secureMessages).toEqual({ saveAs: 'Documents' });
  });
  it('a subfolder without a folder is not used', () => {
    const p = planFiling(secure, filingSettingsOf({ secureMessages: { documentSubfolder: 'Messages' } }));
    expect(p.steps.map(shape)).toEqual(['document', 'document[a0]']);
  });
});

describe('combining the progress notes of one sitting', () => {
  const inSession = parse(eFormNoteMessage('ef-2', patient, 'GAD-7', { sessionId: 'visit-1' }));
  it.each([
    ['a form with a session id joins its sitting when combining is on', inSession, true, '17/visit-1'],
    ['a form is filed alone when combining is off', inSession, false, undefined],
    ['a form without a session id is filed alone', eForm, true, undefined],
    ['a secure message never joins a sitting', secure, true, undefined],
  ] as const)('%s', (_name, message, combine, sitting) => {
    expect(sittingOf(message, { ...DEFAULT_FILING, combineProgressNotes: combine })).toBe(sitting);
  });
  it('the combined note carries every form, in order, under one title', () => {
    expect(
      combinedNote([
        { title: 'PHQ-9', text: 'Score 7' },
        { title: 'GAD-7', text: 'Score 3' },
      ]),
    ).toEqual({ title: 'Ocean eForms (2)', text: 'PHQ-9\nScore 7\n\nGAD-7\nScore 3' });
  });
  it('the combined note key is the same whatever order the forms came in, and differs for other forms', () => {
    expect(combinedKeyOf(['k1', 'k2'])).toBe(combinedKeyOf(['k2', 'k1']));
    expect(combinedKeyOf(['k1', 'k2'])).not.toBe(combinedKeyOf(['k1', 'k3']));
    expect(combinedKeyOf(['k1'])).toMatch(/^ocean-[0-9a-f]{40}$/);
  });
  const clock = { realMs: (ms: number) => ms / 60 };
  it.each([
    ['a sitting opened now is filed when its window closes (in real time on a scaled clock)', 0, SITTING_WINDOW_MS / 60],
    ['a sitting opened half a window ago is filed after the other half', SITTING_WINDOW_MS / 2, SITTING_WINDOW_MS / 120],
    ['a sitting whose window has passed (forms redelivered) waits only the grace period', 2 * SITTING_WINDOW_MS, SITTING_GRACE_MS],
  ] as const)('%s', (_name, ago, delay) => {
    const now = new Date('2026-12-01T12:00:00Z');
    expect(sittingDelayMs(new Date(now.getTime() - ago), now, clock)).toBe(delay);
  });
});

describe('the idempotency key of a step', () => {
  it("the main record keeps the message's key, so messages stored before filing steps existed are not filed twice", () => {
    expect(stepKeyOf('ocean-k', '')).toBe('ocean-k');
  });
  it('every other record has a key of its own', () => {
    expect(stepKeyOf('ocean-k', 'a0')).toBe('ocean-k-a0');
    expect(stepKeyOf('ocean-k', 'note')).not.toBe(stepKeyOf('ocean-k', 'a0'));
  });
});

describe('custom field answers of an eForm', () => {
  const answers = [
    { field: 'preferredPharmacy', value: 'Sim Pharmacy, 1 Main St' },
    { field: 'smokingStatus', value: 'Never' },
  ];
  const withAnswers = parse(eFormNoteMessage('ef-cf', patient, 'Intake', { customFields: answers }));
  it.each([
    [
      'with customFields on, the answers are written first (a field the EMR lacks fails the message before anything is filed), then the note and the PDF',
      withAnswers,
      { customFields: true },
      ['customFields[cf] preferredPharmacy,smokingStatus', 'note[note]', 'document'],
      [],
    ],
    [
      'with customFields off, the answers are not written; the note and the PDF are filed',
      withAnswers,
      { customFields: false },
      ['note[note]', 'document'],
      [],
    ],
    ['the CRD default (off) writes no answers', withAnswers, undefined, ['note[note]', 'document'], []],
    ['a form without answers has no custom field step, setting on or not', eForm, { customFields: true }, ['note[note]', 'document'], []],
    [
      'with automatic import off, the answers are still written (they are not an import); only the PDF is held',
      withAnswers,
      { customFields: true, autoImportAttachments: false },
      ['customFields[cf] preferredPharmacy,smokingStatus', 'note[note]'],
      ['document'],
    ],
  ] as const)('%s', (_name, message, settings, steps, held) => {
    expect(plan(message, settings as EmrSettings | undefined)).toEqual({ steps, held });
  });
  it('the step carries the answers as sent, under a key of its own', () => {
    const p = planFiling(withAnswers, filingSettingsOf({ customFields: true }));
    expect(p.steps[0]).toEqual({ kind: 'customFields', part: 'cf', fields: answers });
    expect(stepKeyOf('ocean-abc', 'cf')).toBe('ocean-abc-cf');
  });
  it('other message types carry no answers and plan no custom field step', () => {
    for (const m of [secure, sent, received, attachment])
      expect(planFiling(m, filingSettingsOf({ customFields: true })).steps.some((s) => s.kind === 'customFields')).toBe(false);
  });
});
