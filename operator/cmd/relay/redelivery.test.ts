import { describe, expect, it } from 'vitest';
import { type DeliveryRecord, decideRedelivery, parseDeliveryRecord, type RedeliveryDecision, withStep } from './redelivery.ts';

const at = '2030-05-06T10:00:00.000Z';
const posting: DeliveryRecord = { v: 1, steps: { note: { state: 'posting', at } } };
const noteDone: DeliveryRecord = { v: 1, steps: { note: { state: 'done', id: '41', at } } };
const bothDone: DeliveryRecord = { v: 1, steps: { note: { state: 'done', id: '41', at }, '': { state: 'done', id: '7', at } } };

describe('decideRedelivery', () => {
  it.each<[string, DeliveryRecord | undefined, string, number, boolean, boolean, RedeliveryDecision]>([
    ['posts a step on the first delivery of a message without a record', undefined, '', 1, false, true, 'post'],
    ['skips a step the record calls done, however often the message comes back', bothDone, '', 4, false, true, 'already-done'],
    ['skips a done step of a replayed dead letter', noteDone, 'note', 1, true, true, 'already-done'],
    ['looks up a step that was being posted when the relay died', posting, 'note', 2, false, true, 'lookup-then-post'],
    ['looks up a step marked in progress even when the count says first delivery', posting, 'note', 1, false, true, 'lookup-then-post'],
    ['posts a later step of a recorded message: each step is marked before it is posted', noteDone, '', 2, false, true, 'post'],
    ['looks up a redelivered message that has no record at all', undefined, '', 2, false, true, 'lookup-then-post'],
    ['looks up a replayed dead letter that has no record (dropped by age)', undefined, 'a0', 1, true, true, 'lookup-then-post'],
    ['posts a step in progress when the EMR offers no lookup (the remaining window)', posting, 'note', 3, false, false, 'post'],
    ['posts a redelivery without a record when the EMR offers no lookup', undefined, '', 5, false, false, 'post'],
  ])('%s', (_name, record, part, deliveryCount, replayed, canLookUp, expected) => {
    expect(decideRedelivery({ record, part, deliveryCount, replayed, canLookUp })).toBe(expected);
  });
});

describe('a delivery record', () => {
  it('reads back what was written, steps by part', () => {
    expect(parseDeliveryRecord(JSON.parse(JSON.stringify(bothDone)))).toEqual(bothDone);
  });

  it.each([
    ['is absent when the value is not JSON of ours', 'a string'],
    ['is absent for another version', { v: 2, steps: {} }],
    ['is absent without steps', { v: 1 }],
  ])('%s', (_name, value) => {
    expect(parseDeliveryRecord(value)).toBeUndefined();
  });

  it('drops a step it does not understand rather than trusting it', () => {
    expect(parseDeliveryRecord({ v: 1, steps: { '': { state: 'done' }, a0: { state: 'sent', at } } })).toEqual({ v: 1, steps: {} });
  });

  it('changes one step into a new record and leaves the old one as it was', () => {
    const next = withStep(posting, 'note', { state: 'done', id: '9', at });
    expect(next.steps['note']).toEqual({ state: 'done', id: '9', at });
    expect(posting.steps['note']).toEqual({ state: 'posting', at });
  });
});
