// A list-watch cache (client-node's makeInformer) under supervision. client-node stops a ListWatch
// for good after a watch or list error (apiserver restarted, connection refused) and a watch can
// also go quiet for ever on a half-open connection; both are noticed here and the watch restarted,
// resuming from the last resourceVersion (or re-listing after a 410).
// With `namespaces` (WATCH_NAMESPACES), one such cache per namespace behind the same get/list/on:
// every list and watch is then namespaced, so the operator needs only a Role in each namespace.
import { type KubeConfig, type KubernetesListObject, type KubernetesObject, makeInformer } from '@kubernetes/client-node';

/** What the cache needs of an object; custom resources arrive as plain JSON (string timestamps). */
export interface CachedObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; generation?: number };
}

import { backoffDelay } from './backoff.ts';
import { CacheIndex, type IndexDefinition } from './cache-index.ts';
import { safeMessage } from './errors.ts';
import type { Logger } from './logger.ts';
import type { OperatorMetrics } from './metrics.ts';

export type Handler<T> = (obj: T) => void;

export type ListResult<T> = { items: T[]; metadata?: { resourceVersion?: string } };

export interface InformerOptions<T extends CachedObject> {
  kubeConfig: KubeConfig;
  /** API path of the collection in every namespace, e.g. /apis/cloudconnect.dev/v1alpha1/oceansites. */
  path: string;
  /** Lists the collection in `namespace`, or in every namespace when it is undefined. */
  list: (namespace?: string) => Promise<ListResult<T>>;
  /** Only these namespaces, one list-watch each; empty or absent: every namespace (one cluster-wide list-watch). */
  namespaces?: readonly string[];
  resource: string;
  logger: Logger;
  metrics: OperatorMetrics;
  labelSelector?: string;
  /** A watch with no event and no reconnect for this long is considered dead and restarted. */
  staleAfterMs?: number;
}

/** The annotation kubectl apply writes: a whole copy of the object as last applied, never read here. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * What the cache keeps of an object: everything but `metadata.managedFields` and kubectl's
 * last-applied copy, which no controller reads and which together often outweigh the object itself
 * (controller-runtime's `TransformStripManagedFields`, client-go's `SetTransform`). In place: the
 * object is ours, fresh from the list or the watch.
 */
export function stripForCache<T extends CachedObject>(obj: T): T {
  const metadata = obj.metadata as { managedFields?: unknown; annotations?: Record<string, string> } | undefined;
  if (!metadata) return obj;
  delete metadata.managedFields;
  if (metadata.annotations && LAST_APPLIED in metadata.annotations) {
    delete metadata.annotations[LAST_APPLIED];
    if (Object.keys(metadata.annotations).length === 0) delete metadata.annotations;
  }
  return obj;
}

/** The collection path of one namespace: /apis/batch/v1/jobs → /apis/batch/v1/namespaces/<ns>/jobs. */
export function namespacedPath(path: string, namespace: string): string {
  const i = path.lastIndexOf('/');
  return `${path.slice(0, i)}/namespaces/${namespace}${path.slice(i)}`;
}

/**
 * The cache of the three Cloud Connect kinds, Secrets, Jobs, ...: one cluster-wide list-watch, or
 * one per namespace of `namespaces`. An object of another namespace is never listed, so it is
 * never in the cache, never an event, never reconciled.
 */
export class SupervisedInformer<T extends CachedObject> {
  /** One list-watch per namespace; the key is undefined for the cluster-wide one. */
  private readonly watches: Map<string | undefined, ListWatch<T>>;

  constructor(options: InformerOptions<T>) {
    const namespaces = options.namespaces ?? [];
    this.watches = new Map(
      namespaces.length === 0
        ? [[undefined, new ListWatch<T>({ ...options, list: () => options.list() })]]
        : namespaces.map((ns) => [
            ns,
            new ListWatch<T>({ ...options, path: namespacedPath(options.path, ns), list: () => options.list(ns) }),
          ]),
    );
  }

  get synced(): boolean {
    return [...this.watches.values()].every((w) => w.synced);
  }

  on(event: 'add' | 'update' | 'delete', handler: Handler<T>): void {
    for (const w of this.watches.values()) w.on(event, handler);
  }

  get(name: string, namespace?: string): T | undefined {
    for (const w of this.watchesOf(namespace)) {
      const found = w.get(name, namespace);
      if (found) return found;
    }
    return undefined;
  }

  list(namespace?: string): T[] {
    return this.watchesOf(namespace).flatMap((w) => w.list(namespace));
  }

  /**
   * The objects of `namespace` that `index` files under `value` (cache-index.ts): what
   * `list(namespace).filter(...)` would return, from a map kept by the cache's events.
   */
  byIndex(index: IndexDefinition<T>, namespace: string, value: string): T[] {
    return this.watchesOf(namespace).flatMap((w) => w.byIndex(index, namespace, value));
  }

  /** Starts every watch; resolves once each first list has filled its cache. */
  async start(): Promise<void> {
    await Promise.all([...this.watches.values()].map((w) => w.start()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.watches.values()].map((w) => w.stop()));
  }

  /** The watches that may hold objects of `namespace` (every one when undefined; none for an unwatched namespace). */
  private watchesOf(namespace: string | undefined): ListWatch<T>[] {
    if (namespace === undefined || this.watches.has(undefined)) return [...this.watches.values()];
    const watch = this.watches.get(namespace);
    return watch ? [watch] : [];
  }
}

type ListWatchOptions<T extends CachedObject> = Omit<InformerOptions<T>, 'list' | 'namespaces'> & { list: () => Promise<ListResult<T>> };

/** One collection path's list-watch under supervision (see the top of this file). */
class ListWatch<T extends CachedObject> {
  private readonly informer: ReturnType<typeof makeInformer<KubernetesObject>>;
  private readonly options: ListWatchOptions<T>;
  private lastActivity = Date.now();
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private stopped = false;
  private syncedFlag = false;
  private restarting = false;
  /** The secondary indexes asked for so far, each kept by the handlers below. */
  private readonly indexes = new Map<IndexDefinition<T>, CacheIndex<T>>();

  constructor(options: ListWatchOptions<T>) {
    this.options = options;
    const list = async () => {
      const result = await options.list();
      for (const item of result.items) stripForCache(item);
      return result;
    };
    // client-node types objects as its own models; ours are the plain JSON the API server sends.
    this.informer = makeInformer<KubernetesObject>(
      options.kubeConfig,
      options.path,
      list as unknown as () => Promise<KubernetesListObject<KubernetesObject>>,
      options.labelSelector,
    );
    // First handlers of all: a watched object is stripped before any other handler (or the cache's
    // next reader) sees it; client-node caches the very object it hands to its handlers.
    // The indexes next, so that a handler of any cache finds every index up to date.
    const put = (obj: KubernetesObject) => {
      stripForCache(obj as CachedObject);
      for (const index of this.indexes.values()) index.put(obj as unknown as T);
    };
    this.informer.on('add', put);
    this.informer.on('update', put);
    this.informer.on('delete', (obj) => {
      for (const index of this.indexes.values()) index.remove(obj as unknown as T);
    });
    const touch = () => {
      this.lastActivity = Date.now();
    };
    this.informer.on('connect', () => {
      touch();
    });
    this.informer.on('add', touch);
    this.informer.on('update', touch);
    this.informer.on('delete', touch);
    this.informer.on('error', (err) => this.onError(err));
  }

  get synced(): boolean {
    return this.syncedFlag;
  }

  on(event: 'add' | 'update' | 'delete', handler: Handler<T>): void {
    this.informer.on(event, handler as unknown as Handler<KubernetesObject>);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace) as unknown as T | undefined;
  }

  list(namespace?: string): T[] {
    return this.informer.list(namespace) as unknown as T[];
  }

  /** Builds the index from the cache the first time it is asked; the handlers keep it from then on. */
  byIndex(definition: IndexDefinition<T>, namespace: string, value: string): T[] {
    let index = this.indexes.get(definition);
    if (!index) {
      index = new CacheIndex(definition, this.list());
      this.indexes.set(definition, index);
    }
    return index.get(namespace, value);
  }

  /** Starts the watch; resolves once the first list has filled the cache (retrying until it does). */
  async start(): Promise<void> {
    this.stopped = false;
    const staleAfter = this.options.staleAfterMs ?? 90_000;
    this.watchdog = setInterval(() => this.checkStale(staleAfter), Math.max(1000, Math.floor(staleAfter / 4)));
    this.watchdog.unref();
    while (!this.stopped) {
      let failed = false;
      let failure: unknown;
      const onError = (err: unknown) => {
        failed = true;
        failure = err;
      };
      this.informer.on('error', onError);
      await this.informer.start();
      this.informer.off('error', onError);
      if (!failed) {
        this.syncedFlag = true;
        this.failures = 0;
        this.lastActivity = Date.now();
        return;
      }
      // Not ready until it succeeds; say why (an RBAC refusal names the verb, resource and namespace).
      const { resource, path } = this.options;
      this.options.logger.warn('first list failed; retrying', { resource, path, error: safeMessage(failure) });
      await new Promise((r) => setTimeout(r, backoffDelay(Math.max(1, this.failures), { baseMs: 500, capMs: 10_000 })));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    await this.informer.stop();
  }

  private onError(err: unknown): void {
    if (this.stopped) return;
    this.failures += 1;
    this.options.metrics.watchRestarts.inc({ resource: this.options.resource, reason: 'error' });
    if (!this.syncedFlag) return; // start() retries the first list itself
    this.scheduleRestart('error', backoffDelay(this.failures, { baseMs: 500, capMs: 30_000 }), err);
  }

  private checkStale(staleAfter: number): void {
    if (this.stopped || !this.syncedFlag || this.restarting || this.restartTimer) return;
    if (Date.now() - this.lastActivity > staleAfter) {
      this.options.metrics.watchRestarts.inc({ resource: this.options.resource, reason: 'stale' });
      this.scheduleRestart('stale', 0, undefined);
    }
  }

  private scheduleRestart(reason: string, delayMs: number, err: unknown): void {
    if (this.restartTimer) return;
    this.options.logger.warn('watch stopped; restarting it', {
      resource: this.options.resource,
      reason,
      delayMs,
      ...(err === undefined ? {} : { error: safeMessage(err) }),
    });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.restart();
    }, delayMs);
    this.restartTimer.unref();
  }

  private async restart(): Promise<void> {
    if (this.stopped) return;
    this.restarting = true;
    try {
      await this.informer.stop();
      this.lastActivity = Date.now();
      await this.informer.start();
    } finally {
      this.restarting = false;
    }
  }
}
