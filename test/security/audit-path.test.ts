// The audit path against the real Vault, operator process and SMTP server. Vault's socket audit device
// reaches the operator over TCP on loopback with an allow list of one address (127.0.0.1), and the
// operator catches up from a file audit device of Vault's own (hmac_accessor=false) with a state file.
// The attacker is another local process: it connects from 127.0.0.2 (also loopback on Linux, but not
// Vault's address) with a forged line, or from the allowed address with a line that never ends.
// Then what the attacks must not lose: a read while the operator is stopped is reported once after it
// restarts, and every KV v2 operation that changes or destroys a key by a foreign token is reported.
// Last, the mode a single host should use: Vault delivers through a unix socket only its user can open.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apply } from '../integration/fixtures.ts';
import { kubectl, kubectlOk, repoRoot } from '../integration/kubectl.ts';
import { eventually, freePort, type OperatorProcess, startOperator } from '../integration/operator-process.ts';
import { type ReceivedMail, startSmtpSink } from '../integration/smtp.ts';
import { vaultRequest } from '../integration/vault.ts';

const id = Date.now().toString(36);
const ns = `sec-audit-${id}`;
/** birch: reads (forged, while the operator is down); cedar: changes and destruction; aspen: fence reads. */
const SITES = ['birch', 'cedar', 'aspen'] as const;
type Site = (typeof SITES)[number];
const keyPath = (site: Site) => `cloudconnect/${ns}/${site}/sek`;
const FILE_DEVICE = `cc-sec-file-${id}`;
const TCP_DEVICE = `cc-sec-tcp-${id}`;
const UNIX_DEVICE = `cc-sec-unix-${id}`;
/** A kubernetes-auth role for the operator whose tokens live 5 s, so that it logs in again and again. */
const SHORT_LOGIN_ROLE = `cc-sec-audit-op-${id}`;
const MiB = 1024 * 1024;

let dir = '';
let logFile = '';
let stateFile = '';
let auditPort = 0;
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
let operator: OperatorProcess | undefined;
let fences = 0;

function startAuditedOperator(env: Record<string, string> = {}): Promise<OperatorProcess> {
  return startOperator({
    AUDIT_LISTEN_ADDRESS: `127.0.0.1:${auditPort}`,
    AUDIT_ALLOWED_PEERS: '127.0.0.1',
    AUDIT_MAX_LINE_BYTES: '65536',
    AUDIT_LOG_FILE: logFile,
    AUDIT_STATE_FILE: stateFile,
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(smtp.port),
    SMTP_FROM: 'cloudconnect@ops.example.org',
    ...env,
  });
}

async function keyAccessed(site: Site): Promise<{ message: string; metadata: { name: string } }[]> {
  const json = await kubectlOk([
    'get',
    'events',
    '-n',
    ns,
    '--field-selector',
    `involvedObject.name=${site},reason=KeyAccessed`,
    '-o',
    'json',
  ]);
  return JSON.parse(json).items;
}

const mailsTo = (site: Site): ReceivedMail[] => smtp.mails.filter((m) => m.to.includes(`admin@${site}.example.org`));

/** A token of someone who is neither the operator nor a site (an administrator's, a stolen one). */
async function foreignToken(name: string): Promise<string> {
  const created = await vaultRequest('POST', 'auth/token/create', { policies: ['root'], display_name: name, ttl: '10m' });
  const token = created.json?.auth?.client_token;
  if (!token) throw new Error(`no token: ${JSON.stringify(created.json)}`);
  return token;
}

/**
 * A foreign read of aspen's key, waited for until it is reported. Entries are judged in the order they
 * arrive, so every entry that reached the operator before the fence has been judged once it is
 * reported; then the file catch-up is waited for past the fence too (its entries come in log order).
 */
async function fence(): Promise<void> {
  fences += 1;
  const before = (await keyAccessed('aspen')).length;
  await vaultRequest('GET', `secret/data/${keyPath('aspen')}`, undefined, await foreignToken(`fence-${fences}`));
  await eventually(async () => (await keyAccessed('aspen')).length > before, `fence ${fences} reported`);
  await fileCaughtUp();
}

/** Waits until the operator's saved position in the file log is past everything Vault has written so far. */
async function fileCaughtUp(): Promise<void> {
  const size = statSync(logFile).size;
  await eventually(async () => {
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { offset: number };
    return state.offset >= size;
  }, 'the file audit log caught up');
}

async function metric(op: OperatorProcess, pattern: RegExp): Promise<number> {
  const match = pattern.exec(await op.metrics());
  return match ? Number(match[1]) : 0;
}

const rssBytes = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

function connectFrom(localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: auditPort, localAddress }, () => resolve(socket));
    socket.once('error', reject);
  });
}

async function enableDevice(path: string, type: string, options: Record<string, string>): Promise<void> {
  const enabled = await vaultRequest('PUT', `sys/audit/${path}`, { type, options: { ...options, hmac_accessor: 'false' } });
  expect(enabled.status, JSON.stringify(enabled.json)).toBeLessThan(300);
}

beforeAll(async () => {
  smtp = await startSmtpSink();
  dir = mkdtempSync(join(tmpdir(), 'cc-sec-audit-'));
  logFile = join(dir, 'vault-audit.log');
  stateFile = join(dir, 'audit-state.json');
  auditPort = await freePort();
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`]);
  await kubectl(['create', 'namespace', ns]);
  // The file device first: the operator's first start begins at the end of an existing log.
  await enableDevice(FILE_DEVICE, 'file', { file_path: logFile });
  operator = await startAuditedOperator();
  await operator.waitForLog(/caught up with the Vault audit log/);
  await enableDevice(TCP_DEVICE, 'socket', { address: `127.0.0.1:${auditPort}`, socket_type: 'tcp' });
  for (const site of SITES) {
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${site}-sek`, namespace: ns },
      type: 'cloudconnect.dev/sek-import',
      stringData: { sek: randomBytes(32).toString('base64') },
    });
    await apply({
      apiVersion: 'cloudconnect.dev/v1alpha1',
      kind: 'OceanSite',
      metadata: { name: site, namespace: ns },
      spec: {
        siteNumber: '7100',
        clinicalAdminEmail: `admin@${site}.example.org`,
        encryptionKey: { importFrom: { secretRef: { name: `${site}-sek` } } },
      },
    });
  }
  for (const site of SITES) await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, `oceansite/${site}`]);
});

afterAll(async () => {
  for (const device of [TCP_DEVICE, UNIX_DEVICE, FILE_DEVICE]) await vaultRequest('DELETE', `sys/audit/${device}`);
  await vaultRequest('DELETE', `auth/kubernetes/role/${SHORT_LOGIN_ROLE}`);
  await operator?.stop();
  await smtp?.stop();
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the audit listener', () => {
  it('refuses a forged line from a peer that is not Vault: no KeyAccessed Event, no metric, no e-mail', async () => {
    const op = operator as OperatorProcess;
    const forged = {
      type: 'request',
      time: new Date().toISOString(),
      auth: { accessor: 'x', display_name: 'FORGED-urgent call 555-0100 to keep your key' },
      request: { id: `forged-${id}`, path: `secret/data/${keyPath('birch')}`, operation: 'read' },
    };
    const attacker = await connectFrom('127.0.0.2');
    attacker.on('error', () => undefined);
    attacker.end(`${JSON.stringify(forged)}\n`);
    await eventually(
      async () => (await metric(op, /cloudconnect_vault_audit_dropped_total\{source="socket",reason="peer"\} (\d+)/)) >= 1,
      'the forged connection refused',
    );
    await fence();
    expect(await keyAccessed('birch')).toEqual([]);
    expect(mailsTo('birch')).toEqual([]);
    expect(await op.metrics()).not.toContain(`site="birch"`);
    const everything = [op.output(), JSON.stringify(smtp.mails), await kubectlOk(['get', 'events', '-n', ns, '-o', 'json'])].join('\n');
    expect(everything).not.toContain('FORGED');
  });

  it("does not grow the operator's memory (RSS) with a line that never ends, and keeps reporting real accesses", async () => {
    const op = operator as OperatorProcess;
    const pid = op.child.pid as number;
    const baseline = rssBytes(pid);
    let peak = baseline;
    // From the allowed address: the worst case, a peer the allow list cannot tell from Vault.
    const endless = await connectFrom('127.0.0.1');
    endless.on('error', () => undefined);
    const chunk = Buffer.alloc(MiB, 'x');
    for (let sent = 0; sent < 512; sent++) {
      if (!endless.write(chunk)) await new Promise((r) => endless.once('drain', r));
      if (sent % 16 === 0) peak = Math.max(peak, rssBytes(pid));
    }
    await eventually(
      async () => (await metric(op, /cloudconnect_vault_audit_dropped_total\{source="socket",reason="oversized"\} (\d+)/)) === 1,
      'the endless line counted as oversized',
    );
    peak = Math.max(peak, rssBytes(pid));
    endless.destroy();
    // 512 MiB went in without a newline; the operator held at most its 64 KiB line limit of it.
    // Measured here: about 100 MiB above the baseline (read buffers awaiting collection), the same
    // for 1 GiB sent. The listener before the limit (readline) held the whole line and died on it
    // ("RangeError: Invalid string length") before the 512 MiB were in.
    expect(peak - baseline, `RSS from ${baseline / MiB} MiB to a peak of ${peak / MiB} MiB`).toBeLessThan(192 * MiB);
    expect(op.child.exitCode).toBeNull();
    await fence();
    expect(await keyAccessed('birch')).toEqual([]);
  });
});

describe('a read of a key while the operator is stopped', () => {
  it('is reported once after it restarts, from the file audit log, and a read reported before is not reported again', async () => {
    await vaultRequest('GET', `secret/data/${keyPath('birch')}`, undefined, await foreignToken('before-stop'));
    await eventually(async () => (await keyAccessed('birch')).length === 1, 'the read before the stop reported');
    await fileCaughtUp();
    await operator?.stop();
    operator = undefined;
    const whileDown = await vaultRequest('GET', `secret/data/${keyPath('birch')}`, undefined, await foreignToken('while-down'));
    expect(whileDown.status).toBe(200);
    operator = await startAuditedOperator();
    await operator.waitForLog(/caught up with the Vault audit log/);
    await fence();
    await fence();
    const events = await keyAccessed('birch');
    expect(events.map((e) => e.message).filter((m) => m.includes('token-while-down'))).toHaveLength(1);
    expect(events.map((e) => e.message).filter((m) => m.includes('token-before-stop'))).toHaveLength(1);
    expect(events).toHaveLength(2);
    expect(mailsTo('birch').filter((m) => m.body.includes('token-while-down'))).toHaveLength(1);
    expect(mailsTo('birch')).toHaveLength(2);
    expect(
      await metric(operator, new RegExp(`cloudconnect_sek_access_total\\{namespace="${ns}",site="birch",accessor_type="token"\\} (\\d+)`)),
    ).toBe(1);
  });
});

describe('a foreign token that changes or destroys a key', () => {
  it('is reported for a patch, a soft delete, an undelete, a destroy, a metadata update and a metadata delete, each with its operation', async () => {
    const token = await foreignToken('mallory');
    const path = keyPath('cedar');
    // A PATCH needs the merge-patch content type, which vaultRequest does not send.
    const patched = await fetch(`${inject('cluster').vaultAddr}/v1/secret/data/${path}`, {
      method: 'PATCH',
      headers: { 'X-Vault-Token': token, 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ data: { note: 'patched' } }),
    });
    expect(patched.status).toBe(200);
    const steps: [string, string, unknown][] = [
      ['DELETE', `secret/data/${path}`, undefined],
      ['POST', `secret/undelete/${path}`, { versions: [2] }],
      ['POST', `secret/destroy/${path}`, { versions: [1] }],
      ['POST', `secret/metadata/${path}`, { max_versions: 5 }],
      ['DELETE', `secret/metadata/${path}`, undefined],
    ];
    for (const [method, p, body] of steps) expect((await vaultRequest(method, p, body, token)).status).toBeLessThan(300);
    await fence();
    const messages = (await keyAccessed('cedar')).map((e) => e.message);
    const expected = [
      'patch (a new version)',
      'soft delete (undoable)',
      'undelete',
      'destroy (permanent)',
      'change of the version settings (metadata)',
      'permanent deletion of every version and the metadata',
    ];
    for (const words of expected) {
      expect(messages.filter((m) => m.startsWith(`${words} of the Shared Encryption Key by token-mallory`))).toHaveLength(1);
    }
    expect(messages).toHaveLength(expected.length);
    expect(mailsTo('cedar')).toHaveLength(expected.length);
  });
});

/** The accessors of the operator role's logins, in the order Vault wrote them to the file log. */
function loginAccessors(role: string): string[] {
  const accessors: string[] = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('auth/kubernetes/login') || !line.includes(role)) continue;
    const entry = JSON.parse(line) as { type: string; auth?: { accessor?: string; metadata?: { role?: string } } };
    const accessor = entry.auth?.accessor;
    if (entry.type === 'response' && entry.auth?.metadata?.role === role && accessor) accessors.push(accessor);
  }
  return accessors;
}

describe("the operator's own requests", () => {
  it('are not reported after its Vault login renewed (a new accessor each login), while a foreign write is', async () => {
    const sa = 'cc-audit-operator';
    const role = SHORT_LOGIN_ROLE;
    await kubectlOk(['create', 'serviceaccount', sa, '-n', ns]);
    // The chart's operator policy (written by the tests' Vault setup), on a login that lasts 5 s.
    const login = {
      bound_service_account_names: sa,
      bound_service_account_namespaces: ns,
      audience: 'vault',
      policies: ['cloudconnect-operator'],
      ttl: '5s',
    };
    expect((await vaultRequest('POST', `auth/kubernetes/role/${role}`, login)).status).toBe(204);
    const tokenFile = join(dir, 'operator-vault-token');
    writeFileSync(tokenFile, await kubectlOk(['create', 'token', sa, '-n', ns, '--audience=vault', '--duration=1h']), { mode: 0o600 });
    await operator?.stop();
    operator = await startAuditedOperator({
      VAULT_TOKEN: '',
      VAULT_ROLE: role,
      VAULT_AUTH_MOUNT: 'kubernetes',
      VAULT_SA_TOKEN_FILE: tokenFile,
    });
    await operator.waitForLog(/caught up with the Vault audit log/);
    const before = new Set((await keyAccessed('birch')).map((e) => e.metadata.name));
    // Each check of the key logs in again once the 5 s token is 80 % through its life.
    let asked = 0;
    const askAgain = () => {
      asked += 1;
      return kubectlOk(['annotate', '--overwrite', '-n', ns, 'oceansite/birch', `cloudconnect.dev/requestedAt=relogin-${asked}`]);
    };
    await eventually(async () => {
      await askAgain();
      return loginAccessors(role).length >= 2;
    }, 'a second login of the operator');
    const first = loginAccessors(role)[0];
    // Someone rotates the key by hand; the operator then reads the new version under a later login.
    const written = await vaultRequest(
      'POST',
      `secret/data/${keyPath('birch')}`,
      { data: { sek: randomBytes(32).toString('base64') } },
      await foreignToken('rotator'),
    );
    expect(written.status).toBe(200);
    const version = written.json?.data?.version;
    await eventually(async () => {
      await askAgain();
      const site = JSON.parse(await kubectlOk(['get', 'oceansite', 'birch', '-n', ns, '-o', 'json']));
      return site.status?.encryptionKey?.version === version;
    }, 'the operator read the new version');
    await fence();
    const ownReads = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes(`"path":"secret/data/${keyPath('birch')}"`) && l.includes('"operation":"read"') && l.includes(role))
      .map((l) => (JSON.parse(l) as { auth: { accessor: string } }).auth.accessor);
    expect(ownReads.some((a) => a !== first)).toBe(true);
    // Events are listed by name, not by time: the new ones are those not seen before.
    const added = (await keyAccessed('birch')).filter((e) => !before.has(e.metadata.name)).map((e) => e.message);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/^write of a new version of the Shared Encryption Key by token-rotator/);
  });
});

describe('on one host, through a unix socket', () => {
  it('Vault delivers through a socket only its user can open (0600), and a read is reported', async () => {
    await operator?.stop();
    const socketPath = join(dir, 'audit.sock');
    operator = await startOperator({
      AUDIT_LISTEN_ADDRESS: `unix:${socketPath}`,
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
    });
    await operator.waitForLog(/receiving Vault audit entries/);
    const socket = statSync(socketPath);
    expect(socket.isSocket()).toBe(true);
    expect(socket.mode & 0o777).toBe(0o600);
    expect(socket.uid).toBe(process.getuid?.());
    await enableDevice(UNIX_DEVICE, 'socket', { address: socketPath, socket_type: 'unix' });
    await vaultRequest('GET', `secret/data/${keyPath('aspen')}`, undefined, await foreignToken('via-unix'));
    await eventually(
      async () => (await keyAccessed('aspen')).some((e) => e.message.includes('token-via-unix')),
      'the read through the unix socket reported',
    );
  });
});
