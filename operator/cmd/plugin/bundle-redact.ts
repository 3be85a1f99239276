// Pure: what goes into a support bundle, redacted (a bundle goes to support, so it never carries
// passwords, the SEK, EMR credentials or patient data). Secrets become name + type + key names; every
// other object loses managedFields and kubectl's last-applied-configuration (which would carry a
// Secret's stringData), then goes through the one redaction module (runtime/redact.ts: the same
// secret and PHI field list, secret shapes and encoded forms as the operator, the worker and the
// relay), with every value read from the namespace's Secrets registered.
import { redactor as processRedactor, REDACTED, type Redactor } from '../../runtime/redact.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export interface SecretLike {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: unknown;
    ownerReferences?: unknown;
  };
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface SecretSummary {
  name: string;
  type: string;
  keys: string[];
  labels: Record<string, string>;
  createdAt?: string;
}

/** A Secret as the bundle shows it: no value, no annotation (they may quote values), only key names. */
export function secretSummary(secret: SecretLike): SecretSummary {
  return {
    name: secret.metadata?.name ?? '',
    type: secret.type ?? 'Opaque',
    keys: Object.keys({ ...(secret.data ?? {}), ...(secret.stringData ?? {}) }).sort(),
    labels: { ...(secret.metadata?.labels ?? {}) },
    ...(secret.metadata?.creationTimestamp
      ? {
          createdAt: String(
            secret.metadata.creationTimestamp instanceof Date
              ? secret.metadata.creationTimestamp.toISOString()
              : secret.metadata.creationTimestamp,
          ),
        }
      : {}),
  };
}

/** Registers every value of the given Secrets (in memory only; never written) with the plugin's one registry. */
export function bundleRedactor(secrets: readonly SecretLike[], r: Redactor = processRedactor): Redactor {
  for (const s of secrets) {
    for (const v of Object.values(s.data ?? {})) {
      r.register(v); // the base64 form, as it would appear in a dump
      const decoded = Buffer.from(v, 'base64');
      r.register(decoded.toString('utf8'));
      for (const line of decoded.toString('utf8').split(/\r?\n/)) r.register(line.trim());
    }
    for (const v of Object.values(s.stringData ?? {})) r.register(v);
  }
  return r;
}

/** An API object ready for the bundle: no managedFields, no last-applied copy, redacted. */
export function sanitizeObject(obj: unknown, redactor: Redactor): unknown {
  const copy = JSON.parse(JSON.stringify(obj ?? null)) as {
    metadata?: { managedFields?: unknown; annotations?: Record<string, string> };
  } | null;
  if (copy?.metadata) {
    delete copy.metadata.managedFields;
    if (copy.metadata.annotations?.[LAST_APPLIED] !== undefined) copy.metadata.annotations[LAST_APPLIED] = REDACTED;
  }
  // The API keeps the SEK out of OceanSite by construction (references, a path, a fingerprint), so
  // its encryptionKey sections are kept for support (redacted inside) rather than dropped by name.
  const site = (copy as { apiVersion?: string } | null)?.apiVersion?.startsWith('cloudconnect.dev/')
    ? (copy as { spec?: Record<string, unknown>; status?: Record<string, unknown> })
    : undefined;
  const kept = { spec: site?.spec?.encryptionKey, status: site?.status?.encryptionKey };
  const out = redactor.value(copy) as { spec?: Record<string, unknown>; status?: Record<string, unknown> };
  if (kept.spec !== undefined && out.spec) out.spec.encryptionKey = redactor.value(kept.spec);
  if (kept.status !== undefined && out.status) out.status.encryptionKey = redactor.value(kept.status);
  return out;
}

/**
 * Log text for the bundle: JSON lines (the operator's format) are redacted field by field, so a
 * record dumped into a log loses its patient fields; other lines are scrubbed as text.
 */
export function redactLog(text: string, redactor: Redactor): string {
  return text
    .split('\n')
    .map((line) => {
      const trimmed = line.trim();
      if (trimmed.startsWith('{') && trimmed.endsWith('}')) {
        try {
          return JSON.stringify(redactor.value(JSON.parse(trimmed)));
        } catch {
          // not JSON after all: scrub as text
        }
      }
      return redactor.string(line);
    })
    .join('\n');
}
