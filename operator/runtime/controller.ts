// One controller: events from informers become keys in a work queue; N workers reconcile keys one
// at a time per key; errors back off per key; a TerminalError is recorded and not retried.
import { safeMessage, TerminalError } from './errors.ts';
import type { CachedObject, SupervisedInformer } from './informer.ts';
import type { Logger } from './logger.ts';
import type { OperatorMetrics } from './metrics.ts';
import { WorkQueue } from './workqueue.ts';

export interface ObjectKey {
  namespace: string;
  name: string;
}

export interface ReconcileResult {
  /** Reconcile this key again after this long even if nothing changes (expiry checks, schedules). */
  requeueAfterMs?: number;
}

export interface Reconciler {
  reconcile(key: ObjectKey): Promise<ReconcileResult>;
}

export function keyOf(obj: CachedObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

function parseKey(key: string): ObjectKey {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/**
 * Whether an update is worth a reconcile: spec (generation), labels, annotations, finalizers or
 * deletion changed. Our own status writes only bump resourceVersion and are ignored, so an idle
 * object costs nothing.
 */
interface WatchedMeta {
  metadata?: CachedObject['metadata'] & { deletionTimestamp?: unknown; labels?: object; annotations?: object; finalizers?: string[] };
}

function meaningfulUpdate(before: WatchedMeta | undefined, after: WatchedMeta): boolean {
  if (!before) return true;
  const a = before.metadata ?? {};
  const b = after.metadata ?? {};
  if (a.generation === undefined && b.generation === undefined) return a.resourceVersion !== b.resourceVersion;
  return (
    a.generation !== b.generation ||
    a.deletionTimestamp !== b.deletionTimestamp ||
    JSON.stringify(a.labels ?? {}) !== JSON.stringify(b.labels ?? {}) ||
    JSON.stringify(a.annotations ?? {}) !== JSON.stringify(b.annotations ?? {}) ||
    JSON.stringify(a.finalizers ?? []) !== JSON.stringify(b.finalizers ?? [])
  );
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly reconciler: Reconciler;
  private readonly workers: number;
  private readonly logger: Logger;
  private readonly metrics: OperatorMetrics;
  private running: Promise<void>[] = [];
  private readonly lastSeen = new Map<string, WatchedMeta>();

  constructor(options: { name: string; reconciler: Reconciler; workers?: number; logger: Logger; metrics: OperatorMetrics }) {
    this.name = options.name;
    this.reconciler = options.reconciler;
    this.workers = options.workers ?? 2;
    this.logger = options.logger.child({ controller: options.name });
    this.metrics = options.metrics;
    this.queue = new WorkQueue({ metrics: options.metrics.queueMetricsFor(options.name) });
    this.metrics.maxWorkers.set({ controller: this.name }, this.workers);
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Primary resource: every meaningful change reconciles it. */
  watchPrimary<T extends CachedObject>(informer: SupervisedInformer<T>): void {
    informer.on('add', (obj) => {
      this.lastSeen.set(keyOf(obj), obj);
      this.enqueue(keyOf(obj));
    });
    informer.on('update', (obj) => {
      const key = keyOf(obj);
      const before = this.lastSeen.get(key);
      this.lastSeen.set(key, obj);
      if (meaningfulUpdate(before, obj)) this.enqueue(key);
    });
    informer.on('delete', (obj) => {
      this.lastSeen.delete(keyOf(obj));
      this.enqueue(keyOf(obj));
    });
  }

  /**
   * A related resource of which only its references matter to the primary (which primaries it names,
   * not what else it says): the keys `map` returns reconcile when the object appears or goes, or when
   * an update changes them (the old and the new keys), and on no other update. An OceanSite counts its
   * integrations: with watchRelated, each of an integration's status writes (every periodic check of
   * its EMR credentials among them) reconciled its site again in full.
   */
  watchReferences<T extends CachedObject>(informer: SupervisedInformer<T>, map: (obj: T) => string[]): void {
    const referenced = new Map<string, string[]>();
    const enqueueAll = (keys: Iterable<string>) => {
      for (const key of keys) this.enqueue(key);
    };
    informer.on('add', (obj) => {
      const keys = map(obj);
      referenced.set(keyOf(obj), keys);
      enqueueAll(keys);
    });
    informer.on('update', (obj) => {
      const before = referenced.get(keyOf(obj)) ?? [];
      const after = map(obj);
      referenced.set(keyOf(obj), after);
      if (before.length !== after.length || before.some((key, i) => key !== after[i])) enqueueAll(new Set([...before, ...after]));
    });
    informer.on('delete', (obj) => {
      const before = referenced.get(keyOf(obj)) ?? [];
      referenced.delete(keyOf(obj));
      enqueueAll(new Set([...before, ...map(obj)]));
    });
  }

  /** A related resource: its changes reconcile the primary keys that `map` returns. */
  watchRelated<T extends CachedObject>(informer: SupervisedInformer<T>, map: (obj: T) => string[]): void {
    const handler = (obj: T) => {
      for (const key of map(obj)) this.enqueue(key);
    };
    informer.on('add', handler);
    informer.on('update', handler);
    informer.on('delete', handler);
  }

  start(): void {
    for (let i = 0; i < this.workers; i++) this.running.push(this.worker());
  }

  /** Stops taking keys and waits for in-flight reconciles to finish. */
  async shutdown(): Promise<void> {
    this.queue.shutdown();
    await Promise.all(this.running);
    this.running = [];
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    const labels = { controller: this.name };
    const end = this.metrics.reconcileTime.startTimer(labels);
    this.metrics.activeWorkers.inc(labels);
    try {
      const result = await this.reconciler.reconcile(parseKey(key));
      this.queue.forget(key);
      if (result.requeueAfterMs !== undefined && result.requeueAfterMs >= 0) {
        this.queue.addAfter(key, result.requeueAfterMs);
        this.metrics.reconcileTotal.inc({ ...labels, result: 'requeue_after' });
      } else {
        this.metrics.reconcileTotal.inc({ ...labels, result: 'success' });
      }
    } catch (error) {
      this.metrics.reconcileErrors.inc(labels);
      this.metrics.reconcileTotal.inc({ ...labels, result: 'error' });
      if (error instanceof TerminalError) {
        this.metrics.terminalErrors.inc(labels);
        this.queue.forget(key);
        this.logger.warn('reconcile stalled', { key, reason: error.reason, error: safeMessage(error) });
      } else {
        const delayMs = this.queue.addRateLimited(key);
        this.logger.warn('reconcile failed; retrying', { key, delayMs, error: safeMessage(error) });
      }
    } finally {
      end();
      this.metrics.activeWorkers.dec(labels);
      this.queue.done(key);
    }
  }
}
