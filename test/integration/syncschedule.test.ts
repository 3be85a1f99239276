// SyncSchedules against the real control plane: default schedules for an integration without any,
// a run started on request as a Job under the site's identity, run to completion by kwok and the
// Job controller and reported in status, and Blocked while the integration is not authenticated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INITIAL_SYNC_REQUEST } from '../../operator/controller/emrintegration/default-schedules.ts';
import { manualRunName } from '../../operator/internal/sitepod/sync-run.ts';
import type { AccuroSimulator } from '../simulators/accuro.ts';
import { type AccuroSite, accuroEmr, apply, setUpAccuroSite } from './fixtures.ts';
import { kubectlOk } from './kubectl.ts';
import { eventually, type OperatorProcess, startOperator } from './operator-process.ts';

const ns = `it-sync-${Date.now().toString(36)}`;
let accuro: AccuroSimulator;
let pine: AccuroSite;
let operator: OperatorProcess;
const getJson = async (args: string[]) => JSON.parse(await kubectlOk([...args, '-n', ns, '-o', 'json']));

/**
 * Merge-patches a SyncSchedule (the patch must change its spec, so that its generation moves) and
 * waits until the operator has reconciled that version: the reconcile writes status.observedGeneration
 * after it has created any Job it decided on, so once the status shows the new generation, whatever
 * that reconcile did about the patch (started a run or not) is visible.
 */
async function patchAndWaitReconciled(name: string, patch: object): Promise<void> {
  const patched = JSON.parse(
    await kubectlOk(['patch', 'syncschedule', name, '-n', ns, '--type=merge', '-o', 'json', '-p', JSON.stringify(patch)]),
  ) as { metadata: { generation: number } };
  const generation = patched.metadata.generation;
  await eventually(async () => {
    const s = await getJson(['get', 'syncschedule', name]);
    return (s.status?.observedGeneration ?? 0) >= generation ? s : undefined;
  }, `${name} reconciled at generation ${generation}`);
}

beforeAll(async () => {
  pine = await setUpAccuroSite({ namespace: ns, site: 'pine', siteNumber: '4242', timeZone: 'America/Toronto' });
  accuro = pine.accuro;
  operator = await startOperator({ WORKER_IMAGE: 'registry.example/cloudconnect-operator:test' });
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, 'oceansite/pine']);
});

afterAll(async () => {
  await operator?.stop();
  await accuro?.stop();
});

describe('an integration without schedules', () => {
  it('gets a Full sync at midnight and an Appointments sync every 30 minutes in the site time zone', async () => {
    await apply({
      apiVersion: 'cloudconnect.dev/v1alpha1',
      kind: 'EmrIntegration',
      metadata: { name: 'pine-accuro', namespace: ns },
      spec: { siteRef: { name: 'pine' }, emr: accuroEmr(pine) },
    });
    await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, 'emrintegration/pine-accuro']);
    const list = await eventually(
      async () => {
        const l = (await getJson(['get', 'syncschedules'])).items as {
          metadata: { name: string; ownerReferences: { name: string }[] };
          spec: Record<string, string>;
        }[];
        return l.length === 2 ? l : undefined;
      },
      'two default schedules',
      40_000,
    );
    const byType = Object.fromEntries(list.map((s) => [s.spec.type, s]));
    expect(byType.Full!.spec).toMatchObject({ schedule: '0 0 * * *', timeZone: 'America/Toronto' });
    expect(byType.Appointments!.spec).toMatchObject({ schedule: 'H/30 * * * *', timeZone: 'America/Toronto' });
    expect(byType.Full!.metadata.ownerReferences[0]!.name).toBe('pine-accuro');
    await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, 'syncschedule/pine-accuro-full']);
    const integration = await eventually(async () => {
      const i = await getJson(['get', 'emrintegration', 'pine-accuro']);
      return i.status?.sync?.nextFullSyncTime ? i : undefined;
    }, 'the Sync Status panel');
    expect(new Date(integration.status.sync.nextAppointmentSyncTime).getTime()).toBeLessThanOrEqual(Date.now() + 30 * 60_000);
    // H/30: the minute is drawn for this integration; status shows it and the next run falls on it.
    const appointments = await eventually(async () => {
      const s = await getJson(['get', 'syncschedule', 'pine-accuro-appointments']);
      return s.status?.resolvedSchedule ? s : undefined;
    }, 'the resolved appointment schedule');
    const [first, second] = (/^(\d{1,2}),(\d{1,2}) \* \* \* \*$/.exec(appointments.status.resolvedSchedule) ?? []).slice(1).map(Number);
    expect(second).toBe((first ?? NaN) + 30);
    expect([first, second]).toContain(new Date(appointments.status.nextScheduleTime).getUTCMinutes());
    // The first full sync does not wait for midnight: it is requested with the schedule.
    const initial = await eventually(async () => {
      const jobs = (await getJson(['get', 'jobs', '-l', 'cloudconnect.dev/schedule=pine-accuro-full'])).items as {
        metadata: { name: string };
      }[];
      return jobs.find((j) => j.metadata.name === manualRunName('pine-accuro-full', INITIAL_SYNC_REQUEST));
    }, 'the initial full sync Job');
    expect(initial).toBeDefined();
    await eventually(async () => {
      const s = await getJson(['get', 'syncschedule', 'pine-accuro-full']);
      return s.status?.lastRun?.name === initial?.metadata.name && s.status.lastHandledRequestedAt === INITIAL_SYNC_REQUEST;
    }, 'the initial full sync reported');
  });
});

describe('a requested sync ("Sync Full Schedule")', () => {
  it('starts a Job under the site identity, which runs to completion and is reported in status', async () => {
    await kubectlOk(['annotate', '--overwrite', '-n', ns, 'syncschedule/pine-accuro-full', 'cloudconnect.dev/requestedAt=click-1']);
    const job = await eventually(async () => {
      const jobs = (await getJson(['get', 'jobs', '-l', 'cloudconnect.dev/schedule=pine-accuro-full'])).items;
      return jobs.find((j: { metadata: { name: string } }) => j.metadata.name === manualRunName('pine-accuro-full', 'click-1'));
    }, 'a Job for the run');
    expect(job.metadata.name).toMatch(/^pine-accuro-full-manual-[0-9a-f]{8}$/);
    const pod = job.spec.template.spec;
    expect(pod.serviceAccountName).toBe('pine');
    expect(pod.containers[0].image).toBe('registry.example/cloudconnect-operator:test');
    const schedule = await eventually(
      async () => {
        const s = await getJson(['get', 'syncschedule', 'pine-accuro-full']);
        return s.status?.lastRun?.result && s.status.lastRun.name === job.metadata.name ? s : undefined;
      },
      'the run finished and reported',
      90_000,
    );
    expect(schedule.status.lastHandledRequestedAt).toBe('click-1');
    expect(schedule.status.lastRun).toMatchObject({ name: job.metadata.name, result: 'Succeeded' });
    expect(schedule.status.lastSuccessfulTime).toBeDefined();
    expect(await operator.metrics()).toMatch(
      new RegExp(`cloudconnect_sync_runs_total\\{namespace="${ns}",integration="pine-accuro",type="Full",result="Succeeded"\\} 2`), // the initial run and this one
    );
    // The same token never starts a second run: a later reconcile, which still sees requestedAt=click-1, starts none.
    await patchAndWaitReconciled('pine-accuro-full', { spec: { successfulRunsHistoryLimit: 4 } });
    // (The other Job is the initial full sync.)
    expect((await getJson(['get', 'jobs', '-l', 'cloudconnect.dev/schedule=pine-accuro-full'])).items).toHaveLength(2);
  });
});

describe('a schedule whose integration is not authenticated', () => {
  it('shows Blocked with IntegrationNotReady, starts nothing, and resumes by itself', async () => {
    accuro.setFault({ rejectCredentials: true });
    await kubectlOk(['annotate', '--overwrite', '-n', ns, 'emrintegration/pine-accuro', 'cloudconnect.dev/requestedAt=recheck-1']);
    await eventually(async () => {
      const s = await getJson(['get', 'syncschedule', 'pine-accuro-appointments']);
      const ready = s.status?.conditions?.find((c: { type: string }) => c.type === 'Ready');
      return ready?.reason === 'IntegrationNotReady' ? ready : undefined;
    }, 'Blocked');
    // The request, and a spec change in the same write, so that the reconcile that saw the request shows.
    await patchAndWaitReconciled('pine-accuro-appointments', {
      metadata: { annotations: { 'cloudconnect.dev/requestedAt': 'click-2' } },
      spec: { successfulRunsHistoryLimit: 4 },
    });
    expect((await getJson(['get', 'jobs', '-l', 'cloudconnect.dev/schedule=pine-accuro-appointments'])).items).toHaveLength(0);
    accuro.clearFaults();
    await kubectlOk(['annotate', '--overwrite', '-n', ns, 'emrintegration/pine-accuro', 'cloudconnect.dev/requestedAt=recheck-2']);
    // The pending request starts once the integration is back.
    await eventually(
      async () => (await getJson(['get', 'jobs', '-l', 'cloudconnect.dev/schedule=pine-accuro-appointments'])).items[0],
      'the blocked request runs once unblocked',
    );
  });
});
