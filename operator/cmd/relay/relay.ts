// One relay: the webhook server (authenticated with the integration's key), the metrics/probes
// server on its own port, the delivery loop and the status reporter over one NATS connection. Every dependency is injected (cli.ts builds them from the environment), so tests can
// run a relay in-process as well as the real `cloudconnect-relay` child process.
import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { type ConsumerOptions, ensureRelayConsumer, openDeliveryBucket, openStatusBucket } from '../../internal/relayqueue/queue.ts';
import { createAdminServer } from './admin-server.ts';
import type { WebhookKeyStore } from './api-key-store.ts';
import type { CheckInSettings } from './check-in.ts';
import { type DeliveryOptions, runDelivery } from './delivery.ts';
import { DEFAULT_FILING, type FilingSettings } from './filing.ts';
import { createIntakeServer, type IntakeOptions, listen, type WebhookServerLimits } from './intake.ts';
import { RelayMetrics } from './relay-metrics.ts';
import { StatusReporter } from './reporter.ts';
import type { WebhookLimits } from './webhook-guard.ts';
import { readTls, type TlsFiles, watchTls } from './webhook-tls.ts';

export interface RelayOptions
  extends Pick<
    DeliveryOptions,
    'namespace' | 'integration' | 'siteNumber' | 'keyring' | 'adapter' | 'forwarder' | 'clock' | 'logger' | 'concurrency'
  > {
  /** How messages are filed (default: the CRD's defaults). */
  filing?: FilingSettings;
  /** What a kiosk check-in does (check-in.ts); default the CRD's defaults. */
  checkIn?: CheckInSettings;
  nc: NatsConnection;
  port: number;
  host?: string;
  /** The /metrics, /healthz, /readyz port (0: any free port). */
  metricsPort: number;
  /** The webhook keys (read at start: a relay without them does not start). */
  webhookKeys: WebhookKeyStore;
  limits: WebhookLimits;
  server: WebhookServerLimits;
  /** Serve the webhook over TLS with this certificate and key (reloaded when the files change). */
  tls?: TlsFiles;
  statusIntervalMs?: number;
  consumer?: ConsumerOptions;
  /** What becomes of eReferral bundles (spec.eReferral): forwarded, or filed in the EMR; undefined without an eReferral endpoint. */
  eReferral?: 'forward' | 'file';
  /** Registry without the process metrics (several relays in one test process). */
  defaultMetrics?: boolean;
}

export interface RunningRelay {
  port: number;
  metricsPort: number;
  js: JetStreamClient;
  metrics: RelayMetrics;
  reporter: StatusReporter;
  stop(): Promise<void>;
}

type SharedOptions = Pick<
  IntakeOptions,
  'js' | 'namespace' | 'integration' | 'siteNumber' | 'keyring' | 'clock' | 'metrics' | 'logger' | 'onStored'
>;

/** The webhook server (TLS when configured, reloaded when the files change) and the metrics/probes server, listening. */
async function startServers(o: RelayOptions, shared: SharedOptions) {
  const tls = o.tls ? await readTls(o.tls) : undefined;
  const server: Server = createIntakeServer({
    ...shared,
    maxPayload: () => o.nc.info?.max_payload,
    keys: () => o.webhookKeys.keys(),
    limits: o.limits,
    server: o.server,
    ...(tls ? { tls } : {}),
    // Without an EMR (an eReferral endpoint only) the webhook's messages are refused: nothing could file them.
    ...(o.adapter ? { emr: { type: o.adapter.type, customFields: (o.filing ?? DEFAULT_FILING).customFields } } : {}),
    ...(o.eReferral ? { bundles: o.eReferral } : {}),
  });
  const admin = createAdminServer({ metrics: shared.metrics, ready: () => !o.nc.isClosed() });
  const host = o.host ?? '0.0.0.0';
  const port = await listen(server, o.port, host);
  const metricsPort = await listen(admin, o.metricsPort, host);
  const stopTls = o.tls && tls ? watchTls(server as HttpsServer, o.tls, tls, 60_000, o.logger) : () => undefined;
  return {
    port,
    metricsPort,
    stop: async () => {
      stopTls();
      await Promise.all([server, admin].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      server.closeAllConnections();
      admin.closeAllConnections();
    },
  };
}

export async function startRelay(o: RelayOptions): Promise<RunningRelay> {
  const context = { namespace: o.namespace, integration: o.integration };
  const js = jetstream(o.nc);
  // The operator provisioned the streams and the status bucket; the relay's NATS user may create neither.
  const kv = await openStatusBucket(js);
  const deliveryRecords = await openDeliveryBucket(js, o.namespace, o.integration);
  const consumer = await ensureRelayConsumer(js, o.namespace, o.integration, o.consumer);
  // Fail early (and visibly) when the SEK or the webhook key cannot be read, rather than on the first webhook.
  const sek = await o.keyring.current();
  await o.webhookKeys.start();
  const metrics = new RelayMetrics(o.namespace, o.integration, { defaultMetrics: o.defaultMetrics ?? true });
  const reporter = new StatusReporter({
    js,
    kv,
    ...context,
    clock: o.clock,
    metrics,
    logger: o.logger,
    intervalMs: o.statusIntervalMs ?? 5000,
  });
  await reporter.start();
  // What the delivery loop and the webhook server both take.
  const shared = {
    js,
    namespace: o.namespace,
    integration: o.integration,
    siteNumber: o.siteNumber,
    keyring: o.keyring,
    clock: o.clock,
    metrics,
    logger: o.logger,
  };
  const abort = new AbortController();
  const delivery = runDelivery(
    {
      ...shared,
      consumer,
      ...(o.adapter ? { adapter: o.adapter } : {}),
      ...(o.forwarder ? { forwarder: o.forwarder } : {}),
      filing: o.filing ?? DEFAULT_FILING,
      ...(o.checkIn ? { checkIn: o.checkIn } : {}),
      ...(o.concurrency ? { concurrency: o.concurrency } : {}),
      idSalt: () => o.webhookKeys.keys().idSalt,
      deliveryRecords,
      onDelivered: () => reporter.delivered(),
      onFailed: (reason) => reporter.failed(reason),
      onDeadLettered: () => reporter.changed(),
    },
    abort.signal,
  );
  const servers = await startServers(o, { ...shared, onStored: () => reporter.changed() });
  const { port, metricsPort } = servers;
  const listening = { port, metricsPort, tls: o.tls !== undefined, apiKeyHeaderName: o.limits.apiKeyHeader };
  o.logger.info('relay ready', { ...context, ...listening, sekVersion: sek.version, timeScale: o.clock.scale, consumer });
  return {
    port,
    metricsPort,
    js,
    metrics,
    reporter,
    stop: async () => {
      o.webhookKeys.stop();
      await servers.stop();
      abort.abort();
      await delivery;
      await reporter.stop();
    },
  };
}
