// Step 7, schedules: an integration that no SyncSchedule names gets the two default
// schedules (default-schedules.ts) once a grace period after its creation has passed, so that
// schedules applied together with it are not doubled; then the Sync Status panel (status.sync) is
// aggregated from the schedules that name it.
import {
  API_VERSION,
  type EmrIntegration,
  GROUP,
  type OceanSite,
  OceanSiteSpec,
  type SyncSchedule,
  VERSION,
} from '../../api/v1alpha1/index.ts';
import { SCHEDULES_BY_INTEGRATION } from '../../internal/kube/cache-indexes.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import { withDefaults } from '../../runtime/defaults.ts';
import { ignoreStatus } from '../../runtime/errors.ts';
import type { SupervisedInformer } from '../../runtime/informer.ts';
import { DEFAULT_SCHEDULES_GRACE_MS, defaultSchedules, syncingSchedules, syncPanel } from './default-schedules.ts';
import type { EmrRun, Step, StepOutcome } from './step.ts';

export type DefaultSchedulesPlan = { kind: 'none' } | { kind: 'wait'; ms: number } | { kind: 'create'; timeZone: string };

/** Pure: leave it (the integration has schedules), wait out the grace period, or create the defaults in the site's time zone. */
export function planDefaultSchedules(
  input: { hasSchedules: boolean; createdAt: EmrIntegration['metadata']['creationTimestamp']; site: OceanSite | undefined },
  now: Date,
): DefaultSchedulesPlan {
  if (input.hasSchedules) return { kind: 'none' };
  const age = now.getTime() - new Date(String(input.createdAt ?? now.toISOString())).getTime();
  if (age < DEFAULT_SCHEDULES_GRACE_MS) return { kind: 'wait', ms: DEFAULT_SCHEDULES_GRACE_MS - age };
  const timeZone = input.site ? (withDefaults<OceanSiteSpec>(OceanSiteSpec, input.site.spec).timeZone ?? 'UTC') : 'UTC';
  return { kind: 'create', timeZone };
}

export class SchedulesStep implements Step {
  readonly name = 'schedules';
  private readonly kube: Kube;
  /** The SyncSchedules cache; without it no default is created and the panel is empty. */
  private readonly schedules: SupervisedInformer<SyncSchedule> | undefined;

  constructor(deps: { kube: Kube; schedules?: SupervisedInformer<SyncSchedule> }) {
    this.kube = deps.kube;
    this.schedules = deps.schedules;
  }

  async run(run: EmrRun): Promise<StepOutcome> {
    const mine = syncingSchedules(this.schedules?.byIndex(SCHEDULES_BY_INTEGRATION, run.key.namespace, run.key.name) ?? []);
    const wait = await this.ensureDefaults(run, mine.length > 0);
    if (wait !== undefined) run.requeueAfterMs.push(wait);
    run.sync = syncPanel(mine);
    return 'continue';
  }

  /** Returns how long to wait while in the grace period. */
  private async ensureDefaults(run: EmrRun, hasSchedules: boolean): Promise<number | undefined> {
    if (!this.schedules) return undefined;
    const integration = run.integration;
    const namespace = integration.metadata.namespace ?? '';
    const plan = planDefaultSchedules({ hasSchedules, createdAt: integration.metadata.creationTimestamp, site: run.site }, run.now);
    if (plan.kind === 'wait') return plan.ms;
    if (plan.kind === 'create') await this.create(integration, namespace, plan.timeZone);
    return undefined;
  }

  private async create(integration: EmrIntegration, namespace: string, timeZone: string): Promise<void> {
    for (const schedule of defaultSchedules(integration, timeZone)) {
      await this.kube.custom
        .createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace,
          plural: 'syncschedules',
          body: { ...schedule, apiVersion: API_VERSION },
        })
        .catch(ignoreStatus(409));
    }
    await this.kube.event(
      integration,
      'Normal',
      'DefaultSchedulesCreated',
      `No SyncSchedule named this integration: created a Full sync at 0 0 * * * and an Appointments sync at */30 * * * * (${timeZone})`,
    );
  }
}
