// Each filing setting of the integration (secure messages and referrals saved as Documents or
// Encounter Notes, their folders, subfolders and letter type; Combine Progress Notes; Automatically
// Import Attachments) takes effect in what each EMR simulator STORED, through the real path: Ocean's
// webhook → the relay process → NATS JetStream → the EMR simulator over https. The relay clock runs
// 60× faster, so a sitting's 10-minute window closes in 10 real seconds. Settings change as they do
// in a cluster: the relay restarts with the new spec.
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmrSettings } from '../../operator/api/v1alpha1/index.ts';
import {
  deadLetterSubject,
  type RelayStatusRecord,
  relayQueueNames,
  STATUS_BUCKET,
  statusKey,
} from '../../operator/internal/relayqueue/contract.ts';
import { DEAD_REASON_HEADER, queueFigures, replayDeadLetters } from '../../operator/internal/relayqueue/queue.ts';
import { eFormNoteMessage, referralMessage, secureMessageMessage } from '../simulators/ocean.ts';
import { eventually } from './operator-process.ts';
import { type EmrRelay, FILING_EMRS, startEmrRelay } from './relay-emr.ts';

const SCALE = 60;
const origin = Date.now();
const clockEnv = { CLOUDCONNECT_RELAY_TIME_SCALE: String(SCALE), CLOUDCONNECT_RELAY_TIME_ORIGIN: new Date(origin).toISOString() };

/** Encounter notes for secure messages and received referrals, forms of one sitting combined. */
const NOTES: EmrSettings = {
  combineProgressNotes: true,
  secureMessages: { saveAs: 'EncounterNotes', letterType: 'Ocean', documentFolder: 'Ocean', documentSubfolder: 'Messages' },
  referrals: { sentSaveAs: 'Documents', receivedSaveAs: 'EncounterNotes', documentFolder: 'Referrals' },
};
/** Documents for secure messages and received referrals, notes for sent referrals, one note per form. */
const DOCUMENTS: EmrSettings = {
  combineProgressNotes: false,
  secureMessages: { saveAs: 'Documents', documentFolder: 'Ocean', documentSubfolder: 'Messages' },
  referrals: { sentSaveAs: 'EncounterNotes', receivedSaveAs: 'Documents', documentFolder: 'Referrals' },
};

describe.each(FILING_EMRS)('filing in %s', (type) => {
  let r: EmrRelay;
  let n = 0;
  const id = (what: string) => `${type}-${what}-${++n}`;
  const deliver = async (message: Record<string, unknown>) => {
    expect((await r.harness.ocean.deliverWebhook(r.harness.webhookUrl, message)).status).toBe(202);
  };
  const restartWith = async (settings: EmrSettings) => {
    await r.harness.kill('SIGTERM');
    await r.harness.startRelay(r.specWith(settings));
  };
  const notes = (patientId: string) => r.emr.notes.filter((x) => x.patientId === patientId);
  const documents = (patientId: string) => r.emr.documents.filter((x) => x.patientId === patientId);

  beforeAll(async () => {
    r = await startEmrRelay({ namespace: `filing-${type.toLowerCase()}`, type, settings: NOTES, env: clockEnv });
    await r.harness.startRelay();
  }, 120_000);
  afterAll(async () => {
    await r?.dispose();
  });

  it('a secure message saved as Encounter Notes is a note of the letter type; its attachment a document in the folder and subfolder', async () => {
    const patient = r.patient(1);
    await deliver(secureMessageMessage(id('sm'), patient, { subject: 'Rash question', attachments: ['Photo of rash'] }));
    await eventually(
      async () => (notes(patient.emrId).length === 1 && documents(patient.emrId).length === 1) || undefined,
      'the note and the attachment',
    );
    expect(notes(patient.emrId)[0]).toMatchObject({ title: 'Rash question', letterType: 'Ocean' });
    expect(notes(patient.emrId)[0]?.text).toContain('can I take it with food?');
    expect(documents(patient.emrId)[0]).toMatchObject({
      title: 'Photo of rash',
      folder: 'Ocean',
      subfolder: 'Messages',
      contentType: 'application/pdf',
    });
  });

  it('a sent referral saved as Documents goes to the referral folder with its attachments; a received one saved as Encounter Notes is a note', async () => {
    const patient = r.patient(2);
    await deliver(referralMessage(id('rs'), patient, 'sent', { title: 'Referral to cardiology', attachments: ['ECG'] }));
    await deliver(referralMessage(id('rr'), patient, 'received', { title: 'Referral from Dr. Sim' }));
    await eventually(
      async () => (documents(patient.emrId).length === 2 && notes(patient.emrId).length === 1) || undefined,
      'the referrals',
    );
    expect(
      documents(patient.emrId)
        .map((d) => [d.title, d.folder])
        .sort(),
    ).toEqual([
      ['ECG', 'Referrals'],
      ['Referral to cardiology', 'Referrals'],
    ]);
    expect(notes(patient.emrId)[0]?.title).toBe('Referral from Dr. Sim');
  });

  it('with Combine Progress Notes, the forms of one sitting are one note; a form of another sitting is a note of its own', async () => {
    const patient = r.patient(3);
    await deliver(eFormNoteMessage(id('ef'), patient, 'PHQ-9', { sessionId: 'visit-a' }));
    await deliver(eFormNoteMessage(id('ef'), patient, 'GAD-7', { sessionId: 'visit-a' }));
    await deliver(eFormNoteMessage(id('ef'), patient, 'Intake', { sessionId: 'visit-b' }));
    await eventually(
      async () => (notes(patient.emrId).length === 2 && documents(patient.emrId).length === 3) || undefined,
      'the notes',
      60_000,
    );
    const combined = notes(patient.emrId).find((x) => x.text.includes('PHQ-9'));
    expect(combined?.text).toContain('GAD-7');
    expect(combined?.text).not.toContain('Intake');
    expect(notes(patient.emrId).find((x) => x !== combined)?.text).toContain('Intake');
    // Each form's PDF is still its own document.
    expect(
      documents(patient.emrId)
        .map((d) => d.title)
        .sort(),
    ).toEqual(['Ocean eForm: GAD-7', 'Ocean eForm: Intake', 'Ocean eForm: PHQ-9']);
  }, 90_000);

  it('with secure messages saved as Documents and combining off: the message is a document in the folder and subfolder, each form a note; a sent referral saved as Encounter Notes is a note, its attachment in the referral folder', async () => {
    await restartWith(DOCUMENTS);
    const patient = r.patient(4);
    await deliver(secureMessageMessage(id('sm'), patient, { subject: 'Refill request' }));
    await deliver(eFormNoteMessage(id('ef'), patient, 'PHQ-9', { sessionId: 'visit-c' }));
    await deliver(eFormNoteMessage(id('ef'), patient, 'GAD-7', { sessionId: 'visit-c' }));
    await deliver(referralMessage(id('rs'), patient, 'sent', { title: 'Referral to dermatology', attachments: ['Photo'] }));
    await eventually(
      async () => (documents(patient.emrId).length === 4 && notes(patient.emrId).length === 3) || undefined,
      'the records',
      60_000,
    );
    expect(documents(patient.emrId).find((d) => d.title === 'Refill request')).toMatchObject({ folder: 'Ocean', subfolder: 'Messages' });
    expect(documents(patient.emrId).find((d) => d.title === 'Photo')).toMatchObject({ folder: 'Referrals' });
    expect(documents(patient.emrId).some((d) => d.title === 'Referral to dermatology')).toBe(false);
    expect(
      notes(patient.emrId)
        .map((x) => x.title)
        .sort(),
    ).toEqual(['Ocean eForm: GAD-7', 'Ocean eForm: PHQ-9', 'Referral to dermatology']);
    expect(notes(patient.emrId).some((x) => x.title === 'Refill request')).toBe(false);
  }, 90_000);

  it('with automatic import off, attachments, referral and eForm PDFs are held (status, metrics), the rest filed; a replay once it is on imports them and files nothing twice', async () => {
    await restartWith({ ...DOCUMENTS, autoImportAttachments: false });
    const patient = r.patient(5);
    const referral = referralMessage(id('held'), patient, 'received', { title: 'Referral held', attachments: ['Lab results'] });
    const secure = secureMessageMessage(id('held'), patient, { subject: 'Message filed', attachments: ['Photo held'] });
    const form = eFormNoteMessage(id('held'), patient, 'Consent');
    for (const m of [referral, secure, form]) await deliver(m);
    const h = r.harness;
    await eventually(
      async () => (await queueFigures(h.js, h.namespace, h.integration)).deadLettered === 3 || undefined,
      'the held messages',
    );
    // Filed: the secure message itself (Documents) and the form's progress note; held: everything automatic import brings.
    expect(documents(patient.emrId).map((d) => [d.title, d.folder, d.subfolder])).toEqual([['Message filed', 'Ocean', 'Messages']]);
    expect(notes(patient.emrId).map((x) => x.title)).toEqual(['Ocean eForm: Consent']);
    for (let seq = 1, n = 0; n < 3; n++) {
      const dead = await h.jsm.direct.getMessage(relayQueueNames(h.namespace, h.integration).deadStream, {
        next_by_subj: deadLetterSubject(h.namespace, h.integration),
        seq,
      });
      expect(dead?.header.get(DEAD_REASON_HEADER)).toBe('AttachmentsImportDisabled');
      seq = (dead?.seq ?? seq) + 1;
    }
    const kv = await new Kvm(h.js).open(STATUS_BUCKET);
    const record = await eventually(async () => {
      const s = (await kv.get(statusKey(h.namespace, h.integration)))?.json<RelayStatusRecord>();
      return s?.deadLettered === 3 ? s : undefined;
    }, 'the status record');
    expect(record.lastFailureReason).toBe('AttachmentsImportDisabled');
    const metrics = await (await fetch(`http://127.0.0.1:${h.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/cloudconnect_relay_deliveries_total\{[^}]*result="held"\} 3/);

    await restartWith(DOCUMENTS);
    expect(await replayDeadLetters(h.js, h.namespace, h.integration)).toBe(3);
    await eventually(async () => documents(patient.emrId).length === 5 || undefined, 'the replayed records');
    expect(
      documents(patient.emrId)
        .map((d) => d.title)
        .sort(),
    ).toEqual(['Lab results', 'Message filed', 'Ocean eForm: Consent', 'Photo held', 'Referral held']);
    const folderOf = (title: string) => documents(patient.emrId).find((d) => d.title === title)?.folder;
    expect(['Lab results', 'Referral held', 'Photo held'].map(folderOf)).toEqual(['Referrals', 'Referrals', 'Ocean']);
    expect(documents(patient.emrId).find((d) => d.title === 'Referral held')?.idempotencyKey).toBe(h.idempotencyKey(referral));
    // What was filed before the replay was recognised by the relay's delivery records: still one message
    // document, one note, and not even posted again (the EMR simulator ignores idempotency keys, as real ones do).
    expect(notes(patient.emrId)).toHaveLength(1);
    expect(r.emr.duplicates).toEqual([]);
  }, 120_000);
});
