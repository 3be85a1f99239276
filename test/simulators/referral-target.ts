// A third-party referral system: the target of an eReferral endpoint's forwarding
// (EmrIntegration spec.eReferral.forward). Our design (no vendor is named): it takes
//   POST <path>   Authorization: Bearer <token> (or Basic user:password), Content-Type
//                 application/fhir+json, a FHIR Bundle with a ServiceRequest → 201
// and is strict: a wrong or missing credential is 401, another content type 415, a body that is not
// such a Bundle 422. It records every accepted POST (it does NOT de-duplicate by Idempotency-Key:
// a real receiver need not, so a duplicate post shows up as two records). Faults: `down()` closes
// the listener (connections refused) until `up()` listens again on the same port; `failWith(503)`
// answers every POST with that status until `failWith(undefined)`.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ReceivedReferral {
  bundleId: string;
  idempotencyKey: string | undefined;
  body: Record<string, unknown>;
  receivedAt: string;
}

export interface ReferralTargetOptions {
  auth: { token: string } | { username: string; password: string };
  path?: string;
  host?: string;
  /** Fixed port (the demo's); 0 or absent: any free port. */
  port?: number;
  tls?: { cert: string; key: string };
}

export interface ReferralTarget {
  readonly url: string;
  readonly received: ReceivedReferral[];
  /** Requests refused (status and why), for tests that assert a refusal reached the target or not. */
  readonly refused: { status: number; why: string }[];
  down(): Promise<void>;
  up(): Promise<void>;
  failWith(status: number | undefined): void;
  stop(): Promise<void>;
}

function expectedAuthorization(auth: ReferralTargetOptions['auth']): string {
  if ('token' in auth) return `Bearer ${auth.token}`;
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Pure: why a body is not a referral bundle (undefined when it is). */
function bundleProblem(body: unknown): string | undefined {
  if (!isObject(body) || body['resourceType'] !== 'Bundle') return 'not a FHIR Bundle';
  if (typeof body['id'] !== 'string') return 'Bundle.id missing';
  const entries = Array.isArray(body['entry']) ? body['entry'] : [];
  const hasRequest = entries.some((e) => isObject(e) && isObject(e['resource']) && e['resource']['resourceType'] === 'ServiceRequest');
  return hasRequest ? undefined : 'no ServiceRequest';
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startReferralTarget(options: ReferralTargetOptions): Promise<ReferralTarget> {
  const path = options.path ?? '/api/referrals/fhir';
  const host = options.host ?? '127.0.0.1';
  const authorization = expectedAuthorization(options.auth);
  const received: ReceivedReferral[] = [];
  const refused: { status: number; why: string }[] = [];
  let failing: number | undefined;
  const answer = (res: ServerResponse, status: number, body: unknown, why?: string) => {
    if (why) refused.push({ status, why });
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== path) return answer(res, 404, { error: 'not found' }, 'route');
    if (req.headers.authorization !== authorization) return answer(res, 401, { error: 'unauthorized' }, 'credentials');
    if ((req.headers['content-type'] ?? '').split(';')[0]?.trim() !== 'application/fhir+json')
      return answer(res, 415, { error: 'application/fhir+json only' }, 'content type');
    if (failing !== undefined) return answer(res, failing, { error: 'failing' }, 'fault');
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return answer(res, 422, { error: 'not JSON' }, 'body');
    }
    const problem = bundleProblem(parsed);
    if (problem) return answer(res, 422, { error: problem }, 'body');
    const bundle = parsed as Record<string, unknown>;
    const key = req.headers['idempotency-key'];
    received.push({
      bundleId: String(bundle['id']),
      idempotencyKey: typeof key === 'string' ? key : undefined,
      body: bundle,
      receivedAt: new Date().toISOString(),
    });
    answer(res, 201, { stored: received.length });
  };
  const make = (): Server => {
    const h = (req: IncomingMessage, res: ServerResponse) => void handler(req, res).catch(() => res.destroy());
    return options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, h) : createHttpServer(h);
  };
  const listen = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
    });
  const close = (server: Server) =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  let server: Server | undefined = make();
  const port = await listen(server, options.port ?? 0);
  const scheme = options.tls ? 'https' : 'http';
  return {
    url: `${scheme}://${host}:${port}${path}`,
    received,
    refused,
    down: async () => {
      if (server) await close(server);
      server = undefined;
    },
    up: async () => {
      if (server) return;
      server = make();
      await listen(server, port);
    },
    failWith: (status) => {
      failing = status;
    },
    stop: async () => {
      if (server) await close(server);
      server = undefined;
    },
  };
}
