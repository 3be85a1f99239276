// One relay: the webhook server, the delivery loop and the status reporter over one NATS
// connection. Every dependency is injected (cli.ts builds them from the environment), so tests can
// run a relay in-process as well as the real `cloudconnect-relay` child process.
import type { Server } from 'node:http';
import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { type ConsumerOptions, ensureRelayConsumer, openStatusBucket } from '../../internal/relayqueue/queue.ts';
import { type DeliveryOptions, runDelivery } from './delivery.ts';
import { createIntakeServer, listen } from './intake.ts';
import { RelayMetrics } from './relay-metrics.ts';
import { StatusReporter } from './reporter.ts';

export interface RelayOptions
  extends Pick<DeliveryOptions, 'namespace' | 'integration' | 'siteNumber' | 'keyring' | 'adapter' | 'clock' | 'logger' | 'concurrency'> {
  nc: NatsConnection;
  port: number;
  host?: string;
  statusIntervalMs?: number;
  consumer?: ConsumerOptions;
  /** Registry without the process metrics (several relays in one test process). */
  defaultMetrics?: boolean;
}

export interface RunningRelay {
  port: number;
  js: JetStreamClient;
  metrics: RelayMetrics;
  reporter: StatusReporter;
  stop(): Promise<void>;
}

export async function startRelay(o: RelayOptions): Promise<RunningRelay> {
  const context = { namespace: o.namespace, integration: o.integration };
  const js = jetstream(o.nc);
  // The operator provisioned the streams and the status bucket; the relay's NATS user may create neither.
  const kv = await openStatusBucket(js);
  const consumer = await ensureRelayConsumer(js, o.namespace, o.integration, o.consumer);
  // Fail early (and visibly) when the SEK cannot be read, rather than on the first webhook.
  const sek = await o.keyring.current();
  const metrics = new RelayMetrics(o.namespace, o.integration, { defaultMetrics: o.defaultMetrics ?? true });
  const reporter = new StatusReporter({
    js,
    kv,
    namespace: o.namespace,
    integration: o.integration,
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
      adapter: o.adapter,
      ...(o.concurrency ? { concurrency: o.concurrency } : {}),
      onDelivered: () => reporter.delivered(),
      onFailed: (reason) => reporter.failed(reason),
      onDeadLettered: () => reporter.changed(),
    },
    abort.signal,
  );
  const server: Server = createIntakeServer({
    ...shared,
    ready: () => !o.nc.isClosed(),
    maxPayload: () => o.nc.info?.max_payload,
    onStored: () => reporter.changed(),
  });
  const port = await listen(server, o.port, o.host ?? '0.0.0.0');
  o.logger.info('relay ready', { ...context, port, sekVersion: sek.version, timeScale: o.clock.scale, consumer });
  return {
    port,
    js,
    metrics,
    reporter,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      abort.abort();
      await delivery;
      await reporter.stop();
    },
  };
}
