import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../runtime/logger.ts';
import { type AuditLogTail, startAuditLogTail } from './audit-log-tail.ts';
import type { AuditEntry } from './key-access.ts';

const logger = createLogger({ level: 'error' });
let dir = '';
let log = '';
let stateFile = '';
let tails: AuditLogTail[] = [];

const line = (id: string) => `${JSON.stringify({ type: 'request', request: { id, path: 'secret/data/x', operation: 'read' } })}\n`;

/** A tail whose handled request ids, drops and reported ids are kept. */
async function tail(options: { maxLineBytes?: number; reported?: string[] } = {}) {
  const seen: string[] = [];
  const dropped: string[] = [];
  const reported = options.reported ?? [];
  const restored: string[] = [];
  const t = await startAuditLogTail(
    { file: log, stateFile, maxLineBytes: options.maxLineBytes ?? 4096, pollMs: 10 },
    {
      entry: async (e: AuditEntry) => {
        seen.push(e.request?.id ?? '?');
      },
      dropped: (reason) => dropped.push(reason),
      reportedIds: () => reported,
      restoreReported: (ids) => restored.push(...ids),
    },
    logger,
  );
  tails.push(t);
  await t.caughtUp;
  return { t, seen, dropped, restored };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'audit-tail-'));
  log = join(dir, 'audit.log');
  stateFile = join(dir, 'state.json');
  tails = [];
});

afterEach(async () => {
  for (const t of tails) await t.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the catch-up from the file audit log', () => {
  it('starts at the end of the log on a first start (history is not news), and saves that position at once', async () => {
    writeFileSync(log, line('old-1') + line('old-2'));
    const { seen } = await tail();
    expect(seen).toEqual([]);
    expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toMatchObject({ offset: statSync(log).size });
  });

  it('handles what was written while it was stopped after a restart, each entry once', async () => {
    writeFileSync(log, line('before'));
    const first = await tail();
    await first.t.stop();
    appendFileSync(log, line('while-down-1') + line('while-down-2'));
    const second = await tail();
    expect(second.seen).toEqual(['while-down-1', 'while-down-2']);
    await second.t.stop();
    const third = await tail();
    expect(third.seen).toEqual([]);
  });

  it('follows the log as it grows, and waits for an unfinished last line', async () => {
    writeFileSync(log, '');
    const { seen } = await tail();
    const next = line('growing');
    appendFileSync(log, line('live') + next.slice(0, 20));
    await vi.waitFor(() => expect(seen).toEqual(['live']));
    appendFileSync(log, next.slice(20));
    await vi.waitFor(() => expect(seen).toEqual(['live', 'growing']));
  });

  it('drops a line over the limit, counted, and reads the lines after it', async () => {
    writeFileSync(log, '');
    const { seen, dropped } = await tail({ maxLineBytes: 4096 });
    appendFileSync(log, `${'x'.repeat(50_000)}\nnot json\n${line('after')}`);
    await vi.waitFor(() => expect(seen).toEqual(['after']));
    expect(dropped).toEqual(['oversized', 'unreadable']);
  });

  it('reads a rotated log from its start', async () => {
    writeFileSync(log, line('old'));
    const first = await tail();
    await first.t.stop();
    renameSync(log, `${log}.1`);
    writeFileSync(log, line('new-1') + line('new-2'));
    const second = await tail();
    expect(second.seen).toEqual(['new-1', 'new-2']);
  });

  it('saves the request ids reported and gives them back at the next start', async () => {
    writeFileSync(log, '');
    const first = await tail({ reported: ['r-1', 'r-2'] });
    appendFileSync(log, line('x'));
    await vi.waitFor(() => expect(first.seen).toEqual(['x']));
    await first.t.stop();
    const second = await tail();
    expect(second.restored).toEqual(['r-1', 'r-2']);
  });
});
