import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { OceanSite } from '../../api/v1alpha1/index.ts';
import { fingerprint } from '../../internal/sek/identity.ts';
import type { KvMetadata } from '../../internal/vault/client.ts';
import { TerminalError } from '../../runtime/errors.ts';
import {
  alreadyImported,
  consumed,
  emptyingPatch,
  hasLiveVersion,
  IMPORT_SECRET_NOT_MARKED,
  importEvent,
  importField,
  isMarkedImport,
  markedImportSelector,
  notMarkedError,
} from './key-import.ts';

const location = { mount: 'secret', path: 'cloudconnect/ns/maple/sek' };

describe('the field of the import Secret', () => {
  it.each([
    ['is read when present', { sek: 'c2Vr' }, 'sek', 'c2Vr'],
    ['stalls when the field is missing', { other: 'eA==' }, 'sek', 'ImportSecretKeyMissing'],
    ['stalls when the field is empty', { sek: '' }, 'sek', 'ImportSecretKeyMissing'],
    ['stalls when the Secret has no data', undefined, 'sek', 'ImportSecretKeyMissing'],
    ['is read from the configured key', { custom: 'eA==' }, 'custom', 'eA=='],
  ])('%s', (_name, data, field, expected) => {
    const result = importField(data, 'maple-sek', field);
    if (result instanceof TerminalError) {
      expect(result.reason).toBe(expected);
      expect(result.message).toContain('maple-sek');
      expect(result.message).toContain(JSON.stringify(field));
    } else {
      expect(result).toBe(expected);
    }
  });
});

describe('whether Vault has a live version', () => {
  const meta = (currentVersion: number, destroyed: Record<number, boolean> = {}): KvMetadata => ({
    currentVersion,
    createdTime: {},
    destroyed,
  });
  it.each([
    ['has none without metadata', undefined, false],
    ['has none at version 0', meta(0), false],
    ['has none when the current version is destroyed', meta(2, { 2: true }), false],
    ['has one when the current version stands', meta(2, { 1: true }), true],
  ])('%s', (_name, m, expected) => {
    expect(hasLiveVersion(m)).toBe(expected);
  });
});

describe('an import retried after a crash', () => {
  const current = (data: Record<string, string>) => ({ data, version: 4, createdTime: 't4' });
  it.each([
    [
      'writes no new version when Vault already holds this key',
      current({ sek: 'k' }),
      { ...location, version: 4, fingerprint: fingerprint('k'), storedAt: 't4' },
    ],
    ['writes when Vault holds another key', current({ sek: 'other' }), undefined],
    ['writes when the Vault secret has no sek field', current({ other: 'k' }), undefined],
    ['writes when nothing could be read', undefined, undefined],
  ])('%s', (_name, c, expected) => {
    expect(alreadyImported(c, fingerprint('k'), location)).toEqual(expected);
  });
});

describe('the Event of an import', () => {
  it.each([
    ['is KeyImported into an empty path', undefined, 'KeyImported'],
    ['is KeyImported when Vault has metadata but no version', { currentVersion: 0, createdTime: {}, destroyed: {} }, 'KeyImported'],
    ['is KeyRotated over an existing version', { currentVersion: 1, createdTime: {}, destroyed: {} }, 'KeyRotated'],
    ['is KeyRotated over a destroyed version', { currentVersion: 1, createdTime: {}, destroyed: { 1: true } }, 'KeyRotated'],
  ])('%s', (_name, meta, reason) => {
    expect(importEvent(meta, 'maple-sek', 2, 'abcd')).toEqual({
      reason,
      message: "SEK imported from Secret maple-sek into Vault as version 2 (fingerprint abcd); the Secret's data is removed",
    });
  });
});

describe('the import Secret', () => {
  it.each([
    ['is imported when it is of type cloudconnect.dev/sek-import', 'cloudconnect.dev/sek-import', true],
    ['is refused when it is Opaque (e.g. the EMR credentials)', 'Opaque', false],
    ['is refused when it is a ServiceAccount token', 'kubernetes.io/service-account-token', false],
    ['is refused when it is of a look-alike type', 'cloudconnect.dev/sek-import-x', false],
    ['is refused when it has no type', undefined, false],
  ])('%s', (_name, type, marked) => {
    expect(isMarkedImport(type)).toBe(marked);
  });

  it('is asked for by name and type, so an unmarked Secret never comes back with its data', () => {
    expect(markedImportSelector('maple-sek')).toBe('metadata.name=maple-sek,type=cloudconnect.dev/sek-import');
  });

  it('when unmarked stalls the site with ImportSecretNotMarked, naming the Secret and the type', () => {
    const error = notMarkedError('emr-creds');
    expect(error.reason).toBe(IMPORT_SECRET_NOT_MARKED);
    expect(error.message).toContain('Secret emr-creds');
    expect(error.message).toContain('cloudconnect.dev/sek-import');
  });
});

describe('a consumed import Secret', () => {
  const site = { apiVersion: 'cloudconnect.dev/v1alpha1', metadata: { name: 'maple', namespace: 'clinic', uid: 'site-uid' } } as OceanSite;
  const read: V1Secret = { metadata: { name: 'maple-sek', uid: 's-uid', resourceVersion: '42' }, data: { sek: 'a2V5' } };

  it('is emptied only if still the Secret that was read (uid and resourceVersion), annotated and owned by the site', () => {
    expect(emptyingPatch(read, site, new Date('2026-12-01T10:00:00Z'))).toEqual({
      metadata: {
        uid: 's-uid',
        resourceVersion: '42',
        annotations: { 'cloudconnect.dev/imported-into-vault': '2026-12-01T10:00:00.000Z' },
        ownerReferences: [expect.objectContaining({ kind: 'OceanSite', name: 'maple', uid: 'site-uid', blockOwnerDeletion: false })],
      },
      data: null,
    });
  });

  it.each([
    ['counts as absent once annotated and empty', { 'cloudconnect.dev/imported-into-vault': 't' }, undefined, true],
    ['is imported again when someone puts a key back in it', { 'cloudconnect.dev/imported-into-vault': 't' }, { sek: 'a2V5' }, false],
    ['is not consumed without the annotation, even when empty', undefined, undefined, false],
  ])('%s', (_name, annotations, data, expected) => {
    expect(consumed({ metadata: { ...(annotations ? { annotations } : {}) }, ...(data ? { data } : {}) })).toBe(expected);
  });
});
