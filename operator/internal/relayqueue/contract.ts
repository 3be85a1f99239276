// The contract between the relay process (operator/relay/*, one per EmrIntegration) and the operator
// (which creates the relay's Deployment and reports its state in the EmrIntegration's status).
// Both sides import these names; nothing else about NATS is shared.
//
// - Work stream RELAY_STREAM holds EMR-bound messages, subject relaySubject(ns, name), encrypted
//   with the site's SEK (the header KEY_VERSION_HEADER names the SEK's KV version).
// - Dead letters go to deadLetterSubject(ns, name) in DEAD_LETTER_STREAM, unchanged (still ciphertext).
// - The relay writes its figures to the KV bucket STATUS_BUCKET under statusKey(ns, name) as a
//   RelayStatusRecord (JSON); the operator reads them into `status.relay` and the `Delivering` condition.

export const RELAY_STREAM = 'CLOUDCONNECT_RELAY';
export const DEAD_LETTER_STREAM = 'CLOUDCONNECT_RELAY_DEAD';
export const STATUS_BUCKET = 'cloudconnect-relay-status';
export const KEY_VERSION_HEADER = 'Cloudconnect-Sek-Version';

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

/** What the relay publishes about itself; never PHI, never a key. */
export interface RelayStatusRecord {
  /** Messages stored and not yet delivered (including those waiting for a retry). */
  pending: number;
  /** When the oldest pending message was received (ISO 8601), absent when nothing is pending. */
  oldestPendingSince?: string;
  deliveredTotal: number;
  /** Messages currently in the dead-letter subject for this integration. */
  deadLettered: number;
  /** Why the last delivery attempt failed (an EmrErrorReason such as EmrUnreachable), absent after a success. */
  lastFailureReason?: string;
  /** When the relay wrote this record (ISO 8601); a stale record means the relay is not running. */
  updatedAt: string;
}
