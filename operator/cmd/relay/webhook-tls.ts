// TLS of the webhook (RELAY_TLS_CERT_FILE, RELAY_TLS_KEY_FILE: a kubernetes.io/tls Secret the relay
// mounts). The files are read at start and again every `intervalMs`; a renewed certificate (the
// kubelet updates a mounted Secret in place, e.g. after cert-manager renews it) is served to new
// connections without a restart. A pair that cannot be read or does not load keeps the old one.
import { readFile } from 'node:fs/promises';
import type { Server as HttpsServer } from 'node:https';
import type { Logger } from '../../runtime/logger.ts';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export async function readTls(files: TlsFiles): Promise<{ cert: string; key: string }> {
  const [cert, key] = await Promise.all([readFile(files.certFile, 'utf8'), readFile(files.keyFile, 'utf8')]);
  return { cert, key };
}

/** Reloads the pair into the server when it changed; returns a stop function. */
export function watchTls(server: HttpsServer, files: TlsFiles, first: { cert: string }, intervalMs: number, logger: Logger): () => void {
  let cert = first.cert;
  const timer = setInterval(() => {
    readTls(files)
      .then((pair) => {
        if (pair.cert === cert) return;
        server.setSecureContext(pair);
        cert = pair.cert;
        logger.info('webhook TLS certificate reloaded', { certFile: files.certFile });
      })
      .catch((error: unknown) =>
        logger.warn('cannot reload the webhook TLS certificate; keeping the one loaded', { error: (error as Error).message }),
      );
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
