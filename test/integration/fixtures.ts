// Setup shared by the integration tests that run syncs: a namespace with an OceanSite whose SEK is
// imported from a one-time Secret, an Accuro simulator over https (its CA in the Secret `sim-ca`)
// and its credentials Secret `<site>-accuro-creds`; and the kubelet's part for run pods that kwok
// leaves running (test/cluster/up.sh: pods selecting the kubelet-stand-in node label).
import { randomBytes } from 'node:crypto';
import {
  ACCURO_DEV_CREDENTIALS,
  type AccuroCredentials,
  type AccuroSimOptions,
  type AccuroSimulator,
  start as startAccuro,
} from '../simulators/accuro.ts';
import { kubectl, kubectlOk, repoRoot } from './kubectl.ts';
import { eventually } from './operator-process.ts';
import { makeTestTls } from './tls.ts';

export const apply = (obj: object) => kubectlOk(['apply', '-f', '-'], JSON.stringify(obj));

export interface AccuroSiteOptions {
  namespace: string;
  site: string;
  siteNumber: string;
  /** The SEK to import (default: 32 random bytes, base64). */
  sek?: string;
  timeZone?: string;
  /** Extra keys of the credentials Secret (e.g. the Ocean client). */
  extraCredentials?: Record<string, string>;
  volume?: AccuroSimOptions['volume'];
  /** The EMR credentials, in the simulator and the Secret (default: the simulator's development ones). */
  credentials?: AccuroCredentials;
  /** Simulator faults from the start. */
  faults?: AccuroSimOptions['faults'];
  /** Where the simulator listens (default 127.0.0.1; the real node's address for pods that run for real). */
  host?: string;
}

export interface AccuroSite {
  accuro: AccuroSimulator;
  /** PEM of the CA that signed the simulator's certificate. */
  ca: string;
  sek: string;
  credentialsSecret: string;
}

/** An OceanSite whose SEK is imported from a one-time Secret `<name>-sek`: the Secret, then the site. */
export function importedSite(o: { namespace: string; name: string; siteNumber: string; sek?: string; timeZone?: string }): object[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${o.name}-sek`, namespace: o.namespace },
      type: 'cloudconnect.dev/sek-import',
      stringData: { sek: o.sek ?? randomBytes(32).toString('base64') },
    },
    {
      apiVersion: 'cloudconnect.dev/v1alpha1',
      kind: 'OceanSite',
      metadata: { name: o.name, namespace: o.namespace },
      spec: {
        siteNumber: o.siteNumber,
        clinicalAdminEmail: `admin@${o.name}.example.org`,
        ...(o.timeZone ? { timeZone: o.timeZone } : {}),
        encryptionKey: { importFrom: { secretRef: { name: `${o.name}-sek` } } },
      },
    },
  ];
}

/** CRDs, namespace, `sim-ca`, the SEK import Secret, the OceanSite and the Accuro credentials; starts the simulator. */
export async function setUpAccuroSite(o: AccuroSiteOptions): Promise<AccuroSite> {
  const tls = makeTestTls(o.host ? [o.host] : []);
  const credentials = o.credentials ?? ACCURO_DEV_CREDENTIALS;
  const accuro = await startAccuro({
    ...(o.host ? { host: o.host } : {}),
    tls: { cert: tls.cert, key: tls.key },
    credentials,
    ...(o.volume ? { volume: o.volume } : {}),
    ...(o.faults ? { faults: o.faults } : {}),
  });
  const sek = o.sek ?? randomBytes(32).toString('base64');
  const ns = o.namespace;
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`]);
  await kubectl(['create', 'namespace', ns]);
  await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sim-ca', namespace: ns }, stringData: { 'ca.crt': tls.ca } });
  const timeZone = o.timeZone ? { timeZone: o.timeZone } : {};
  for (const obj of importedSite({ namespace: ns, name: o.site, siteNumber: o.siteNumber, sek, ...timeZone })) await apply(obj);
  const credentialsSecret = `${o.site}-accuro-creds`;
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: credentialsSecret, namespace: ns },
    stringData: { ...credentials, ...o.extraCredentials },
  });
  return { accuro, ca: tls.ca, sek, credentialsSecret };
}

/** The `emr` section of an EmrIntegration on that simulator. */
export function accuroEmr(site: AccuroSite, apiUrl = site.accuro.url) {
  return {
    type: 'Accuro',
    accuro: { tenantId: site.accuro.tenantId, apiUrl, credentialsSecretRef: { name: site.credentialsSecret } },
    caBundleSecretRef: { name: 'sim-ca' },
  };
}

/**
 * An EmrIntegration on the site's Accuro simulator (2 days to sync) and a daily Full SyncSchedule
 * for it, applied together so that no default schedule is made; runs start on request.
 */
export async function applyFullSync(
  namespace: string,
  accuroSite: AccuroSite,
  names: { site: string; integration: string; schedule: string },
): Promise<void> {
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name: names.integration, namespace },
    spec: { siteRef: { name: names.site }, emr: accuroEmr(accuroSite), settings: { scheduleDaysToSync: 2 } },
  });
  await apply({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'SyncSchedule',
    metadata: { name: names.schedule, namespace },
    spec: { integrationRef: { name: names.integration }, type: 'Full', schedule: '0 0 * * *' },
  });
}

/** Puts the integration's run pods on the kubelet stand-in: kwok leaves them running, and the test finishes them (finishAsKubelet). */
export async function runPodsOnKubeletStandIn(namespace: string, integration: string): Promise<void> {
  await kubectlOk([
    'patch',
    'emrintegration',
    integration,
    '-n',
    namespace,
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { syncWorker: { nodeSelector: { 'cloudconnect.dev/kubelet-stand-in': 'test' } } } }),
  ]);
}

/** Plays the kubelet for a run pod kwok leaves running: writes the worker's exit and termination message into the pod status. */
export async function finishAsKubelet(namespace: string, jobName: string, terminationMessage: string, exitCode: number): Promise<void> {
  const pod = await eventually(async () => {
    const pods = JSON.parse(await kubectlOk(['get', 'pods', '-n', namespace, '-l', `job-name=${jobName}`, '-o', 'json'])).items as {
      metadata: { name: string };
      status?: { phase?: string };
    }[];
    return pods[0]?.status?.phase === 'Running' ? pods[0] : undefined;
  }, 'the run pod running (and not completed by kwok)');
  const now = new Date().toISOString();
  const terminated = {
    exitCode,
    reason: exitCode === 0 ? 'Completed' : 'Error',
    message: terminationMessage,
    startedAt: now,
    finishedAt: now,
  };
  await kubectlOk([
    'patch',
    'pod',
    pod.metadata.name,
    '-n',
    namespace,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({
      status: {
        phase: exitCode === 0 ? 'Succeeded' : 'Failed',
        containerStatuses: [
          {
            name: 'sync',
            image: 'registry.example/cloudconnect:test',
            imageID: '',
            ready: false,
            restartCount: 0,
            started: false,
            state: { terminated },
          },
        ],
      },
    }),
  ]);
}

/**
 * What a consumed import Secret looks like: no data left, annotated with the import time and owned
 * by the site (garbage-collected with it); the operator has no right to delete Secrets.
 */
export async function importSecretState(namespace: string, name: string): Promise<string> {
  const r = await kubectl(['get', 'secret', name, '-n', namespace, '-o', 'json']);
  if (r.code !== 0) return r.stderr.includes('NotFound') ? 'absent' : r.stderr;
  const secret = JSON.parse(r.stdout) as {
    data?: Record<string, string>;
    metadata: { annotations?: Record<string, string>; ownerReferences?: { kind: string }[] };
  };
  const emptied =
    Object.keys(secret.data ?? {}).length === 0 &&
    secret.metadata.annotations?.['cloudconnect.dev/imported-into-vault'] !== undefined &&
    secret.metadata.ownerReferences?.[0]?.kind === 'OceanSite';
  return emptied ? 'emptied' : 'holding data';
}
