// Pure: what goes into a support bundle, redacted (a bundle goes to support, so it never carries
// passwords, the SEK, EMR credentials or patient data). Secrets become name + type + key names; every
// other object loses managedFields and kubectl's last-applied-configuration (which would carry a
// Secret's stringData), then goes through the operator's Redactor (secret- and PHI-named fields,
// every value read from the namespace's Secrets, token shapes), plus one more shape a bundle must
// never carry: a 256-bit key in base64, as an SEK is.
import { REDACTED, Redactor } from '../../runtime/redact.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** 32 bytes in base64 (43 characters and one '='), standing alone: the shape of an SEK. */
const KEY_256_BASE64 = /(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=(?![A-Za-z0-9+/=])/g;
/** Patient contact fields the operator's Redactor leaves alone (a Clinical Administrator's e-mail is `clinicalAdminEmail`). */
const PATIENT_CONTACT_KEY = /^(e-?mail|emailaddress|postalcode|street|city|province|middlename)$/i;
/** 32 bytes in hex. */
const KEY_256_HEX = /(?<![0-9A-Fa-f])[0-9a-f]{64}(?![0-9A-Fa-f])|(?<![0-9A-Fa-f])[0-9A-F]{64}(?![0-9A-Fa-f])/g;

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

/** A Redactor that knows every value of the given Secrets (in memory only; never written). */
export function bundleRedactor(secrets: readonly SecretLike[]): Redactor {
  const r = new Redactor();
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

function scrubText(text: string, redactor: Redactor): string {
  return redactor.string(text).replace(KEY_256_BASE64, REDACTED).replace(KEY_256_HEX, REDACTED);
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
  // its encryptionKey sections are kept for support, scrubbed as text rather than dropped by name.
  const site = (copy as { apiVersion?: string } | null)?.apiVersion?.startsWith('cloudconnect.dev/')
    ? (copy as { spec?: Record<string, unknown>; status?: Record<string, unknown> })
    : undefined;
  const kept = { spec: site?.spec?.encryptionKey, status: site?.status?.encryptionKey };
  const out = deepScrub(redactor.value(copy), redactor) as { spec?: Record<string, unknown>; status?: Record<string, unknown> };
  if (kept.spec !== undefined && out.spec) out.spec.encryptionKey = deepScrub(kept.spec, redactor);
  if (kept.status !== undefined && out.status) out.status.encryptionKey = deepScrub(kept.status, redactor);
  return out;
}

function deepScrub(value: unknown, redactor: Redactor): unknown {
  if (typeof value === 'string') return scrubText(value, redactor);
  if (Array.isArray(value)) return value.map((v) => deepScrub(v, redactor));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        PATIENT_CONTACT_KEY.test(k) && v !== null && v !== undefined ? REDACTED : deepScrub(v, redactor),
      ]),
    );
  return value;
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
          return JSON.stringify(deepScrub(redactor.value(JSON.parse(trimmed)), redactor));
        } catch {
          // not JSON after all: scrub as text
        }
      }
      return scrubText(line, redactor);
    })
    .join('\n');
}
