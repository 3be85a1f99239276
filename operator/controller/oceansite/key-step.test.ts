import { describe, expect, it } from 'vitest';
import type { KvMetadata } from '../../internal/vault/client.ts';
import type { KeyState } from './key-state.ts';
import { decideKeyCheck, type KeyCheckMemory, knownKey, mustTellWorkers, rotationOf } from './key-step.ts';

const now = new Date('2025-03-01T10:10:00Z');
const key: KeyState = { mount: 'secret', path: 'cloudconnect/ns/maple/sek', version: 2, fingerprint: 'f2', storedAt: 't2' };
const checkedAt = new Date('2025-03-01T10:05:00Z').getTime();
const remembered = (over: Partial<KeyCheckMemory> = {}): KeyCheckMemory => ({
  key,
  checkedAt,
  generation: 3,
  requestedAt: 'r1',
  ...over,
});

describe('whether the remembered key is used without asking Vault', () => {
  it.each([
    ['uses it within the recheck interval, same generation and request', remembered(), 10 * 60_000, true],
    ['reads Vault on the first reconcile', undefined, 10 * 60_000, false],
    ['reads Vault when no key was remembered (the last reconcile failed)', remembered({ key: undefined }), 10 * 60_000, false],
    ['reads Vault when the spec changed', remembered({ generation: 2 }), 10 * 60_000, false],
    ['reads Vault on a new requestedAt (rotation on request)', remembered({ requestedAt: 'r0' }), 10 * 60_000, false],
    ['reads Vault once the recheck interval has passed', remembered(), 5 * 60_000, false],
    ['uses it until the last millisecond of the interval', remembered(), 5 * 60_000 + 1, true],
  ])('%s', (_name, memory, recheckMs, fresh) => {
    const check = decideKeyCheck({ memory, generation: 3, requestedAt: 'r1', recheckMs }, now);
    expect(check.fresh).toBe(fresh);
    if (check.fresh) expect(check).toEqual({ fresh: true, key, checkedAt });
  });
});

describe('the key as status knows it', () => {
  const location = { mount: 'secret', path: 'cloudconnect/ns/maple/sek' };
  const meta: KvMetadata = { currentVersion: 2, createdTime: { 2: 'created-2' }, destroyed: {} };
  it.each([
    ['is used when Vault is still at the fingerprinted version', { ...key }, key],
    ['takes storedAt from Vault when status has none', { ...key, storedAt: undefined }, { ...key, storedAt: 'created-2' }],
    ['is not used when Vault moved to another version', { ...key, version: 1 }, undefined],
    ['is not used without a fingerprint', { ...key, fingerprint: '' }, undefined],
    ['is not used when the key moved to another path', { ...key, path: 'elsewhere' }, undefined],
    ['is not used when the key moved to another mount', { ...key, mount: 'kv' }, undefined],
    ['is not used on the first sight of the key', undefined, undefined],
  ])('%s', (_name, known, expected) => {
    expect(knownKey(known, meta, location)).toEqual(expected);
  });
});

describe('a rotation', () => {
  it.each([
    ['is recorded when Vault has another version at the same path', { version: 1, path: key.path }, { from: 1, to: 2 }],
    ['is not recorded on the first sight of the key', undefined, undefined],
    ['is not recorded for the same version', { version: 2, path: key.path }, undefined],
    ['is not recorded when the key moved to another path', { version: 1, path: 'elsewhere' }, undefined],
  ])('%s', (_name, known, expected) => {
    expect(rotationOf(known, key)).toEqual(expected);
  });
});

describe('telling the running workers', () => {
  it.each([
    ['tells them when the version read differs from the one in status', 1, 2, true],
    ['tells them when the version went back (a restored key)', 3, 2, true],
    ['does not when status knew no version yet', undefined, 1, false],
    ['does not when the version is the same', 2, 2, false],
  ])('%s', (_name, knownVersion, version, expected) => {
    expect(mustTellWorkers(knownVersion, version)).toBe(expected);
  });
});
