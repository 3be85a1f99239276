import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../runtime/logger.ts';
import { type AuditDropReason, type AuditListener, parseAuditListenAddress, startAuditListener } from './audit-listener.ts';
import { parsePeerList } from './audit-peers.ts';
import type { AuditEntry } from './key-access.ts';

const logger = createLogger({ level: 'error' });
const dirs: string[] = [];
const listeners: AuditListener[] = [];

afterEach(async () => {
  for (const l of listeners.splice(0)) await l.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function listen(address: string, allowed = '127.0.0.1') {
  const entries: AuditEntry[] = [];
  const dropped: AuditDropReason[] = [];
  const l = await startAuditListener(
    { address, peers: parsePeerList(allowed).peers, socketMode: 0o600, maxLineBytes: 4096 },
    { entry: (e) => entries.push(e), dropped: (r) => dropped.push(r) },
    logger,
  );
  listeners.push(l);
  return { l, entries, dropped };
}

/** Writes `data` from `localAddress` and ends the connection. */
function send(target: { port?: number; path?: string }, data: string | Buffer, localAddress?: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = target.path
      ? connect(target.path)
      : connect({ host: '127.0.0.1', port: target.port ?? 0, ...(localAddress ? { localAddress } : {}) });
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.end(data);
  });
}

describe('the audit listener', () => {
  it.each([
    ['reads a unix socket address', 'unix:/run/cc/audit.sock', { kind: 'unix', path: '/run/cc/audit.sock' }],
    ['reads host:port', '127.0.0.1:9090', { kind: 'tcp', host: '127.0.0.1', port: 9090 }],
    ['reads :port as every interface', ':9090', { kind: 'tcp', host: '0.0.0.0', port: 9090 }],
    ['reads a bracketed IPv6 host', '[::1]:9090', { kind: 'tcp', host: '::1', port: 9090 }],
  ] as const)('%s', (_n, text, expected) => {
    expect(parseAuditListenAddress(text)).toEqual(expected);
  });

  it('reads entries from an allowed TCP peer and refuses any other before reading a byte', async () => {
    const { l, entries, dropped } = await listen('127.0.0.1:0', '127.0.0.1');
    await send({ port: l.port }, '{"type":"request","request":{"id":"forged"}}\n', '127.0.0.2');
    await send({ port: l.port }, '{"type":"request","request":{"id":"real"}}\n', '127.0.0.1');
    await vi.waitFor(() => expect(entries.map((e) => e.request?.id)).toEqual(['real']));
    expect(dropped).toEqual(['peer']);
  });

  it('drops an oversized line and a line that is not JSON, and reads the next one', async () => {
    const { l, entries, dropped } = await listen('127.0.0.1:0');
    await send({ port: l.port }, `${'x'.repeat(100_000)}\n[1,2]\n{"type":"request"}\n`);
    await vi.waitFor(() => expect(entries).toEqual([{ type: 'request' }]));
    expect(dropped).toEqual(['oversized', 'unreadable']);
  });

  it('creates its unix socket readable and writable by its own user only, replacing a stale one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-sock-'));
    dirs.push(dir);
    const path = join(dir, 'audit.sock');
    // A socket left at the path (by a run that was killed) is replaced, not an error.
    await listen(`unix:${path}`);
    const { entries } = await listen(`unix:${path}`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await send({ path }, '{"type":"request","request":{"id":"via-unix"}}\n');
    await vi.waitFor(() => expect(entries.map((e) => e.request?.id)).toEqual(['via-unix']));
  });

  it('refuses to put its socket in a directory everyone may write to', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-sock-'));
    dirs.push(dir);
    chmodSync(dir, 0o777);
    await expect(listen(`unix:${join(dir, 'audit.sock')}`)).rejects.toThrow(/writable by everyone/);
  });
});
