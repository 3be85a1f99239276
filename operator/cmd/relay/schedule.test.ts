import { describe, expect, it } from 'vitest';
import { EmrError } from '../../internal/emr/adapter.ts';
import { decideRetry, type FailureKind, failureKind, failureReason, RETRY_OFFSETS_MS, RelayError } from './schedule.ts';

const received = new Date('2030-05-06T10:00:00Z');
const at = (minutes: number) => new Date(received.getTime() + minutes * 60_000);
const min = 60_000;

describe('decideRetry', () => {
  const cases: {
    name: string;
    minutes: number;
    failure: FailureKind;
    retryAfterMs?: number;
    expect: { delayMin: number } | 'deadLetter';
  }[] = [
    {
      name: 'a first failure at receipt is tried again one minute after receipt',
      minutes: 0,
      failure: 'transient',
      expect: { delayMin: 1 },
    },
    {
      name: 'a failure at the one-minute attempt waits until five minutes after receipt',
      minutes: 1,
      failure: 'transient',
      expect: { delayMin: 4 },
    },
    {
      name: 'an attempt that ran late still aims at the next point of the schedule',
      minutes: 7,
      failure: 'transient',
      expect: { delayMin: 3 },
    },
    { name: 'the first hour has attempts at 20, 30, 45 and 60 minutes', minutes: 30, failure: 'transient', expect: { delayMin: 15 } },
    { name: 'after the first hour attempts are hourly', minutes: 60, failure: 'transient', expect: { delayMin: 60 } },
    { name: 'hourly attempts keep their place relative to receipt', minutes: 150, failure: 'transient', expect: { delayMin: 30 } },
    { name: 'the last transient attempt is 96 hours after receipt', minutes: 95 * 60, failure: 'transient', expect: { delayMin: 60 } },
    { name: 'a transient failure 96 hours after receipt is dead-lettered', minutes: 96 * 60, failure: 'transient', expect: 'deadLetter' },
    { name: 'a permanent failure is tried within the first hour', minutes: 10, failure: 'permanent', expect: { delayMin: 10 } },
    { name: 'a permanent failure at the one-hour attempt is dead-lettered', minutes: 60, failure: 'permanent', expect: 'deadLetter' },
    { name: 'a fatal failure is dead-lettered at once', minutes: 0, failure: 'fatal', expect: 'deadLetter' },
    {
      name: 'a Retry-After longer than the schedule wins',
      minutes: 0,
      failure: 'transient',
      retryAfterMs: 3 * min,
      expect: { delayMin: 3 },
    },
    {
      name: 'a Retry-After shorter than the schedule does not bring the attempt forward',
      minutes: 1,
      failure: 'transient',
      retryAfterMs: 1000,
      expect: { delayMin: 4 },
    },
    {
      name: 'a receipt time in the future (clock skew) is treated as just received',
      minutes: -5,
      failure: 'transient',
      expect: { delayMin: 6 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const decision = decideRetry({
        receivedAt: received,
        now: at(c.minutes),
        failure: c.failure,
        ...(c.retryAfterMs ? { retryAfterMs: c.retryAfterMs } : {}),
      });
      if (c.expect === 'deadLetter') expect(decision).toEqual({ action: 'deadLetter' });
      else expect(decision).toEqual({ action: 'retry', delayMs: c.expect.delayMin * min, attemptAt: at(c.minutes + c.expect.delayMin) });
    });
  }

  it('a message that always fails transiently is tried 7 times in the first hour and 102 times in all', () => {
    let now = received;
    let attempts = 1;
    for (;;) {
      const d = decideRetry({ receivedAt: received, now, failure: 'transient' });
      if (d.action === 'deadLetter') break;
      now = d.attemptAt;
      attempts++;
    }
    expect(RETRY_OFFSETS_MS.filter((o) => o <= 60 * min)).toHaveLength(7);
    expect(attempts).toBe(1 + 7 + 95);
    expect(now).toEqual(at(96 * 60));
  });
});

describe('failure kinds', () => {
  it('an unreachable, rate-limiting or credential-refusing EMR is a transient failure', () => {
    for (const reason of ['EmrUnreachable', 'RateLimited', 'InvalidCredentials', 'Expired', 'Deauthorized'] as const)
      expect(failureKind(reason)).toBe('transient');
  });
  it('a refused or unknown record is a permanent failure', () => {
    expect(failureKind('NotFound')).toBe('permanent');
    expect(failureKind('InvalidResponse')).toBe('permanent');
  });
  it('a message that cannot be decrypted is fatal', () => {
    expect(failureKind('UndecryptableMessage')).toBe('fatal');
  });
  it('the reason of an EMR error or relay error is kept, anything else is an internal error', () => {
    expect(failureReason(new EmrError('NotFound', 'x'))).toBe('NotFound');
    expect(failureReason(new RelayError('SekUnavailable', 'x'))).toBe('SekUnavailable');
    expect(failureReason(new TypeError('x'))).toBe('InternalError');
  });
  it('an EMR call the egress sandbox stopped is reported with the sandbox reason, not the EMR one', () => {
    expect(failureReason(new EmrError('EmrUnreachable', 'x', undefined, 'EndpointNotAllowed'))).toBe('EndpointNotAllowed');
    expect(failureReason(new EmrError('InvalidResponse', 'x', undefined, 'ResponseTooLarge'))).toBe('ResponseTooLarge');
  });
  it('a refused address or a slow endpoint waits for a fix of the configuration; an oversized answer is permanent', () => {
    expect(failureKind('EndpointNotAllowed')).toBe('transient');
    expect(failureKind('EndpointTimeout')).toBe('transient');
    expect(failureKind('ResponseTooLarge')).toBe('permanent');
  });
});
