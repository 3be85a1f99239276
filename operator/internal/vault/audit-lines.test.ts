import { describe, expect, it } from 'vitest';
import { BoundedLineSplitter } from './audit-lines.ts';

const b = (text: string) => Buffer.from(text);

describe('the bounded line splitter', () => {
  it('returns complete lines, across chunks, and keeps only the unfinished one', () => {
    const s = new BoundedLineSplitter(64);
    expect(s.push(b('{"a":1}\n{"b"'))).toEqual({ lines: ['{"a":1}'], oversized: 0 });
    expect(s.held).toBe(4);
    expect(s.push(b(':2}\n\n'))).toEqual({ lines: ['{"b":2}'], oversized: 0 });
    expect(s.held).toBe(0);
  });

  it('drops a line longer than the limit whole and counts it once, then reads the next line', () => {
    const s = new BoundedLineSplitter(16);
    expect(s.push(b('x'.repeat(10)))).toEqual({ lines: [], oversized: 0 });
    expect(s.push(b('x'.repeat(10)))).toEqual({ lines: [], oversized: 1 });
    expect(s.droppingLine).toBe(true);
    expect(s.push(b('x'.repeat(100)))).toEqual({ lines: [], oversized: 0 });
    expect(s.push(b('xx\n{"ok":1}\n'))).toEqual({ lines: ['{"ok":1}'], oversized: 0 });
    expect(s.droppingLine).toBe(false);
  });

  it('drops a long line that arrives whole in one chunk', () => {
    const s = new BoundedLineSplitter(16);
    expect(s.push(b(`${'y'.repeat(40)}\n{"ok":2}\n`))).toEqual({ lines: ['{"ok":2}'], oversized: 1 });
  });

  it('never holds more than the limit however long a line without a newline grows', () => {
    const s = new BoundedLineSplitter(4096);
    const chunk = b('z'.repeat(65_536));
    let oversized = 0;
    for (let i = 0; i < 200; i++) {
      oversized += s.push(chunk).oversized;
      expect(s.held).toBeLessThanOrEqual(4096);
    }
    expect(oversized).toBe(1);
  });

  it('starts inside a dropped line when told to (a tail resumed mid-line)', () => {
    const s = new BoundedLineSplitter(64, { skipping: true });
    expect(s.push(b('rest of a long line\n{"ok":3}\n'))).toEqual({ lines: ['{"ok":3}'], oversized: 0 });
  });

  it('keeps a line of exactly the limit', () => {
    const s = new BoundedLineSplitter(8);
    expect(s.push(b('1234'))).toEqual({ lines: [], oversized: 0 });
    expect(s.push(b('5678\n'))).toEqual({ lines: ['12345678'], oversized: 0 });
  });
});
