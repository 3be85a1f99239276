// Ocean's webhook authentication, as Ocean registers an integration (seed 001): a key in a named
// header (default Referral-Integration-API-Key). The operator generates one key per integration and
// keeps it in Vault (KV v2, `<SEK_MOUNT>/cloudconnect/<ns>/<site>/relay/<integration>`, fields
// below); after a rotation the previous key stays valid until `previousValidUntil`, so that the
// clinic can paste the new key into Ocean's portal without losing a message. Pure: the record as
// read, and whether a presented key is one of the accepted ones (constant time).
import { createHash, timingSafeEqual } from 'node:crypto';

/** The fields of the key's KV v2 secret (written by operator/controller/emrintegration/relay/webhook-key.ts). */
export const WEBHOOK_KEY_FIELDS = {
  current: 'current',
  previous: 'previous',
  previousValidUntil: 'previousValidUntil',
  rotatedAt: 'rotatedAt',
  /** Key of the message content hash (message-id.ts); written once, kept across rotations. */
  idSalt: 'idSalt',
} as const;

/** Shortest key the relay accepts from Vault: the operator writes 256-bit keys (43 base64url characters). */
const MIN_KEY_LENGTH = 32;

export interface WebhookKeys {
  current: string;
  idSalt: string;
  previous?: { key: string; validUntil: number };
}

export class WebhookKeyRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookKeyRecordError';
  }
}

/** The KV data as the relay reads it; throws (naming the field, never a value) when it cannot be used. */
export function parseWebhookKeyRecord(data: Record<string, string> | undefined): WebhookKeys {
  const current = data?.[WEBHOOK_KEY_FIELDS.current];
  if (!current || current.length < MIN_KEY_LENGTH)
    throw new WebhookKeyRecordError(
      `the webhook key record has no field ${WEBHOOK_KEY_FIELDS.current} of at least ${MIN_KEY_LENGTH} characters`,
    );
  const idSalt = data?.[WEBHOOK_KEY_FIELDS.idSalt];
  if (!idSalt || idSalt.length < MIN_KEY_LENGTH)
    throw new WebhookKeyRecordError(
      `the webhook key record has no field ${WEBHOOK_KEY_FIELDS.idSalt} of at least ${MIN_KEY_LENGTH} characters`,
    );
  const previous = data?.[WEBHOOK_KEY_FIELDS.previous];
  const until = Date.parse(data?.[WEBHOOK_KEY_FIELDS.previousValidUntil] ?? '');
  // A previous key without a valid end of grace is never accepted: fail closed.
  if (!previous || previous.length < MIN_KEY_LENGTH || Number.isNaN(until)) return { current, idSalt };
  return { current, idSalt, previous: { key: previous, validUntil: until } };
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Which key the presented header value is: `current`, `previous` (within its grace period) or
 * undefined. Both comparisons always run, on SHA-256 digests of equal length, so neither the time
 * taken nor an early exit tells a caller how much of a key it guessed.
 */
export function matchWebhookKey(presented: string | undefined, keys: WebhookKeys, now: Date): 'current' | 'previous' | undefined {
  const given = digest(presented ?? '');
  const isCurrent = timingSafeEqual(given, digest(keys.current));
  const isPrevious = timingSafeEqual(given, digest(keys.previous?.key ?? keys.current));
  if (presented === undefined || presented.length === 0) return undefined;
  if (isCurrent) return 'current';
  if (isPrevious && keys.previous && now.getTime() < keys.previous.validUntil) return 'previous';
  return undefined;
}
