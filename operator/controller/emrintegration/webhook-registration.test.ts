import { describe, expect, it } from 'vitest';
import { decideRegistration, type Recorded, registrationName, untilVerify } from './webhook-registration.ts';

const now = new Date('2026-12-02T10:00:00Z');
const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000).toISOString();
const desired = { url: 'https://clinic.example.org/ocean/webhook', keyHeader: 'Referral-Integration-API-Key', keyVersion: 2 };
const recorded: Recorded = { id: 'int-7', ...desired, lastVerified: minutesAgo(5) };

describe('decideRegistration', () => {
  it.each([
    ['registers a public URL that Ocean does not have yet', { desired, recorded: undefined }, { kind: 'register' }],
    ['does nothing while the registration is as wanted and recently verified', { desired, recorded }, { kind: 'nothing' }],
    [
      'updates the registration after a key rotation',
      { desired: { ...desired, keyVersion: 3 }, recorded },
      { kind: 'update', id: 'int-7' },
    ],
    [
      'updates the registration when the public URL changes',
      { desired: { ...desired, url: 'https://new.example.org/ocean/webhook' }, recorded },
      { kind: 'update', id: 'int-7' },
    ],
    [
      'updates the registration when the key header changes',
      { desired: { ...desired, keyHeader: 'X-Key' }, recorded },
      { kind: 'update', id: 'int-7' },
    ],
    [
      'verifies a registration last seen an interval ago',
      { desired, recorded: { ...recorded, lastVerified: minutesAgo(60) } },
      { kind: 'verify', id: 'int-7' },
    ],
    ['verifies a recent registration when a check is requested', { desired, recorded, verifyNow: true }, { kind: 'verify', id: 'int-7' }],
    ['verifies a registration never verified', { desired, recorded: { id: 'int-7', ...desired } }, { kind: 'verify', id: 'int-7' }],
    ['deregisters when the public URL is removed', { desired: undefined, recorded }, { kind: 'deregister', id: 'int-7' }],
    ['does nothing without a public URL and without a registration', { desired: undefined, recorded: undefined }, { kind: 'nothing' }],
    ['deregisters when the integration is deleted', { desired, recorded, deleting: true }, { kind: 'deregister', id: 'int-7' }],
    ['never registers an integration being deleted', { desired, recorded: undefined, deleting: true }, { kind: 'nothing' }],
  ] as const)('%s', (_name, input, expected) => {
    expect(decideRegistration({ deleting: false, now, ...input })).toEqual(expected);
  });
});

describe('untilVerify', () => {
  it('is the time left until the verification interval ends', () => {
    expect(untilVerify(recorded, now)).toBe(55 * 60_000);
  });
  it('is at least a second when the verification is overdue', () => {
    expect(untilVerify({ ...recorded, lastVerified: minutesAgo(120) }, now)).toBe(1000);
  });
  it('is undefined when nothing is registered', () => {
    expect(untilVerify(undefined, now)).toBeUndefined();
  });
});

describe('registrationName', () => {
  it('names the namespace and the integration', () => {
    expect(registrationName('clinic-a', 'accuro')).toBe('Cloud Connect clinic-a/accuro');
  });
  it('is cut to the 100 characters Ocean accepts', () => {
    expect(registrationName('n'.repeat(63), 'i'.repeat(200))).toHaveLength(100);
  });
});
