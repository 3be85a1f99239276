import { describe, expect, it } from 'vitest';
import { createLogger } from '../../runtime/logger.ts';
import { redactor } from '../../runtime/redact.ts';
import { WebhookKeyStore } from './api-key-store.ts';

const FIRST = { current: 'a'.repeat(40), idSalt: 'z'.repeat(40) };
const SECOND = { current: 'b'.repeat(40), idSalt: 'z'.repeat(40), previous: 'a'.repeat(40), previousValidUntil: '2030-01-01T00:00:00Z' };

function store(reads: (() => Record<string, string> | undefined)[]) {
  let i = 0;
  return new WebhookKeyStore({
    source: async () => {
      const read = reads[Math.min(i++, reads.length - 1)];
      return read?.();
    },
    refreshMs: 3_600_000,
    logger: createLogger({ level: 'error' }),
    context: {},
  });
}

describe('the webhook key store', () => {
  it('does not start without a usable record', async () => {
    await expect(store([() => undefined]).start()).rejects.toThrow(/no field current/);
    await expect(store([() => ({ current: 'short' })]).start()).rejects.toMatchObject({ reason: 'WebhookKeyUnavailable' });
  });

  it('picks up a rotation at the next refresh', async () => {
    const s = store([() => FIRST, () => SECOND]);
    await s.start();
    expect(s.keys().current).toBe(FIRST.current);
    await s.refresh();
    expect(s.keys()).toMatchObject({ current: SECOND.current, previous: { key: FIRST.current } });
    s.stop();
  });

  it('keeps the keys last read when a refresh fails', async () => {
    const s = store([
      () => FIRST,
      () => {
        throw new Error('Vault unavailable');
      },
    ]);
    await s.start();
    await expect(s.refresh()).rejects.toThrow('Vault unavailable');
    expect(s.keys().current).toBe(FIRST.current);
    s.stop();
  });

  it('shows no key when serialised, and registers them for redaction', async () => {
    const s = store([() => SECOND]);
    await s.start();
    expect(JSON.stringify(s)).toBe('{}');
    expect(redactor.string(`key ${SECOND.current}`)).not.toContain(SECOND.current);
    s.stop();
  });
});
