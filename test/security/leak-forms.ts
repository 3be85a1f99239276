// The spellings under which a secret would show up if it leaked, written independently of the
// redactor (operator/runtime/secret-forms.ts) so that a form the redactor forgets fails a test.

/** The secret as is, URL-encoded (both encodings), JSON-escaped, and base64 (standard and url-safe, padded or not). */
function leakForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [
    ...new Set([
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ x: secret }).toString().slice(2),
      JSON.stringify(secret).slice(1, -1),
      bytes.toString('base64'),
      bytes.toString('base64').replace(/=+$/, ''),
      bytes.toString('base64url'),
    ]),
  ];
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * What every base64-looking run of the text decodes to (either alphabet), at each of the four
 * alignments it may have been cut at: a secret inside a base64 stream (a Basic credential) whose
 * neighbours were cut away still decodes to itself.
 */
function base64Decodings(text: string): string {
  const out: string[] = [];
  for (const run of text.match(/[A-Za-z0-9+/_-]{8,}/g) ?? []) {
    const standard = run.replace(/-/g, '+').replace(/_/g, '/');
    for (const pad of ['', 'A', 'AA', 'AAA']) out.push(Buffer.from(pad + standard, 'base64').toString('latin1'));
  }
  return out.join('\n');
}

const hasToken = (text: string, form: string) =>
  form.length > 3 ? text.includes(form) : new RegExp(`(?<![A-Za-z0-9_-])${escapeRegExp(form)}(?![A-Za-z0-9_-])`).test(text);

/**
 * The forms of `secret` found in `text`, and `base64 of …` for the secret or its URL-encoded forms
 * found inside base64 in the text. Forms of 4 characters or more count anywhere; shorter ones only
 * as whole tokens (SECURITY.md, "Short values"), since "42" inside "2042" is no leak.
 */
export function leakedForms(text: string, secret: string): string[] {
  const found = leakForms(secret).filter((form) => hasToken(text, form));
  if (secret.length > 3) {
    const decoded = base64Decodings(text);
    const plain = [secret, encodeURIComponent(secret), new URLSearchParams({ x: secret }).toString().slice(2)];
    for (const form of new Set(plain)) if (decoded.includes(Buffer.from(form, 'utf8').toString('latin1'))) found.push(`base64 of ${form}`);
  }
  return found;
}
