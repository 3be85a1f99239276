// The relay's own port for Prometheus and the kubelet: GET /metrics, /healthz, /readyz (plain HTTP,
// RELAY_METRICS_PORT). Kept off the webhook's port, so that what reaches the webhook (Ocean, through
// whatever the installer exposes) never reaches the metrics, and a NetworkPolicy can tell the two apart.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { send } from './intake.ts';
import type { RelayMetrics } from './relay-metrics.ts';

export interface AdminOptions {
  metrics: RelayMetrics;
  ready: () => boolean;
}

async function route(o: AdminOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET') return send(res, 405, { error: `${req.method ?? ''} is not allowed` }, { headers: { allow: 'GET' } });
  if (path === '/metrics') return send(res, 200, await o.metrics.registry.metrics(), { contentType: o.metrics.registry.contentType });
  if (path === '/healthz') return send(res, 200, 'ok', { contentType: 'text/plain' });
  if (path === '/readyz')
    return o.ready() ? send(res, 200, 'ok', { contentType: 'text/plain' }) : send(res, 503, 'not ready', { contentType: 'text/plain' });
  return send(res, 404, { error: `no route ${path}` });
}

export function createAdminServer(o: AdminOptions): Server {
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    route(o, req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
    });
  });
  server.maxConnections = 32;
  return server;
}
