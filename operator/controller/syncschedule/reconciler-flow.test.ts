import { describe, expect, it } from 'vitest';
import { REQUESTED_AT_ANNOTATION, RUN_LABELS } from '../../api/v1alpha1/index.ts';
import type { IndexDefinition } from '../../runtime/cache-index.ts';
import { RECORD_RUN_FALLBACK_MS, SyncScheduleReconciler } from './reconciler.ts';

// The reconciler's steps in order against fakes of the API and the caches: what it creates,
// deletes, announces, counts and writes for one reconcile.

const NOW = new Date('2026-11-24T05:00:30Z');
const KEY = { namespace: 'ns', name: 's1' };

type Call = [string, ...unknown[]];
type Obj = { metadata: { name: string; namespace: string } & Record<string, unknown> } & Record<string, unknown>;

function fixture(options: { schedule: Obj; integrations?: Obj[]; sites?: Obj[]; jobs?: Obj[]; message?: string; conflict?: boolean }) {
  const calls: Call[] = [];
  const jobs = [...(options.jobs ?? [])];
  const record =
    (name: string) =>
    async (...args: unknown[]) => {
      calls.push([name, ...args]);
      if (name === 'createJob' && options.conflict) throw Object.assign(new Error('exists'), { code: 409 });
      // The Job cache sees a created Job, as the informer would before its ADDED event brings the schedule back.
      if (name === 'createJob') jobs.push((args[0] as { body: Obj }).body);
      return {};
    };
  const metric = (name: string) => ({
    inc: (...a: unknown[]) => calls.push([`${name}.inc`, ...a]),
    observe: (...a: unknown[]) => calls.push([`${name}.observe`, ...a]),
    set: (...a: unknown[]) => calls.push([`${name}.set`, ...a]),
  });
  const cache = (items: Obj[]) => ({
    get: (name: string, namespace: string) => items.find((i) => i.metadata.name === name && i.metadata.namespace === namespace),
    list: (namespace?: string) => items.filter((i) => !namespace || i.metadata.namespace === namespace),
    byIndex: (index: IndexDefinition<Obj>, namespace: string, value: string) =>
      items.filter((i) => i.metadata.namespace === namespace && index.valuesOf(i).includes(value)),
  });
  const batch = { deleteNamespacedJob: record('deleteJob') };
  const deps = {
    kube: {
      kubeConfig: { makeApiClient: () => batch },
      custom: { createNamespacedCustomObject: record('createJob') },
      applyStatus: record('applyStatus'),
      event: record('event'),
      annotate: record('annotate'),
      core: {
        listNamespacedPod: async () => ({
          items: [{ status: { containerStatuses: [{ state: { terminated: { message: options.message } } }] } }],
        }),
      },
    },
    clock: { now: () => NOW },
    logger: { warn: (...a: unknown[]) => calls.push(['warn', ...a]) },
    metrics: {
      syncRuns: metric('syncRuns'),
      syncDuration: metric('syncDuration'),
      syncLastSuccess: metric('syncLastSuccess'),
      syncRecords: metric('syncRecords'),
    },
    schedules: cache([options.schedule]),
    integrations: cache(options.integrations ?? [integration()]),
    sites: cache(options.sites ?? [site]),
    jobs: cache(jobs),
    worker: {
      image: 'example/cc:1',
      vaultAddress: 'https://vault:8200',
      vaultAuthMount: 'kubernetes',
      sekMount: 'secret',
      oceanApiUrl: 'https://ocean.example',
      defaultActiveDeadlineSeconds: 3600,
    },
  };
  return { reconciler: new SyncScheduleReconciler(deps as never), calls, names: () => calls.map((c) => c[0]) };
}

function schedule(spec: Record<string, unknown> = {}, status?: Record<string, unknown>, annotations?: Record<string, string>): Obj {
  return {
    metadata: { name: 's1', namespace: 'ns', uid: 'u1', generation: 2, creationTimestamp: '2026-11-20T00:00:00Z', annotations },
    spec: { integrationRef: { name: 'i1' }, type: 'Appointments', schedule: '* * * * *', ...spec },
    status,
  };
}

function integration(authenticated = true): Obj {
  return {
    metadata: { name: 'i1', namespace: 'ns', uid: 'u2' },
    spec: { siteRef: { name: 'maple' }, emr: { type: 'Accuro', accuro: { tenantId: 'MAPLE' } } },
    status: { conditions: authenticated ? [{ type: 'Authenticated', status: 'True' }] : [] },
  };
}

const site: Obj = { metadata: { name: 'maple', namespace: 'ns', uid: 'u3' }, spec: { siteNumber: '1234', clinicalAdminEmail: 'a@b.org' } };

function job(name: string, state: 'active' | 'Succeeded' | 'Failed', at: string): Obj {
  const finished = { startTime: at, completionTime: state === 'Succeeded' ? at.replace(':00Z', ':20Z') : undefined };
  return {
    metadata: { name, namespace: 'ns', labels: { [RUN_LABELS.schedule]: 's1' }, annotations: { [RUN_LABELS.scheduledTime]: at } },
    status:
      state === 'active'
        ? { active: 1, startTime: at }
        : {
            ...finished,
            conditions: [
              { type: state === 'Succeeded' ? 'Complete' : 'Failed', status: 'True', lastTransitionTime: at.replace(':00Z', ':25Z') },
            ],
          },
  };
}

const statusOf = (calls: Call[]) => calls.find((c) => c[0] === 'applyStatus')?.[3] as Record<string, unknown>;

describe('the SyncSchedule reconciler, step by step', () => {
  it('stalls on a schedule it cannot read and writes only the status', async () => {
    const f = fixture({ schedule: schedule({ schedule: 'every minute' }) });
    expect(await f.reconciler.reconcile(KEY)).toEqual({});
    expect(f.names()).toEqual(['applyStatus']);
    expect(statusOf(f.calls)).toMatchObject({
      conditions: [
        { type: 'Ready', status: 'False' },
        { type: 'Stalled', status: 'True' },
      ],
    });
  });

  it('starts the due run, announces it and stops there: status waits for the next reconcile (create first, record after)', async () => {
    const f = fixture({ schedule: schedule() });
    expect(await f.reconciler.reconcile(KEY)).toEqual({ requeueAfterMs: RECORD_RUN_FALLBACK_MS });
    expect(f.names()).toEqual(['createJob', 'event']);
    expect(f.calls[0]?.[1]).toMatchObject({ group: 'batch', version: 'v1', plural: 'jobs', namespace: KEY.namespace });
    expect(f.calls[1]).toEqual([
      'event',
      expect.anything(),
      'Normal',
      'RunStarted',
      expect.stringMatching(/^Started Appointments sync s1-/),
    ]);
  });

  it('records the started run in the reconcile its Job brings back, starting nothing twice, and requeues at the next minute', async () => {
    const f = fixture({ schedule: schedule() });
    await f.reconciler.reconcile(KEY);
    const first = f.calls.length;
    expect(await f.reconciler.reconcile(KEY)).toEqual({ requeueAfterMs: 30_000 });
    expect(f.calls.slice(first).map((c) => c[0])).toEqual(['applyStatus']);
    expect(statusOf(f.calls)).toMatchObject({
      active: [{ name: expect.stringMatching(/^s1-/) }],
      lastScheduleTime: '2026-11-24T05:00:00.000Z',
    });
  });

  it('takes a 409 as a run started before (no event, not active from this reconcile)', async () => {
    const f = fixture({ schedule: schedule(), conflict: true });
    await f.reconciler.reconcile(KEY);
    expect(f.names()).toEqual(['createJob', 'applyStatus']);
    expect(statusOf(f.calls).active).toBeUndefined();
  });

  it('stops the active run first under Replace', async () => {
    const f = fixture({ schedule: schedule({ concurrencyPolicy: 'Replace' }), jobs: [job('s1-old', 'active', '2026-11-24T04:58:00Z')] });
    await f.reconciler.reconcile(KEY);
    expect(f.names()).toEqual(['deleteJob', 'event', 'createJob', 'event']);
    expect(f.calls[1]).toEqual(['event', expect.anything(), 'Normal', 'RunReplaced', 'Run s1-old stopped: concurrencyPolicy Replace']);
  });

  it('says once why a due run did not start under Forbid', async () => {
    const f = fixture({ schedule: schedule({ concurrencyPolicy: 'Forbid' }), jobs: [job('s1-old', 'active', '2026-11-24T04:58:00Z')] });
    await f.reconciler.reconcile(KEY);
    expect(f.names()).toEqual(['event', 'applyStatus']);
    expect(f.calls[0]).toEqual([
      'event',
      expect.anything(),
      'Warning',
      'JobAlreadyActive',
      'Skipped the run of 2026-11-24T05:00:00.000Z: a run is still active (concurrencyPolicy Forbid)',
    ]);
  });

  it('starts nothing while the integration is not Authenticated, and says so in Ready', async () => {
    const f = fixture({ schedule: schedule(), integrations: [integration(false)] });
    await f.reconciler.reconcile(KEY);
    expect(f.names()).toEqual(['applyStatus']);
    expect(statusOf(f.calls)).toMatchObject({ conditions: [{ type: 'Ready', status: 'False', reason: 'IntegrationNotReady' }] });
  });

  it('starts nothing while suspended and drops the next time', async () => {
    const f = fixture({ schedule: schedule({ suspend: true }) });
    await f.reconciler.reconcile(KEY);
    expect(f.names()).toEqual(['applyStatus']);
    const status = statusOf(f.calls);
    expect(status).toMatchObject({ conditions: [{ type: 'Ready', status: 'True', reason: 'Suspended' }] });
    expect(status.nextScheduleTime).toBeUndefined();
  });

  it('starts a requested run once, with a name of its own', async () => {
    const f = fixture({
      schedule: schedule({ schedule: '0 0 1 1 *' }, { lastScheduleTime: '2026-11-24T00:00:00Z' }, { [REQUESTED_AT_ANNOTATION]: 'token-1' }),
    });
    await f.reconciler.reconcile(KEY);
    await f.reconciler.reconcile(KEY);
    expect(f.names()).toEqual(['createJob', 'event', 'applyStatus']);
    expect(f.calls[1]?.[4]).toMatch(/^Started Appointments sync s1-manual-[0-9a-f]{8} \(requested\)$/);
    expect(statusOf(f.calls)).toMatchObject({ lastHandledRequestedAt: 'token-1' });
  });

  it('prunes history, records and counts the last run once, and has an expired credential re-checked', async () => {
    const f = fixture({
      schedule: schedule({ schedule: '0 0 1 1 *' }, { lastScheduleTime: '2026-11-24T00:00:00Z' }),
      jobs: [
        job('s1-a', 'Succeeded', '2026-11-24T01:00:00Z'),
        job('s1-b', 'Succeeded', '2026-11-24T02:00:00Z'),
        job('s1-c', 'Succeeded', '2026-11-24T03:00:00Z'),
        job('s1-d', 'Succeeded', '2026-11-24T03:30:00Z'),
        job('s1-e', 'Failed', '2026-11-24T04:00:00Z'),
        job('s1-f', 'Failed', '2026-11-24T04:30:00Z'),
      ],
      message: '{"patients":5,"appointments":7,"durationSeconds":9.6,"errorReason":"Expired"}',
    });
    await f.reconciler.reconcile(KEY);
    expect(f.calls.filter((c) => c[0] === 'deleteJob').map((c) => (c[1] as { name: string }).name)).toEqual(['s1-a', 's1-e']);
    expect(f.names().filter((n) => n.startsWith('sync'))).toEqual([
      'syncRuns.inc',
      'syncDuration.observe',
      'syncRecords.inc',
      'syncRecords.inc',
    ]);
    expect(f.calls.find((c) => c[0] === 'annotate')?.[3]).toEqual({ [REQUESTED_AT_ANNOTATION]: 'sync-run/s1-f' });
    expect(statusOf(f.calls).lastRun).toEqual({
      name: 's1-f',
      result: 'Failed',
      scheduledTime: '2026-11-24T04:30:00Z',
      startTime: '2026-11-24T04:30:00.000Z',
      completionTime: '2026-11-24T04:30:25.000Z',
      durationSeconds: 10,
      patients: 5,
      appointments: 7,
      errorReason: 'Expired',
    });
    const again = f.calls.length;
    await f.reconciler.reconcile(KEY);
    expect(f.calls.slice(again).filter((c) => String(c[0]).startsWith('sync'))).toEqual([]);
  });
});

describe("the SyncSchedule reconciler and a site's reminders schedule (spec.siteRef)", () => {
  const reminders = { offsets: ['24h'], channel: 'SMS', templateId: 'appointment-reminder' };
  const siteSchedule = () => {
    const s = schedule({ type: 'Reminders', reminders });
    (s.spec as Record<string, unknown>)['integrationRef'] = undefined;
    (s.spec as Record<string, unknown>)['siteRef'] = { name: 'maple' };
    return s;
  };
  const readySite: Obj = { ...site, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
  const readyOf = (calls: Call[]) => (statusOf(calls).conditions as { type: string; reason: string }[]).find((c) => c.type === 'Ready');

  const blocked: [string, Obj[], string][] = [
    ['waits with SiteNotFound for a site that does not exist', [], 'SiteNotFound'],
    ['waits with SiteNotReady for a site that is not Ready', [site], 'SiteNotReady'],
  ];
  it.each(blocked)('%s, and starts no run', async (_name, sites, reason) => {
    const f = fixture({ schedule: siteSchedule(), sites, integrations: [] });
    await f.reconciler.reconcile(KEY);
    expect(f.names()).not.toContain('createJob');
    expect(readyOf(f.calls)?.reason).toBe(reason);
  });

  it('starts the run of a Ready site with no integration at all, naming the site to the worker', async () => {
    const f = fixture({ schedule: siteSchedule(), sites: [readySite], integrations: [] });
    await f.reconciler.reconcile(KEY);
    await f.reconciler.reconcile(KEY);
    const created = f.calls.find((c) => c[0] === 'createJob')?.[1] as {
      body: { spec: { template: { spec: { containers: { args: string[] }[] } } } };
    };
    expect(created.body.spec.template.spec.containers[0]?.args.slice(0, 2)).toEqual(['--site', 'ns/maple']);
    expect(readyOf(f.calls)?.reason).toBe('Scheduled');
  });
});
