// Receives Vault's socket audit device stream (JSON lines) so the operator sees every access to every
// SEK. Vault's socket device has no TLS and no authentication, so who can deliver lines is decided here:
// - `unix:/path`: a unix socket created with mode 0600 (or 0660), in a directory that is not
//   world-writable; only Vault's user (or group) can connect. Vault and the operator on one host:
//     vault audit enable -path=cloudconnect-operator socket address=/path socket_type=unix hmac_accessor=false
// - `host:port`: TCP, every connection checked against the allowed peers before a byte is read.
//     vault audit enable -path=cloudconnect-operator socket address=<operator>:<port> socket_type=tcp hmac_accessor=false
// Every line is capped (AUDIT_MAX_LINE_BYTES): a longer one is dropped and counted, never held.
// Keep a file audit device beside it: Vault refuses requests only when every device fails, and the
// file is what the operator catches up from after a restart (audit-log-tail.ts).
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '../../runtime/logger.ts';
import { BoundedLineSplitter } from './audit-lines.ts';
import type { PeerList } from './audit-peers.ts';
import type { AuditEntry } from './key-access.ts';

export type AuditDropReason = 'peer' | 'connections' | 'oversized' | 'unreadable';

export type AuditListenAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

export interface AuditListenerOptions {
  /** AUDIT_LISTEN_ADDRESS: `unix:/abs/path` or `host:port` (`:port` is every interface). */
  address: string;
  /** TCP only: who may connect. */
  peers: PeerList;
  /** Unix only: 0o600 (Vault runs as the operator's user) or 0o660 (as a user of its group). */
  socketMode: number;
  maxLineBytes: number;
  /** Connections held at once (Vault keeps one open; more only while it reconnects). */
  maxConnections?: number;
}

export interface AuditListenerHooks {
  entry(entry: AuditEntry): void;
  dropped(reason: AuditDropReason): void;
}

export interface AuditListener {
  /** `127.0.0.1:9090` or the socket path, for the log. */
  where: string;
  port: number | undefined;
  close(): Promise<void>;
}

export function parseAuditListenAddress(text: string): AuditListenAddress {
  if (text.startsWith('unix:')) return { kind: 'unix', path: text.slice('unix:'.length) };
  const i = text.lastIndexOf(':');
  return { kind: 'tcp', host: text.slice(0, i).replace(/^\[(.*)\]$/, '$1') || '0.0.0.0', port: Number(text.slice(i + 1)) };
}

/** Parses one line; undefined when it is not a JSON object. */
export function parseAuditLine(line: string): AuditEntry | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as AuditEntry) : undefined;
  } catch {
    return undefined;
  }
}

export async function startAuditListener(options: AuditListenerOptions, hooks: AuditListenerHooks, logger: Logger): Promise<AuditListener> {
  const address = parseAuditListenAddress(options.address);
  const sockets = new Set<Socket>();
  let refused = 0;
  const server = createServer((socket) => {
    if (address.kind === 'tcp' && !options.peers.allows(socket.remoteAddress)) {
      hooks.dropped('peer');
      // The first refusal and then every 100th: a flood of connections must not flood the log.
      if (refused++ % 100 === 0) logger.warn('audit connection refused: peer not allowed', { peer: socket.remoteAddress, refused });
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    readLines(socket, options.maxLineBytes, hooks);
  });
  server.maxConnections = options.maxConnections ?? 8;
  server.on('drop', () => hooks.dropped('connections'));
  if (address.kind === 'unix') await listenUnix(server, address.path, options.socketMode);
  else await listen(server, () => server.listen(address.port, address.host));
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : undefined;
  // Vault keeps its audit connection open for good: closing must end it, or shutdown never completes.
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  return { where: address.kind === 'unix' ? address.path : `${address.host}:${port}`, port, close };
}

function readLines(socket: Socket, maxLineBytes: number, hooks: AuditListenerHooks): void {
  const splitter = new BoundedLineSplitter(maxLineBytes);
  socket.on('data', (chunk: Buffer) => {
    const { lines, oversized } = splitter.push(chunk);
    for (let i = 0; i < oversized; i++) hooks.dropped('oversized');
    for (const line of lines) {
      const entry = parseAuditLine(line);
      if (entry) hooks.entry(entry);
      else hooks.dropped('unreadable');
    }
  });
}

function listen(server: Server, start: () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
    start();
  });
}

/**
 * A unix socket only Vault can reach: its directory must not be writable by everyone (else anyone
 * could put their own socket in its place), a stale socket from a previous run is removed, and the
 * socket is created under a umask that gives it `mode` from the start (then set again, explicitly).
 */
async function listenUnix(server: Server, path: string, mode: number): Promise<void> {
  const dir = lstatSync(dirname(path));
  if ((dir.mode & 0o002) !== 0) throw new Error(`the audit socket's directory ${dirname(path)} is writable by everyone`);
  const existing = lstatSync(path, { throwIfNoEntry: false });
  if (existing?.isSocket()) unlinkSync(path);
  else if (existing) throw new Error(`${path} exists and is not a socket`);
  await listen(server, () => {
    // listen() binds the socket before it returns, so the umask is back before anything else runs.
    const umask = process.umask(0o777 & ~mode);
    try {
      server.listen(path);
    } finally {
      process.umask(umask);
    }
  });
  chmodSync(path, mode);
}
