import { describe, expect, it } from 'vitest';
import {
  demographicUpdateMessage,
  eFormNoteMessage,
  minimalPdf,
  referralAttachmentMessage,
  referralMessage,
  secureMessageMessage,
} from '../../../test/simulators/ocean.ts';
import type { DocumentToPost, EmrAdapter, NoteToPost } from '../../internal/emr/adapter.ts';
import { deliverToEmr } from './deliver.ts';
import { DEFAULT_FILING } from './filing.ts';
import { challengeOf, InvalidMessageError, idempotencyKeyOf, parseOceanMessage } from './messages.ts';
import { RelayError } from './schedule.ts';

const patient = { emrId: '17', firstName: 'Ada', lastName: 'Lovelace-Sim', birthDate: '1980-02-03', healthNumber: '9876543210' };

describe('the webhook body', () => {
  it('a body with only a challenge is the handshake', () => {
    expect(challengeOf({ challenge: 'abc' })).toBe('abc');
  });
  it('a message that happens to carry a challenge field is not the handshake', () => {
    expect(challengeOf({ challenge: 'abc', messageId: 'm' })).toBeUndefined();
  });
  it('each simulator message shape is accepted', () => {
    for (const m of [
      eFormNoteMessage('m-1', patient),
      referralAttachmentMessage('m-2', patient),
      demographicUpdateMessage('m-3', patient, { phone: '555-0100' }),
      secureMessageMessage('m-4', patient, { attachments: ['Photo'] }),
      referralMessage('m-5', patient, 'sent', { attachments: ['ECG'] }),
      referralMessage('m-6', patient, 'received'),
      eFormNoteMessage('m-7', patient, 'GAD-7', { sessionId: 'visit-1' }),
    ]) {
      expect(parseOceanMessage(JSON.parse(JSON.stringify(m))).messageId).toBe(m.messageId);
    }
  });
  const bad: [string, unknown, RegExp][] = [
    ['a non-object body is refused', [1], /JSON object/],
    ['a message id with a space is refused', { ...eFormNoteMessage('m 1', patient) }, /messageId/],
    ['an unknown type is refused', { ...eFormNoteMessage('m1', patient), type: 'labResult' }, /type must be one of/],
    ['a patient without an EMR id is refused', { ...eFormNoteMessage('m1', patient), patient: { firstName: 'Ada' } }, /patient.emrId/],
    ['an eForm note without its PDF is refused', { ...eFormNoteMessage('m1', patient), note: { title: 'x' } }, /note.pdf must be base64/],
    [
      'an attachment that is not a PDF is refused',
      { ...referralAttachmentMessage('m1', patient), attachment: { title: 'x', data: Buffer.from('GIF89a').toString('base64') } },
      /not a PDF/,
    ],
    [
      'a secure message without a direction is refused',
      { ...secureMessageMessage('m1', patient), message: { subject: 's', text: 't', pdf: minimalPdf(['x']).toString('base64') } },
      /message.direction must be one of toPatient, fromPatient/,
    ],
    [
      'a referral that is neither sent nor received is refused',
      {
        ...referralMessage('m1', patient, 'sent'),
        referral: { ...(referralMessage('m1', patient, 'sent')['referral'] as object), direction: 'forwarded' },
      },
      /referral.direction must be one of sent, received/,
    ],
    [
      'an attachment of a secure message that is not a PDF is refused',
      { ...secureMessageMessage('m1', patient), attachments: [{ title: 'x', data: Buffer.from('GIF89a').toString('base64') }] },
      /attachments\[0\].data is not a PDF/,
    ],
    ['a session id with a space is refused', { ...eFormNoteMessage('m1', patient), sessionId: 'visit 1' }, /sessionId/],
    [
      'a demographic update without demographics is refused',
      { ...demographicUpdateMessage('m1', patient, {}), demographics: undefined },
      /demographics is required/,
    ],
    [
      'a demographic update of an unknown field is refused',
      demographicUpdateMessage('m1', patient, { religion: 'x' }),
      /demographics.religion is not a field we can update/,
    ],
    [
      'a demographic birth date in another format is refused',
      demographicUpdateMessage('m1', patient, { birthDate: '03/02/1980' }),
      /YYYY-MM-DD/,
    ],
  ];
  for (const [name, body, message] of bad) {
    it(name, () => {
      expect(() => parseOceanMessage(body)).toThrow(InvalidMessageError);
      expect(() => parseOceanMessage(body)).toThrow(message);
    });
  }
  it('an error names the field, never the value', () => {
    try {
      parseOceanMessage({ ...eFormNoteMessage('m1', patient), patient: { emrId: 'Lovelace Ada' } });
    } catch (error) {
      expect((error as Error).message).not.toContain('Lovelace');
    }
  });
});

describe('the idempotency key', () => {
  it('is the same for the same message of the same integration', () => {
    expect(idempotencyKeyOf('ns', 'a', 'm1')).toBe(idempotencyKeyOf('ns', 'a', 'm1'));
  });
  it('differs between integrations and between messages', () => {
    expect(idempotencyKeyOf('ns', 'a', 'm1')).not.toBe(idempotencyKeyOf('ns', 'b', 'm1'));
    expect(idempotencyKeyOf('ns', 'a', 'm1')).not.toBe(idempotencyKeyOf('ns', 'a', 'm2'));
  });
  it('uses only characters every EMR header accepts', () => {
    expect(idempotencyKeyOf('ns', 'a.b', 'm:1')).toMatch(/^ocean-[0-9a-f]{40}$/);
  });
});

describe('delivery to the EMR', () => {
  const posted: DocumentToPost[] = [];
  const notes: NoteToPost[] = [];
  const adapter = {
    type: 'Accuro',
    postDocument: async (doc: DocumentToPost) => {
      posted.push(doc);
      return { id: String(posted.length), duplicate: false };
    },
    postNote: async (note: NoteToPost) => {
      notes.push(note);
      return { id: String(notes.length), duplicate: false };
    },
  } as unknown as EmrAdapter;
  it('an eForm note is filed as its PDF under the idempotency key, and its text as a progress note under a key of its own', async () => {
    await deliverToEmr(adapter, parseOceanMessage(eFormNoteMessage('m1', patient)), 'ocean-k1');
    expect(posted.at(-1)).toMatchObject({ patientId: '17', title: 'Ocean eForm: PHQ-9 questionnaire', idempotencyKey: 'ocean-k1' });
    expect(posted.at(-1)?.pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(notes.at(-1)).toMatchObject({ patientId: '17', title: 'Ocean eForm: PHQ-9 questionnaire', idempotencyKey: 'ocean-k1-note' });
  });
  it('with automatic import off, the note is filed and then the message ends as AttachmentsImportDisabled (held, replayable)', async () => {
    const before = posted.length;
    const settings = { ...DEFAULT_FILING, autoImportAttachments: false };
    const error = await deliverToEmr(adapter, parseOceanMessage(eFormNoteMessage('m9', patient)), 'ocean-k9', settings).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RelayError);
    expect((error as RelayError).reason).toBe('AttachmentsImportDisabled');
    expect(posted.length).toBe(before);
    expect(notes.at(-1)?.idempotencyKey).toBe('ocean-k9-note');
  });
  it('a referral attachment is filed as its PDF', async () => {
    await deliverToEmr(adapter, parseOceanMessage(referralAttachmentMessage('m2', patient, 'Consult letter')), 'ocean-k2');
    expect(posted.at(-1)).toMatchObject({ patientId: '17', title: 'Consult letter', idempotencyKey: 'ocean-k2' });
  });
  it('a demographic update to an adapter without updateDemographics is Unsupported (dead-lettered, replayable later)', async () => {
    const error = await deliverToEmr(adapter, parseOceanMessage(demographicUpdateMessage('m3', patient, { phone: '555-0100' })), 'k').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RelayError);
    expect((error as RelayError).reason).toBe('Unsupported');
  });
  it('a demographic update goes to updateDemographics with only the changed fields', async () => {
    const updates: unknown[] = [];
    const fhir = {
      type: 'FHIR',
      updateDemographics: async (u: unknown) => {
        updates.push(u);
        return { duplicate: false };
      },
    } as unknown as EmrAdapter;
    await deliverToEmr(fhir, parseOceanMessage(demographicUpdateMessage('m4', patient, { phone: '555-0100' })), 'ocean-k4');
    expect(updates).toEqual([{ patientId: '17', changes: { phone: '555-0100' }, idempotencyKey: 'ocean-k4' }]);
  });
  it('the simulator PDF carries the text it was given', () => {
    expect(minimalPdf(['Hello (world)']).toString('latin1')).toContain('(Hello \\(world\\))');
  });
});

describe("an eForm's custom field answers", () => {
  const form = (customFields: unknown) => ({ ...eFormNoteMessage('cf-1', patient), customFields });
  const many = Array.from({ length: 51 }, (_, i) => ({ field: `field${i}`, value: 'x' }));
  it('a list of names and string values is accepted as sent', () => {
    const answers = [
      { field: 'preferredPharmacy', value: 'Sim Pharmacy' },
      { field: 'smoking_status.v2', value: '' },
    ];
    expect(parseOceanMessage(form(answers)).customFields).toEqual(answers);
  });
  it.each([
    ['more than 50 answers are refused', many, /customFields must be a list of 1 to 50/],
    ['an empty list is refused', [], /customFields must be a list/],
    [
      'a name outside the safe pattern is refused without quoting it',
      [{ field: '../secret', value: 'v' }],
      /customFields\[0\]\.field must be/,
    ],
    [
      'a name given twice is refused, naming it',
      [
        { field: 'a', value: '1' },
        { field: 'a', value: '2' },
      ],
      /customFields\[1\]\.field repeats a/,
    ],
    [
      'a value over 200 characters is refused naming the field',
      [{ field: 'smokingStatus', value: 'y'.repeat(201) }],
      /customFields\[0\]\.value \(smokingStatus\)/,
    ],
    ['a value that is not a string is refused', [{ field: 'smokingStatus', value: 3 }], /customFields\[0\]\.value/],
    ['an answer with other keys is refused', [{ field: 'smokingStatus', value: 'Never', note: 'x' }], /field and value only/],
  ])('%s', (_name, answers, expected) => {
    expect(() => parseOceanMessage(form(answers))).toThrow(expected);
  });
  it('an error never carries a value', () => {
    const error = (() => {
      try {
        parseOceanMessage(form([{ field: 'smokingStatus', value: 'Lovelace'.repeat(30) }]));
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error?.message).toContain('smokingStatus');
    expect(error?.message).not.toContain('Lovelace');
  });
  it('with customFields on, delivery writes the answers first, under a key of their own, then files the note and the PDF', async () => {
    const calls: string[] = [];
    const updates: unknown[] = [];
    const recorder = {
      type: 'OSCARPro',
      updateCustomFields: async (u: unknown) => {
        calls.push('customFields');
        updates.push(u);
        return { duplicate: false };
      },
      postNote: async () => {
        calls.push('note');
        return { id: '1', duplicate: false };
      },
      postDocument: async () => {
        calls.push('document');
        return { id: '1', duplicate: false };
      },
    } as unknown as EmrAdapter;
    const answers = [{ field: 'smokingStatus', value: 'Never' }];
    await deliverToEmr(recorder, parseOceanMessage(form(answers)), 'ocean-cf', { ...DEFAULT_FILING, customFields: true });
    expect(calls).toEqual(['customFields', 'note', 'document']);
    expect(updates).toEqual([{ patientId: '17', fields: answers, idempotencyKey: 'ocean-cf-cf' }]);
  });
});
