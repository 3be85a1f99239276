// Wires informers, controllers, leader election and the health/metrics server together, and
// shuts them down gracefully on SIGTERM (in-flight reconciles finish, the Lease is released).
import { hostname } from 'node:os';
import { AppsV1Api, BatchV1Api, type V1Deployment, type V1Job, type V1Secret, type V1Service } from '@kubernetes/client-node';
import {
  EMR_INTEGRATION,
  type EmrIntegration,
  EmrIntegrationSpec,
  type KindDefinition,
  OCEAN_SITE,
  type OceanSite,
  RUN_LABELS,
  SYNC_SCHEDULE,
  type SyncSchedule,
} from '../api/v1alpha1/index.ts';
import { CREDENTIALS_LABEL, credentialsSecretName, EmrIntegrationReconciler } from '../controller/emrintegration/reconciler.ts';
import { RELAY_COMMAND, type RelayDeploymentSettings } from '../controller/emrintegration/relay/deployment.ts';
import { DEFAULT_RELAY_THRESHOLDS, type RelayThresholds } from '../controller/emrintegration/relay/status-decision.ts';
import { NatsRelayQueue } from '../controller/emrintegration/relay/status-reader.ts';
import { ownerKey, RELAY_SELECTOR } from '../controller/emrintegration/relay-step.ts';
import { KeyAccessNotifier } from '../controller/oceansite/key-access-notifier.ts';
import { OceanSiteReconciler } from '../controller/oceansite/reconciler.ts';
import type { WorkerSettings } from '../controller/syncschedule/job.ts';
import { SyncScheduleReconciler } from '../controller/syncschedule/reconciler.ts';
import { Kube, loadKubeConfig } from '../internal/kube/kube.ts';
import { Mailer, smtpConfigFromEnv } from '../internal/notify/mailer.ts';
import { startAuditListener } from '../internal/vault/audit-listener.ts';
import { VaultClient, vaultConfigFromEnv } from '../internal/vault/client.ts';
import { type Clock, systemClock } from '../runtime/clock.ts';
import { Controller, keyOf } from '../runtime/controller.ts';
import { withDefaults } from '../runtime/defaults.ts';
import { parseDuration } from '../runtime/duration.ts';
import { startHealthServer } from '../runtime/health-server.ts';
import { type CachedObject, SupervisedInformer } from '../runtime/informer.ts';
import { DEFAULT_LEASE_TIMING, LeaderElector } from '../runtime/leader-election.ts';
import { createLogger, type Logger } from '../runtime/logger.ts';
import { OperatorMetrics } from '../runtime/metrics.ts';
import { clusterView } from './metrics-view.ts';

export interface ManagerConfig {
  metricsBind: string;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  identity: string;
  workers: number;
  /** Concurrent reconciles of the SyncSchedule controller: many schedules fire on the same minute. */
  scheduleWorkers: number;
  /** Kubernetes auth mount in Vault where sync-pod roles are created. */
  vaultSyncAuthMount: string;
  /** host:port where Vault's socket audit device delivers entries; empty disables it. */
  auditListenAddress: string;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ManagerConfig {
  return {
    metricsBind: env.METRICS_BIND_ADDRESS ?? '0.0.0.0:8080',
    leaderElect: (env.LEADER_ELECT ?? 'true') !== 'false',
    leaseNamespace: env.LEASE_NAMESPACE ?? env.POD_NAMESPACE ?? 'cloudconnect-system',
    leaseName: env.LEASE_NAME ?? 'cloudconnect-operator',
    identity: env.POD_NAME ?? `${hostname()}-${process.pid}`,
    workers: Number(env.WORKERS ?? '2'),
    scheduleWorkers: Number(env.SYNCSCHEDULE_WORKERS ?? '16'),
    vaultSyncAuthMount: env.VAULT_SYNC_AUTH_MOUNT ?? 'kubernetes',
    auditListenAddress: env.AUDIT_LISTEN_ADDRESS ?? '',
  };
}

export const SYNC_JOB_SELECTOR = 'app.kubernetes.io/managed-by=cloudconnect-operator,app.kubernetes.io/name=cloudconnect-sync';

export function workerSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerSettings {
  return {
    image: env.WORKER_IMAGE ?? 'ghcr.io/cloudconnect/cloudconnect-operator:0.1.0',
    vaultAddress: env.WORKER_VAULT_ADDR ?? env.VAULT_ADDR ?? 'http://127.0.0.1:8200',
    vaultAuthMount: env.VAULT_SYNC_AUTH_MOUNT ?? 'kubernetes',
    oceanApiUrl: env.OCEAN_API_URL ?? 'https://ocean.cognisantmd.com',
    defaultActiveDeadlineSeconds: Number(env.WORKER_ACTIVE_DEADLINE_SECONDS ?? '3600'),
  };
}

export interface RelayOperatorSettings {
  deployment: RelayDeploymentSettings;
  thresholds: RelayThresholds;
  pollIntervalMs: number;
}

/**
 * The relay settings (README "Operator configuration"); undefined without NATS_URL, in which case
 * no relay is deployed and each integration's Delivering condition says so. Throws on a bad value.
 */
export function relaySettingsFromEnv(env: NodeJS.ProcessEnv = process.env): RelayOperatorSettings | undefined {
  const natsUrl = (env.NATS_URL ?? '').trim();
  if (!natsUrl) return undefined;
  const problems: string[] = [];
  if (!natsUrl.split(',').every((u) => /^(nats|tls):\/\/\S+$/.test(u.trim())))
    problems.push('NATS_URL must be nats://host:port (comma-separated for a cluster)');
  const duration = (name: string, fallbackMs: number) => {
    const text = env[name];
    if (!text) return fallbackMs;
    try {
      return parseDuration(text);
    } catch {
      problems.push(`${name} must be a duration such as 30s or 15m, got ${JSON.stringify(text)}`);
      return fallbackMs;
    }
  };
  const count = (name: string, fallback: number, min: number, max: number) => {
    const text = env[name];
    if (!text) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max)
      problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
    return n;
  };
  const worker = workerSettingsFromEnv(env);
  const settings: RelayOperatorSettings = {
    deployment: {
      image: env.RELAY_IMAGE || worker.image,
      natsUrl,
      vaultAddress: worker.vaultAddress,
      vaultAuthMount: worker.vaultAuthMount,
      command: env.RELAY_COMMAND ? env.RELAY_COMMAND.split(/\s+/).filter(Boolean) : RELAY_COMMAND,
      natsReplicas: count('NATS_REPLICAS', 1, 1, 5),
    },
    thresholds: {
      backlogMessages: count('RELAY_BACKLOG_MESSAGES', DEFAULT_RELAY_THRESHOLDS.backlogMessages, 1, 100_000_000),
      backlogAgeMs: duration('RELAY_BACKLOG_AGE', DEFAULT_RELAY_THRESHOLDS.backlogAgeMs),
      staleAfterMs: duration('RELAY_STALE_AFTER', DEFAULT_RELAY_THRESHOLDS.staleAfterMs),
    },
    pollIntervalMs: duration('RELAY_STATUS_POLL_INTERVAL', 30_000),
  };
  if (settings.pollIntervalMs < 1000) problems.push('RELAY_STATUS_POLL_INTERVAL must be at least 1s');
  if (problems.length > 0) throw new Error(`invalid relay configuration: ${problems.join('; ')}`);
  return settings;
}

export interface Manager {
  metricsUrl: string;
  stop(): Promise<void>;
}

export async function startManager(config: ManagerConfig, clock: Clock = systemClock, logger: Logger = createLogger()): Promise<Manager> {
  const kubeConfig = loadKubeConfig();
  const kube = new Kube(kubeConfig, clock);
  const metrics = new OperatorMetrics();
  const vault = new VaultClient(vaultConfigFromEnv());

  const informer = <T extends CachedObject>(kind: KindDefinition) =>
    new SupervisedInformer<T>({
      kubeConfig,
      path: kube.collectionPath(kind),
      list: kube.listAll<T>(kind),
      resource: kind.plural,
      logger,
      metrics,
    });
  const sites = informer<OceanSite>(OCEAN_SITE);
  const integrations = informer<EmrIntegration>(EMR_INTEGRATION);
  const schedules = informer<SyncSchedule>(SYNC_SCHEDULE);
  const secrets = new SupervisedInformer<V1Secret>({
    kubeConfig,
    path: '/api/v1/secrets',
    labelSelector: `${CREDENTIALS_LABEL}=true`,
    list: () => kube.core.listSecretForAllNamespaces({ labelSelector: `${CREDENTIALS_LABEL}=true` }),
    resource: 'secrets',
    logger,
    metrics,
  });
  const jobs = new SupervisedInformer<V1Job>({
    kubeConfig,
    path: '/apis/batch/v1/jobs',
    labelSelector: SYNC_JOB_SELECTOR,
    list: () => kubeConfig.makeApiClient(BatchV1Api).listJobForAllNamespaces({ labelSelector: SYNC_JOB_SELECTOR }),
    resource: 'jobs',
    logger,
    metrics,
  });
  const relaySettings = relaySettingsFromEnv();
  const relayInformer = <T extends CachedObject>(path: string, resource: string, list: () => Promise<{ items: T[] }>) =>
    new SupervisedInformer<T>({ kubeConfig, path, labelSelector: RELAY_SELECTOR, list, resource, logger, metrics });
  const relay = relaySettings
    ? {
        settings: relaySettings.deployment,
        thresholds: relaySettings.thresholds,
        pollIntervalMs: relaySettings.pollIntervalMs,
        queue: new NatsRelayQueue({ natsUrl: relaySettings.deployment.natsUrl, logger }),
        deployments: relayInformer<V1Deployment>('/apis/apps/v1/deployments', 'deployments', () =>
          kubeConfig.makeApiClient(AppsV1Api).listDeploymentForAllNamespaces({ labelSelector: RELAY_SELECTOR }),
        ),
        services: relayInformer<V1Service>('/api/v1/services', 'services', () =>
          kube.core.listServiceForAllNamespaces({ labelSelector: RELAY_SELECTOR }),
        ),
      }
    : undefined;
  if (!relay) logger.info('no NATS_URL: the EMR-bound message relay is not deployed');
  const informers = [sites, integrations, schedules, secrets, jobs, ...(relay ? [relay.deployments, relay.services] : [])];
  metrics.observe(clusterView({ sites, integrations, schedules, vault }));
  const mailer = new Mailer(smtpConfigFromEnv(), logger);

  const siteController = new Controller({
    name: 'oceansite',
    logger,
    metrics,
    workers: config.workers,
    reconciler: new OceanSiteReconciler({ kube, vault, clock, logger, sites, integrations, vaultAuthMount: config.vaultSyncAuthMount }),
  });
  const integrationController = new Controller({
    name: 'emrintegration',
    logger,
    metrics,
    workers: config.workers,
    reconciler: new EmrIntegrationReconciler({
      kube,
      clock,
      logger,
      metrics,
      mailer,
      integrations,
      sites,
      secrets,
      schedules,
      enqueue: (key) => integrationController.enqueue(key),
      ...(relay ? { relay } : {}),
    }),
  });
  const scheduleController = new Controller({
    name: 'syncschedule',
    logger,
    metrics,
    workers: config.scheduleWorkers,
    reconciler: new SyncScheduleReconciler({
      kube,
      clock,
      logger,
      metrics,
      schedules,
      integrations,
      sites,
      jobs,
      worker: workerSettingsFromEnv(),
    }),
  });
  const controllers = [siteController, integrationController, scheduleController];

  siteController.watchPrimary(sites);
  siteController.watchRelated(integrations, (i) => [`${i.metadata?.namespace}/${i.spec.siteRef.name}`]);
  integrationController.watchPrimary(integrations);
  integrationController.watchRelated(secrets, (secret) =>
    integrations
      .list(secret.metadata?.namespace)
      .filter((i) => credentialsSecretName(withDefaults<EmrIntegrationSpec>(EmrIntegrationSpec, i.spec)) === secret.metadata?.name)
      .map(keyOf),
  );
  if (relay) {
    integrationController.watchRelated(relay.deployments, ownerKey);
    integrationController.watchRelated(relay.services, ownerKey);
  }
  integrationController.watchRelated(sites, (s) =>
    integrations
      .list(s.metadata.namespace)
      .filter((i) => i.spec.siteRef.name === s.metadata.name)
      .map(keyOf),
  );
  scheduleController.watchPrimary(schedules);
  scheduleController.watchRelated(jobs, (job) => {
    const schedule = job.metadata?.labels?.[RUN_LABELS.schedule];
    return schedule ? [`${job.metadata?.namespace}/${schedule}`] : [];
  });
  integrationController.watchRelated(schedules, (s) => [`${s.metadata.namespace}/${s.spec.integrationRef.name}`]);
  scheduleController.watchRelated(integrations, (i) =>
    schedules
      .list(i.metadata.namespace)
      .filter((s) => s.spec.integrationRef.name === i.metadata.name)
      .map(keyOf),
  );

  let ready = false;
  const health = await startHealthServer(config.metricsBind, metrics, { ready: () => ready });
  logger.info('serving health and metrics', { url: health.url });

  let stopping: Promise<void> | undefined;
  const closers: (() => Promise<void>)[] = [];
  const elector = config.leaderElect
    ? new LeaderElector(kubeConfig, {
        name: config.leaseName,
        namespace: config.leaseNamespace,
        identity: config.identity,
        timing: DEFAULT_LEASE_TIMING,
        clock,
        logger,
        metrics,
      })
    : undefined;

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      logger.info('shutting down: finishing in-flight reconciles');
      await Promise.all(controllers.map((c) => c.shutdown()));
      await elector?.release();
      await Promise.all(informers.map((i) => i.stop()));
      await Promise.all(closers.map((c) => c()));
      await relay?.queue.close();
      await new Promise<void>((r) => {
        health.server.close(() => r());
        health.server.closeAllConnections();
      });
      logger.info('stopped');
    })();
    return stopping;
  };

  // As in controller-runtime: every replica fills its caches (and is then ready), only the leader
  // runs the controllers. The Vault audit listener runs on every replica too: Vault's socket device
  // reaches whichever replica the Service picks, and each entry arrives once, on one connection.
  const run = async () => {
    await Promise.all(informers.map((i) => i.start()));
    if (config.auditListenAddress) {
      const self = await vault.request<{ data?: { accessor?: string } }>('GET', '/auth/token/lookup-self').catch(() => undefined);
      const notifier = new KeyAccessNotifier({ kube, sites, metrics, mailer, logger, operatorAccessor: self?.data?.accessor });
      const audit = await startAuditListener(
        config.auditListenAddress,
        (entry) => void notifier.handle(entry).catch(() => undefined),
        logger,
      );
      closers.push(audit.close);
      logger.info('receiving Vault audit entries', { port: audit.port });
    }
    ready = true;
    if (elector) {
      logger.info('caches synced; waiting for the leader lease', {
        lease: `${config.leaseNamespace}/${config.leaseName}`,
        identity: config.identity,
      });
      const acquired = await elector.acquire(() => {
        logger.error('leadership lost: exiting so that only one operator reconciles');
        process.exit(1);
      });
      if (!acquired) return;
    }
    logger.info('starting controllers', { controllers: controllers.map((c) => c.name) });
    for (const c of controllers) c.start();
  };
  void run().catch((error: unknown) => {
    logger.error('manager failed', { error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  });

  return { metricsUrl: health.url, stop };
}
