import { describe, expect, it } from 'vitest';
import { addWithinCap, declaredTooLarge, ResponseTooLargeError, readCapped } from './capped-body.ts';

/** A body that never ends, counting how many bytes were pulled from it. */
function endless(chunkBytes: number): { stream: ReadableStream<Uint8Array>; pulled: () => number; cancelled: () => boolean } {
  let pulled = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled += chunkBytes;
      controller.enqueue(new Uint8Array(chunkBytes));
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, pulled: () => pulled, cancelled: () => cancelled };
}

const bodyOf = (...chunks: string[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(new TextEncoder().encode(c));
      controller.close();
    },
  });

describe('the response size cap', () => {
  it.each([
    ['counts a chunk that stays under the cap', 10, 5, 20, 15],
    ['accepts a chunk that reaches the cap exactly', 10, 10, 20, 20],
    ['stops at the first byte over the cap', 10, 11, 20, undefined],
  ] as const)('%s', (_name, received, chunk, max, expected) => {
    expect(addWithinCap(received, chunk, max)).toBe(expected);
  });

  it.each([
    ['refuses a declared length over the cap', '1025', true],
    ['accepts a declared length at the cap', '1024', false],
    ['leaves an absent length to the count', null, false],
    ['leaves a malformed length to the count', 'lots', false],
  ] as const)('%s', (_name, header, expected) => {
    expect(declaredTooLarge(header, 1024)).toBe(expected);
  });

  it('reads a body within the cap whole, in order', async () => {
    expect((await readCapped(bodyOf('{"a":', '1}'), 16, null)).toString()).toBe('{"a":1}');
  });

  it('stops an endless body at the cap, having read no more than the cap and one chunk, and cancels it', async () => {
    const body = endless(64 * 1024);
    await expect(readCapped(body.stream, 1024 * 1024, null)).rejects.toBeInstanceOf(ResponseTooLargeError);
    // The stream may have queued one chunk ahead of the reader (its high-water mark).
    expect(body.pulled()).toBeLessThanOrEqual(1024 * 1024 + 3 * 64 * 1024);
    expect(body.cancelled()).toBe(true);
  });

  it('refuses a declared oversized body before reading any of it', async () => {
    const body = endless(1024);
    await expect(readCapped(body.stream, 1024, '999999999')).rejects.toThrow('the response is larger than 1024 bytes');
    expect(body.pulled()).toBeLessThanOrEqual(1024);
    expect(body.cancelled()).toBe(true);
  });
});
