// Writes the relay's RelayStatusRecord to the STATUS_BUCKET (every few seconds, and soon after a
// change) and keeps the queue gauges current. Pending, the oldest pending message and the dead
// letters are read from the streams themselves, so they are right after any crash; deliveredTotal
// is counted by the process and continues from the last record written (a crash loses at most the
// deliveries of the last interval from that count, never a message).
import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { type RelayStatusRecord, statusKey } from '../../internal/relayqueue/contract.ts';
import { queueFigures } from '../../internal/relayqueue/queue.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { RelayClock } from '../../runtime/scaled-clock.ts';
import type { RelayMetrics } from './relay-metrics.ts';

export interface ReporterOptions {
  js: JetStreamClient;
  kv: KV;
  namespace: string;
  integration: string;
  clock: RelayClock;
  metrics: RelayMetrics;
  logger: Logger;
  intervalMs?: number;
  /** How soon after a change the record is written (real ms). */
  debounceMs?: number;
}

export class StatusReporter {
  private deliveredTotal = 0;
  private lastFailureReason: string | undefined;
  private lastDeadLettered = -1;
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private lastRecord: RelayStatusRecord | undefined;
  private readonly options: ReporterOptions;

  constructor(options: ReporterOptions) {
    this.options = options;
  }

  get last(): RelayStatusRecord | undefined {
    return this.lastRecord;
  }

  async start(): Promise<void> {
    const key = statusKey(this.options.namespace, this.options.integration);
    const previous = await this.options.kv.get(key).catch(() => null);
    if (previous && previous.operation === 'PUT') {
      try {
        const record = previous.json<RelayStatusRecord>();
        this.deliveredTotal = Number.isFinite(record.deliveredTotal) ? record.deliveredTotal : 0;
        this.lastFailureReason = record.lastFailureReason;
      } catch {
        // a record we cannot read starts from zero
      }
    }
    await this.write().catch((error: unknown) =>
      this.options.logger.warn('cannot write the relay status', { error: (error as Error).message }),
    );
    this.timer = setInterval(() => void this.write().catch(() => undefined), this.options.intervalMs ?? 5000);
    this.timer.unref();
  }

  delivered(): void {
    this.deliveredTotal++;
    if (this.lastFailureReason !== undefined) {
      this.lastFailureReason = undefined;
      this.changed();
    }
  }

  failed(reason: string): void {
    if (this.lastFailureReason !== reason) {
      this.lastFailureReason = reason;
      this.changed();
    }
  }

  /** Something the operator acts on changed: write soon rather than at the next interval. */
  changed(): void {
    if (this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.write().catch(() => undefined);
    }, this.options.debounceMs ?? 250);
    this.soon.unref();
  }

  async write(): Promise<void> {
    if (this.writing) return this.writing;
    this.writing = (async () => {
      const { js, kv, namespace, integration, clock, metrics } = this.options;
      const figures = await queueFigures(js, namespace, integration);
      const now = clock.now();
      const age = figures.oldestPendingSince ? (now.getTime() - Date.parse(figures.oldestPendingSince)) / 1000 : 0;
      metrics.queue(figures.pending, age);
      const record: RelayStatusRecord = {
        pending: figures.pending,
        ...(figures.oldestPendingSince ? { oldestPendingSince: figures.oldestPendingSince } : {}),
        deliveredTotal: this.deliveredTotal,
        deadLettered: figures.deadLettered,
        ...(figures.oldestDeadLetterAt ? { oldestDeadLetterAt: figures.oldestDeadLetterAt } : {}),
        ...(this.lastFailureReason ? { lastFailureReason: this.lastFailureReason } : {}),
        updatedAt: new Date().toISOString(),
      };
      if (figures.deadLettered > this.lastDeadLettered && this.lastDeadLettered >= 0) {
        this.options.logger.warn('messages are dead-lettered', { namespace, integration, deadLettered: figures.deadLettered });
      }
      this.lastDeadLettered = figures.deadLettered;
      await kv.put(statusKey(namespace, integration), JSON.stringify(record));
      this.lastRecord = record;
    })().finally(() => (this.writing = undefined));
    return this.writing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    await this.write().catch(() => undefined);
  }
}
