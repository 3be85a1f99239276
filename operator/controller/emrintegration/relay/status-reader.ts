// The operator's side of NATS: provisions each integration's streams (with the configured limits) and
// the status bucket, reads each relay's RelayStatusRecord from the STATUS_BUCKET and asks for
// dead-letter replays (queue.ts's replayDeadLetters). The operator connects as its own NATS user,
// minted with the account signing key (nats-auth.ts operatorPermissions). One connection for the whole operator,
// opened on first use and kept (reconnecting for ever); the EmrIntegration reconciler calls it on a
// poll interval, not on every event. Never reads a message body: only the status record.
// While NATS is away (disconnected, or a connect or request failed in the last few seconds) reads
// answer `unreachable` at once instead of waiting for a timeout: the operator reconciles every
// integration through the same few workers, and a NATS outage must not slow their other work.
import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { STATUS_BUCKET, statusKey } from '../../../internal/relayqueue/contract.ts';
import { type AccountSigner, mintUserCreds, operatorPermissions } from '../../../internal/relayqueue/nats-auth.ts';
import {
  ensureIntegrationStreams,
  ensureStatusBucket,
  type RelayQueueLimits,
  replayDeadLetters,
} from '../../../internal/relayqueue/queue.ts';
import { safeMessage } from '../../../runtime/errors.ts';
import type { Logger } from '../../../runtime/logger.ts';
import { parseRecord, type RelayObservation } from './status-decision.ts';

export interface RelayQueue {
  read(namespace: string, integration: string): Promise<RelayObservation>;
  /** Moves the integration's dead letters back to its queue; returns how many. Throws when NATS cannot be reached. */
  replay(namespace: string, integration: string): Promise<number>;
  /** Creates or updates the integration's streams (and once, the status bucket). Throws when NATS refuses or cannot be reached. */
  provision(namespace: string, integration: string): Promise<void>;
  /** Forgets what was provisioned for a deleted integration. */
  forget(namespace: string, integration: string): void;
  close(): Promise<void>;
}

const NOT_FOUND = /stream not found|bucket not found|no stream matches/i;

export class NatsRelayQueue implements RelayQueue {
  private readonly servers: string[];
  private readonly logger: Logger;
  private readonly timeoutMs: number;
  private readonly retryAfterMs: number;
  private readonly now: () => number;
  private readonly signer: AccountSigner;
  private readonly limits: RelayQueueLimits;
  private readonly caFile: string | undefined;
  /** Integrations whose streams have this process's limits (the limits only change with a restart). */
  private readonly provisioned = new Set<string>();
  private bucket: Promise<unknown> | undefined;
  private nc: Promise<NatsConnection> | undefined;
  private kv: KV | undefined;
  private disconnected = false;
  /** Until then, NATS is taken as unreachable for the reason in `down`. */
  private downUntil = 0;
  private down = '';

  constructor(options: {
    natsUrl: string;
    logger: Logger;
    signer: AccountSigner;
    limits: RelayQueueLimits;
    caFile?: string;
    timeoutMs?: number;
    retryAfterMs?: number;
    now?: () => number;
  }) {
    this.servers = options.natsUrl
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    this.logger = options.logger;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.retryAfterMs = options.retryAfterMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.signer = options.signer;
    this.limits = options.limits;
    this.caFile = options.caFile;
  }

  /** Why NATS is taken as unreachable right now, if it is. */
  private unavailable(): string | undefined {
    if (this.disconnected) return 'disconnected from NATS; reconnecting';
    return this.now() < this.downUntil ? this.down : undefined;
  }

  private failed(error: unknown): string {
    const message = safeMessage(error);
    this.down = message;
    this.downUntil = this.now() + this.retryAfterMs;
    return message;
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.disconnected = true;
        this.logger.warn('disconnected from NATS; relay status is unknown until it is back');
      } else if (s.type === 'reconnect') {
        this.disconnected = false;
        this.downUntil = 0;
        this.logger.info('reconnected to NATS for relay status');
      }
    }
  }

  private async js(): Promise<JetStreamClient> {
    this.nc ??= this.connect().then(
      (nc) => {
        this.logger.info('connected to NATS for relay status', { server: nc.getServer() });
        void this.watch(nc).catch(() => undefined);
        void nc.closed().then(() => {
          this.nc = undefined;
          this.kv = undefined;
          this.bucket = undefined;
        });
        return nc;
      },
      (error: unknown) => {
        // The next read tries again.
        this.nc = undefined;
        throw error;
      },
    );
    return jetstream(await this.nc, { timeout: this.timeoutMs });
  }

  /** Connects as the operator's own NATS user, minted now with the account signing key. */
  private async connect(): Promise<NatsConnection> {
    const { creds } = await mintUserCreds(this.signer, 'cloudconnect-operator', operatorPermissions());
    return connect({
      servers: this.servers,
      name: 'cloudconnect-operator',
      authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      timeout: this.timeoutMs,
      ...(this.caFile ? { tls: { caFile: this.caFile } } : {}),
    });
  }

  async provision(namespace: string, integration: string): Promise<void> {
    const id = `${namespace}/${integration}`;
    if (this.provisioned.has(id)) return;
    const unavailable = this.unavailable();
    if (unavailable) throw new Error(`cannot provision the relay queue: ${unavailable}`);
    try {
      const js = await this.js();
      this.bucket ??= ensureStatusBucket(js, { replicas: this.limits.replicas ?? 1 }).catch((error: unknown) => {
        this.bucket = undefined;
        throw error;
      });
      await this.bucket;
      await ensureIntegrationStreams(js, namespace, integration, this.limits);
      this.provisioned.add(id);
    } catch (error) {
      throw new Error(`cannot provision the relay queue: ${safeMessage(error)}`);
    }
  }

  /** Forgets what was provisioned for an integration (deleted): a new one of the same name is provisioned again. */
  forget(namespace: string, integration: string): void {
    this.provisioned.delete(`${namespace}/${integration}`);
  }

  async read(namespace: string, integration: string): Promise<RelayObservation> {
    const unavailable = this.unavailable();
    if (unavailable) return { kind: 'unreachable', message: unavailable };
    try {
      this.kv ??= await new Kvm(await this.js()).open(STATUS_BUCKET);
      const entry = await this.kv.get(statusKey(namespace, integration));
      if (entry?.operation !== 'PUT') return { kind: 'missing' };
      let value: unknown;
      try {
        value = entry.json();
      } catch {
        value = undefined;
      }
      const record = parseRecord(value);
      if (!record)
        return {
          kind: 'unreachable',
          message: `the status record of ${namespace}/${integration} in ${STATUS_BUCKET} is not a relay status record`,
        };
      return { kind: 'record', record };
    } catch (error) {
      // No bucket yet: no relay has started on this NATS.
      if (NOT_FOUND.test(safeMessage(error))) {
        this.kv = undefined;
        return { kind: 'missing' };
      }
      return { kind: 'unreachable', message: this.failed(error) };
    }
  }

  async replay(namespace: string, integration: string): Promise<number> {
    const unavailable = this.unavailable();
    if (unavailable) throw new Error(`cannot replay dead letters: ${unavailable}`);
    try {
      return await replayDeadLetters(await this.js(), namespace, integration);
    } catch (error) {
      // No dead-letter stream yet: nothing was ever dead-lettered.
      if (NOT_FOUND.test(safeMessage(error))) return 0;
      throw new Error(`cannot replay dead letters: ${this.failed(error)}`);
    }
  }

  async close(): Promise<void> {
    const pending = this.nc;
    this.nc = undefined;
    this.kv = undefined;
    if (pending) await pending.then((nc) => nc.close()).catch(() => undefined);
  }
}
