import { describe, expect, it } from 'vitest';
import type { OceanSiteSpec } from '../../api/v1alpha1/index.ts';
import { parseDuration } from '../../runtime/duration.ts';
import {
  decideSupportAccess,
  fingerprint,
  keyLocation,
  legacyVaultName,
  refusedKeyLocation,
  roleBindsSite,
  sekReadPolicy,
  siteIdentity,
} from './identity.ts';

const vaultSpec = (vault?: { mount?: string; path?: string }): OceanSiteSpec => ({
  siteNumber: '1',
  clinicalAdminEmail: 'a@b.c',
  ...(vault ? { encryptionKey: { vault } } : {}),
});

describe('the place of a site key', () => {
  it.each([
    ['is cloudconnect/<namespace>/<site>/sek in the default mount', 'clinic', 'maple', 'secret', 'secret', 'cloudconnect/clinic/maple/sek'],
    ["is in the operator's mount when it has another", 'clinic', 'maple', 'kv-sek', 'kv-sek', 'cloudconnect/clinic/maple/sek'],
    ['keeps a dotted site name whole', 'a', 'b.c', 'secret', 'secret', 'cloudconnect/a/b.c/sek'],
  ])('%s', (_name, namespace, site, mount, wantedMount, wantedPath) => {
    expect(keyLocation(namespace, site, mount)).toEqual({ mount: wantedMount, path: wantedPath });
  });
});

describe('the spec.encryptionKey.vault fields', () => {
  const own = keyLocation('attacker', 'evil', 'secret');
  it.each([
    ['are accepted when absent', vaultSpec(), undefined],
    [
      'are accepted when they repeat the canonical place',
      vaultSpec({ mount: 'secret', path: 'cloudconnect/attacker/evil/sek' }),
      undefined,
    ],
    ['are accepted with only the canonical path', vaultSpec({ path: 'cloudconnect/attacker/evil/sek' }), undefined],
    [
      "refuse another namespace's key",
      vaultSpec({ path: 'cloudconnect/victim/oak/sek' }),
      ['spec.encryptionKey.vault.path', 'cloudconnect/victim/oak/sek'],
    ],
    [
      'refuse another site of the same namespace',
      vaultSpec({ path: 'cloudconnect/attacker/other/sek' }),
      ['spec.encryptionKey.vault.path', 'cloudconnect/attacker/other/sek'],
    ],
    ['refuse a * wildcard', vaultSpec({ path: 'cloudconnect/*/evil/sek' }), ['spec.encryptionKey.vault.path', 'cloudconnect/*/evil/sek']],
    ['refuse a + wildcard', vaultSpec({ path: 'cloudconnect/+/evil/sek' }), ['spec.encryptionKey.vault.path', 'cloudconnect/+/evil/sek']],
    ['refuse a path outside cloudconnect/', vaultSpec({ path: 'prestored/evil' }), ['spec.encryptionKey.vault.path', 'prestored/evil']],
    ['refuse another mount', vaultSpec({ mount: 'kv' }), ['spec.encryptionKey.vault.mount', 'kv']],
    [
      'refuse another mount even with the canonical path',
      vaultSpec({ mount: 'other', path: 'cloudconnect/attacker/evil/sek' }),
      ['spec.encryptionKey.vault.mount', 'other'],
    ],
  ] as const)('%s', (_name, spec, refused) => {
    const refusal = refusedKeyLocation(spec, own);
    if (refused === undefined) {
      expect(refusal).toBeUndefined();
    } else {
      const accepted = refused[0] === 'spec.encryptionKey.vault.mount' ? 'secret' : 'cloudconnect/attacker/evil/sek';
      expect(refusal).toEqual({ field: refused[0], given: refused[1], accepted });
    }
  });
});

describe('the Vault names of a site', () => {
  it.each([
    ['are cloudconnect-site.<namespace>.<site>', 'clinic', 'maple', 'cloudconnect-site.clinic.maple'],
    ['keep a dotted site name after the namespace', 'a', 'b.c', 'cloudconnect-site.a.b.c'],
  ])('%s', (_name, namespace, site, expected) => {
    expect(siteIdentity(namespace, site)).toMatchObject({ vaultPolicy: expected, vaultRole: expected });
  });

  it.each([
    ['namespace a, site b-c and namespace a-b, site c', ['a', 'b-c'], ['a-b', 'c']],
    ['namespace a, site b.c and namespace a-b, site c', ['a', 'b.c'], ['a-b', 'c']],
    ['namespace x, site y-z and namespace x-y, site z', ['x', 'y-z'], ['x-y', 'z']],
  ] as const)('differ for %s, whose legacy names collide or not', (_name, [ns1, site1], [ns2, site2]) => {
    expect(siteIdentity(ns1, site1).vaultRole).not.toBe(siteIdentity(ns2, site2).vaultRole);
    expect(siteIdentity(ns1, site1).vaultPolicy).not.toBe(siteIdentity(ns2, site2).vaultPolicy);
  });

  it('had colliding legacy names for the a/b-c and a-b/c pair (what the migration must not confuse)', () => {
    expect(legacyVaultName('a', 'b-c')).toBe(legacyVaultName('a-b', 'c'));
  });

  const pairs = [
    ['a', 'b-c'],
    ['a-b', 'c'],
    ['a', 'b.c'],
    ['site', 'x'],
    ['x', 'site.y'],
    ['site-x', 'y'],
  ] as const;
  it.each(pairs)('of namespace %s, site %s never equal any legacy name (so a migration never removes them)', (namespace, site) => {
    for (const [ns, s] of pairs) expect(siteIdentity(namespace, site).vaultRole).not.toBe(legacyVaultName(ns, s));
  });
});

describe('a legacy role', () => {
  const role = (namespaces: unknown, names: unknown) => ({
    bound_service_account_namespaces: namespaces,
    bound_service_account_names: names,
  });
  it.each([
    ["is this site's when it binds its ServiceAccount in its namespace", role(['a'], ['cloudconnect-sync-b-c']), true],
    ['is not when it binds the colliding site (namespace a-b, site c)', role(['a-b'], ['cloudconnect-sync-c']), false],
    ['is not when it binds the same ServiceAccount name in another namespace', role(['x'], ['cloudconnect-sync-b-c']), false],
    ['is not when it binds more than this site', role(['a', 'a-b'], ['cloudconnect-sync-b-c']), false],
    ['is not when it binds a wildcard', role(['*'], ['*']), false],
    ['is not when there is no role', undefined, false],
  ])('%s', (_name, r, expected) => {
    expect(roleBindsSite(r, 'a', 'cloudconnect-sync-b-c')).toBe(expected);
  });
});

describe('site identity', () => {
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
