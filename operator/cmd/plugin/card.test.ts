import { describe, expect, it } from 'vitest';
import { parseCardArgs } from './card.ts';
import { UsageError } from './usage.ts';

describe('the card command line', () => {
  it.each([
    ['prints text by default', ['birch'], { site: 'birch', output: 'text' }],
    ['prints Markdown with -o markdown', ['birch', '-o', 'markdown'], { site: 'birch', output: 'markdown' }],
    ['takes the namespace with -n', ['birch', '-n', 'clinic-birch'], { site: 'birch', client: { namespace: 'clinic-birch' } }],
  ])('%s', (_n, args, expected) => {
    expect(parseCardArgs(args)).toMatchObject(expected);
  });

  it.each([
    ['refuses an output format it cannot print', ['birch', '-o', 'pdf'], '--output must be text or markdown, not "pdf"'],
    ['refuses a missing site', [], 'SITE'],
    ['refuses two sites', ['birch', 'oak'], ''],
  ])('%s', (_n, args, message) => {
    expect(() => parseCardArgs(args)).toThrow(UsageError);
    if (message) expect(() => parseCardArgs(args)).toThrow(message);
  });
});
