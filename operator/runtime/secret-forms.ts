// Pure: the texts under which a registered secret value can show up in output. A value echoed by a
// remote endpoint, quoted in a form body or a URL, embedded in JSON or base64-encoded into a header
// is the same secret; each of these spellings is returned so the redactor can find it.

/** Forms shorter than this are matched only as whole tokens (see redact.ts, "Short values"). */
export const SHORT_FORM_MAX = 3;

/** Characters that make up a token: a short form glued to one of these is not a match. */
export const TOKEN_CHAR = /[A-Za-z0-9_-]/;

/** Below this many bytes a value's base64 is matched standalone only, not inside a longer base64 stream. */
const MIN_BYTES_FOR_BASE64_CORES = 6;

const lowerPercent = (text: string) => text.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());

/** encodeURIComponent, the form encoding of URLSearchParams (space as +, !'()~ escaped), and lower-case hex of both. */
function urlForms(value: string): string[] {
  let component: string;
  try {
    component = encodeURIComponent(value);
  } catch {
    return []; // a lone surrogate cannot be URL-encoded, so it is never sent that way
  }
  const form = new URLSearchParams({ v: value }).toString().slice(2);
  return [component, form, lowerPercent(component), lowerPercent(form)];
}

/** JSON string contents: JSON.stringify's, with `\/` (PHP, some Java serializers), and all non-ASCII as \uXXXX. */
function jsonForms(value: string): string[] {
  const plain = JSON.stringify(value).slice(1, -1);
  const asciiOnly = plain.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return [
    plain,
    plain.replace(/\//g, '\\/'),
    asciiOnly,
    asciiOnly.replace(/\\u([0-9a-f]{4})/g, (_m, h: string) => `\\u${h.toUpperCase()}`),
  ];
}

const toUrlSafe = (b64: string) => b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/**
 * The base64 of the bytes, standard (padded and not) and url-safe; and, for values of 6 bytes or
 * more, the characters that encode only these bytes when they sit at offset 0, 1 or 2 of a longer
 * base64 stream (as a password does in `Basic base64(user:password)`).
 */
function base64Forms(bytes: Buffer): string[] {
  const standard = bytes.toString('base64');
  const out = [standard, standard.replace(/=+$/, ''), toUrlSafe(standard)];
  if (bytes.length < MIN_BYTES_FOR_BASE64_CORES) return out;
  for (let offset = 0; offset < 3; offset++) {
    const padded = Buffer.concat([Buffer.alloc(offset), bytes, Buffer.alloc(3)]);
    const encoded = padded.toString('base64');
    const core = encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
    out.push(core, toUrlSafe(core));
  }
  return out;
}

/**
 * Every form of a text value: as is, URL-encoded, JSON-escaped, base64 (standard and url-safe),
 * and the base64 of its URL-encoded forms (OAuth 2 client authentication form-encodes the client
 * secret before it base64-encodes `id:secret`, RFC 6749 §2.3.1).
 */
function textForms(value: string): string[] {
  const url = urlForms(value);
  const encodedThenBase64 = url.filter((form) => form !== value).flatMap((form) => base64Forms(Buffer.from(form, 'utf8')));
  return [value, ...url, ...jsonForms(value), ...base64Forms(Buffer.from(value, 'utf8')), ...encodedThenBase64];
}

/** Every form of a binary value (a raw key): base64 in both alphabets, hex, and its text when it is UTF-8. */
function byteForms(value: Buffer): string[] {
  const text = value.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(value);
  return [...base64Forms(value), value.toString('hex'), value.toString('hex').toUpperCase(), ...(isText ? textForms(text) : [])];
}

/** The distinct forms to look for, longest first, so that a longer form wins over a form it contains. */
export function formsOf(values: Iterable<string | Buffer>): string[] {
  const forms = new Set<string>();
  for (const value of values) for (const form of typeof value === 'string' ? textForms(value) : byteForms(value)) if (form) forms.add(form);
  return [...forms].sort((a, b) => b.length - a.length);
}
