import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { Redactor } from './redact.ts';

/** A redactor that counts the entries it is asked to clean. */
class CountingRedactor extends Redactor {
  calls = 0;
  override value(v: unknown): unknown {
    this.calls++;
    return super.value(v);
  }
}

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, stream };
}

describe('the logger', () => {
  it('does not redact or write an entry below its level', () => {
    const { lines, stream } = capture();
    const r = new CountingRedactor();
    const logger = createLogger({ stream, redactor: r, level: 'info' });
    logger.debug('message stored', { key: 'k' });
    expect(r.calls).toBe(0);
    expect(lines).toEqual([]);
    logger.info('relay ready');
    expect(r.calls).toBeGreaterThan(0);
    expect(lines).toHaveLength(1);
  });

  it('follows a level changed after it was made', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ stream, level: 'warn' });
    logger.info('hidden');
    logger.level = 'debug';
    logger.debug('shown');
    expect(lines.map((l) => JSON.parse(l).message)).toEqual(['shown']);
  });

  it('applies the level to child loggers too', () => {
    const { lines, stream } = capture();
    const child = createLogger({ stream, level: 'info' }).child({ component: 'relay' });
    child.debug('hidden');
    child.info('shown');
    expect(lines.map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ message: 'shown', component: 'relay' })]);
  });
});
