// Message ids scoped to content. Ocean's message id alone cannot be the JetStream de-duplication
// id nor the EMR idempotency key: whoever holds the webhook key could post a message under an id
// Ocean is about to use, and the real message would then be dropped as a duplicate at intake (or
// answered with the forged document by the EMR). Both ids are therefore derived from the
// integration, Ocean's message id AND a hash of the message's content: a retry of the same message
// (same content) is still stored once and filed once; a different message under a reused id is a
// message of its own and is delivered too. We chose this over refusing a reused id whose content
// differs (which needs a record of every id and still lets the first poster, real or forged, win).
import { createHmac } from 'node:crypto';
import type { OceanMessage } from './messages.ts';

/** Fields that may differ between Ocean's retries of one message (when it was sent), left out of the hash. */
const PER_SEND_FIELDS = new Set(['sentAt']);

/** JSON with object keys sorted, so that key order and whitespace do not change the hash. */
function canonical(value: unknown, top = false): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .filter((k) => !(top && PER_SEND_FIELDS.has(k)))
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * 128 bits of HMAC-SHA256 of the message's canonical JSON (hex), keyed with the integration's id
 * salt (a random value kept beside the webhook key in Vault, never rotated): someone who can read
 * the NATS stream cannot confirm a guess of a short message's fields (a phone number) from it.
 */
export function contentHashOf(message: OceanMessage, idSalt: string): string {
  return createHmac('sha256', idSalt).update(canonical(message, true)).digest('hex').slice(0, 32);
}

/** The JetStream de-duplication id (Nats-Msg-Id) of a message at intake. */
export function dedupIdOf(namespace: string, integration: string, messageId: string, contentHash: string): string {
  return `${namespace}/${integration}/${messageId}/${contentHash}`;
}
