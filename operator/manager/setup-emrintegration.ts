// The EmrIntegration controller as the manager runs it (controller-runtime's SetupWithManager): the
// labelled credentials Secrets (the wiring's cache, shared with the OceanSite controller) and (with NATS_URL) of relay Deployments and Services, the
// relay queue reader, its reconciler, and what makes an integration reconcile again.
import { readFileSync } from 'node:fs';
import { AppsV1Api, type V1Deployment, type V1Secret, type V1Service } from '@kubernetes/client-node';
import { type EmrIntegrationDeps, EmrIntegrationReconciler } from '../controller/emrintegration/reconciler.ts';
import { VaultRelayCredentials } from '../controller/emrintegration/relay/nats-credentials.ts';
import { NatsRelayQueue } from '../controller/emrintegration/relay/status-reader.ts';
import { ownerKey, RELAY_SELECTOR } from '../controller/emrintegration/relay-step.ts';
import {
  INTEGRATIONS_BY_CREDENTIALS,
  INTEGRATIONS_BY_SITE,
  SCHEDULES_BY_INTEGRATION,
  SITES_BY_OCEAN_CREDENTIALS,
} from '../internal/kube/cache-indexes.ts';
import type { AccountSigner } from '../internal/relayqueue/nats-auth.ts';
import { referencedKeys } from '../runtime/cache-index.ts';
import { Controller, keyOf } from '../runtime/controller.ts';
import type { SupervisedInformer } from '../runtime/informer.ts';
import { redactor } from '../runtime/redact.ts';
import type { ControllerSetup, Wiring } from './wiring.ts';

type Relay = NonNullable<EmrIntegrationDeps['relay']>;

export function setupEmrIntegration(w: Wiring): ControllerSetup {
  const { kube, clock, logger, metrics, mailer, integrations, sites, schedules, config } = w;
  const secrets = w.credentialSecrets;
  const relay = setupRelay(w);
  if (!relay) logger.info('no NATS_URL: the EMR-bound message relay is not deployed');
  const controller: Controller = new Controller({
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
      enqueue: (key) => controller.enqueue(key),
      egress: config.egress,
      ocean: {
        apiUrl: config.worker.oceanApiUrl,
        egress: config.egress,
        ...(config.worker.oceanCaBundle ? { caBundle: config.worker.oceanCaBundle } : {}),
      },
      ...(relay ? { relay } : {}),
    }),
  });
  watch(w, controller, secrets, relay);
  return { controller, close: async () => relay?.queue.close() };
}

/** The relay's caches and queue reader; undefined without NATS_URL. */
function setupRelay(w: Wiring): Relay | undefined {
  const settings = w.config.relay;
  if (!settings) return undefined;
  const signer = accountSigner(settings.nats);
  const natsCa = settings.nats.caFile ? readNatsCa(settings.nats.caFile) : undefined;
  const apps = w.kubeConfig.makeApiClient(AppsV1Api);
  const labelSelector = RELAY_SELECTOR;
  return {
    settings: { ...settings.deployment, ...(natsCa ? { natsCa } : {}) },
    thresholds: settings.thresholds,
    pollIntervalMs: settings.pollIntervalMs,
    vault: w.vault,
    deadLetterMaxAgeMs: settings.limits.deadMaxAgeMs,
    queue: new NatsRelayQueue({
      natsUrl: settings.deployment.natsUrl,
      logger: w.logger,
      signer,
      limits: settings.limits,
      ...(settings.nats.caFile ? { caFile: settings.nats.caFile } : {}),
    }),
    credentials: new VaultRelayCredentials({ vault: w.vault, mount: settings.deployment.sekMount, signer }),
    deployments: w.informer<V1Deployment>({
      path: '/apis/apps/v1/deployments',
      labelSelector: RELAY_SELECTOR,
      list: (namespace) =>
        namespace === undefined
          ? apps.listDeploymentForAllNamespaces({ labelSelector })
          : apps.listNamespacedDeployment({ namespace, labelSelector }),
      resource: 'deployments',
    }),
    services: w.informer<V1Service>({
      path: '/api/v1/services',
      labelSelector: RELAY_SELECTOR,
      list: (namespace) =>
        namespace === undefined
          ? w.kube.core.listServiceForAllNamespaces({ labelSelector })
          : w.kube.core.listNamespacedService({ namespace, labelSelector }),
      resource: 'services',
    }),
  };
}

/** The NATS server's CA (public), read once at start: the operator trusts it and tells every relay (NATS_CA). */
function readNatsCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read NATS_CA_FILE ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** The account signing key, read once at start (the chart mounts it from a Secret); a bad file stops the operator. */
function accountSigner(nats: { account: string; signingKeyFile: string }): AccountSigner {
  let seed: string;
  try {
    seed = readFileSync(nats.signingKeyFile, 'utf8').trim();
  } catch (error) {
    throw new Error(
      `cannot read NATS_ACCOUNT_SIGNING_KEY_FILE ${nats.signingKeyFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  if (!/^SA[A-Z2-7]{56}$/.test(seed))
    throw new Error(`NATS_ACCOUNT_SIGNING_KEY_FILE ${nats.signingKeyFile} does not hold an account seed (SA…)`);
  redactor.register(seed);
  return { account: nats.account, signingKeySeed: seed };
}

/** An integration reconciles again when it changes, or its credentials, relay objects, site or schedules do. */
function watch(w: Wiring, controller: Controller, secrets: SupervisedInformer<V1Secret>, relay: Relay | undefined): void {
  const { integrations, sites, schedules } = w;
  controller.watchPrimary(integrations);
  controller.watchRelated(secrets, (secret) => {
    const namespace = secret.metadata?.namespace ?? '';
    const name = secret.metadata?.name ?? '';
    // The site's Ocean Secret: every integration of the site (the webhook registration uses it).
    const ofSites = sites
      .byIndex(SITES_BY_OCEAN_CREDENTIALS, namespace, name)
      .flatMap((s) => integrations.byIndex(INTEGRATIONS_BY_SITE, namespace, s.metadata.name ?? ''));
    const own = integrations.byIndex(INTEGRATIONS_BY_CREDENTIALS, namespace, name);
    return [...new Set([...ofSites, ...own].map(keyOf))];
  });
  if (relay) {
    controller.watchRelated(relay.deployments, ownerKey);
    controller.watchRelated(relay.services, ownerKey);
  }
  controller.watchRelated(sites, (s) =>
    integrations.byIndex(INTEGRATIONS_BY_SITE, s.metadata.namespace ?? '', s.metadata.name ?? '').map(keyOf),
  );
  controller.watchRelated(schedules, (s) => referencedKeys(SCHEDULES_BY_INTEGRATION, s));
}
