// A tenant points its EMR at a hostile endpoint, against the real apiserver, Vault and operator
// process: an Accuro apiUrl whose server streams an endless body (before the sandbox, this drove the
// operator from 223 MiB to 4.8 GiB), one whose server takes the request and never answers, and
// ones that are, or resolve to, addresses the operator does not allow (the cloud metadata service,
// and IPv6 loopback when only 127.0.0.0/8 is allowed, as in the local demo). Each must end as a
// failing Authenticated condition naming its reason, with no credential in the message; the
// operator must stay up with its memory bounded (peak RSS from /proc, never a time bound); the
// refused server must never see a request; and a healthy integration next to them must stay Ready
// and keep being checked.

import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importedSite } from '../integration/fixtures.ts';
import { kubectl, kubectlOk, repoRoot } from '../integration/kubectl.ts';
import { eventually, type OperatorProcess, startOperator } from '../integration/operator-process.ts';
import { makeTestTls } from '../integration/tls.ts';
import { ACCURO_DEV_CREDENTIALS, type AccuroSimulator, start as startAccuro } from '../simulators/accuro.ts';

const ns = `sec-egress-${Date.now().toString(36)}`;
/** The chart's memory limit of the operator: what an endless body must not bring it near. */
const OPERATOR_MEMORY_LIMIT_MIB = 512;
/** A response cap well under the limit, and deadlines short enough for a test (configuration, not assertions). */
const OPERATOR_ENV = {
  // Only IPv4 loopback, as the local demo allows: IPv6 loopback and link-local stay refused.
  EGRESS_ALLOW_CIDRS: '127.0.0.0/8',
  EGRESS_MAX_RESPONSE_BYTES: String(8 * 1024 * 1024),
  EGRESS_CONNECT_TIMEOUT: '2s',
  EGRESS_TIMEOUT: '4s',
};

let accuro: AccuroSimulator;
let operator: OperatorProcess;
const servers: Server[] = [];
const hits = { endless: 0, silent: 0, refusedV6: 0 };
let endlessBytes = 0;

const apply = (obj: object) => kubectlOk(['apply', '-f', '-'], JSON.stringify(obj));

type Condition = { type: string; status: string; reason: string; message: string };

async function integration(name: string): Promise<{ conditions: Condition[]; lastCheckTime?: string }> {
  const obj = JSON.parse(await kubectlOk(['get', 'emrintegration', name, '-n', ns, '-o', 'json'])) as {
    status?: { conditions?: Condition[]; auth?: { lastCheckTime?: string } };
  };
  return {
    conditions: obj.status?.conditions ?? [],
    ...(obj.status?.auth?.lastCheckTime ? { lastCheckTime: obj.status.auth.lastCheckTime } : {}),
  };
}

const conditionOf = async (name: string, type: string) => (await integration(name)).conditions.find((c) => c.type === type);

/** The operator's peak resident memory so far (VmHWM, the high-water mark of VmRSS), in MiB. */
function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(kib) / 1024;
}

/** An https server on `host` with the test CA's certificate. */
async function hostileServer(tls: { cert: string; key: string }, host: string, handler: Parameters<typeof createHttpsServer>[1]) {
  const server = createHttpsServer({ cert: tls.cert, key: tls.key }, handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

function siteObjects(name: string, siteNumber: string) {
  return [
    ...importedSite({ namespace: ns, name, siteNumber }),
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${name}-accuro-creds`, namespace: ns },
      stringData: { ...ACCURO_DEV_CREDENTIALS },
    },
  ];
}

function accuroIntegration(site: string, apiUrl: string) {
  return {
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name: `${site}-accuro`, namespace: ns },
    spec: {
      siteRef: { name: site },
      emr: {
        type: 'Accuro',
        accuro: { tenantId: accuro.tenantId, apiUrl, credentialsSecretRef: { name: `${site}-accuro-creds` } },
        caBundleSecretRef: { name: 'sim-ca' },
      },
    },
  };
}

const SITES = { healthy: 'cedar', endless: 'flood', silent: 'mute', metadata: 'imds', loopbackV6: 'loop' } as const;

beforeAll(async () => {
  const tls = makeTestTls();
  accuro = await startAccuro({
    tls: { cert: tls.cert, key: tls.key },
    volume: { providers: 3, patients: 10, appointmentsPerDay: 5, days: 1 },
  });
  const chunk = Buffer.alloc(64 * 1024, '{"access_token":"');
  const endlessPort = await hostileServer(tls, '127.0.0.1', (_req, res) => {
    hits.endless++;
    res.writeHead(200, { 'content-type': 'application/json' });
    const pump = () => {
      for (;;) {
        if (res.destroyed) return;
        endlessBytes += chunk.length;
        if (!res.write(chunk)) break;
      }
      res.once('drain', pump);
    };
    pump();
  });
  const silentPort = await hostileServer(tls, '127.0.0.1', () => {
    hits.silent++; // takes the request, never answers
  });
  const v6Port = await hostileServer(tls, '::1', (_req, res) => {
    hits.refusedV6++;
    res.end('{}');
  });
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`]);
  await kubectl(['create', 'namespace', ns]);
  await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sim-ca', namespace: ns }, stringData: { 'ca.crt': tls.ca } });
  let n = 0;
  for (const site of Object.values(SITES)) for (const o of siteObjects(site, String(7100 + n++))) await apply(o);
  operator = await startOperator(OPERATOR_ENV);
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, ...Object.values(SITES).map((s) => `oceansite/${s}`)]);
  await apply(accuroIntegration(SITES.healthy, accuro.url));
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, `emrintegration/${SITES.healthy}-accuro`]);
  await apply(accuroIntegration(SITES.endless, `https://127.0.0.1:${endlessPort}`));
  await apply(accuroIntegration(SITES.silent, `https://127.0.0.1:${silentPort}`));
  await apply(accuroIntegration(SITES.metadata, 'https://169.254.169.254/latest'));
  await apply(accuroIntegration(SITES.loopbackV6, `https://[::1]:${v6Port}`));
});

afterAll(async () => {
  await operator?.stop();
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  await accuro?.stop();
});

/** Waits for Authenticated=False with `reason` and returns its message. */
const failsWith = async (site: string, reason: string) =>
  (
    await eventually(async () => {
      const c = await conditionOf(`${site}-accuro`, 'Authenticated');
      return c?.status === 'False' && c.reason === reason ? c : undefined;
    }, `${site}-accuro Authenticated=False (${reason})`)
  ).message;

const expectNoCredential = (text: string) => {
  for (const value of Object.values(ACCURO_DEV_CREDENTIALS)) if (value.length >= 4) expect(text).not.toContain(value);
};

describe('a tenant-controlled EMR endpoint', () => {
  it('streaming an endless body fails as ResponseTooLarge while the operator stays up within its memory', async () => {
    const message = await failsWith(SITES.endless, 'ResponseTooLarge');
    expect(message).toContain('the response is larger than 8388608 bytes');
    expectNoCredential(message);
    expect(hits.endless).toBeGreaterThan(0);
    expect(operator.child.exitCode).toBeNull();
    const peak = peakRssMiB(operator.child.pid as number);
    // The server wrote past the cap (and would have gone on forever), yet the operator never held it.
    expect(endlessBytes).toBeGreaterThan(8 * 1024 * 1024);
    expect(peak, `operator peak RSS ${peak.toFixed(0)} MiB`).toBeLessThan(OPERATOR_MEMORY_LIMIT_MIB);
    expect((await conditionOf(`${SITES.endless}-accuro`, 'Ready'))?.status).toBe('False');
  });

  it('that never answers fails as EndpointTimeout', async () => {
    const message = await failsWith(SITES.silent, 'EndpointTimeout');
    expect(message).toMatch(/no answer within 4000 ms/);
    expectNoCredential(message);
    expect(hits.silent).toBeGreaterThan(0);
  });

  it('at the cloud metadata address fails as EndpointNotAllowed', async () => {
    const message = await failsWith(SITES.metadata, 'EndpointNotAllowed');
    expect(message).toContain('169.254.169.254, a link-local address the operator does not allow');
    expectNoCredential(message);
  });

  it('on IPv6 loopback, which the operator does not allow, fails as EndpointNotAllowed and the server sees nothing', async () => {
    const message = await failsWith(SITES.loopbackV6, 'EndpointNotAllowed');
    expect(message).toContain('::1, a loopback address');
    expectNoCredential(message);
    expect(hits.refusedV6).toBe(0);
  });

  it('leaves the other integration Ready, and still checked on request, while the hostile ones fail', async () => {
    const before = (await integration(`${SITES.healthy}-accuro`)).lastCheckTime ?? '';
    await kubectlOk([
      'annotate',
      '--overwrite',
      '-n',
      ns,
      `emrintegration/${SITES.healthy}-accuro`,
      `cloudconnect.dev/requestedAt=${Date.now()}`,
    ]);
    await eventually(async () => {
      const { lastCheckTime } = await integration(`${SITES.healthy}-accuro`);
      return lastCheckTime !== undefined && lastCheckTime > before;
    }, 'a new check of the healthy integration');
    const healthy = await integration(`${SITES.healthy}-accuro`);
    expect(healthy.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
    expect(healthy.conditions.find((c) => c.type === 'Authenticated')).toMatchObject({ status: 'True' });
    expect(operator.child.exitCode).toBeNull();
    expect(peakRssMiB(operator.child.pid as number)).toBeLessThan(OPERATOR_MEMORY_LIMIT_MIB);
  });
});
