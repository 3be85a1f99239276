import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../runtime/duration.ts';
import { decideSupportAccess, fingerprint, keyLocation, sekReadPolicy } from './identity.ts';

describe('site identity', () => {
  it('puts the key at cloudconnect/<namespace>/<site>/sek in the secret mount by default', () => {
    expect(keyLocation({ siteNumber: '1', clinicalAdminEmail: 'a@b.c' }, 'clinic', 'maple')).toEqual({
      mount: 'secret',
      path: 'cloudconnect/clinic/maple/sek',
    });
  });

  it('grants read on exactly one KV data path', () => {
    const hcl = sekReadPolicy({ mount: 'secret', path: 'cloudconnect/clinic/maple/sek' });
    expect(hcl).toContain('path "secret/data/cloudconnect/clinic/maple/sek"');
    expect(hcl).toContain('capabilities = ["read"]');
    expect(hcl).not.toContain('*');
  });

  it('fingerprints without revealing the key', () => {
    const fp = fingerprint('the-key');
    expect(fp).toMatch(/^[0-9a-f]{16}$/);
    expect(fp).toBe(fingerprint('the-key'));
    expect(fp).not.toBe(fingerprint('the-key2'));
  });
});

describe('decideSupportAccess', () => {
  const now = new Date('2026-11-23T12:00:00Z');
  it.each([
    ['keeps access without an expiry', [{ name: 'a' }], ['a'], [], undefined],
    [
      'keeps access until it expires and requeues at the expiry',
      [{ name: 'a', expiresAt: '2026-11-24T00:00:00Z' }],
      ['a'],
      [],
      '2026-11-24T00:00:00.000Z',
    ],
    ['removes access at its expiry', [{ name: 'a', expiresAt: '2026-11-23T12:00:00Z' }], [], ['a'], undefined],
    [
      'requeues at the soonest of several expiries',
      [
        { name: 'a', expiresAt: '2026-11-25T00:00:00Z' },
        { name: 'b', expiresAt: '2026-11-24T00:00:00Z' },
      ],
      ['a', 'b'],
      [],
      '2026-11-24T00:00:00.000Z',
    ],
  ] as const)('%s', (_n, sites, active, expired, next) => {
    const d = decideSupportAccess([...sites], now);
    expect(d.active.map((s) => s.name)).toEqual(active);
    expect(d.expired.map((s) => s.name)).toEqual(expired);
    expect(d.nextExpiry?.toISOString()).toBe(next);
  });
});

describe('parseDuration', () => {
  it.each([
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
  ])('reads %s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it('refuses garbage', () => expect(() => parseDuration('10 minutes')).toThrow(/not a duration/));
});
