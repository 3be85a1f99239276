// Leader election on a coordination.k8s.io Lease, with client-go's semantics: acquire a free or
// expired lease, renew every retry period, give up leadership (and let the process exit) when a
// renewal has not succeeded within the renew deadline, release the lease on graceful shutdown.
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

/** Pure: what to do with the lease as it is now. */
export function decideLease(lease: V1Lease | undefined, identity: string, now: Date): LeaseDecision {
  if (!lease) return 'create';
  const spec = lease.spec ?? {};
  if (spec.holderIdentity === identity) return 'renew';
  if (!spec.holderIdentity) return 'acquire';
  const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
  const duration = (spec.leaseDurationSeconds ?? 15) * 1000;
  return renewed + duration < now.getTime() ? 'acquire' : 'wait';
}

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly options: {
    name: string;
    namespace: string;
    identity: string;
    timing: LeaseTiming;
    clock: Clock;
    logger: Logger;
    metrics: OperatorMetrics;
  };
  private leading = false;
  private stopped = false;
  private lastRenew = 0;

  constructor(kubeConfig: KubeConfig, options: LeaderElector['options']) {
    this.api = kubeConfig.makeApiClient(CoordinationV1Api);
    this.options = options;
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
        this.lastRenew = Date.now();
        this.options.metrics.leaderStatus.set({ name: this.options.name }, 1);
        this.options.logger.info('became leader', {
          lease: `${this.options.namespace}/${this.options.name}`,
          identity: this.options.identity,
        });
        void this.renewLoop(onLost);
        return true;
      }
      await sleep(retryPeriodMs);
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
      await sleep(retryPeriodMs);
      if (!this.leading || this.stopped) return;
      if (await this.tryAcquireOrRenew()) {
        this.lastRenew = Date.now();
      } else if (Date.now() - this.lastRenew > renewDeadlineMs) {
        this.leading = false;
        this.options.metrics.leaderStatus.set({ name: this.options.name }, 0);
        this.options.logger.error('lost the leader lease', { lease: `${this.options.namespace}/${this.options.name}` });
        onLost();
        return;
      }
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
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
    const decision = decideLease(lease, identity, now);
    if (decision === 'wait') return false;
    const microNow = new V1MicroTime(now.getTime());
    try {
      if (decision === 'create') {
        await this.api.createNamespacedLease({
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
        return true;
      }
      const spec = lease!.spec ?? {};
      const transitions = (spec.leaseTransitions ?? 0) + (decision === 'acquire' ? 1 : 0);
      lease!.spec = {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: timing.leaseDurationSeconds,
        renewTime: microNow,
        ...(decision === 'acquire' ? { acquireTime: microNow } : {}),
        leaseTransitions: transitions,
      };
      // resourceVersion in metadata makes this a compare-and-swap: a concurrent winner makes it 409.
      await this.api.replaceNamespacedLease({ name, namespace, body: lease! });
      return true;
    } catch (error) {
      this.options.logger.debug('lease update failed', { decision, error: safeMessage(error) });
      return false;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
