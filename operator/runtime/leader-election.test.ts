import { Writable } from 'node:stream';
import type { V1Lease, V1LeaseSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Clock } from './clock.ts';
import {
  DEFAULT_LEASE_TIMING,
  decideLease,
  LeaderElector,
  type LeaseApi,
  type LeaseObservation,
  leaseRecord,
  observeLease,
} from './leader-election.ts';
import { createLogger } from './logger.ts';
import { OperatorMetrics } from './metrics.ts';

const T0 = Date.parse('2026-11-23T10:00:00Z');
const S = 1000;
const now = new Date(T0);

function lease(spec: V1LeaseSpec, labels?: Record<string, string>): V1Lease {
  return { metadata: { name: 'cloudconnect-operator', namespace: 'ops', labels }, spec };
}

const held = (holder: string | undefined, renewAt: number, leaseDurationSeconds = 15): V1Lease =>
  lease({ holderIdentity: holder, renewTime: new Date(renewAt), acquireTime: new Date(T0 - 3_600 * S), leaseDurationSeconds });

const seenAt = (l: V1Lease, atMs: number): LeaseObservation => ({ record: leaseRecord(l), observedAtMs: atMs });

describe('decideLease', () => {
  const otherStale = held('other', T0 - 3_600 * S);
  const otherBehind = held('other', T0 - 16 * S);
  const otherAhead = held('other', T0 + 10 * S);
  const longLease = held('other', T0 - 60 * S, 30);
  it.each([
    ['creates the lease when there is none', undefined, undefined, 'create'],
    ['renews a lease it holds, whatever its renewTime says', held('me', T0 - 3_600 * S), undefined, 'renew'],
    ['takes a released lease (no holder) at once', held(undefined, T0 - 1 * S, 1), seenAt(held(undefined, T0 - 1 * S, 1), T0), 'acquire'],
    [
      'waits on a lease seen to change 3 s ago by the local clock, although its renewTime is 16 s behind this clock',
      otherBehind,
      seenAt(otherBehind, T0 - 3 * S),
      'wait',
    ],
    [
      'takes a lease unchanged for 16 s of local time, although its renewTime is 10 s ahead of this clock',
      otherAhead,
      seenAt(otherAhead, T0 - 16 * S),
      'acquire',
    ],
    ['waits a full leaseDuration on a lease it has never observed, however old its renewTime', otherStale, undefined, 'wait'],
    ['still waits when exactly leaseDuration of local time has passed', otherStale, seenAt(otherStale, T0 - 15 * S), 'wait'],
    ["measures against the lease's own leaseDurationSeconds", longLease, seenAt(longLease, T0 - 20 * S), 'wait'],
    ['takes a lease with its own leaseDurationSeconds once that has passed', longLease, seenAt(longLease, T0 - 31 * S), 'acquire'],
  ] as const)('%s', (_name, l, observed, expected) => {
    expect(decideLease(l, 'me', observed, now)).toBe(expected);
  });
});

describe('observeLease', () => {
  it('keeps the time of the first observation while the election record is unchanged', () => {
    const first = observeLease(undefined, held('other', T0), new Date(T0));
    const again = observeLease(first, held('other', T0), new Date(T0 + 9 * S));
    expect(again).toEqual({ record: first.record, observedAtMs: T0 });
  });

  it('restarts at the local time of the read when the holder renews', () => {
    const first = observeLease(undefined, held('other', T0), new Date(T0));
    // The holder's clock is far behind ours: its renewTime goes back in our terms, yet it is a change.
    const renewed = observeLease(first, held('other', T0 - 40 * S), new Date(T0 + 2 * S));
    expect(renewed.observedAtMs).toBe(T0 + 2 * S);
  });

  it('restarts when another holder takes the lease with the same renewTime', () => {
    const first = observeLease(undefined, held('a', T0), new Date(T0));
    expect(observeLease(first, held('b', T0), new Date(T0 + 1 * S)).observedAtMs).toBe(T0 + 1 * S);
  });

  it('does not count a label edit of the Lease as a renewal', () => {
    const first = observeLease(undefined, held('other', T0), new Date(T0));
    const relabelled = { ...held('other', T0), metadata: { name: 'cloudconnect-operator', labels: { team: 'x' } } };
    expect(observeLease(first, relabelled, new Date(T0 + 5 * S)).observedAtMs).toBe(T0);
  });

  it('reads a renewTime given as a string (as the API may return it) the same on every read', () => {
    const asText = lease({ holderIdentity: 'other', renewTime: '2026-11-23T10:00:00.000000Z' as never });
    const first = observeLease(undefined, asText, new Date(T0));
    expect(observeLease(first, structuredClone(asText), new Date(T0 + 5 * S)).observedAtMs).toBe(T0);
  });
});

// ---- LeaderElector against an in-memory Lease API, every replica with its own injected clock. ----

function httpError(code: number): Error {
  return Object.assign(new Error(`HTTP ${code}`), { code });
}

/** The Lease API of one API server: reads return copies, replace is a compare-and-swap on resourceVersion. */
class FakeLeaseApi implements LeaseApi {
  private stored: V1Lease | undefined;
  private version = 0;
  /** When it returns true, every call fails with a 500 (an API server the replica cannot reach). */
  failing: () => boolean = () => false;

  get current(): V1Lease | undefined {
    return this.stored ? structuredClone(this.stored) : undefined;
  }

  /** Writes the lease as some other process would. */
  put(spec: V1LeaseSpec): void {
    this.stored = { metadata: { name: 'cloudconnect-operator', namespace: 'ops', resourceVersion: String(++this.version) }, spec };
  }

  async readNamespacedLease(): Promise<V1Lease> {
    if (this.failing()) throw httpError(500);
    if (!this.stored) throw httpError(404);
    return structuredClone(this.stored);
  }

  async createNamespacedLease(param: { body: V1Lease }): Promise<V1Lease> {
    if (this.failing()) throw httpError(500);
    if (this.stored) throw httpError(409);
    this.stored = structuredClone({ ...param.body, metadata: { ...param.body.metadata, resourceVersion: String(++this.version) } });
    return structuredClone(this.stored);
  }

  async replaceNamespacedLease(param: { body: V1Lease }): Promise<V1Lease> {
    if (this.failing()) throw httpError(500);
    if (!this.stored) throw httpError(404);
    if (param.body.metadata?.resourceVersion !== this.stored.metadata?.resourceVersion) throw httpError(409);
    this.stored = structuredClone({ ...param.body, metadata: { ...param.body.metadata, resourceVersion: String(++this.version) } });
    return structuredClone(this.stored);
  }
}

/** A debug logger whose JSON lines are kept in `lines`. */
const capturingLogger = () => {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'debug',
    stream: new Writable({
      write(chunk, _encoding, callback) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        callback();
      },
    }),
  });
  return { logger, lines };
};

/** Replicas sharing one API server and one true time; each reads that time through its own skewed clock. */
function cluster() {
  const api = new FakeLeaseApi();
  let realMs = 0;
  return {
    api,
    get realMs() {
      return realMs;
    },
    at(ms: number) {
      realMs = ms;
    },
    replica(identity: string, skewMs: number, sleep?: (ms: number) => Promise<void>) {
      const clock: Clock = { now: () => new Date(T0 + realMs + skewMs) };
      const metrics = new OperatorMetrics({ defaultMetrics: false });
      const { logger, lines } = capturingLogger();
      const elector = new LeaderElector(undefined, {
        name: 'cloudconnect-operator',
        namespace: 'ops',
        identity,
        timing: DEFAULT_LEASE_TIMING,
        clock,
        logger,
        metrics,
        api,
        sleep,
      });
      return { elector, clock, metrics, logs: lines };
    },
  };
}

async function leaderGauge(metrics: OperatorMetrics): Promise<number | undefined> {
  const m = await metrics.leaderStatus.get();
  return m.values[0]?.value;
}

describe('LeaderElector with an injected clock', () => {
  it('a replica whose clock is 13 s ahead does not take a lease that another replica keeps renewing, late renewals included', async () => {
    const c = cluster();
    const a = c.replica('a', 0);
    const b = c.replica('b', 13 * S);
    // A renews with gaps up to 5 s (slow API calls; all within its 10 s renew deadline); B tries every 2 s.
    const events: { atMs: number; who: 'a' | 'b' }[] = [];
    const gapsS = [2, 2, 4, 2, 5, 3];
    for (let t = 0, i = 0; t <= 120 * S; i++) {
      events.push({ atMs: t, who: 'a' });
      t += (gapsS[i % gapsS.length] ?? 2) * S;
    }
    for (let t = 1 * S; t <= 120 * S; t += 2 * S) events.push({ atMs: t, who: 'b' });
    events.sort((x, y) => x.atMs - y.atMs);

    let renewTimeLooksExpiredToB = false;
    for (const e of events) {
      c.at(e.atMs);
      if (e.who === 'a') {
        expect(await a.elector.tryAcquireOrRenew(), `a renews at ${e.atMs} ms`).toBe(true);
        continue;
      }
      const renewTime = c.api.current?.spec?.renewTime;
      if (renewTime && b.clock.now().getTime() > new Date(renewTime).getTime() + 15 * S) renewTimeLooksExpiredToB = true;
      expect(await b.elector.tryAcquireOrRenew(), `b stays out at ${e.atMs} ms`).toBe(false);
    }
    expect(c.api.current?.spec?.holderIdentity).toBe('a');
    expect(c.api.current?.spec?.leaseTransitions).toBe(0);
    // The scenario is one in which comparing renewTime with B's clock would have let B take the lease.
    expect(renewTimeLooksExpiredToB).toBe(true);
  });

  it.each([
    ['13 s ahead', 13 * S],
    ['13 s behind', -13 * S],
    ['in step', 0],
  ])('a lease whose holder stops renewing is taken after leaseDuration of locally observed time (clock %s)', async (_n, skewMs) => {
    const c = cluster();
    const a = c.replica('a', 0);
    const b = c.replica('b', skewMs);
    // A holds and renews every 2 s until 20 s, then stops (crashed); B tries every second from 1 s.
    const takenAt: number[] = [];
    for (let t = 0; t <= 60 * S; t += 1 * S) {
      c.at(t);
      if (t <= 20 * S && t % (2 * S) === 0) expect(await a.elector.tryAcquireOrRenew()).toBe(true);
      if (t >= 1 * S && (await b.elector.tryAcquireOrRenew())) takenAt.push(t);
    }
    // B saw the last renewal at 20 s (it reads right after A writes); it takes the lease at its first try more than 15 s later.
    expect(takenAt[0]).toBe(36 * S);
    expect(c.api.current?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(new Date(c.api.current?.spec?.acquireTime ?? 0).getTime()).toBe(T0 + 36 * S + skewMs);
  });

  it('a replica that starts while another holds the lease waits a full leaseDuration from its first read, however old the renewTime', async () => {
    const c = cluster();
    c.api.put({ holderIdentity: 'gone', renewTime: new Date(T0 - 3_600 * S), leaseDurationSeconds: 15, leaseTransitions: 4 });
    const b = c.replica('b', 0);
    const tries: [number, boolean][] = [];
    for (let t = 100 * S; t <= 120 * S; t += 2 * S) {
      c.at(t);
      tries.push([t / S, await b.elector.tryAcquireOrRenew()]);
    }
    expect(tries.filter(([, won]) => won).map(([t]) => t)[0]).toBe(116);
    expect(c.api.current?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 5 });
  });

  it('a released lease is taken at the next attempt, without waiting for leaseDuration', async () => {
    const c = cluster();
    const never = () => new Promise<void>(() => {});
    const a = c.replica('a', 0, never);
    const b = c.replica('b', 13 * S);
    expect(await a.elector.acquire(() => {})).toBe(true);
    c.at(1 * S);
    expect(await b.elector.tryAcquireOrRenew()).toBe(false);
    await a.elector.release();
    expect(await leaderGauge(a.metrics)).toBe(0);
    c.at(2 * S);
    expect(await b.elector.tryAcquireOrRenew()).toBe(true);
    expect(c.api.current?.spec?.holderIdentity).toBe('b');
  });

  it('two replicas that find the lease expired at the same moment do not both lead: the second write loses the compare-and-swap', async () => {
    const c = cluster();
    c.api.put({ holderIdentity: 'gone', renewTime: new Date(T0), leaseDurationSeconds: 15 });
    const a = c.replica('a', 5 * S);
    const b = c.replica('b', -5 * S);
    expect([await a.elector.tryAcquireOrRenew(), await b.elector.tryAcquireOrRenew()]).toEqual([false, false]);
    c.at(16 * S);
    const results = await Promise.all([a.elector.tryAcquireOrRenew(), b.elector.tryAcquireOrRenew()]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(c.api.current?.spec?.holderIdentity).toBe(results[0] ? 'a' : 'b');
  });

  it('a leader writes renewTime from its own clock every retryPeriod', async () => {
    const c = cluster();
    const renewTimes: number[] = [];
    let elector: LeaderElector | undefined;
    const sleep = async (ms: number) => {
      c.at(c.realMs + ms);
      const spec = c.api.current?.spec;
      renewTimes.push(new Date(spec?.renewTime ?? 0).getTime() - T0);
      if (renewTimes.length === 5) await elector?.release();
    };
    const a = c.replica('a', 7 * S, sleep);
    elector = a.elector;
    expect(await a.elector.acquire(() => {})).toBe(true);
    await expect.poll(() => renewTimes.length).toBe(5);
    expect(renewTimes).toEqual([7 * S, 9 * S, 11 * S, 13 * S, 15 * S]);
  });

  it('a leader whose renewals fail steps down once renewDeadline has passed on its own clock, and calls onLost', async () => {
    const c = cluster();
    c.api.failing = () => c.realMs > 0;
    const a = c.replica('a', -13 * S, async (ms) => c.at(c.realMs + ms));
    let lostAtMs: number | undefined;
    const lost = new Promise<void>((resolve) => {
      void a.elector.acquire(() => {
        lostAtMs = c.realMs;
        resolve();
      });
    });
    await lost;
    // Acquired at 0; renewals fail from 2 s; at 10 s the deadline (10 s) is not yet exceeded, at 12 s it is.
    expect(lostAtMs).toBe(12 * S);
    expect(a.elector.isLeader).toBe(false);
    expect(await leaderGauge(a.metrics)).toBe(0);
  });

  it('a standby logs at debug, on every attempt, which replica holds the lease and for how long it saw no change', async () => {
    const c = cluster();
    const a = c.replica('a', 0);
    const b = c.replica('b', 13 * S);
    expect(await a.elector.tryAcquireOrRenew()).toBe(true);
    c.at(1 * S);
    expect(await b.elector.tryAcquireOrRenew()).toBe(false);
    c.at(4 * S);
    expect(await b.elector.tryAcquireOrRenew()).toBe(false);
    const held = b.logs.filter((l) => l['message'] === 'the leader lease is held by another replica');
    expect(held).toMatchObject([
      { level: 'debug', lease: 'ops/cloudconnect-operator', holder: 'a', unchangedForMs: 0 },
      { level: 'debug', lease: 'ops/cloudconnect-operator', holder: 'a', unchangedForMs: 3 * S },
    ]);
  });
});
