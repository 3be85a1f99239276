// The demo simulators: every EMR/Ocean simulator over HTTPS with a demo CA made at start, on a host
// address given as an argument (`make up` passes the pods' gateway when the real node is up,
// 127.0.0.1 otherwise) and fixed ports (layout.ts), with credentials generated at start. Writes
// .local/demo/ca.crt, credentials.json (0600) and simulators.json, prints `KEY=value` lines and
// READY=1, and serves the control socket through which the simulated Ocean sends EMR-bound messages
// to the relays (`POST /send`, see control.ts). Keys are never printed.
//
//   node test/local/demo/simulators.ts [--host 127.0.0.1] [--local .local] [--port-base 18200]
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { EmrType } from '../../../operator/api/v1alpha1/emr-integration.ts';
import { type AllSimulators, startAll } from '../../simulators/main.ts';
import type { OceanPatient } from '../../simulators/ocean.ts';
import { startReferralTarget } from '../../simulators/referral-target.ts';
import type { SendRequest, SendResult, SendTarget } from './control.ts';
import { generateCredentials, writeCredentials } from './credentials.ts';
import { makeDemoTls } from './demo-tls.ts';
import { DEMO_PORT_BASE, demoPaths, demoPorts } from './layout.ts';
import type { DemoSimulatorUrls } from './manifests.ts';
import { demoMessages } from './messages.ts';

/** Patients of the EMR simulator an integration of this type talks to, as Ocean names them. */
function patientsOf(sims: AllSimulators, type: EmrType): (index: number) => OceanPatient {
  const sim = { PSSuite: sims.telus, MedAccess: sims.telus, Accuro: sims.accuro, OSCARPro: sims.oscar, FHIR: sims.fhir, None: undefined }[
    type
  ];
  if (!sim) throw new Error(`an integration of type ${type} has no relay`);
  return (index) => {
    const p = sim.data.patient(index % sim.data.patientCount);
    return {
      emrId: sim.patientId(index),
      firstName: p.firstName,
      lastName: p.lastName,
      birthDate: p.birthDate,
      healthNumber: p.healthNumber,
    };
  };
}

/** One integration's messages in order; after a failed one the rest are reported as not sent. */
async function sendTo(sims: AllSimulators, target: SendTarget, request: SendRequest, prefix: string): Promise<SendResult[]> {
  sims.ocean.registerWebhook(target.url, { headerName: target.headerName, key: target.key });
  const messages = demoMessages(
    `${target.integration.split('/').pop()}-${prefix}`,
    request.count,
    patientsOf(sims, target.type),
    target.type,
  );
  const retry = { attempts: request.attempts ?? 1, retryDelayMs: request.retryDelayMs ?? 2000 };
  const results: SendResult[] = [];
  for (const message of messages) {
    const base = { integration: target.integration, messageId: message.messageId, messageType: message.type };
    if (results.some((r) => !r.delivered)) {
      results.push({ ...base, delivered: false, error: 'not sent: an earlier message to this relay failed' });
      continue;
    }
    const d = await sims.ocean.deliverWebhook(target.url, message, {}, retry);
    const delivered = d.status !== undefined && d.status >= 200 && d.status < 300;
    results.push({ ...base, delivered, ...(d.status === undefined ? {} : { status: d.status }), ...(d.error ? { error: d.error } : {}) });
  }
  return results;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function controlServer(sims: AllSimulators, socketPath: string): Promise<Server> {
  let batch = 0;
  const server = createServer((req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== '/send') return answer(404, { error: 'POST /send only' });
    void readJson(req)
      .then(async (body) => {
        const request = body as SendRequest;
        const prefix = `${Date.now().toString(36)}${++batch}`;
        const all = await Promise.all(request.targets.map((t) => sendTo(sims, t, request, prefix)));
        answer(200, { results: all.flat() });
      })
      .catch((error: unknown) => answer(400, { error: error instanceof Error ? error.message : String(error) }));
  });
  rmSync(socketPath, { force: true });
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      chmodSync(socketPath, 0o600); // only this user may ask Ocean to send (the directory is 0700 too)
      resolveServer(server);
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { host: { type: 'string' }, local: { type: 'string' }, 'port-base': { type: 'string' } },
    strict: true,
  });
  const base = Number(values['port-base'] ?? DEMO_PORT_BASE);
  if (!Number.isInteger(base) || base < 1024 || base > 65_000) throw new Error('--port-base must be a port number between 1024 and 65000');
  const host = values.host ?? '127.0.0.1';
  const paths = demoPaths(resolve(values.local ?? '.local'));
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  chmodSync(paths.dir, 0o700);
  const tls = makeDemoTls(host);
  const credentials = generateCredentials();
  writeFileSync(paths.caFile, tls.ca);
  writeCredentials(paths.credentialsFile, credentials);
  const { referralTarget: targetCredentials, ...emrCredentials } = credentials;
  const { referralTarget: targetPort, ...ports } = demoPorts(base);
  const sims = await startAll({ host, ports, tls: { cert: tls.cert, key: tls.key }, credentials: emrCredentials });
  // The clinic's referral system, where the demo's eReferral endpoint (demo-none) forwards Ocean's bundles.
  const target = await startReferralTarget({
    auth: { token: targetCredentials.token },
    host,
    port: targetPort,
    tls: { cert: tls.cert, key: tls.key },
  });
  const urls: DemoSimulatorUrls = {
    oscar: sims.oscar.url,
    accuro: sims.accuro.url,
    fhir: sims.fhir.url,
    telus: sims.telus.url,
    ocean: sims.ocean.url,
    referralTarget: target.url,
  };
  writeFileSync(paths.simulatorsFile, `${JSON.stringify({ host, urls, caFile: paths.caFile }, null, 2)}\n`);
  const control = await controlServer(sims, paths.controlSocket);
  for (const line of sims.env()) process.stdout.write(`DEMO_${line}\n`);
  process.stdout.write(`DEMO_CA_FILE=${paths.caFile}\nREADY=1\n`);
  const shutdown = () => {
    control.close();
    void Promise.all([sims.stop(), target.stop()]).then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    process.stderr.write(`demo simulators: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
