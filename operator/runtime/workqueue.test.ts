import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay } from './backoff.ts';
import { WorkQueue } from './workqueue.ts';

describe('the work queue', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('hands out a key added twice only once', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/b');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('ns/a');
    expect(await q.get()).toBe('ns/b');
  });

  it('never gives a key being processed to a second worker, and re-queues it when done if it changed', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    const key = await q.get();
    q.add('ns/a');
    expect(q.length).toBe(0);
    q.done(key!);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('ns/a');
  });

  it('backs off a failing key exponentially and forgets it after a success', async () => {
    const q = new WorkQueue({ backoff: { baseMs: 100, capMs: 1000 } });
    expect(q.addRateLimited('ns/a')).toBe(100);
    expect(q.addRateLimited('ns/a')).toBe(200);
    expect(q.addRateLimited('ns/a')).toBe(400);
    q.forget('ns/a');
    expect(q.addRateLimited('ns/a')).toBe(100);
  });

  it('delivers a delayed key only after its delay', async () => {
    const q = new WorkQueue();
    q.addAfter('ns/a', 5000);
    expect(q.length).toBe(0);
    vi.advanceTimersByTime(4999);
    expect(q.length).toBe(0);
    vi.advanceTimersByTime(1);
    expect(q.length).toBe(1);
  });

  it('never delivers a delayed key before its wall-clock due time, even when its timer fires early (a busy loop lags)', () => {
    const q = new WorkQueue();
    q.addAfter('ns/a', 1000);
    // The timer's clock runs 30 ms ahead of the wall clock, as libuv's cached loop time does after a long turn.
    vi.setSystemTime(Date.now() - 30);
    vi.advanceTimersByTime(1000);
    expect(q.length).toBe(0);
    vi.advanceTimersByTime(30);
    expect(q.length).toBe(1);
  });

  it('keeps the sooner of two delayed adds', () => {
    const q = new WorkQueue();
    q.addAfter('ns/a', 1000);
    q.addAfter('ns/a', 60_000);
    vi.advanceTimersByTime(1000);
    expect(q.length).toBe(1);
  });

  it('releases waiting workers on shutdown', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.shutdown();
    expect(await waiting).toBeUndefined();
  });

  it('counts adds, retries and depth through its metrics', async () => {
    const seen = { adds: 0, retries: 0, depth: -1 };
    const q = new WorkQueue({
      metrics: { added: () => seen.adds++, retried: () => seen.retries++, depth: (n) => (seen.depth = n), queuedFor() {}, workedFor() {} },
    });
    q.add('a');
    q.add('a');
    q.addRateLimited('b');
    expect(seen).toEqual({ adds: 2, retries: 1, depth: 1 });
  });
});

describe('backoffDelay', () => {
  it.each([
    ['waits nothing before the first failure', 0, 0],
    ['waits the base after one failure', 1, 500],
    ['doubles per failure', 4, 4000],
    ['stops at the cap', 40, 300_000],
  ])('%s', (_n, failures, expected) => {
    expect(backoffDelay(failures)).toBe(expected);
  });
});
