// A SyncSchedule firing every minute while the operator is replaced at the tick: the new operator
// starts before the tick while the old one still runs (both reconcile: leader election is off), and
// the old one is killed (SIGKILL) just after the tick, possibly in the middle of creating the Job.
// Run names are deterministic from the scheduled minute, so every minute gets exactly one Job.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccuroSimulator } from '../simulators/accuro.ts';
import { accuroEmr, apply, setUpAccuroSite } from './fixtures.ts';
import { kubectlOk } from './kubectl.ts';
import { eventually, type OperatorProcess, startOperator } from './operator-process.ts';

const ns = `it-tick-${Date.now().toString(36)}`;
const IMAGE = 'registry.example/cloudconnect-operator:test';
let accuro: AccuroSimulator;
const operators: OperatorProcess[] = [];
const getJson = async (args: string[]) => JSON.parse(await kubectlOk([...args, '-n', ns, '-o', 'json']));
const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

interface RunJob {
  name: string;
  scheduledTime: string;
}

async function runJobs(): Promise<RunJob[]> {
  const items = (await getJson(['get', 'jobs', '-l', 'cloudconnect.dev/schedule=cedar-tick'])).items as {
    metadata: { name: string; annotations: Record<string, string> };
  }[];
  return items.map((j) => ({ name: j.metadata.name, scheduledTime: j.metadata.annotations['cloudconnect.dev/scheduled-time'] ?? '' }));
}

beforeAll(async () => {
  const cedar = await setUpAccuroSite({ namespace: ns, site: 'cedar', siteNumber: '5151' });
  accuro = cedar.accuro;
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'SyncSchedule',
    metadata: { name: 'cedar-tick', namespace: ns },
    spec: {
      integrationRef: { name: 'cedar-accuro' },
      type: 'Appointments',
      schedule: '* * * * *',
      concurrencyPolicy: 'Allow',
      startingDeadlineSeconds: 300,
    },
  });
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name: 'cedar-accuro', namespace: ns },
    spec: { siteRef: { name: 'cedar' }, emr: accuroEmr(cedar) },
  });
  operators.push(await startOperator({ WORKER_IMAGE: IMAGE }));
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, 'emrintegration/cedar-accuro']);
});

afterAll(async () => {
  for (const o of operators) await o.stop('SIGKILL');
  await accuro?.stop();
});

describe('an operator replaced at the tick', () => {
  it('starts every scheduled minute exactly once, under a name derived from the minute', { timeout: 330_000 }, async () => {
    const first = await eventually(async () => (await runJobs())[0], 'the first scheduled run', 100_000);
    const tick = new Date(first.scheduledTime).getTime() + 60_000;

    // The new operator starts 3 s before the tick, while the old one still runs...
    await sleepUntil(tick - 3_000);
    const replacement = await startOperator({ WORKER_IMAGE: IMAGE }, { waitReady: false });
    operators.push(replacement);
    // ...and the old one dies right after the tick, possibly in the middle of creating the Job.
    await sleepUntil(tick + 300);
    await operators[0]!.stop('SIGKILL');

    const expected = [tick - 60_000, tick, tick + 60_000].map((t) => new Date(t).toISOString());
    const jobs = await eventually(
      async () => {
        const all = await runJobs();
        return expected.every((t) => all.some((j) => j.scheduledTime === t)) ? all : undefined;
      },
      'runs for the minute before, at and after the tick',
      150_000,
    );

    const perMinute = new Map<string, string[]>();
    for (const j of jobs) perMinute.set(j.scheduledTime, [...(perMinute.get(j.scheduledTime) ?? []), j.name]);
    for (const t of expected) {
      expect(perMinute.get(t), `Jobs scheduled at ${t}`).toEqual([`cedar-tick-${Math.floor(new Date(t).getTime() / 60_000)}`]);
    }
    expect(new Set(jobs.map((j) => j.name)).size).toBe(jobs.length);
    // The replacement did the work after the tick, and never logged a duplicate creation as an error.
    expect(replacement.output()).not.toMatch(/"level":"error"/);
  });
});
