// Pure: the demo clinic as Kubernetes objects, from the running simulators' URLs, their
// credentials and the demo CA. One EmrIntegration per EMR type, each over https with the CA bundle
// Secret `demo-ca`, no sync SyncSchedule (so each gets the operator's default schedules) and one
// Reminders schedule for the Accuro integration (DEMO_REMINDERS). Secrets
// (credentials, the SEK import) are returned apart from the rest: they are applied from memory and
// never written to disk.
import type { EmrType } from '../../../operator/api/v1alpha1/emr-integration.ts';
import type { DemoCredentials } from './credentials.ts';
import { DEMO_NAMESPACE, DEMO_SITE, DEMO_SITE_NUMBER } from './layout.ts';

export interface DemoSimulatorUrls {
  oscar: string;
  accuro: string;
  fhir: string;
  telus: string;
  ocean: string;
  /** The referral system the eReferral endpoint forwards to. */
  referralTarget: string;
}

export interface DemoInput {
  urls: DemoSimulatorUrls;
  credentials: DemoCredentials;
  /** PEM of the demo CA. */
  ca: string;
  /** The SEK to import (base64 of 32 bytes); absent when the site exists (its key is in Vault already). */
  sek?: string;
}

export interface DemoManifests {
  /** Namespace, OceanSite, EmrIntegrations: safe to write to disk. */
  resources: object[];
  /** The CA bundle, the EMR credentials (with the Ocean client for uploads) and the SEK import. */
  secrets: object[];
}

export const DEMO_INTEGRATIONS: readonly { name: string; type: EmrType }[] = [
  { name: 'demo-pssuite', type: 'PSSuite' },
  { name: 'demo-medaccess', type: 'MedAccess' },
  { name: 'demo-accuro', type: 'Accuro' },
  { name: 'demo-oscar', type: 'OSCARPro' },
  { name: 'demo-fhir', type: 'FHIR' },
  { name: 'demo-none', type: 'None' },
];

/** Patient reminders for the Accuro integration's appointments (seed 004), run at make up and every 15 minutes. */
export const DEMO_REMINDERS = { name: 'demo-accuro-reminders', integration: 'demo-accuro' } as const;

const CA_SECRET = 'demo-ca';
const REFERRAL_TARGET_SECRET = 'demo-referral-target';

/** demo-none's eReferral block: forward each bundle to the demo referral system over https (demo CA), with its bearer token. */
function eReferralForward(input: DemoInput): object {
  return {
    forward: {
      url: input.urls.referralTarget,
      auth: 'Bearer',
      credentialsSecretRef: { name: REFERRAL_TARGET_SECRET },
      caBundleSecretRef: { name: CA_SECRET, key: 'ca.crt' },
    },
  };
}
const SEK_SECRET = 'demo-sek-import';
const labels = { 'app.kubernetes.io/part-of': 'cloudconnect', 'cloudconnect.dev/demo': 'true' };
const meta = (name: string) => ({ name, namespace: DEMO_NAMESPACE, labels });

function secret(name: string, stringData: Record<string, string>, type = 'Opaque'): object {
  return { apiVersion: 'v1', kind: 'Secret', metadata: meta(name), type, stringData };
}

/** The `spec.emr` of one integration, and the credentials its Secret holds (none for None). */
function emrOf(type: EmrType, name: string, input: DemoInput): { emr: object; credentials?: Record<string, string> } {
  const c = input.credentials;
  const ref = { credentialsSecretRef: { name: `${name}-credentials` } };
  const ca = { caBundleSecretRef: { name: CA_SECRET, key: 'ca.crt' } };
  const telus = (product: 'PSSuite' | 'MedAccess') => {
    const i = c.telus.instances.find((x) => x.product === product);
    if (!i) throw new Error(`the demo credentials have no ${product} instance`);
    const section = { instanceId: i.instanceId, apiUrl: input.urls.telus, ...ref };
    const credentials = { instanceSecret: i.instanceSecret, ...(i.activationCode ? { activationCode: i.activationCode } : {}) };
    return { emr: { type, [product === 'PSSuite' ? 'psSuite' : 'medAccess']: section, ...ca }, credentials };
  };
  switch (type) {
    case 'PSSuite':
    case 'MedAccess':
      return telus(type);
    case 'Accuro': {
      const { tenantId, ...credentials } = c.accuro;
      return { emr: { type, accuro: { tenantId, apiUrl: input.urls.accuro, ...ref }, ...ca }, credentials: { ...credentials } };
    }
    case 'OSCARPro':
      return { emr: { type, oscarPro: { serverUrl: input.urls.oscar, ...ref }, ...ca }, credentials: { ...c.oscar } };
    case 'FHIR':
      return { emr: { type, fhir: { baseUrl: input.urls.fhir, ...ref }, ...ca }, credentials: { ...c.fhir } };
    case 'None':
      return { emr: { type } };
  }
}

function site(): object {
  return {
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'OceanSite',
    metadata: meta(DEMO_SITE),
    spec: {
      siteNumber: DEMO_SITE_NUMBER,
      displayName: 'Demo Clinic (simulated EMRs)',
      clinicalAdminEmail: 'clinical.admin@demo-clinic.example.org',
      timeZone: 'America/Toronto',
      encryptionKey: { importFrom: { secretRef: { name: SEK_SECRET, key: 'sek' } }, deletionPolicy: 'Delete' },
    },
  };
}

export function demoManifests(input: DemoInput): DemoManifests {
  const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEMO_NAMESPACE, labels } };
  const secrets: object[] = [secret(CA_SECRET, { 'ca.crt': input.ca })];
  if (input.sek !== undefined) secrets.push(secret(SEK_SECRET, { sek: input.sek }, 'cloudconnect.dev/sek-import'));
  const ocean = { oceanClientId: input.credentials.ocean.clientId, oceanClientSecret: input.credentials.ocean.clientSecret };
  const integrations = DEMO_INTEGRATIONS.map(({ name, type }) => {
    const { emr, credentials } = emrOf(type, name, input);
    if (credentials) secrets.push(secret(`${name}-credentials`, { ...credentials, ...ocean }));
    // The integration without an EMR is the clinic's eReferral endpoint: Ocean's referral bundles, forwarded to its referral system.
    const eReferral = type === 'None' ? { eReferral: eReferralForward(input) } : {};
    return {
      apiVersion: 'cloudconnect.dev/v1alpha1',
      kind: 'EmrIntegration',
      metadata: meta(name),
      spec: { siteRef: { name: DEMO_SITE }, emr, ...eReferral },
    };
  });
  secrets.push(secret(REFERRAL_TARGET_SECRET, { token: input.credentials.referralTarget.token }));
  return { resources: [namespace, site(), ...integrations, reminders()], secrets };
}

/** Texts 72 h and 24 h before each booked Accuro appointment (no quiet hours: the demo shows sends at any hour). */
function reminders(): object {
  return {
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'SyncSchedule',
    metadata: meta(DEMO_REMINDERS.name),
    spec: {
      integrationRef: { name: DEMO_REMINDERS.integration },
      type: 'Reminders',
      schedule: 'H/15 * * * *',
      timeZone: 'America/Toronto',
      concurrencyPolicy: 'Forbid',
      reminders: { offsets: ['72h', '24h'], channel: 'SMS', templateId: 'appointment-reminder' },
    },
  };
}
