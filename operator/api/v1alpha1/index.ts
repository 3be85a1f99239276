// The cloudconnect.dev/v1alpha1 API: one typed source from which the CRDs, the TypeScript types
// and the defaulting used by the operator all come.
import type { Static, TObject } from '@sinclair/typebox';
import { EmrIntegrationSpec, EmrIntegrationStatus } from './emr-integration.ts';
import type { API_VERSION } from './names.ts';
import { OceanSiteSpec, OceanSiteStatus, SITE_KEY_PATH_RULE, SITE_NAME_RULE } from './ocean-site.ts';
import type { CelRule } from './schema-helpers.ts';
import { SyncScheduleSpec, SyncScheduleStatus } from './sync-schedule.ts';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: TObject;
  status: TObject;
  printerColumns: PrinterColumn[];
  /** CEL rules on the whole object (they can see metadata.name). */
  rules?: CelRule[];
}

const ready: PrinterColumn[] = [
  {
    name: 'Ready',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].status',
    description: 'Whether the resource is ready.',
  },
  {
    name: 'Reason',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
    description: 'Reason of the Ready condition.',
  },
];
const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation.' };

export const OCEAN_SITE: KindDefinition = {
  kind: 'OceanSite',
  plural: 'oceansites',
  singular: 'oceansite',
  shortNames: ['ocsite'],
  description: 'An Ocean site: its number, Clinical Administrator, where its Shared Encryption Key lives in Vault, and its support sites.',
  spec: OceanSiteSpec,
  status: OceanSiteStatus,
  rules: [SITE_KEY_PATH_RULE, SITE_NAME_RULE],
  printerColumns: [
    { name: 'Site', type: 'string', jsonPath: '.spec.siteNumber', description: 'Ocean site number.' },
    ...ready,
    { name: 'Key Version', type: 'integer', jsonPath: '.status.encryptionKey.version', description: 'KV version of the SEK.', priority: 1 },
    { name: 'Fingerprint', type: 'string', jsonPath: '.status.encryptionKey.fingerprint', description: 'SEK fingerprint.', priority: 1 },
    age,
  ],
};

export const EMR_INTEGRATION: KindDefinition = {
  kind: 'EmrIntegration',
  plural: 'emrintegrations',
  singular: 'emrintegration',
  shortNames: ['emr'],
  description:
    'The connection between an Ocean site and its EMR (PS Suite, Med Access, Accuro, OSCAR Pro, FHIR or none): credentials by Secret reference, Cloud Connect settings, authentication state, sync status, and the relay of EMR-bound messages (annotation cloudconnect.dev/replayRequestedAt replays dead letters).',
  spec: EmrIntegrationSpec,
  status: EmrIntegrationStatus,
  printerColumns: [
    { name: 'EMR', type: 'string', jsonPath: '.spec.emr.type', description: 'EMR type.' },
    { name: 'Site', type: 'string', jsonPath: '.spec.siteRef.name', description: 'OceanSite.' },
    ...ready,
    { name: 'Last Sync', type: 'date', jsonPath: '.status.sync.lastSyncTime', description: 'Last successful sync of any type.' },
    { name: 'Next Sync', type: 'string', jsonPath: '.status.sync.nextSyncTime', description: 'Next scheduled sync.' },
    {
      name: 'Delivering',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Delivering")].reason',
      description: 'Reason of the Delivering condition (EMR-bound message relay).',
      priority: 1,
    },
    {
      name: 'Pending',
      type: 'integer',
      jsonPath: '.status.relay.pending',
      description: 'EMR-bound messages waiting for delivery.',
      priority: 1,
    },
    {
      name: 'Auth Expires',
      type: 'string',
      jsonPath: '.status.auth.notAfter',
      description: 'When the EMR credential expires.',
      priority: 1,
    },
    age,
  ],
};

export const SYNC_SCHEDULE: KindDefinition = {
  kind: 'SyncSchedule',
  plural: 'syncschedules',
  singular: 'syncschedule',
  shortNames: ['syncsched'],
  description:
    'When the syncs of one EmrIntegration run: cron schedule, time zone, concurrency policy, history; on demand with the cloudconnect.dev/requestedAt annotation.',
  spec: SyncScheduleSpec,
  status: SyncScheduleStatus,
  printerColumns: [
    { name: 'Integration', type: 'string', jsonPath: '.spec.integrationRef.name', description: 'EmrIntegration.' },
    {
      name: 'Site',
      type: 'string',
      jsonPath: '.spec.siteRef.name',
      description: 'OceanSite of a reminders schedule without an integration (spec.siteRef).',
    },
    { name: 'Type', type: 'string', jsonPath: '.spec.type', description: 'Full, Appointments or Reminders.' },
    { name: 'Schedule', type: 'string', jsonPath: '.spec.schedule', description: 'Cron schedule.' },
    { name: 'Suspend', type: 'boolean', jsonPath: '.spec.suspend', description: 'Whether new runs are suspended.' },
    ...ready,
    { name: 'Last Sync', type: 'date', jsonPath: '.status.lastScheduleTime', description: 'Scheduled time of the last run.' },
    { name: 'Next Sync', type: 'string', jsonPath: '.status.nextScheduleTime', description: 'When the next run is due.' },
    age,
  ],
};

export const KINDS: readonly KindDefinition[] = [OCEAN_SITE, EMR_INTEGRATION, SYNC_SCHEDULE];

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
}

export interface Resource<Spec, Status> {
  apiVersion: typeof API_VERSION;
  kind: string;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}

export type OceanSite = Resource<Static<typeof OceanSiteSpec>, Static<typeof OceanSiteStatus>>;
export type EmrIntegration = Resource<Static<typeof EmrIntegrationSpec>, Static<typeof EmrIntegrationStatus>>;
export type SyncSchedule = Resource<Static<typeof SyncScheduleSpec>, Static<typeof SyncScheduleStatus>>;

export * from './emr-integration.ts';
export * from './names.ts';
export * from './ocean-site.ts';
export * from './sync-schedule.ts';
