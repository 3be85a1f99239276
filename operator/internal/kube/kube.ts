// Thin, typed access to the API server for the reconcilers: read our kinds, write status with
// server-side apply under one field manager (only when it changed), and record Events (a few at a time).
import { isDeepStrictEqual } from 'node:util';
import { CoreV1Api, type CoreV1Event, CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { API_VERSION, GROUP, type KindDefinition, type Resource, VERSION } from '../../api/v1alpha1/index.ts';
import type { Clock } from '../../runtime/clock.ts';
import { statusCodeOf } from '../../runtime/errors.ts';
import { Limiter } from '../../runtime/limiter.ts';
import { redactor } from '../../runtime/redact.ts';
import { PooledKubeConfig } from './pooled-kubeconfig.ts';

export const FIELD_MANAGER = 'cloudconnect-operator';
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export function loadKubeConfig(): KubeConfig {
  const kc = new PooledKubeConfig();
  kc.loadFromDefault();
  return kc;
}

/**
 * Event writes in flight at once, for every controller (client-go's recorder writes them one at a time
 * from its broadcaster). At a tick shared by a fleet's schedules, 200 RunStarted Events (not awaited)
 * must not crowd out the Job creates on the API server. A reconcile that awaits its Event waits its
 * turn too: the cost of this limit at a fleet's first start, where every site records KeyImported.
 */
export const EVENT_WRITERS = 2;

export class Kube {
  private readonly reportingInstance: string;
  private readonly eventWrites = new Limiter(EVENT_WRITERS);
  readonly kubeConfig: KubeConfig;
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;
  readonly clock: Clock;

  /** `reportingInstance` names this replica in the Events it records (the operator passes its pod name). */
  constructor(kubeConfig: KubeConfig, clock: Clock, reportingInstance = 'local') {
    this.reportingInstance = reportingInstance;
    this.kubeConfig = kubeConfig;
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.clock = clock;
  }

  collectionPath(kind: KindDefinition): string {
    return `/apis/${GROUP}/${VERSION}/${kind.plural}`;
  }

  /** Lists `kind` in one namespace, or in every namespace when `namespace` is undefined (an informer's list). */
  listAll<T>(kind: KindDefinition): (namespace?: string) => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }> {
    const params = { group: GROUP, version: VERSION, plural: kind.plural };
    return async (namespace) =>
      (await (namespace === undefined
        ? this.custom.listClusterCustomObject(params)
        : this.custom.listNamespacedCustomObject({ ...params, namespace }))) as { items: T[] };
  }

  async get<T>(kind: KindDefinition, namespace: string, name: string): Promise<T | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: kind.plural, namespace, name })) as T;
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw error;
    }
  }

  /**
   * Applies `status` with server-side apply when it differs from what the object has; returns
   * whether a write happened. Idle objects cost no write.
   */
  async applyStatus<S>(kind: KindDefinition, obj: Resource<unknown, S>, status: S): Promise<boolean> {
    if (isDeepStrictEqual(stripUndefined(obj.status ?? {}), stripUndefined(status))) return false;
    await this.custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: kind.plural,
        namespace: obj.metadata.namespace ?? '',
        name: obj.metadata.name,
        body: {
          apiVersion: API_VERSION,
          kind: kind.kind,
          metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace },
          status,
        },
        fieldManager: FIELD_MANAGER,
        force: true,
      },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
    return true;
  }

  /** JSON merge patch of metadata (finalizers), guarded by the resourceVersion we read. */
  async patchMetadata(kind: KindDefinition, obj: Resource<unknown, unknown>, metadata: Record<string, unknown>): Promise<void> {
    await this.mergePatch(kind, obj, { ...metadata, resourceVersion: obj.metadata.resourceVersion });
  }

  /** Sets annotations (no resourceVersion: annotations merge). */
  async annotate(kind: KindDefinition, obj: Resource<unknown, unknown>, annotations: Record<string, string>): Promise<void> {
    await this.mergePatch(kind, obj, { annotations });
  }

  private async mergePatch(kind: KindDefinition, obj: Resource<unknown, unknown>, metadata: Record<string, unknown>): Promise<void> {
    await this.custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        plural: kind.plural,
        namespace: obj.metadata.namespace ?? '',
        name: obj.metadata.name,
        body: { metadata },
      },
      MERGE_PATCH,
    );
  }

  /**
   * Records a Kubernetes Event on `obj`. The message is redacted; failures to record are ignored.
   * With `name`, the Event is created only if none has that name yet ("exists" otherwise): one
   * occurrence, however often and by however many replicas it is seen, is recorded once.
   */
  async event(
    obj: Resource<unknown, unknown>,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    options: { name?: string } = {},
  ): Promise<'recorded' | 'exists' | 'failed'> {
    const now = this.clock.now();
    const namespace = obj.metadata.namespace ?? 'default';
    const body: CoreV1Event = {
      metadata: { ...(options.name ? { name: options.name } : { generateName: `${obj.metadata.name}.` }), namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata.name,
        namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      type,
      reason,
      message: redactor.string(message).slice(0, 1024),
      source: { component: FIELD_MANAGER },
      reportingComponent: FIELD_MANAGER,
      reportingInstance: this.reportingInstance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.eventWrites.run(() => this.core.createNamespacedEvent({ namespace, body }));
      return 'recorded';
    } catch (error) {
      // Events are best effort, like client-go's recorder.
      return statusCodeOf(error) === 409 ? 'exists' : 'failed';
    }
  }
}

function stripUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value ?? null)) as T;
}
