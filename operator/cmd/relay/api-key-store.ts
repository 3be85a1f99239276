// The webhook keys the relay accepts, read from Vault at start (a relay that cannot read them does
// not start: it would have to accept everyone or no one) and again every `refreshMs`, so that a
// rotation reaches a running relay without a restart. A failed refresh keeps the keys last read
// (logged as a warning); the grace period of a previous key is checked at every request.
import { WorkerError } from '../../internal/sitepod/pod-env.ts';
import type { Logger } from '../../runtime/logger.ts';
import { redactor } from '../../runtime/redact.ts';
import { parseWebhookKeyRecord, WebhookKeyRecordError, type WebhookKeys } from './api-key.ts';

/** Reads the key's KV v2 data (undefined when absent). */
export type WebhookKeySource = () => Promise<Record<string, string> | undefined>;

export interface WebhookKeyStoreOptions {
  source: WebhookKeySource;
  refreshMs: number;
  logger: Logger;
  context: Record<string, string>;
}

export class WebhookKeyStore {
  private readonly o: WebhookKeyStoreOptions;
  private loaded: WebhookKeys | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(o: WebhookKeyStoreOptions) {
    this.o = o;
    // Keys are not enumerable: an inspected or logged store shows none of them.
    Object.defineProperty(this, 'loaded', { enumerable: false });
  }

  /** Reads the keys once (throws when they cannot be read or used), then refreshes them on a timer. */
  async start(): Promise<void> {
    await this.refresh().catch((error: unknown) => {
      // A record the relay cannot use stops it like an unreadable one (exit 1, named reason).
      if (error instanceof WebhookKeyRecordError) throw new WorkerError('WebhookKeyUnavailable', error.message);
      throw error;
    });
    this.timer = setInterval(() => {
      this.refresh().catch((error: unknown) =>
        this.o.logger.warn('cannot refresh the webhook key; keeping the keys last read', {
          ...this.o.context,
          error: (error as Error).message,
        }),
      );
    }, this.o.refreshMs);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    const keys = parseWebhookKeyRecord(await this.o.source());
    redactor.register(keys.current);
    redactor.register(keys.idSalt);
    if (keys.previous) redactor.register(keys.previous.key);
    if (this.loaded && this.loaded.current !== keys.current) this.o.logger.info('webhook key rotated', this.o.context);
    this.loaded = keys;
  }

  /** The keys last read; start() must have succeeded. */
  keys(): WebhookKeys {
    if (!this.loaded) throw new Error('the webhook keys were not read yet');
    return this.loaded;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  toJSON(): Record<string, never> {
    return {};
  }
}
