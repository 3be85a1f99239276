import { describe, expect, it } from 'vitest';
import { decideWebhookKey, webhookKeyPath, webhookKeyStatus } from './webhook-key.ts';

const NOW = new Date('2030-01-01T12:00:00Z');
const OLD = 'o'.repeat(43);
const SALT = 's'.repeat(43);
let n = 0;
const base = { now: NOW, graceMs: 24 * 3_600_000, newSecret: () => `${String(++n).padStart(3, '0')}${'n'.repeat(40)}` };
const stored = { data: { current: OLD, idSalt: SALT, rotatedAt: '2029-12-01T00:00:00Z' }, version: 3 };

describe('the webhook key decision', () => {
  it('creates a key and a salt when there is no record (only if still absent)', () => {
    const d = decideWebhookKey({ ...base, stored: undefined, rotateToken: undefined, lastHandled: undefined });
    expect(d.write).toMatchObject({ cas: 0, why: 'created', data: { rotatedAt: NOW.toISOString() } });
    expect(d.write?.data['current']).toHaveLength(43);
    expect(d.write?.data['idSalt']).toHaveLength(43);
    expect(d.write?.data['current']).not.toBe(d.write?.data['idSalt']);
    expect(d.write?.data['previous']).toBeUndefined();
  });

  it('writes nothing when the record is there and no rotation is asked for', () => {
    expect(decideWebhookKey({ ...base, stored, rotateToken: undefined, lastHandled: undefined })).toEqual({ handled: undefined });
    expect(decideWebhookKey({ ...base, stored, rotateToken: 't1', lastHandled: 't1' })).toEqual({ handled: 't1' });
  });

  it('rotates on a new token: a new key, the old one previous for the grace period, the same salt', () => {
    const d = decideWebhookKey({ ...base, stored, rotateToken: 't2', lastHandled: 't1' });
    expect(d.handled).toBe('t2');
    expect(d.write).toMatchObject({
      cas: 3,
      why: 'rotated',
      data: { previous: OLD, previousValidUntil: '2030-01-02T12:00:00.000Z', idSalt: SALT, rotatedAt: NOW.toISOString() },
    });
    expect(d.write?.data['current']).not.toBe(OLD);
  });

  it('repairs a record whose key was emptied, without keeping the untrusted value as previous', () => {
    const d = decideWebhookKey({
      ...base,
      stored: { data: { current: 'short', idSalt: SALT }, version: 5 },
      rotateToken: undefined,
      lastHandled: undefined,
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
    },
    version: 4,
  };

  it('the version, the rotation time and the end of grace, never a key', () => {
    const status = webhookKeyStatus(rotated, 't2', NOW);
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
    expect(webhookKeyStatus(rotated, 't2', new Date('2030-01-03T00:00:00Z')).previousKeyValidUntil).toBeUndefined();
  });

  it("lives beside the site's SEK, per integration", () => {
    expect(webhookKeyPath('clinic', 'maple', 'maple-accuro')).toBe('cloudconnect/clinic/maple/relay/maple-accuro');
  });
});
