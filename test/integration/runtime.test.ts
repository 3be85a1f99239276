// The operator runtime against the real control plane: metrics and probes, leader election with
// failover, graceful shutdown releasing the Lease, and watches that survive an apiserver restart.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubectl, kubectlOk, repoRoot } from './kubectl.ts';
import { eventually, type OperatorProcess, startOperator } from './operator-process.ts';

const run = promisify(execFile);
const ns = `it-runtime-${Date.now().toString(36)}`;
const started: OperatorProcess[] = [];

async function start(env: Record<string, string> = {}, options: { waitReady?: boolean } = {}): Promise<OperatorProcess> {
  const p = await startOperator(env, options);
  started.push(p);
  return p;
}

function schedule(name: string) {
  return JSON.stringify({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'SyncSchedule',
    metadata: { name, namespace: ns },
    spec: { integrationRef: { name: 'none' }, type: 'Appointments', schedule: '*/30 * * * *' },
  });
}

async function nextScheduleTime(name: string): Promise<string | undefined> {
  const out = await kubectl(['get', 'syncschedule', name, '-n', ns, '-o', 'jsonpath={.status.nextScheduleTime}']);
  return out.code === 0 && out.stdout !== '' ? out.stdout : undefined;
}

/** When a standby found the lease held by `holder`: its debug line "the leader lease is held by another replica", one per attempt. */
function leaseHeldBy(output: string, holder: string): number[] {
  const times: number[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes('the leader lease is held by another replica')) continue;
    try {
      const entry = JSON.parse(line) as { holder?: string; timestamp?: string };
      if (entry.holder === holder && entry.timestamp) times.push(Date.parse(entry.timestamp));
    } catch {
      // not a JSON log line
    }
  }
  return times;
}

async function leaseHolder(name: string): Promise<string> {
  const out = await kubectl(['get', 'lease', name, '-n', 'kube-system', '-o', 'jsonpath={.spec.holderIdentity}']);
  return out.stdout;
}

beforeAll(async () => {
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`]);
  await kubectlOk(['wait', '--for=condition=Established', '-f', `${repoRoot}/crds`]);
  await kubectl(['create', 'namespace', ns]);
});

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop('SIGKILL')));
});

describe('the operator process', () => {
  it('serves /healthz, /readyz and controller-runtime metrics', async () => {
    const op = await start();
    expect((await fetch(`${op.metricsUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${op.metricsUrl}/readyz`)).status).toBe(200);
    await kubectlOk(['apply', '-f', '-'], schedule('metrics-probe'));
    await eventually(() => nextScheduleTime('metrics-probe'), 'the schedule reconciled');
    const text = await op.metrics();
    for (const name of [
      'controller_runtime_reconcile_total{controller="syncschedule",result=',
      'controller_runtime_reconcile_errors_total',
      'controller_runtime_reconcile_time_seconds_bucket',
      'workqueue_depth{name="syncschedule"',
      'workqueue_adds_total{name="syncschedule"',
      'workqueue_retries_total',
      'workqueue_queue_duration_seconds_bucket',
      'leader_election_master_status',
    ]) {
      expect(text).toContain(name);
    }
    expect(await op.stop()).toBe(0);
  });

  it('keeps reconciling after the kube-apiserver restarts under it', async () => {
    const op = await start({ LOG_LEVEL: 'info' });
    await kubectlOk(['apply', '-f', '-'], schedule('before-restart'));
    await eventually(() => nextScheduleTime('before-restart'), 'reconciled before the restart');
    const cluster = inject('cluster');
    await run(join(repoRoot, 'test/cluster/restart-apiserver.sh'), [cluster.stateDir], { env: process.env });
    await eventually(async () => (await kubectl(['get', '--raw', '/readyz'])).code === 0, 'apiserver back', 120_000);
    await kubectlOk(['apply', '-f', '-'], schedule('after-restart'));
    const next = await eventually(() => nextScheduleTime('after-restart'), 'a change made after the restart reconciled', 90_000);
    expect(new Date(next).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(op.output()).toMatch(/watch stopped; restarting it/);
    expect(await op.metrics()).toMatch(/cloudconnect_watch_restarts_total\{resource="syncschedules"/);
    await op.stop();
  });
});

describe('leader election', () => {
  it('lets one of two operators reconcile and fails over when it is killed', async () => {
    const lease = `cloudconnect-it-${Date.now()}`;
    const env = { LEADER_ELECT: 'true', LEASE_NAMESPACE: 'kube-system', LEASE_NAME: lease };
    const a = await start({ ...env, POD_NAME: 'operator-a' });
    await eventually(async () => (await leaseHolder(lease)) === 'operator-a', 'operator-a leads');
    const b = await start({ ...env, POD_NAME: 'operator-b' }, { waitReady: false });
    await b.waitForLog(/waiting for the leader lease/);
    // The standby tries the lease every retry period (2 s) and logs whom it found holding it. Once it
    // has found operator-a holding it over more than a lease duration (15 s), it has had every chance
    // to take a lease it wrongly judged expired; only then is "it did not take over" worth asserting.
    await eventually(
      async () => {
        const seen = leaseHeldBy(b.output(), 'operator-a');
        return seen.length >= 2 && (seen.at(-1) ?? 0) - (seen[0] ?? 0) > 15_000;
      },
      'operator-b found operator-a holding the lease for more than a lease duration',
      60_000,
    );
    expect(await leaseHolder(lease)).toBe('operator-a');
    // The standby has warm caches and is ready (a Deployment's rollout waits on that), but reconciles nothing.
    expect((await fetch(`${b.metricsUrl}/readyz`)).status).toBe(200);
    expect(b.output()).not.toContain('starting controllers');
    expect(await b.metrics()).toMatch(/leader_election_master_status\{name="[^"]+"\} 0/);
    expect(await a.metrics()).toMatch(/leader_election_master_status\{name="[^"]+"\} 1/);

    const killedAt = Date.now();
    await a.stop('SIGKILL');
    await b.waitForLog(/became leader/, 60_000);
    const failoverMs = Date.now() - killedAt;
    console.log(`[leader election] failover after SIGKILL took ${failoverMs} ms (lease 15 s, retry 2 s)`);
    await kubectlOk(['apply', '-f', '-'], schedule('after-failover'));
    await eventually(() => nextScheduleTime('after-failover'), 'the new leader reconciles');
    expect(await leaseHolder(lease)).toBe('operator-b');

    // Graceful shutdown releases the lease so that a successor need not wait for it to expire.
    expect(await b.stop('SIGTERM')).toBe(0);
    expect(await leaseHolder(lease)).toBe('');
    expect(b.output()).toContain('released the leader lease');
  });
});
