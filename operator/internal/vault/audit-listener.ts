// Receives Vault's socket audit device stream (JSON lines over TCP) so the operator sees every
// access to every SEK. Enable it with:
//   vault audit enable -path=cloudconnect socket address=<operator>:<port> socket_type=tcp hmac_accessor=false
// Keep a file audit device beside it: Vault refuses requests only when every device fails.
import { createServer, type Server } from 'node:net';
import { createInterface } from 'node:readline';
import type { Logger } from '../../runtime/logger.ts';
import type { AuditEntry } from './key-access.ts';

export async function startAuditListener(
  bind: string,
  onEntry: (entry: AuditEntry) => void,
  logger: Logger,
): Promise<{ server: Server; close: () => Promise<void>; port: number }> {
  const i = bind.lastIndexOf(':');
  const host = bind.slice(0, i) || '0.0.0.0';
  const port = Number(bind.slice(i + 1));
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const lines = createInterface({ input: socket });
    lines.on('line', (line) => {
      try {
        onEntry(JSON.parse(line) as AuditEntry);
      } catch {
        logger.warn('unreadable audit entry skipped');
      }
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  // Vault keeps its audit connection open for good: closing must end it, or shutdown never completes.
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  return { server, close, port: typeof address === 'object' && address ? address.port : port };
}
