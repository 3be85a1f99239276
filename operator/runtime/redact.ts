// The one redaction module. The operator, the sync worker, the relay and the kubectl plugin write
// logs, Events, conditions, termination messages and support bundles only through it, so secret
// values and patient data cannot be written even by mistake.
//
// Three layers:
// 1. Fields: a field whose name says it is secret or patient data (redact-fields.ts, the one list)
//    is replaced whole in any object that is logged or bundled.
// 2. Registered values: every value read from a Secret, Vault or a login (the SEK, EMR and Ocean
//    credentials, Vault tokens) is registered in the process's one registry (`redactor`) and
//    removed from every string written afterwards, whatever its length, in each of its forms:
//    as is, URL-encoded (encodeURIComponent and form encoding, upper- or lower-case hex),
//    JSON-escaped, and base64 in the standard and the url-safe alphabet, also inside a longer
//    base64 stream and of the form-encoded value, as in an OAuth 2 Basic header (secret-forms.ts).
//    The forms are found through an index by prefix (form-index.ts), not one regular expression:
//    an operator of thousands of sites registers tens of thousands of forms.
//    A caller may add values only it knows (`string(text, also)`: an HTTP client's credentials).
// 3. Shapes: bearer and basic credentials, JWTs, Vault tokens, PEM blocks, OAuth parameters and
//    256-bit keys (base64 or hex) are removed even when nobody registered them.
//
// Short values. A form of 4 characters or more is removed wherever it occurs, inside words too. A
// form of 1 to 3 characters (a PIN "42", a one-letter password) is removed only as a whole token:
// where it is not glued to a letter, a digit, `_` or `-` on a side where the form itself starts or
// ends with one. Removing "42" inside "2042-01-01" or "x42" would make every log unreadable and
// protect nothing (such a value is guessed faster than it is found in a log); alone, as in
// `pin=42`, `"42"` or `user:42`, it is removed.
//
// Text from remote endpoints (an OAuth error_description, an EMR error body) is untrusted: it may
// echo the credentials just sent, in any of the forms above. It reaches an error, a condition, an
// Event or a log only through `remoteText`, which redacts it, removes control characters and
// bounds its length.

import { FormIndex, replaceForms } from './form-index.ts';
import { isPhiField, isSecretField } from './redact-fields.ts';
import { formsOf, SHORT_FORM_MAX, TOKEN_CHAR } from './secret-forms.ts';

export { isPhiField, isSecretField };

export const REDACTED = '[REDACTED]';

const SHAPES: readonly [RegExp, string][] = [
  [/-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----/g, REDACTED],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, REDACTED],
  // A credential part of which a registered value already replaced is still removed whole.
  [/\b(Bearer|Basic)\s+(?:\[REDACTED\]|[A-Za-z0-9._~+/=-]){8,}/g, `$1 ${REDACTED}`],
  [/\b(hvs|hvb|hvr|s|b)\.[A-Za-z0-9_-]{20,}\b/g, REDACTED],
  [/(oauth_(?:signature|token|consumer_key)|client_secret|access_token|refresh_token|password)=([^&\s"]+)/gi, `$1=${REDACTED}`],
  // 32 bytes in base64 (43 characters and one '='), standing alone: the shape of an SEK.
  [/(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=(?![A-Za-z0-9+/=])/g, REDACTED],
  // 32 bytes in hex.
  [/(?<![0-9A-Fa-f])[0-9a-f]{64}(?![0-9A-Fa-f])|(?<![0-9A-Fa-f])[0-9A-F]{64}(?![0-9A-Fa-f])/g, REDACTED],
];

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const BOUNDARY = TOKEN_CHAR.source;

/** One alternative of the matcher: anywhere for long forms, as a whole token for short ones. */
function alternative(form: string): string {
  const escaped = escapeRegExp(form);
  if (form.length > SHORT_FORM_MAX) return escaped;
  const before = TOKEN_CHAR.test(form[0] ?? '') ? `(?<!${BOUNDARY})` : '';
  const after = TOKEN_CHAR.test(form[form.length - 1] ?? '') ? `(?!${BOUNDARY})` : '';
  return `${before}${escaped}${after}`;
}

/** The forms of `values`: the long ones filed in an index, the short ones (matched as whole tokens) listed longest first. */
function formsByLength(values: Iterable<string | Buffer>, index = new FormIndex(), short = new Set<string>()) {
  for (const form of formsOf(values)) {
    if (form.length > SHORT_FORM_MAX) index.add(form);
    else short.add(form);
  }
  return { index, short };
}

/** One regular expression for the short forms (a few at most), longest first; undefined when there is none. */
function shortMatcherOf(short: Iterable<string>): RegExp | undefined {
  const forms = [...short].sort((a, b) => b.length - a.length);
  return forms.length === 0 ? undefined : new RegExp(forms.map(alternative).join('|'), 'g');
}

/** Control characters (a remote body's newlines or escape sequences) become one space. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
const CONTROL = /[\u0000-\u001f\u007f-\u009f]+/g;

export class Redactor {
  private readonly values = new Map<string, string | Buffer>();
  /** The registered values' forms of 4 characters or more (form-index.ts). */
  private readonly index = new FormIndex();
  /** Their forms of 1 to 3 characters, matched as whole tokens by shortMatcher. */
  private readonly short = new Set<string>();
  private shortMatcher: RegExp | undefined;
  private stale = false;

  /** Registers a value read from a Secret or Vault; it is removed, in all its forms, from everything written afterwards. */
  register(value: string | Buffer | undefined): void {
    if (value === undefined || value.length === 0) return;
    if (Buffer.isBuffer(value)) this.add(`b:${value.toString('base64')}`, Buffer.from(value));
    else {
      this.add(`s:${value}`, value);
      const trimmed = value.trim(); // a value read from a file often ends in a newline
      if (trimmed !== value && trimmed !== '') this.add(`s:${trimmed}`, trimmed);
    }
  }

  get registeredCount(): number {
    return this.values.size;
  }

  /** The text with every registered value (and `also`, values known only to the caller) and every secret shape removed. */
  string(text: string, also: readonly string[] = []): string {
    const extra = also.filter((v) => v.trim() !== '' && !this.values.has(`s:${v}`));
    const indexes = [this.index];
    let shortMatcher = this.currentShort();
    if (extra.length > 0) {
      const forms = formsByLength(extra);
      indexes.push(forms.index);
      if (forms.short.size > 0) shortMatcher = shortMatcherOf([...this.short, ...forms.short]);
    }
    const between = shortMatcher ? (segment: string) => segment.replace(shortMatcher, REDACTED) : (segment: string) => segment;
    let out = replaceForms(text, indexes, REDACTED, between);
    for (const [shape, replacement] of SHAPES) out = out.replace(shape, replacement);
    return out;
  }

  /** Text from a remote endpoint, ready for an error, a condition, an Event or a log: redacted, one line, at most `max` characters. */
  remoteText(text: string, max = 200, also: readonly string[] = []): string {
    const clean = this.string(text, also).replace(CONTROL, ' ').trim();
    return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
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
      for (const [k, v] of Object.entries(input)) out[k] = this.field(k, v, depth);
      return out;
    }
    return input;
  }

  private field(name: string, v: unknown, depth: number): unknown {
    if (name === 'data' || name === 'stringData')
      return v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).map((dk) => [dk, REDACTED])) : REDACTED;
    const present = v !== undefined && v !== null;
    if (present && isSecretField(name) && typeof v !== 'boolean' && typeof v !== 'number') return REDACTED;
    if (present && isPhiField(name)) return REDACTED;
    return this.value(v, depth + 1);
  }

  private add(key: string, value: string | Buffer): void {
    if (this.values.has(key)) return;
    this.values.set(key, value);
    const shortBefore = this.short.size;
    formsByLength([value], this.index, this.short);
    if (this.short.size !== shortBefore) this.stale = true;
  }

  private currentShort(): RegExp | undefined {
    if (this.stale) {
      this.shortMatcher = shortMatcherOf(this.short);
      this.stale = false;
    }
    return this.shortMatcher;
  }
}

/** The process-wide registry and redactor used by the logger, Events, errors and support bundles. */
export const redactor = new Redactor();

/** `redactor.remoteText`: untrusted text from an endpoint, redacted, one line, bounded. */
export function remoteText(text: string, max = 200, also: readonly string[] = []): string {
  return redactor.remoteText(text, max, also);
}
