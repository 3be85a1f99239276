// Finds registered secret forms in a text without one regular expression of all of them. An
// operator of 1,000 sites registers some 80,000 forms (each SEK and credential in all its spellings,
// secret-forms.ts); an alternation of that size costs tens of MiB of compiled code, is compiled again
// whenever a value is added, and is tried at every position of every string written. Here each form
// is filed under its first PREFIX characters (every form this index takes is at least that long), so
// a scan looks up one short string per position and compares only the forms that start with it.

/** Forms of more than SHORT_FORM_MAX (3) characters: this index takes them, all at least this long. */
const PREFIX = 4;

export class FormIndex {
  /** Forms by their first PREFIX characters, each list longest first. */
  private readonly byPrefix = new Map<string, string[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds a form of at least PREFIX characters (shorter ones are refused: the caller matches them as tokens). */
  add(form: string): void {
    if (form.length < PREFIX) throw new RangeError(`a form of ${form.length} characters is too short for the index`);
    const key = form.slice(0, PREFIX);
    const list = this.byPrefix.get(key);
    if (!list) {
      this.byPrefix.set(key, [form]);
      this.count++;
      return;
    }
    if (list.includes(form)) return;
    const at = list.findIndex((f) => f.length < form.length);
    list.splice(at === -1 ? list.length : at, 0, form);
    this.count++;
  }

  /** The length of the longest form that starts at `i` of `text`, 0 when none does. */
  longestAt(text: string, i: number): number {
    if (this.count === 0) return 0;
    const list = this.byPrefix.get(text.slice(i, i + PREFIX));
    if (!list) return 0;
    for (const form of list) if (text.startsWith(form, i)) return form.length;
    return 0;
  }
}

/**
 * Replaces, left to right, the longest form of any index found at each position by `replacement`;
 * the text between replacements goes through `between` (the short forms' token-bounded matcher).
 */
export function replaceForms(
  text: string,
  indexes: readonly FormIndex[],
  replacement: string,
  between: (segment: string) => string,
): string {
  const active = indexes.filter((x) => x.size > 0);
  if (active.length === 0) return between(text);
  let out = '';
  let segmentStart = 0;
  let i = 0;
  while (i <= text.length - PREFIX) {
    let length = 0;
    for (const index of active) length = Math.max(length, index.longestAt(text, i));
    if (length === 0) {
      i++;
      continue;
    }
    out += between(text.slice(segmentStart, i)) + replacement;
    i += length;
    segmentStart = i;
  }
  return out + between(text.slice(segmentStart));
}
