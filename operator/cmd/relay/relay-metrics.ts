// The relay's Prometheus metrics, on its own registry (served at /metrics by admin-server.ts, on its own port).
// Labels are the integration's namespace and name and the delivery result: never PHI, never a key.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** `held`: dead-lettered because automatic import is off (reason AttachmentsImportDisabled), replayable once it is on. */
export type DeliveryResult = 'delivered' | 'retry' | 'dead_lettered' | 'held';
export type WebhookResult =
  | 'stored'
  | 'duplicate'
  | 'challenge'
  | 'invalid'
  | 'unsupported'
  | 'unavailable'
  | 'unauthorized'
  | 'unsupported_media_type'
  | 'too_large'
  | 'overloaded';

export class RelayMetrics {
  readonly registry = new Registry();
  readonly pending: Gauge<'namespace' | 'integration'>;
  readonly oldestPendingAge: Gauge<'namespace' | 'integration'>;
  readonly deliveries: Counter<'namespace' | 'integration' | 'result'>;
  readonly latency: Histogram<'namespace' | 'integration'>;
  readonly received: Counter<'namespace' | 'integration' | 'result'>;
  readonly forwardedBundles: Counter<'namespace' | 'integration'>;
  private readonly labels: { namespace: string; integration: string };

  constructor(namespace: string, integration: string, options: { defaultMetrics?: boolean } = {}) {
    this.labels = { namespace, integration };
    const registers = [this.registry];
    const labelNames = ['namespace', 'integration'] as const;
    this.pending = new Gauge({
      name: 'cloudconnect_relay_pending_messages',
      help: 'Messages stored and not yet delivered, including those waiting for a retry.',
      labelNames,
      registers,
    });
    this.oldestPendingAge = new Gauge({
      name: 'cloudconnect_relay_oldest_pending_age_seconds',
      help: 'Age of the oldest undelivered message (0 when none).',
      labelNames,
      registers,
    });
    this.deliveries = new Counter({
      name: 'cloudconnect_relay_deliveries_total',
      help: 'Delivery attempts to the EMR by result (delivered, retry, dead_lettered, held: attachments held while automatic import is off).',
      labelNames: [...labelNames, 'result'],
      registers,
    });
    this.latency = new Histogram({
      name: 'cloudconnect_relay_delivery_latency_seconds',
      help: 'Time from the webhook accepting a message to its delivery to the EMR.',
      labelNames,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 96 * 3600],
      registers,
    });
    this.received = new Counter({
      name: 'cloudconnect_relay_webhook_requests_total',
      help: 'Webhook posts by result (stored, duplicate, challenge, invalid, unsupported: a message type the EMR cannot take, unavailable, unauthorized, unsupported_media_type, too_large, overloaded).',
      labelNames: [...labelNames, 'result'],
      registers,
    });
    this.forwardedBundles = new Counter({
      name: 'cloudconnect_relay_ereferral_forwarded_total',
      help: 'eReferral FHIR bundles forwarded to the target of spec.eReferral.forward (each once; also counted in cloudconnect_relay_deliveries_total).',
      labelNames,
      registers,
    });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'cloudconnect_relay_' });
  }

  delivered(latencySeconds: number): void {
    this.deliveries.inc({ ...this.labels, result: 'delivered' });
    this.latency.observe(this.labels, Math.max(0, latencySeconds));
  }

  attempt(result: Exclude<DeliveryResult, 'delivered'>): void {
    this.deliveries.inc({ ...this.labels, result });
  }

  forwarded(): void {
    this.forwardedBundles.inc(this.labels);
  }

  webhook(result: WebhookResult): void {
    this.received.inc({ ...this.labels, result });
  }

  queue(pending: number, oldestAgeSeconds: number): void {
    this.pending.set(this.labels, pending);
    this.oldestPendingAge.set(this.labels, Math.max(0, oldestAgeSeconds));
  }
}
