import { describe, expect, it } from 'vitest';
import type { EmrIntegration, SyncSchedule } from '../../api/v1alpha1/index.ts';
import { defaultSchedules, syncingSchedules, syncPanel } from './default-schedules.ts';

const integration: EmrIntegration = {
  apiVersion: 'cloudconnect.dev/v1alpha1',
  kind: 'EmrIntegration',
  metadata: { name: 'maple-accuro', namespace: 'clinic', uid: 'u1' },
  spec: { siteRef: { name: 'maple' }, emr: { type: 'None' } },
};
const sched = (type: 'Full' | 'Appointments' | 'Reminders', status: SyncSchedule['status'], suspend = false): SyncSchedule => ({
  apiVersion: 'cloudconnect.dev/v1alpha1',
  kind: 'SyncSchedule',
  metadata: { name: `s-${type}` },
  spec: { integrationRef: { name: 'maple-accuro' }, type, schedule: '* * * * *', suspend },
  status,
});

describe('default schedules', () => {
  it('are a Full sync at midnight and an Appointments sync every 30 minutes at a minute drawn per schedule (H/30), in the site time zone, owned by the integration', () => {
    const [full, appts] = defaultSchedules(integration, 'America/Toronto');
    expect(full!.spec).toEqual({
      integrationRef: { name: 'maple-accuro' },
      type: 'Full',
      schedule: '0 0 * * *',
      timeZone: 'America/Toronto',
    });
    expect(appts!.spec).toMatchObject({ type: 'Appointments', schedule: 'H/30 * * * *' });
    expect(full!.metadata.name).toBe('maple-accuro-full');
    expect(full!.metadata.ownerReferences?.[0]?.uid).toBe('u1');
  });

  it('ask for one full sync at once (it starts when the integration is Ready), and no extra appointment sync', () => {
    const [full, appts] = defaultSchedules(integration, 'America/Toronto');
    expect(full!.metadata.annotations).toEqual({ 'cloudconnect.dev/requestedAt': 'initial-full-sync' });
    expect(appts!.metadata.annotations).toEqual({});
  });
});

describe('the Sync Status panel', () => {
  it.each([
    [
      'shows last and next full and appointment syncs',
      [
        sched('Full', { lastSuccessfulTime: '2026-11-23T05:00:00Z', nextScheduleTime: '2026-11-24T05:00:00Z' }),
        sched('Appointments', { lastSuccessfulTime: '2026-11-23T17:30:00Z', nextScheduleTime: '2026-11-23T18:00:00Z' }),
      ],
      {
        lastFullSyncTime: '2026-11-23T05:00:00Z',
        nextAppointmentSyncTime: '2026-11-23T18:00:00Z',
        lastSyncTime: '2026-11-23T17:30:00Z',
        nextSyncTime: '2026-11-23T18:00:00Z',
      },
    ],
    ['leaves a suspended schedule out of next sync', [sched('Appointments', { nextScheduleTime: '2026-11-23T18:00:00Z' }, true)], {}],
    [
      'leaves a Reminders schedule out: its runs send reminders, they do not sync',
      [
        sched('Reminders', {
          lastSuccessfulTime: '2026-11-23T17:45:00Z',
          nextScheduleTime: '2026-11-23T18:00:00Z',
          lastRun: { name: 'r', result: 'Failed', errorReason: 'OceanRejected', completionTime: '2026-11-23T17:46:00Z' },
        }),
      ],
      {},
    ],
    [
      'shows the reason of a failed last run',
      [sched('Full', { lastRun: { name: 'r', result: 'Failed', errorReason: 'EmrUnreachable', completionTime: '2026-11-23T05:01:00Z' } })],
      { lastError: 'EmrUnreachable' },
    ],
  ] as const)('%s', (_n, schedules, expected) => {
    const panel = syncPanel([...schedules]);
    expect(panel).toMatchObject(expected);
    if (Object.keys(expected).length === 0) expect(panel).toEqual({});
  });
});

describe('the schedules that count as syncs', () => {
  it('are every schedule but the Reminders ones, so a Reminders schedule alone does not stop the default syncs', () => {
    const types = syncingSchedules([sched('Reminders', {}), sched('Full', {}), sched('Appointments', {})]).map((s) => s.spec.type);
    expect(types).toEqual(['Full', 'Appointments']);
    expect(syncingSchedules([sched('Reminders', {})])).toEqual([]);
  });
});
