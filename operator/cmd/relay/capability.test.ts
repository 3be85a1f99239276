import { describe, expect, it } from 'vitest';
import { demographicUpdateMessage, eFormNoteMessage, referralMessage, secureMessageMessage } from '../../../test/simulators/ocean.ts';
import { EMR_ADAPTER_TYPES, type EmrCapabilities, emrCapabilities } from '../../internal/emr/index.ts';
import { capabilityNeeded, intakeRefusal } from './capability.ts';
import { parseOceanMessage } from './messages.ts';

const patient = { emrId: '17', firstName: 'Ada', lastName: 'Lovelace-Sim', birthDate: '1980-02-03' };
const parse = (m: unknown) => parseOceanMessage(JSON.parse(JSON.stringify(m)));
const demographics = parse(demographicUpdateMessage('du-1', patient, { phone: '613-555-0199' }));
const answers = parse(eFormNoteMessage('ef-1', patient, 'Intake', { customFields: [{ field: 'smokingStatus', value: 'Never' }] }));
const plainForm = parse(eFormNoteMessage('ef-2', patient));
const secure = parse(secureMessageMessage('sm-1', patient));
const referral = parse(referralMessage('rf-1', patient, 'received'));

const ALL: EmrCapabilities = { demographicUpdates: true, customFields: true };
const NONE: EmrCapabilities = { demographicUpdates: false, customFields: false };
const on = { customFields: true };
const off = { customFields: false };

describe('what a message needs of its EMR', () => {
  it.each([
    ['a demographic update needs demographic updates', demographics, off, 'demographicUpdates'],
    ['an eForm with custom field answers needs custom fields when the setting is on', answers, on, 'customFields'],
    ['an eForm with custom field answers needs nothing more when the setting is off (they are not written)', answers, off, undefined],
    ['an eForm without answers needs nothing more', plainForm, on, undefined],
    ['a secure message needs nothing more (documents and notes: every adapter)', secure, on, undefined],
    ['a referral needs nothing more', referral, on, undefined],
  ] as const)('%s', (_name, message, settings, expected) => {
    expect(capabilityNeeded(message, settings)).toBe(expected);
  });
});

describe('the refusal at intake', () => {
  it.each([
    ['an EMR that cannot apply demographic updates refuses one, naming the EMR and the message type', demographics, off, NONE, true],
    ['an EMR that can apply them takes one', demographics, off, ALL, false],
    ['an EMR without custom fields refuses an eForm with answers when the setting is on', answers, on, NONE, true],
    ['an EMR without custom fields takes the same eForm when the setting is off (the note is filed)', answers, off, NONE, false],
    ['an EMR with custom fields takes the eForm with answers', answers, on, ALL, false],
    ['an EMR with neither still takes secure messages', secure, on, NONE, false],
  ] as const)('%s', (_name, message, settings, capabilities, refused) => {
    const refusal = intakeRefusal('Accuro', message, settings, capabilities);
    expect(refusal !== undefined).toBe(refused);
    if (refusal) {
      expect(refusal).toMatchObject({ emrType: 'Accuro', messageType: message.type });
      expect(refusal.reason).toContain('Accuro');
      expect(refusal.reason).toContain(message.type);
      // Names, never the message's values.
      expect(refusal.reason).not.toContain('613-555-0199');
      expect(refusal.reason).not.toContain('Never');
    }
  });

  it.each(EMR_ADAPTER_TYPES)('%s takes every message type today (its adapter has every optional call)', (type) => {
    expect(emrCapabilities(type)).toEqual(ALL);
    for (const message of [demographics, answers, plainForm, secure, referral]) expect(intakeRefusal(type, message, on)).toBeUndefined();
  });
});
