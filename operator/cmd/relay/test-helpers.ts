// For tests and the benchmark only: a webhook key record as the operator writes it, a key store
// over a fixed record, and limits that a test can reach.
import { randomBytes } from 'node:crypto';
import { createLogger } from '../../runtime/logger.ts';
import { WebhookKeyStore } from './api-key-store.ts';
import type { WebhookServerLimits } from './intake.ts';
import { DEFAULT_API_KEY_HEADER, type WebhookLimits } from './webhook-guard.ts';

/** A fresh record: a 256-bit current key and id salt, as the operator generates them. */
export function newWebhookKeyRecord(): { current: string; idSalt: string } {
  return { current: randomBytes(32).toString('base64url'), idSalt: randomBytes(32).toString('base64url') };
}

export function fixedWebhookKeys(record: Record<string, string>): WebhookKeyStore {
  return new WebhookKeyStore({ source: async () => record, refreshMs: 3_600_000, logger: createLogger({ level: 'error' }), context: {} });
}

export const TEST_WEBHOOK_LIMITS: WebhookLimits = {
  apiKeyHeader: DEFAULT_API_KEY_HEADER,
  maxBodyBytes: 16 * 1024 * 1024,
  maxInFlight: 256,
  retryAfterSeconds: 5,
};

export const TEST_SERVER_LIMITS: WebhookServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 5000,
  maxConnections: 1024,
};
