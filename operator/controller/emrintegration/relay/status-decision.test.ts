import { describe, expect, it } from 'vitest';
import type { RelayStatusRecord } from '../../../internal/relayqueue/contract.ts';
import {
  coarseAge,
  DEFAULT_RELAY_THRESHOLDS,
  decideRelayStatus,
  parseRecord,
  type RelayDecisionInput,
  type RelayStatus,
} from './status-decision.ts';

const now = new Date('2026-11-28T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
const record = (over: Partial<RelayStatusRecord> = {}): RelayStatusRecord => ({
  pending: 0,
  deliveredTotal: 10,
  deadLettered: 0,
  updatedAt: ago(5_000),
  ...over,
});
const decide = (over: Partial<RelayDecisionInput> = {}) =>
  decideRelayStatus({
    deployment: 'deployed',
    observation: { kind: 'record', record: record() },
    thresholds: DEFAULT_RELAY_THRESHOLDS,
    now,
    siteName: 'maple',
    ...over,
  });

describe('the Delivering condition', () => {
  it.each<[string, Partial<RelayDecisionInput>, string, string]>([
    ['is True when the relay reports nothing pending', {}, 'True', 'Delivered'],
    [
      'is True with a few fresh messages pending',
      { observation: { kind: 'record', record: record({ pending: 5, oldestPendingSince: ago(2_000) }) } },
      'True',
      'Delivered',
    ],
    [
      'is Backlogged at the message threshold',
      { observation: { kind: 'record', record: record({ pending: 100, oldestPendingSince: ago(2_000) }) } },
      'False',
      'Backlogged',
    ],
    [
      'is Backlogged when the oldest message waited past the age threshold',
      { observation: { kind: 'record', record: record({ pending: 1, oldestPendingSince: ago(16 * 60_000) }) } },
      'False',
      'Backlogged',
    ],
    [
      'follows configured thresholds',
      {
        thresholds: { ...DEFAULT_RELAY_THRESHOLDS, backlogMessages: 3 },
        observation: { kind: 'record', record: record({ pending: 3, oldestPendingSince: ago(1_000) }) },
      },
      'False',
      'Backlogged',
    ],
    [
      'is EmrUnreachable when messages wait and the EMR could not be reached',
      {
        observation: {
          kind: 'record',
          record: record({ pending: 2, oldestPendingSince: ago(60_000), lastFailureReason: 'EmrUnreachable' }),
        },
      },
      'False',
      'EmrUnreachable',
    ],
    [
      'is DeliveryFailing when messages wait for another failure',
      {
        observation: { kind: 'record', record: record({ pending: 2, oldestPendingSince: ago(60_000), lastFailureReason: 'Deauthorized' }) },
      },
      'False',
      'DeliveryFailing',
    ],
    [
      'ignores a failure reason once nothing is pending',
      { observation: { kind: 'record', record: record({ pending: 0, lastFailureReason: 'EmrUnreachable' }) } },
      'True',
      'Delivered',
    ],
    [
      'is DeadLettered when a dead letter waits, before any other failure',
      { observation: { kind: 'record', record: record({ pending: 500, deadLettered: 1, lastFailureReason: 'EmrUnreachable' }) } },
      'False',
      'DeadLettered',
    ],
    [
      'is Unknown when the record is older than the stale limit',
      { observation: { kind: 'record', record: record({ updatedAt: ago(3 * 60_000) }) } },
      'Unknown',
      'RelayNotReporting',
    ],
    ['is Unknown when the relay never reported', { observation: { kind: 'missing' } }, 'Unknown', 'RelayNotReporting'],
    [
      'is Unknown when NATS cannot be read',
      { observation: { kind: 'unreachable', message: 'CONNECTION_REFUSED' } },
      'Unknown',
      'QueueUnreachable',
    ],
    ['is False while the integration is suspended', { deployment: 'suspended' }, 'False', 'Suspended'],
    [
      'is Unknown when the operator has no NATS URL',
      { deployment: 'notConfigured', observation: undefined },
      'Unknown',
      'RelayNotConfigured',
    ],
    ['is Unknown while the site has no SEK', { deployment: 'siteNotReady', observation: undefined }, 'Unknown', 'SiteNotReady'],
  ])('%s', (_name, over, status, reason) => {
    const { delivering } = decide(over);
    expect(delivering).toMatchObject({ type: 'Delivering', status, reason });
    expect(delivering.message.length).toBeGreaterThan(0);
  });

  it('tells how to replay dead letters', () => {
    expect(decide({ observation: { kind: 'record', record: record({ deadLettered: 2 }) } }).delivering.message).toContain(
      'cloudconnect.dev/replayRequestedAt',
    );
  });
});

describe('status.relay', () => {
  it('copies the figures and the coarse age of the oldest message', () => {
    const { relay } = decide({
      observation: {
        kind: 'record',
        record: record({ pending: 3, oldestPendingSince: ago(125 * 60_000), deadLettered: 1, lastFailureReason: 'EmrUnreachable' }),
      },
    });
    expect(relay).toEqual({
      pending: 3,
      oldestPendingTime: ago(125 * 60_000),
      oldestPendingAge: '2h',
      deliveredTotal: 10,
      deadLettered: 1,
      lastFailureReason: 'EmrUnreachable',
      updatedAt: ago(5_000),
    });
  });

  it('keeps the previous updatedAt when no figure changed, so an idle relay costs no write', () => {
    const previous: RelayStatus = { pending: 0, deliveredTotal: 10, deadLettered: 0, updatedAt: ago(60 * 60_000) };
    expect(decide({ previous }).relay).toEqual(previous);
  });

  it('takes the record updatedAt when a figure changed', () => {
    const previous: RelayStatus = { pending: 0, deliveredTotal: 9, deadLettered: 0, updatedAt: ago(60 * 60_000) };
    expect(decide({ previous }).relay?.updatedAt).toBe(ago(5_000));
  });

  it('keeps the handled replay token and count', () => {
    const previous: RelayStatus = { deliveredTotal: 10, lastHandledReplayAt: 't1', lastReplayedCount: 4 };
    expect(decide({ previous }).relay).toMatchObject({ lastHandledReplayAt: 't1', lastReplayedCount: 4 });
  });

  it('keeps the last known figures when the relay cannot be read', () => {
    const previous: RelayStatus = { pending: 7, deliveredTotal: 9, deadLettered: 0, updatedAt: ago(60_000) };
    expect(decide({ previous, observation: { kind: 'unreachable', message: 'timeout' } }).relay).toEqual(previous);
  });
});

describe('new dead letters', () => {
  it.each<[string, number | undefined, number, number]>([
    ['counts the increase over the figure in status', 2, 5, 3],
    ['counts every dead letter when status had none', undefined, 2, 2],
    ['is zero when the count is unchanged', 2, 2, 0],
    ['is zero when a replay lowered the count', 5, 0, 0],
  ])('%s', (_name, before, after, expected) => {
    const previous: RelayStatus | undefined = before === undefined ? undefined : { pending: 0, deliveredTotal: 10, deadLettered: before };
    expect(decide({ previous, observation: { kind: 'record', record: record({ deadLettered: after }) } }).newlyDeadLettered).toBe(expected);
  });
});

describe('the coarse age', () => {
  it.each([
    ['is whole minutes under an hour', 59 * 60_000 + 59_000, '59m'],
    ['is zero minutes under a minute', 30_000, '0m'],
    ['steps by ten minutes under a day', 61 * 60_000, '1h'],
    ['shows the ten minutes', 135 * 60_000, '2h10m'],
    ['is whole hours after a day', 25 * 3600_000 + 59 * 60_000, '25h'],
    ['never goes negative (clock skew)', -5_000, '0m'],
  ])('%s', (_name, ms, expected) => {
    expect(coarseAge(ms)).toBe(expected);
  });
});

describe('reading a record', () => {
  it('accepts a record the relay writes', () => {
    expect(
      parseRecord({
        pending: 1,
        oldestPendingSince: ago(1000),
        deliveredTotal: 2,
        deadLettered: 0,
        lastFailureReason: 'EmrUnreachable',
        updatedAt: ago(0),
      }),
    ).toMatchObject({ pending: 1, lastFailureReason: 'EmrUnreachable' });
  });

  it.each([
    ['rejects a negative count', { pending: -1, deliveredTotal: 0, deadLettered: 0, updatedAt: ago(0) }],
    ['rejects a record without updatedAt', { pending: 0, deliveredTotal: 0, deadLettered: 0 }],
    [
      'rejects a failure reason that is not a reason word',
      { pending: 0, deliveredTotal: 0, deadLettered: 0, updatedAt: ago(0), lastFailureReason: 'patient John Doe not found' },
    ],
    ['rejects something that is not an object', 'hello'],
  ])('%s', (_name, value) => {
    expect(parseRecord(value)).toBeUndefined();
  });
});
