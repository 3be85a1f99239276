// The contract between the relay process (operator/cmd/relay/*, one per EmrIntegration) and the operator
// (which provisions the integration's streams and NATS credentials, creates the relay's Deployment
// and reports its state in the EmrIntegration's status). Both sides import these names.
//
// Every integration has its own pair of streams (relayQueueNames): a work stream holding its
// EMR-bound messages on relaySubject(ns, name), encrypted with the site's SEK (the header
// KEY_VERSION_HEADER names the SEK's KV version), and a dead-letter stream on
// deadLetterSubject(ns, name), unchanged (still ciphertext). Each stream has its own byte and message
// limits, so one clinic filling its queue never makes another's intake fail. The relay writes its
// figures to the shared KV bucket STATUS_BUCKET under statusKey(ns, name) as a RelayStatusRecord
// (JSON); the operator reads them into `status.relay` and the `Delivering` condition. Each integration
// also has its own KV bucket of delivery records (deliveryBucket: per message, which filing steps may
// have reached the EMR and what the EMR answered), the relay's memory across crashes. What a relay's
// NATS user may touch is exactly these names (nats-auth.ts).
import { createHash } from 'node:crypto';

export const STATUS_BUCKET = 'cloudconnect-relay-status';
export const KEY_VERSION_HEADER = 'Cloudconnect-Sek-Version';
/**
 * Connection options every relay uses beside its servers and credentials. `noAsyncTraces`: the NATS
 * client otherwise builds an Error (a captured stack) for every request, which is every publish and
 * every delivery-record read or write, several per message; a failing request still says what failed.
 */
export const RELAY_CONNECTION_TUNING = { noAsyncTraces: true } as const;

/** The durable pull consumer of every work stream (one per stream, so the name need not be unique). */
const RELAY_CONSUMER = 'relay';

/** Kubernetes names may hold '.', a NATS subject separator; '_' never appears in them, so this is reversible. */
export function subjectToken(kubernetesName: string): string {
  return kubernetesName.replaceAll('.', '_');
}

export function relaySubject(namespace: string, integration: string): string {
  return `cloudconnect.relay.${subjectToken(namespace)}.${subjectToken(integration)}`;
}

export function deadLetterSubject(namespace: string, integration: string): string {
  return `cloudconnect.relay-dead.${subjectToken(namespace)}.${subjectToken(integration)}`;
}

export function statusKey(namespace: string, integration: string): string {
  return `${subjectToken(namespace)}.${subjectToken(integration)}`;
}

/** Stream names become directory names: past this length the id is a hash. */
const MAX_ID = 120;

/**
 * `<namespace>_<integration>` (namespaces are DNS labels without '_', so the first '_' separates and
 * two integrations never share an id), or a hash of both when that would be too long for a stream name.
 */
export function integrationId(namespace: string, integration: string): string {
  const plain = `${namespace}_${subjectToken(integration)}`;
  if (plain.length <= MAX_ID) return plain;
  return `h${createHash('sha256').update(`${namespace}/${integration}`).digest('hex').slice(0, 40)}`;
}

/** Every NATS name of one integration. */
export interface RelayQueueNames {
  workStream: string;
  deadStream: string;
  consumer: string;
  subject: string;
  deadSubject: string;
  statusKey: string;
  /** The KV bucket of the integration's delivery records (delivery-record.ts in the relay): what reached the EMR, written before the ack. */
  deliveryBucket: string;
  /** The relay's reply subjects start with this; only its own NATS user may subscribe to them. */
  inboxPrefix: string;
}

export function relayQueueNames(namespace: string, integration: string): RelayQueueNames {
  const id = integrationId(namespace, integration);
  return {
    workStream: `CCRELAY_${id}`,
    deadStream: `CCDEAD_${id}`,
    consumer: RELAY_CONSUMER,
    subject: relaySubject(namespace, integration),
    deadSubject: deadLetterSubject(namespace, integration),
    statusKey: statusKey(namespace, integration),
    deliveryBucket: `CCDELIVERY_${id}`,
    inboxPrefix: `_INBOX_${id}`,
  };
}

/** What the relay publishes about itself; never PHI, never a key. */
export interface RelayStatusRecord {
  /** Messages stored and not yet delivered (including those waiting for a retry). */
  pending: number;
  /** When the oldest pending message was received (ISO 8601), absent when nothing is pending. */
  oldestPendingSince?: string;
  deliveredTotal: number;
  /** Messages currently in this integration's dead-letter stream. */
  deadLettered: number;
  /** When the oldest dead letter still kept was dead-lettered (ISO 8601); it expires at this plus the dead-letter max age. */
  oldestDeadLetterAt?: string;
  /** Why the last delivery attempt failed (an EmrErrorReason such as EmrUnreachable), absent after a success. */
  lastFailureReason?: string;
  /** When the relay wrote this record (ISO 8601); a stale record means the relay is not running. */
  updatedAt: string;
}
