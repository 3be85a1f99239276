// A rate-limited work queue with client-go semantics: a key is queued at most once, a key being
// processed is never handed to a second worker (it is re-queued when done if it changed meanwhile),
// failures back off per key, exponentially and capped. Metrics use controller-runtime's names.
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';

export interface QueueMetrics {
  depth(n: number): void;
  added(): void;
  retried(): void;
  queuedFor(seconds: number): void;
  workedFor(seconds: number): void;
}

const noMetrics: QueueMetrics = { depth() {}, added() {}, retried() {}, queuedFor() {}, workedFor() {} };

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly enqueuedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; dueAt: number }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly backoff: BackoffPolicy;
  private readonly metrics: QueueMetrics;

  constructor(options: { backoff?: BackoffPolicy; metrics?: QueueMetrics } = {}) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.metrics = options.metrics ?? noMetrics;
  }

  get length(): number {
    return this.queue.length;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    this.metrics.added();
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    if (!this.enqueuedAt.has(key)) this.enqueuedAt.set(key, performance.now());
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /**
   * Adds the key after `ms`; an earlier pending delayed add wins (the sooner one is kept). Never
   * early by the wall clock: libuv counts a timer from the event loop's cached time, which lags real
   * time by however long the current turn has run, so a busy loop's timers fire early by that lag;
   * one that wakes before its due time waits out the rest (a schedule woken a millisecond before its
   * tick would find nothing due).
   */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const existing = this.timers.get(key);
    const dueAt = Date.now() + ms;
    if (existing && existing.dueAt <= dueAt) return;
    if (existing) clearTimeout(existing.timer);
    this.arm(key, dueAt);
  }

  private arm(key: string, dueAt: number): void {
    const timer = setTimeout(() => {
      if (Date.now() < dueAt) {
        this.arm(key, dueAt);
        return;
      }
      this.timers.delete(key);
      this.add(key);
    }, dueAt - Date.now());
    timer.unref();
    this.timers.set(key, { timer, dueAt });
  }

  /** Re-queues a failed key after its backoff delay; returns the delay used. */
  addRateLimited(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    this.metrics.retried();
    const delay = backoffDelay(n, this.backoff);
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears the failure count of a key after a success. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Waits for the next key; undefined once the queue is shut down and drained. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) return Promise.resolve(this.take(key));
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    const started = this.startedAt.get(key);
    if (started !== undefined) this.metrics.workedFor((performance.now() - started) / 1000);
    this.startedAt.delete(key);
    if (this.dirty.has(key)) this.push(key);
  }

  /** Stops accepting keys; waiting workers get undefined. In-flight keys finish normally. */
  shutdown(): void {
    this.shuttingDown = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  get inFlight(): number {
    return this.processing.size;
  }

  private push(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(this.take(key));
    } else {
      this.queue.push(key);
    }
    this.metrics.depth(this.queue.length);
  }

  private take(key: string): string {
    this.dirty.delete(key);
    this.processing.add(key);
    const queued = this.enqueuedAt.get(key);
    if (queued !== undefined) this.metrics.queuedFor((performance.now() - queued) / 1000);
    this.enqueuedAt.delete(key);
    this.startedAt.set(key, performance.now());
    this.metrics.depth(this.queue.length);
    return key;
  }
}
