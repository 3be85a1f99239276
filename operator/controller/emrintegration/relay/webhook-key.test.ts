import { describe, expect, it } from 'vitest';
import { decideWebhookKey, knownRecordSuffices, WEBHOOK_KEY_RECHECK_MS, webhookKeyPath, webhookKeyStatus } from './webhook-key.ts';

const NOW = new Date('2030-01-01T12:00:00Z');
const OLD = 'o'.repeat(43);
const SALT = 's'.repeat(43);
let n = 0;
const base = { now: NOW, graceMs: 24 * 3_600_000, newSecret: () => `${String(++n).padStart(3, '0')}${'n'.repeat(40)}` };
const stored = { data: { current: OLD, idSalt: SALT, rotatedAt: '2029-12-01T00:00:00Z' }, version: 3 };
const withToken = (token: string) => ({ ...stored, data: { ...stored.data, rotateToken: token } });

describe('the webhook key decision', () => {
  it('creates a key and a salt when there is no record (only if still absent)', () => {
    const d = decideWebhookKey({ ...base, stored: undefined, rotateToken: undefined });
    expect(d.write).toMatchObject({ cas: 0, why: 'created', data: { rotatedAt: NOW.toISOString() } });
    expect(d.write?.data['current']).toHaveLength(43);
    expect(d.write?.data['idSalt']).toHaveLength(43);
    expect(d.write?.data['current']).not.toBe(d.write?.data['idSalt']);
    expect(d.write?.data['previous']).toBeUndefined();
  });

  it('writes nothing when the record is there and no rotation is asked for', () => {
    expect(decideWebhookKey({ ...base, stored, rotateToken: undefined })).toEqual({ handled: undefined });
    expect(decideWebhookKey({ ...base, stored: withToken('t1'), rotateToken: 't1' })).toEqual({ handled: 't1' });
  });

  it('counts a token already on the integration when the key is first created as handled (a fresh key needs no rotation)', () => {
    const d = decideWebhookKey({ ...base, stored: undefined, rotateToken: 't0' });
    expect(d.write).toMatchObject({ why: 'created', data: { rotateToken: 't0' } });
    expect(d.write?.data['previous']).toBeUndefined();
  });

  it('rotates on a new token: a new key, the old one previous for the grace period, the same salt', () => {
    const d = decideWebhookKey({ ...base, stored: withToken('t1'), rotateToken: 't2' });
    expect(d.handled).toBe('t2');
    expect(d.write).toMatchObject({
      cas: 3,
      why: 'rotated',
      data: {
        previous: OLD,
        previousValidUntil: '2030-01-02T12:00:00.000Z',
        idSalt: SALT,
        rotatedAt: NOW.toISOString(),
        rotateToken: 't2',
      },
    });
    expect(d.write?.data['current']).not.toBe(OLD);
  });

  it('rotates once per token, even when the integration read is older than the last write (the token is in the record)', () => {
    const rotated = decideWebhookKey({ ...base, stored: withToken('t1'), rotateToken: 't2' });
    const again = decideWebhookKey({ ...base, stored: { data: rotated.write?.data ?? {}, version: 4 }, rotateToken: 't2' });
    expect(again.write).toBeUndefined();
  });

  it('repairs a record whose key was emptied, without keeping the untrusted value as previous', () => {
    const d = decideWebhookKey({
      ...base,
      stored: { data: { current: 'short', idSalt: SALT }, version: 5 },
      rotateToken: undefined,
    });
    expect(d.write).toMatchObject({ cas: 5, why: 'repaired', data: { idSalt: SALT } });
    expect(d.write?.data['previous']).toBeUndefined();
  });
});

describe('what status shows of the webhook key', () => {
  const rotated = {
    data: {
      current: 'c'.repeat(43),
      idSalt: SALT,
      previous: OLD,
      previousValidUntil: '2030-01-02T12:00:00.000Z',
      rotatedAt: NOW.toISOString(),
      rotateToken: 't2',
    },
    version: 4,
  };

  it('the version, the rotation time and the end of grace, never a key', () => {
    const status = webhookKeyStatus(rotated, NOW);
    expect(status).toEqual({
      keyVersion: 4,
      keyRotatedAt: NOW.toISOString(),
      previousKeyValidUntil: '2030-01-02T12:00:00.000Z',
      lastHandledRotateKeyAt: 't2',
    });
    expect(JSON.stringify(status)).not.toContain(OLD);
    expect(JSON.stringify(status)).not.toContain(SALT);
    expect(JSON.stringify(status)).not.toContain('c'.repeat(43));
  });

  it('drops the end of grace once it has passed', () => {
    expect(webhookKeyStatus(rotated, new Date('2030-01-03T00:00:00Z')).previousKeyValidUntil).toBeUndefined();
  });

  it("lives beside the site's SEK, per integration", () => {
    expect(webhookKeyPath('clinic', 'maple', 'maple-accuro')).toBe('cloudconnect/clinic/maple/relay/maple-accuro');
  });
});

describe('the webhook key record the relay step knows', () => {
  const known = { path: 'cloudconnect/ns/site/relay/i', stored: { data: { rotateToken: 't1' }, version: 3 }, readAt: NOW.getTime() };
  const later = (ms: number) => new Date(NOW.getTime() + ms);
  it.each([
    ['decides a poll without a Vault read', undefined, 'cloudconnect/ns/site/relay/i', 60_000, true],
    ['still does when the annotation is the rotation it records', 't1', 'cloudconnect/ns/site/relay/i', 60_000, true],
    ['does not when a new rotation is asked for', 't2', 'cloudconnect/ns/site/relay/i', 60_000, false],
    ['does not for another place (the integration moved to another site)', undefined, 'cloudconnect/ns/other/relay/i', 60_000, false],
    [
      'does not once the recheck interval has passed (an emptied record is repaired)',
      undefined,
      'cloudconnect/ns/site/relay/i',
      WEBHOOK_KEY_RECHECK_MS,
      false,
    ],
  ] as const)('%s', (_name, rotateToken, path, after, expected) => {
    expect(knownRecordSuffices(known, { path, rotateToken, now: later(after) })).toBe(expected);
  });
  it('does not when nothing was read yet', () => {
    expect(knownRecordSuffices(undefined, { path: 'p', rotateToken: undefined, now: NOW })).toBe(false);
  });
});
