// /healthz (the process serves), /readyz (caches synced), /metrics (Prometheus text format).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OperatorMetrics } from './metrics.ts';

export interface HealthChecks {
  ready(): boolean;
}

export async function startHealthServer(
  bind: string,
  metrics: OperatorMetrics,
  checks: HealthChecks,
): Promise<{ server: Server; url: string }> {
  const [host, portText] = splitHostPort(bind);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ok = checks.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'informers not synced\n');
    } else if (path === '/metrics') {
      metrics.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text))
        .catch(() => res.writeHead(500).end());
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(portText), host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return { server, url: `http://${host === '0.0.0.0' || host === '' ? '127.0.0.1' : host}:${address.port}` };
}

function splitHostPort(bind: string): [string, string] {
  const i = bind.lastIndexOf(':');
  return i < 0 ? ['0.0.0.0', bind] : [bind.slice(0, i) || '0.0.0.0', bind.slice(i + 1)];
}
