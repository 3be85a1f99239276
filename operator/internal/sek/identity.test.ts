import { describe, expect, it } from 'vitest';
import type { OceanSiteSpec } from '../../api/v1alpha1/index.ts';
import { parseDuration } from '../../runtime/duration.ts';
import {
  decideSupportAccess,
  fingerprint,
  isSiteServiceAccount,
  keyLocation,
  keyOwnerOfPath,
  legacySiteServiceAccount,
  refusedKeyLocation,
  siteServiceAccount,
  siteServiceAccountLabels,
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

describe("a site's ServiceAccount", () => {
  it('is named after the site, which the sync policy turns into its key path', () => {
    expect(siteServiceAccount('maple')).toBe('maple');
    expect(legacySiteServiceAccount('maple')).toBe('cloudconnect-sync-maple');
  });

  it.each([
    ["is the operator's when it carries this site's labels", siteServiceAccountLabels('maple'), true],
    ["is not when it carries another site's labels", siteServiceAccountLabels('birch'), false],
    ['is not when only the site label is there (a tenant copied it)', { 'cloudconnect.dev/site': 'maple' }, false],
    ['is not when it has no labels (a tenant ServiceAccount, or default)', undefined, false],
  ])('%s', (_name, labels, expected) => {
    expect(isSiteServiceAccount(labels, 'maple')).toBe(expected);
  });
});

describe('site identity', () => {
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

describe('keyOwnerOfPath (the site a Vault request path names, the inverse of keyLocation)', () => {
  it.each([
    [
      'finds the site of a KV data path',
      `secret/data/${keyLocation('clinic-a', 'maple', 'secret').path}`,
      { namespace: 'clinic-a', name: 'maple' },
    ],
    ['finds it under any mount and endpoint', 'kv/metadata/cloudconnect/clinic-b/birch/sek', { namespace: 'clinic-b', name: 'birch' }],
    ['names nobody for another secret of the folder', 'secret/data/cloudconnect/clinic-a/maple/other', undefined],
    ['names nobody for a path with an empty segment', 'secret/data/cloudconnect//maple/sek', undefined],
  ])('%s', (_n, path, owner) => {
    expect(keyOwnerOfPath(path)).toEqual(owner);
  });
});
