import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DecryptError, decryptBatch } from './crypto.ts';
import { fingerprint } from './identity.ts';
import { announcedVersion, RotatingEncryptor, type VersionedSek } from './key-rotation.ts';

const KEYS: Record<number, string> = {
  1: 'first-sek-0123456789abcdef0123456789',
  2: 'second-sek-0123456789abcdef012345678',
  3: 'third-sek-0123456789abcdef0123456789',
};

async function versionFile(content?: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'sek-version-')), 'sek-version');
  if (content !== undefined) await writeFile(file, content);
  return file;
}

function encryptor(file: string | undefined, reads: number[], failing = false) {
  return new RotatingEncryptor({
    initial: { value: KEYS[1]!, version: 1 },
    siteNumber: '1234',
    ...(file ? { versionFile: file } : {}),
    source: async (version?: number): Promise<VersionedSek> => {
      reads.push(version ?? 0);
      if (failing) throw new Error('Vault is sealed');
      return { value: KEYS[version!]!, version: version! };
    },
  });
}

describe('the version a downward-API file announces', () => {
  it.each([
    ['a plain number is that version', '3', 3],
    ['surrounding white space is ignored', ' 2\n', 2],
    ['an empty file announces nothing', '', undefined],
    ['a missing file announces nothing', undefined, undefined],
    ['zero is no version', '0', undefined],
    ['garbage announces nothing', 'three', undefined],
    ['a fraction announces nothing', '2.5', undefined],
  ])('%s', (_name, text, expected) => {
    expect(announcedVersion(text)).toBe(expected);
  });
});

describe('a worker whose SEK is rotated during the run', () => {
  it('encrypts with the new version after the announcement and marks each envelope with its key', async () => {
    const file = await versionFile('1');
    const reads: number[] = [];
    const enc = encryptor(file, reads);
    await enc.refresh();
    const before = enc.encryptBatch({ batchId: 'r:patient:1', kind: 'patient' }, [{ id: 1 }]);
    await writeFile(file, '3');
    await enc.refresh();
    const after = enc.encryptBatch({ batchId: 'r:patient:2', kind: 'patient' }, [{ id: 2 }]);
    expect(reads).toEqual([3]);
    expect(enc.version).toBe(3);
    expect(before.kid).toBe(fingerprint(KEYS[1]!));
    expect(after.kid).toBe(fingerprint(KEYS[3]!));
    expect(decryptBatch(before, KEYS[1]!, '1234').records).toEqual([{ id: 1 }]);
    expect(decryptBatch(after, KEYS[3]!, '1234').records).toEqual([{ id: 2 }]);
    expect(() => decryptBatch(after, KEYS[1]!, '1234')).toThrow(DecryptError);
  });

  it('does not read Vault again while the announced version is the one in use or older', async () => {
    const reads: number[] = [];
    const enc = encryptor(await versionFile('1'), reads);
    await enc.refresh();
    await enc.refresh();
    expect(reads).toEqual([]);
  });

  it('keeps the current key when the announced version cannot be read, and tries again next batch', async () => {
    const reads: number[] = [];
    const enc = encryptor(await versionFile('2'), reads, true);
    await enc.refresh();
    await enc.refresh();
    expect(reads).toEqual([2, 2]);
    expect(enc.version).toBe(1);
    expect(enc.encryptBatch({ batchId: 'r:patient:1', kind: 'patient' }, []).kid).toBe(fingerprint(KEYS[1]!));
  });

  it('runs outside a pod (no version file) with the key it started with', async () => {
    const reads: number[] = [];
    const enc = encryptor(undefined, reads);
    await enc.refresh();
    const missing = encryptor(join(tmpdir(), 'no-such-dir', 'sek-version'), reads);
    await missing.refresh();
    expect(reads).toEqual([]);
  });

  it('never shows the key when serialised', () => {
    const enc = encryptor(undefined, []);
    expect(JSON.stringify(enc)).not.toContain(KEYS[1]!);
  });

  it('never shows the key when inspected or spread', async () => {
    const file = await versionFile('2');
    const enc = encryptor(file, []);
    await enc.refresh();
    for (const text of [inspect(enc, { depth: 10 }), JSON.stringify({ ...enc })]) {
      expect(text).not.toContain('first-sek');
      expect(text).not.toContain('second-sek');
    }
  });
});
