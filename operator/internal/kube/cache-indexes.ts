// The cache indexes (runtime/cache-index.ts) the controllers and their watches look related objects
// up by, instead of filtering every cached object of a namespace for each event or reconcile. Each
// is built the first time it is asked and kept by its cache's events from then on.
import type { V1Job } from '@kubernetes/client-node';
import { type EmrIntegration, EmrIntegrationSpec, type OceanSite, RUN_LABELS, type SyncSchedule } from '../../api/v1alpha1/index.ts';
import type { IndexDefinition } from '../../runtime/cache-index.ts';
import { withDefaults } from '../../runtime/defaults.ts';
import { credentialsSecretName } from '../emr/settings.ts';

const one = (value: string | undefined): string[] => (value ? [value] : []);

/** A SyncSchedule by the EmrIntegration it syncs (spec.integrationRef). */
export const SCHEDULES_BY_INTEGRATION: IndexDefinition<SyncSchedule> = {
  name: 'spec.integrationRef.name',
  valuesOf: (s) => one(s.spec.integrationRef?.name),
};

/** A site's own reminders schedule by its OceanSite (spec.siteRef). */
export const SCHEDULES_BY_SITE: IndexDefinition<SyncSchedule> = {
  name: 'spec.siteRef.name',
  valuesOf: (s) => one(s.spec.siteRef?.name),
};

/** An EmrIntegration by its OceanSite (spec.siteRef). */
export const INTEGRATIONS_BY_SITE: IndexDefinition<EmrIntegration> = {
  name: 'spec.siteRef.name',
  valuesOf: (i) => one(i.spec.siteRef?.name),
};

/** An EmrIntegration by the Secret its EMR section names (after defaulting, as the reconciler reads it). */
export const INTEGRATIONS_BY_CREDENTIALS: IndexDefinition<EmrIntegration> = {
  name: 'emr credentialsSecretRef',
  valuesOf: (i) => one(credentialsSecretName(withDefaults<EmrIntegrationSpec>(EmrIntegrationSpec, i.spec))),
};

/** An OceanSite by its Ocean API Secret (spec.ocean.credentialsSecretRef). */
export const SITES_BY_OCEAN_CREDENTIALS: IndexDefinition<OceanSite> = {
  name: 'spec.ocean.credentialsSecretRef.name',
  valuesOf: (s) => one(s.spec.ocean?.credentialsSecretRef?.name),
};

/** A run Job by the SyncSchedule that started it (its RUN_LABELS.schedule label). */
export const RUNS_BY_SCHEDULE: IndexDefinition<V1Job> = {
  name: RUN_LABELS.schedule,
  valuesOf: (j) => one(j.metadata?.labels?.[RUN_LABELS.schedule]),
};
