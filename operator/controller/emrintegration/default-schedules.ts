// Pure: the two SyncSchedules an integration gets when it has none (a full sync daily
// at midnight, appointments every 30 minutes, in the site's time zone; the full one also asks for
// one run at once, which starts as soon as the integration is Ready), and the Sync Status panel
// (last/next full and appointment sync) aggregated from the integration's schedules.
import { type EmrIntegration, type EmrIntegrationStatus, REQUESTED_AT_ANNOTATION, type SyncSchedule } from '../../api/v1alpha1/index.ts';
import { controllerReference } from '../../internal/kube/owner.ts';

/**
 * The requestedAt token of the default Full schedule: a new integration gets its first full sync
 * when it turns Ready, not at the next midnight (a clinic sees its data the day it connects).
 */
export const INITIAL_SYNC_REQUEST = 'initial-full-sync';

/** How long a new integration waits for schedules applied with it before it creates the defaults. */
export const DEFAULT_SCHEDULES_GRACE_MS = 10_000;

export function defaultSchedules(integration: EmrIntegration, timeZone: string): SyncSchedule[] {
  const owner = controllerReference(integration, 'EmrIntegration', true);
  const make = (suffix: string, type: 'Full' | 'Appointments', schedule: string, annotations = {}): SyncSchedule => ({
    apiVersion: integration.apiVersion,
    kind: 'SyncSchedule',
    metadata: {
      name: `${integration.metadata.name}-${suffix}`.slice(0, 253),
      namespace: integration.metadata.namespace ?? '',
      labels: { 'app.kubernetes.io/managed-by': 'cloudconnect-operator', 'cloudconnect.dev/default-schedule': 'true' },
      annotations,
      ownerReferences: [owner],
    },
    spec: { integrationRef: { name: integration.metadata.name }, type, schedule, timeZone },
  });
  return [
    make('full', 'Full', '0 0 * * *', { [REQUESTED_AT_ANNOTATION]: INITIAL_SYNC_REQUEST }),
    // 'H/30': every 30 minutes at a minute drawn per schedule, so a fleet's syncs do not all start at :00 and :30.
    make('appointments', 'Appointments', 'H/30 * * * *'),
  ];
}

const latest = (values: (string | undefined)[]) =>
  values
    .filter((v): v is string => !!v)
    .sort()
    .pop();
const earliest = (values: (string | undefined)[]) => values.filter((v): v is string => !!v).sort()[0];

/** The schedules that sync (Reminders schedules send reminders: they neither replace the default syncs nor show in the panel). */
export function syncingSchedules(schedules: readonly SyncSchedule[]): SyncSchedule[] {
  return schedules.filter((s) => s.spec.type !== 'Reminders');
}

export function syncPanel(all: readonly SyncSchedule[]): NonNullable<EmrIntegrationStatus['sync']> {
  const schedules = syncingSchedules(all);
  const of = (type: 'Full' | 'Appointments') => schedules.filter((s) => s.spec.type === type);
  const live = (list: SyncSchedule[]) => list.filter((s) => !s.spec.suspend);
  const panel: NonNullable<EmrIntegrationStatus['sync']> = {};
  const set = (key: keyof typeof panel, value: string | undefined) => {
    if (value) (panel as Record<string, string>)[key] = value;
  };
  set('lastFullSyncTime', latest(of('Full').map((s) => s.status?.lastSuccessfulTime)));
  set('nextFullSyncTime', earliest(live(of('Full')).map((s) => s.status?.nextScheduleTime)));
  set('lastAppointmentSyncTime', latest(of('Appointments').map((s) => s.status?.lastSuccessfulTime)));
  set('nextAppointmentSyncTime', earliest(live(of('Appointments')).map((s) => s.status?.nextScheduleTime)));
  set('lastSyncTime', latest(schedules.map((s) => s.status?.lastSuccessfulTime)));
  set('nextSyncTime', earliest(live([...schedules]).map((s) => s.status?.nextScheduleTime)));
  const lastRuns = schedules.map((s) => s.status?.lastRun).filter((r) => r !== undefined);
  const newest = lastRuns.sort((a, b) => String(a.completionTime ?? '').localeCompare(String(b.completionTime ?? ''))).pop();
  if (newest?.result === 'Failed') set('lastError', newest.errorReason ?? 'RunFailed');
  return panel;
}
