// Demographic updates and custom fields take effect in what each EMR simulator STORED (its patient
// store, test/simulators/patients.ts), through the real path: Ocean's webhook → the relay process →
// NATS JetStream → the EMR simulator over https. Settings change as they do in a cluster: the relay
// restarts with the new spec. The relay clock runs 240× faster, so the first hour of retries of a
// refused message (then its dead letter) takes 15 real seconds. Every EMR type takes both message kinds today, so the webhook answers
// 202 (the refusal at intake for an EMR that cannot is unit-tested: operator/cmd/relay/capability.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmrSettings } from '../../operator/api/v1alpha1/index.ts';
import { deadLetterSubject, relayQueueNames } from '../../operator/internal/relayqueue/contract.ts';
import { DEAD_REASON_HEADER, queueFigures } from '../../operator/internal/relayqueue/queue.ts';
import { demographicUpdateMessage, eFormNoteMessage } from '../simulators/ocean.ts';
import { DEFAULT_CUSTOM_FIELDS } from '../simulators/patients.ts';
import { eventually } from './operator-process.ts';
import { type EmrRelay, FILING_EMRS, startEmrRelay } from './relay-emr.ts';

const SCALE = 240;
const clockEnv = { CLOUDCONNECT_RELAY_TIME_SCALE: String(SCALE), CLOUDCONNECT_RELAY_TIME_ORIGIN: new Date().toISOString() };
const OFF: EmrSettings = { customFields: false };
const ON: EmrSettings = { customFields: true };
const [pharmacy = '', smoking = ''] = DEFAULT_CUSTOM_FIELDS;

describe.each(FILING_EMRS)('demographics in %s', (type) => {
  let r: EmrRelay;
  let n = 0;
  const id = (what: string) => `${type}-${what}-${++n}`;
  const deliver = async (message: Record<string, unknown>) => {
    const answer = await r.harness.ocean.deliverWebhook(r.harness.webhookUrl, message);
    expect(answer.status).toBe(202);
    return answer;
  };
  const restartWith = async (settings: EmrSettings) => {
    await r.harness.kill('SIGTERM');
    await r.harness.startRelay(r.specWith(settings));
  };
  const patients = () => r.emr.state.patients;
  const stored = (index: number) => patients().patient(index);
  const fieldsOf = (index: number) => patients().customFields(r.emr.patientId(index));
  const notes = (patientId: string) => r.emr.notes.filter((x) => x.patientId === patientId);
  const documents = (patientId: string) => r.emr.documents.filter((x) => x.patientId === patientId);

  beforeAll(async () => {
    r = await startEmrRelay({ namespace: `demog-${type.toLowerCase()}`, type, settings: OFF, env: clockEnv });
    await r.harness.startRelay();
  }, 120_000);
  afterAll(async () => {
    await r?.dispose();
  });

  it('a demographic update changes exactly the given fields of the patient, and is applied once when delivered twice', async () => {
    const patient = r.patient(1);
    const before = stored(1);
    const others = [0, 2, 3].map(stored);
    const update = demographicUpdateMessage(id('du'), patient, {
      phone: '613-555-0177',
      lastName: 'Moved-Sim',
      email: 'moved@example.invalid',
    });
    await deliver(update);
    await eventually(async () => stored(1).phone === '613-555-0177' || undefined, 'the stored update');
    await deliver(update);
    expect(stored(1)).toEqual({ ...before, phone: '613-555-0177', lastName: 'Moved-Sim', email: 'moved@example.invalid' });
    expect([0, 2, 3].map(stored)).toEqual(others);
    const h = r.harness;
    await eventually(async () => (await queueFigures(h.js, h.namespace, h.integration)).pending === 0 || undefined, 'the queue drained');
    expect(patients().demographicUpdates.filter((u) => u.patientId === patient.emrId)).toHaveLength(1);
  });

  it('with customFields off, the answers are not written and the form is still filed', async () => {
    const patient = r.patient(2);
    await deliver(eFormNoteMessage(id('ef'), patient, 'Intake', { customFields: [{ field: smoking, value: 'Never' }] }));
    await eventually(
      async () => (notes(patient.emrId).length === 1 && documents(patient.emrId).length === 1) || undefined,
      'the filed form',
    );
    expect(notes(patient.emrId)[0]?.title).toBe('Ocean eForm: Intake');
    expect(fieldsOf(2)).toEqual({});
    expect(patients().customFieldUpdates.filter((u) => u.patientId === patient.emrId)).toEqual([]);
  });

  it('with customFields on, an eForm with custom field answers updates those fields of the patient (and files the form)', async () => {
    await restartWith(ON);
    const patient = r.patient(3);
    const demographics = stored(3);
    await deliver(
      eFormNoteMessage(id('ef'), patient, 'Intake', {
        customFields: [
          { field: pharmacy, value: 'Sim Pharmacy, 1 Main St' },
          { field: smoking, value: 'Former' },
        ],
      }),
    );
    await eventually(async () => documents(patient.emrId).length === 1 || undefined, 'the filed form');
    expect(fieldsOf(3)).toEqual({ [pharmacy]: 'Sim Pharmacy, 1 Main St', [smoking]: 'Former' });
    expect(notes(patient.emrId)).toHaveLength(1);
    expect(stored(3)).toEqual(demographics);
  });

  it('an unknown custom field name is dead-lettered with a reason naming the field; nothing of the form is filed, other patients untouched', async () => {
    const patient = r.patient(4);
    const h = r.harness;
    const deadBefore = (await queueFigures(h.js, h.namespace, h.integration)).deadLettered;
    const otherFields = [0, 1, 2, 3].map(fieldsOf);
    const form = eFormNoteMessage(id('ef'), patient, 'Intake', {
      customFields: [
        { field: smoking, value: 'Never' },
        { field: 'favouriteColour', value: 'Blue' },
      ],
    });
    await deliver(form);
    await eventually(
      async () => (await queueFigures(h.js, h.namespace, h.integration)).deadLettered === deadBefore + 1 || undefined,
      'the dead letter (after the first hour of retries)',
      60_000,
    );
    const dead = await h.jsm.direct.getMessage(relayQueueNames(h.namespace, h.integration).deadStream, {
      last_by_subj: deadLetterSubject(h.namespace, h.integration),
    });
    expect(dead?.header.get(DEAD_REASON_HEADER)).toBe('NotFound');
    const line = h
      .logs()
      .split('\n')
      .find((l) => l.includes('message dead-lettered') && l.includes(String(form.messageId)));
    expect(line).toContain('favouriteColour');
    expect(line).not.toContain('Blue');
    // The answers are the first step: nothing of the form reached the chart.
    expect(fieldsOf(4)).toEqual({});
    expect(notes(patient.emrId)).toEqual([]);
    expect(documents(patient.emrId)).toEqual([]);
    expect([0, 1, 2, 3].map(fieldsOf)).toEqual(otherFields);
  }, 90_000);
});
