// Redaction built into logging, events and errors: secret values and patient data cannot be
// written even by mistake. Two layers: (1) any field whose name says it is secret or PHI is
// replaced whole; (2) every string is scrubbed of values registered as secret at run time (the SEK,
// credentials read from Secrets) and of shapes that look like tokens or keys.

export const REDACTED = '[REDACTED]';

const SECRET_KEY =
  /pass(word)?|secret|token|sek$|^sek|encryptionkey$|apikey|api_key|authorization|cookie|credential|private|pin$|^key$|activationcode|subscriptionkey|signature/i;
const PHI_KEY =
  /^(patient|firstname|lastname|givenname|familyname|birthdate|dateofbirth|dob|hcn|healthcard|healthnumber|phone|address|mrn|sex|gender|notes?|demographics?)$/i;

const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g;
const JWT = /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g;
const VAULT_TOKEN = /\b(hvs|hvb|hvr|s|b)\.[A-Za-z0-9_-]{20,}\b/g;
const PEM = /-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----/g;
const OAUTH_PARAM = /(oauth_(?:signature|token|consumer_key)|client_secret|access_token|refresh_token|password)=([^&\s"]+)/gi;

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers a value read from a Secret or Vault; it is scrubbed from everything written afterwards. */
  register(value: string | Buffer | undefined): void {
    if (value === undefined) return;
    const text = Buffer.isBuffer(value) ? value.toString('utf8') : value;
    if (text.length >= 6) this.secrets.add(text);
    if (Buffer.isBuffer(value) && value.length >= 6) this.secrets.add(value.toString('base64'));
  }

  get registeredCount(): number {
    return this.secrets.size;
  }

  string(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out
      .replace(PEM, REDACTED)
      .replace(JWT, REDACTED)
      .replace(BEARER, `$1 ${REDACTED}`)
      .replace(VAULT_TOKEN, REDACTED)
      .replace(OAUTH_PARAM, `$1=${REDACTED}`);
  }

  /** Deep copy with secret and PHI fields replaced and every string scrubbed. */
  value(input: unknown, depth = 0): unknown {
    if (depth > 12) return '[Truncated]';
    if (typeof input === 'string') return this.string(input);
    if (Buffer.isBuffer(input) || input instanceof Uint8Array) return REDACTED;
    if (input instanceof Error) {
      return { name: input.name, message: this.string(input.message), ...(this.value({ ...input }, depth + 1) as object) };
    }
    if (Array.isArray(input)) return input.map((v) => this.value(v, depth + 1));
    if (input !== null && typeof input === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(input)) {
        if (k === 'data' || k === 'stringData')
          out[k] = v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).map((dk) => [dk, REDACTED])) : REDACTED;
        else if (
          SECRET_KEY.test(k) &&
          !/ref$|name$|path$|mount$|fingerprint$|version$/i.test(k) &&
          v !== undefined &&
          v !== null &&
          typeof v !== 'boolean' &&
          typeof v !== 'number'
        )
          out[k] = REDACTED;
        else if (PHI_KEY.test(k) && v !== undefined && v !== null) out[k] = REDACTED;
        else out[k] = this.value(v, depth + 1);
      }
      return out;
    }
    return input;
  }
}

/** The process-wide redactor used by the logger, events and error messages. */
export const redactor = new Redactor();
