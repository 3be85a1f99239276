// Pure: the webhook API key of one integration (Ocean's "API Key Authentication", seed 001). The
// operator generates it (256 bits, crypto random), keeps it in Vault KV v2 at
// `<SEK_KV_MOUNT>/cloudconnect/<namespace>/<site>/relay/<integration>` (beside the site's SEK, so
// the site's relay reads it with the login it reads the SEK with) and never writes it anywhere else:
// status shows the record's KV version and times only. A new value of the annotation
// cloudconnect.dev/rotateWebhookKeyAt rotates it: the old key becomes `previous`, accepted until
// `previousValidUntil` (now + spec.webhook.previousKeyGracePeriod). `idSalt` (the key of the relay's
// message content hash) is written once and kept. The rotation token handled is kept in the record
// too (`rotateToken`, not a secret): a reconcile that runs on a cache older than its own status write
// must not rotate twice (the second rotation would retire the key Ocean still sends). Field names:
// operator/cmd/relay/api-key.ts.
import type { EmrIntegrationStatus } from '../../../api/v1alpha1/index.ts';

/** Shortest value the operator keeps (the relay refuses shorter ones too); shorter is regenerated. */
const MIN_LENGTH = 32;

export function webhookKeyPath(namespace: string, site: string, integration: string): string {
  return `cloudconnect/${namespace}/${site}/relay/${integration}`;
}

export interface StoredWebhookKey {
  data: Record<string, string>;
  version: number;
}

export type WebhookKeyStatus = NonNullable<EmrIntegrationStatus['webhook']>;

export interface WebhookKeyInput {
  stored: StoredWebhookKey | undefined;
  /** The rotation annotation's value (the last one handled is the record's `rotateToken`). */
  rotateToken: string | undefined;
  now: Date;
  graceMs: number;
  /** A new random key (base64url of 32 random bytes). */
  newSecret: () => string;
}

export interface WebhookKeyDecision {
  /** The record to write, with the check-and-set version (0: only if absent); absent: nothing to write. */
  write?: { data: Record<string, string>; cas: number; why: 'created' | 'rotated' | 'repaired' };
  /** The rotation token handled by this decision (recorded in status even when nothing is written). */
  handled: string | undefined;
}

/** The fields that are secrets (the rest are times and the rotation token, shown in status). */
export const WEBHOOK_KEY_SECRET_FIELDS = ['current', 'previous', 'idSalt'] as const;

const usable = (v: string | undefined): v is string => v !== undefined && v.length >= MIN_LENGTH;

export function decideWebhookKey(input: WebhookKeyInput): WebhookKeyDecision {
  const { stored, now } = input;
  const data = stored?.data ?? {};
  const lastHandled = data['rotateToken'];
  const pendingRotation = input.rotateToken !== undefined && input.rotateToken !== '' && input.rotateToken !== lastHandled;
  // A new record counts the annotation already there as handled: a fresh key needs no rotation.
  const handled = pendingRotation || !stored ? input.rotateToken : lastHandled;
  const idSalt = usable(data['idSalt']) ? data['idSalt'] : input.newSecret();
  const fresh = {
    current: input.newSecret(),
    idSalt,
    rotatedAt: now.toISOString(),
    ...(handled ? { rotateToken: handled } : {}),
  };
  if (!stored) return { write: { data: fresh, cas: 0, why: 'created' }, handled };
  // A record someone emptied or truncated: a new key, and no previous one (the old value cannot be trusted).
  if (!usable(data['current']) || !usable(data['idSalt'])) return { write: { data: fresh, cas: stored.version, why: 'repaired' }, handled };
  if (!pendingRotation) return { handled };
  return {
    write: {
      data: {
        ...fresh,
        previous: data['current'] ?? '',
        previousValidUntil: new Date(now.getTime() + input.graceMs).toISOString(),
      },
      cas: stored.version,
      why: 'rotated',
    },
    handled,
  };
}

/** What status shows: the version and times, never a key; the previous key's end only while it is accepted. */
/** How long a record read from Vault is trusted before it is read again (to notice one emptied or changed there). */
export const WEBHOOK_KEY_RECHECK_MS = 10 * 60_000;

/**
 * Pure: whether the record last read (at `readAt`, for `path`) still decides this reconcile without a
 * Vault read: same place, read recently, and no rotation asked for since the one it records. A relay
 * reconciles every poll interval; the key changes only on creation, rotation or repair.
 */
export function knownRecordSuffices(
  known: { path: string; stored: StoredWebhookKey; readAt: number } | undefined,
  input: { path: string; rotateToken: string | undefined; now: Date },
): boolean {
  if (!known || known.path !== input.path || input.now.getTime() - known.readAt >= WEBHOOK_KEY_RECHECK_MS) return false;
  return input.rotateToken === undefined || input.rotateToken === '' || input.rotateToken === known.stored.data['rotateToken'];
}

export function webhookKeyStatus(stored: StoredWebhookKey, now: Date): WebhookKeyStatus {
  const until = stored.data['previousValidUntil'];
  const rotatedAt = stored.data['rotatedAt'];
  const handled = stored.data['rotateToken'];
  return {
    keyVersion: stored.version,
    ...(rotatedAt && !Number.isNaN(Date.parse(rotatedAt)) ? { keyRotatedAt: rotatedAt } : {}),
    ...(until && stored.data['previous'] && Date.parse(until) > now.getTime() ? { previousKeyValidUntil: until } : {}),
    ...(handled ? { lastHandledRotateKeyAt: handled } : {}),
  };
}
