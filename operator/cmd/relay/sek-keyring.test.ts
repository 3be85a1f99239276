import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { VersionedSek } from '../../internal/sek/key-rotation.ts';
import { SekKeyring } from './sek-keyring.ts';

const KEYS: Record<number, string> = { 1: 'keyring-first-sek-0123456789abcdef', 2: 'keyring-second-sek-0123456789abcdef' };

function keyring(reads: (number | undefined)[]) {
  return new SekKeyring(async (version?: number): Promise<VersionedSek> => {
    reads.push(version);
    const v = version ?? 2;
    return { value: KEYS[v] ?? '', version: v };
  });
}

describe('SekKeyring', () => {
  it('reads the current key once and any older version on demand, each once', async () => {
    const reads: (number | undefined)[] = [];
    const k = keyring(reads);
    expect(await k.current()).toEqual({ value: KEYS[2], version: 2 });
    expect(await k.current()).toEqual({ value: KEYS[2], version: 2 });
    expect(await k.version(2)).toBe(KEYS[2]);
    expect(await k.version(1)).toBe(KEYS[1]);
    expect(await k.version(1)).toBe(KEYS[1]);
    expect(reads).toEqual([undefined, 1]);
  });

  it('shows none of its keys when inspected, spread or serialised', async () => {
    const k = keyring([]);
    await k.current();
    await k.version(1);
    for (const text of [inspect(k, { depth: 10 }), JSON.stringify({ ...k }), JSON.stringify(k)]) {
      expect(text).not.toContain('keyring-first-sek');
      expect(text).not.toContain('keyring-second-sek');
    }
  });
});
