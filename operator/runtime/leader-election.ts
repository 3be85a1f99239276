// Leader election on a coordination.k8s.io Lease, with client-go's semantics: acquire a free or
// expired lease, renew every retry period, give up leadership (and let the process exit) when a
// renewal has not succeeded within the renew deadline, release the lease on graceful shutdown.
//
// Whether another holder's lease has expired is judged on this replica's own clock only: the lease
// counts as expired when its record (holder, renewTime, acquireTime, transitions, duration) has not
// changed for leaseDurationSeconds since this replica *observed* the last change (client-go's
// observedTime). The holder's renewTime is written by the holder's clock, and comparing it with
// ours would let a replica whose clock runs ahead take a lease that is still being renewed, so that
// two replicas lead at once. Every time is read from the injected clock.
import { CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import type { Clock } from './clock.ts';
import { safeMessage, statusCodeOf } from './errors.ts';
import type { Logger } from './logger.ts';
import type { OperatorMetrics } from './metrics.ts';

export interface LeaseTiming {
  leaseDurationSeconds: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = { leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

export type LeaseDecision = 'create' | 'acquire' | 'renew' | 'wait';

/** The calls leader election makes; CoordinationV1Api in production, an in-memory fake in tests. */
export type LeaseApi = Pick<CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;

/** What this replica last saw of the lease, and when by its own clock it first saw it so. */
export interface LeaseObservation {
  /** The lease's election record; a different value is a change of the lease (a renewal, a new holder). */
  readonly record: string;
  /** Local time (ms, from this replica's clock) at which this record was first read or written. */
  readonly observedAtMs: number;
}

/** The election record of a lease as a comparable value. Metadata edits (labels, annotations) are no change. */
export function leaseRecord(lease: V1Lease): string {
  const spec = lease.spec ?? {};
  return JSON.stringify([
    spec.holderIdentity ?? '',
    timeKey(spec.renewTime),
    timeKey(spec.acquireTime),
    spec.leaseTransitions ?? 0,
    spec.leaseDurationSeconds ?? 0,
  ]);
}

function timeKey(t: Date | string | undefined): string {
  if (!t) return '';
  if (t instanceof Date) return String(t.getTime());
  return String(t);
}

/** Pure: the observation after reading `lease` at local time `now`; unchanged when the record is. */
export function observeLease(previous: LeaseObservation | undefined, lease: V1Lease, now: Date): LeaseObservation {
  const record = leaseRecord(lease);
  if (previous?.record === record) return previous;
  return { record, observedAtMs: now.getTime() };
}

/**
 * Pure: what to do with the lease as it is now. `observed` is the observation of this very lease
 * (from observeLease); another holder's lease is expired only once leaseDurationSeconds of local
 * time have passed since it was last seen to change. The holder's renewTime is never compared with
 * the local clock.
 */
export function decideLease(
  lease: V1Lease | undefined,
  identity: string,
  observed: LeaseObservation | undefined,
  now: Date,
  defaultLeaseDurationSeconds = DEFAULT_LEASE_TIMING.leaseDurationSeconds,
): LeaseDecision {
  if (!lease) return 'create';
  const spec = lease.spec ?? {};
  if (spec.holderIdentity === identity) return 'renew';
  if (!spec.holderIdentity) return 'acquire';
  // A lease never observed is treated as seen just now: a replica that starts waits a full lease
  // duration before it takes over from another holder (as client-go does).
  const since = observed?.observedAtMs ?? now.getTime();
  const duration = (spec.leaseDurationSeconds ?? defaultLeaseDurationSeconds) * 1000;
  return now.getTime() - since > duration ? 'acquire' : 'wait';
}

export interface LeaderElectorOptions {
  name: string;
  namespace: string;
  identity: string;
  timing: LeaseTiming;
  clock: Clock;
  logger: Logger;
  metrics: OperatorMetrics;
  /** The Lease API; by default a CoordinationV1Api from the kubeconfig. */
  api?: LeaseApi;
  /** Waits between attempts; by default a timer. Tests advance their clock here instead. */
  sleep?: (ms: number) => Promise<void>;
}

export class LeaderElector {
  private readonly api: LeaseApi;
  private readonly options: LeaderElectorOptions;
  private readonly sleep: (ms: number) => Promise<void>;
  private leading = false;
  private stopped = false;
  /** Local time of the last successful acquire or renew. */
  private lastRenewMs = 0;
  private observed: LeaseObservation | undefined;

  constructor(kubeConfig: KubeConfig | undefined, options: LeaderElectorOptions) {
    if (options.api) this.api = options.api;
    else if (kubeConfig) this.api = kubeConfig.makeApiClient(CoordinationV1Api);
    else throw new Error('LeaderElector needs a kubeconfig or a Lease API');
    this.options = options;
    this.sleep = options.sleep ?? timerSleep;
    this.options.metrics.leaderStatus.set({ name: options.name }, 0);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Resolves once this process leads. `onLost` is called if leadership is lost afterwards
   * (the caller exits, as controller-runtime does, so two leaders never reconcile at once).
   */
  async acquire(onLost: () => void): Promise<boolean> {
    const { retryPeriodMs } = this.options.timing;
    while (!this.stopped) {
      if (await this.tryAcquireOrRenew()) {
        this.leading = true;
        this.options.metrics.leaderStatus.set({ name: this.options.name }, 1);
        this.options.logger.info('became leader', {
          lease: `${this.options.namespace}/${this.options.name}`,
          identity: this.options.identity,
        });
        void this.renewLoop(onLost);
        return true;
      }
      await this.sleep(retryPeriodMs);
    }
    return false;
  }

  /** Gives the lease up so that a standby takes over at once instead of after the lease expires. */
  async release(): Promise<void> {
    this.stopped = true;
    if (!this.leading) return;
    this.leading = false;
    this.options.metrics.leaderStatus.set({ name: this.options.name }, 0);
    try {
      const lease = await this.api.readNamespacedLease({ name: this.options.name, namespace: this.options.namespace });
      if (lease.spec?.holderIdentity !== this.options.identity) return;
      lease.spec = {
        ...lease.spec,
        holderIdentity: undefined,
        leaseDurationSeconds: 1,
        renewTime: new V1MicroTime(this.options.clock.now().getTime()),
      };
      await this.api.replaceNamespacedLease({ name: this.options.name, namespace: this.options.namespace, body: lease });
      this.options.logger.info('released the leader lease', { lease: `${this.options.namespace}/${this.options.name}` });
    } catch (error) {
      this.options.logger.warn('could not release the leader lease', { error: safeMessage(error) });
    }
  }

  private async renewLoop(onLost: () => void): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs } = this.options.timing;
    while (this.leading && !this.stopped) {
      await this.sleep(retryPeriodMs);
      if (!this.leading || this.stopped) return;
      if (await this.tryAcquireOrRenew()) continue;
      if (this.options.clock.now().getTime() - this.lastRenewMs > renewDeadlineMs) {
        this.leading = false;
        this.options.metrics.leaderStatus.set({ name: this.options.name }, 0);
        this.options.logger.error('lost the leader lease', { lease: `${this.options.namespace}/${this.options.name}` });
        onLost();
        return;
      }
    }
  }

  /**
   * One attempt to create, acquire or renew the lease; true when this replica holds it afterwards.
   * acquire() and the renew loop call it every retry period.
   */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { name, namespace, identity, timing, clock } = this.options;
    const now = clock.now();
    let lease: V1Lease | undefined;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (statusCodeOf(error) !== 404) {
        this.options.logger.debug('lease read failed', { error: safeMessage(error) });
        return false;
      }
    }
    if (lease) this.observed = observeLease(this.observed, lease, now);
    const decision = decideLease(lease, identity, this.observed, now, timing.leaseDurationSeconds);
    if (decision === 'wait') {
      this.options.logger.debug('the leader lease is held by another replica', {
        lease: `${namespace}/${name}`,
        holder: lease?.spec?.holderIdentity ?? '',
        unchangedForMs: now.getTime() - (this.observed?.observedAtMs ?? now.getTime()),
      });
      return false;
    }
    const microNow = new V1MicroTime(now.getTime());
    try {
      let written: V1Lease;
      if (!lease) {
        written = await this.api.createNamespacedLease({
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: timing.leaseDurationSeconds,
              acquireTime: microNow,
              renewTime: microNow,
              leaseTransitions: 0,
            },
          },
        });
      } else {
        const spec = lease.spec ?? {};
        if (decision === 'acquire') {
          this.options.logger.info('taking the leader lease', {
            lease: `${namespace}/${name}`,
            previousHolder: spec.holderIdentity ?? '',
          });
        }
        const transitions = (spec.leaseTransitions ?? 0) + (decision === 'acquire' ? 1 : 0);
        lease.spec = {
          ...spec,
          holderIdentity: identity,
          leaseDurationSeconds: timing.leaseDurationSeconds,
          renewTime: microNow,
          ...(decision === 'acquire' ? { acquireTime: microNow } : {}),
          leaseTransitions: transitions,
        };
        // resourceVersion in metadata makes this a compare-and-swap: a concurrent winner makes it 409.
        written = await this.api.replaceNamespacedLease({ name, namespace, body: lease });
      }
      this.observed = observeLease(this.observed, written, now);
      this.lastRenewMs = now.getTime();
      return true;
    } catch (error) {
      this.options.logger.debug('lease update failed', { decision, error: safeMessage(error) });
      return false;
    }
  }
}

function timerSleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
