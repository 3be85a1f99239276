// Every access to an SEK is noticed and told to the site's Clinical Administrator: Vault's socket audit device streams to the
// operator, which records a KeyAccessed Event, counts it and e-mails the Clinical Administrator
// through a real SMTP server. The site's own sync role and the operator's intake are not reported.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, kubectlOk, repoRoot } from './kubectl.ts';
import { eventually, freePort, type OperatorProcess, startOperator } from './operator-process.ts';
import { startSmtpSink } from './smtp.ts';
import { vaultRequest } from './vault.ts';

const ns = `it-key-access-${Date.now().toString(36)}`;
const sek = randomBytes(32).toString('base64');
/** The key of a second site, aspen, whose reads serve as a fence in the audit stream. */
const fenceSek = randomBytes(32).toString('base64');
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
const mails = () => smtp.mails;
let operator: OperatorProcess;
let auditPath = '';

const willowMails = () => mails().filter((m) => m.to.includes('admin@willow.example.org'));

async function keyAccessedEvents(): Promise<{ message: string }[]> {
  return JSON.parse(
    await kubectlOk(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=willow,reason=KeyAccessed', '-o', 'json']),
  ).items;
}

beforeAll(async () => {
  smtp = await startSmtpSink();
  const smtpPort = smtp.port;
  const auditPort = await freePort();
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`]);
  await kubectl(['create', 'namespace', ns]);
  operator = await startOperator({
    AUDIT_LISTEN_ADDRESS: `127.0.0.1:${auditPort}`,
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(smtpPort),
    SMTP_FROM: 'cloudconnect@ops.example.org',
  });
  await operator.waitForLog(/receiving Vault audit entries/);
  auditPath = `cc-it-${auditPort}`;
  const enabled = await vaultRequest('PUT', `sys/audit/${auditPath}`, {
    type: 'socket',
    options: { address: `127.0.0.1:${auditPort}`, socket_type: 'tcp', hmac_accessor: 'false' },
  });
  expect(enabled.status).toBeLessThan(300);
});

afterAll(async () => {
  if (auditPath) await vaultRequest('DELETE', `sys/audit/${auditPath}`);
  await operator?.stop();
  await smtp?.stop();
});

describe('an access to the SEK', () => {
  it('is not reported when the operator imports the key or the site sync role reads it', async () => {
    await kubectlOk(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'willow-sek', namespace: ns },
        type: 'cloudconnect.dev/sek-import',
        stringData: { sek },
      }),
    );
    await kubectlOk(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'cloudconnect.dev/v1alpha1',
        kind: 'OceanSite',
        metadata: { name: 'willow', namespace: ns },
        spec: {
          siteNumber: '5150',
          clinicalAdminEmail: 'admin@willow.example.org',
          encryptionKey: { importFrom: { secretRef: { name: 'willow-sek' } } },
          notifications: { additionalRecipients: ['privacy@willow.example.org'] },
        },
      }),
    );
    await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, 'oceansite/willow']);
    const jwt = (await kubectlOk(['create', 'token', 'willow', '-n', ns, '--audience', 'vault'])).trim();
    const login = await vaultRequest('POST', 'auth/kubernetes/login', { role: 'cloudconnect-sync', jwt });
    const own = await vaultRequest('GET', `secret/data/cloudconnect/${ns}/willow/sek`, undefined, login.json!.auth!.client_token);
    expect(own.status).toBe(200);
    // A fence: someone else reads another site's key, after the reads above. Vault writes its audit
    // entries in request order to the one socket, and the operator judges them one after another in
    // that order (one queue, manager/audit.ts), so once this read is counted, the import and the sync
    // role's read of willow's key have been judged too.
    await kubectlOk(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'aspen-sek', namespace: ns },
        type: 'cloudconnect.dev/sek-import',
        stringData: { sek: fenceSek },
      }),
    );
    await kubectlOk(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'cloudconnect.dev/v1alpha1',
        kind: 'OceanSite',
        metadata: { name: 'aspen', namespace: ns },
        spec: {
          siteNumber: '5152',
          clinicalAdminEmail: 'admin@aspen.example.org',
          encryptionKey: { importFrom: { secretRef: { name: 'aspen-sek' } } },
        },
      }),
    );
    await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, 'oceansite/aspen']);
    const fence = await vaultRequest('POST', 'auth/token/create', { policies: ['root'], display_name: 'admin-fence', ttl: '10m' });
    await vaultRequest('GET', `secret/data/cloudconnect/${ns}/aspen/sek`, undefined, fence.json!.auth!.client_token);
    const counted = await eventually(async () => {
      const text = await operator.metrics();
      return text.includes(`cloudconnect_sek_access_total{namespace="${ns}",site="aspen",accessor_type="token"} 1`) ? text : undefined;
    }, 'the fence read of aspen counted');
    expect(counted).not.toContain(`cloudconnect_sek_access_total{namespace="${ns}",site="willow"`);
    expect(await keyAccessedEvents()).toEqual([]);
    // Other test files' leftovers may mail their own sites; none may be about willow.
    expect(willowMails()).toEqual([]);
  });

  it('by anyone else gives an Event, a metric and an e-mail to the Clinical Administrator, without the key', async () => {
    // An administrator with a token of their own (the operator's token is the dev root token).
    const admin = await vaultRequest('POST', 'auth/token/create', { policies: ['root'], display_name: 'admin-alice', ttl: '10m' });
    const read = await vaultRequest('GET', `secret/data/cloudconnect/${ns}/willow/sek`, undefined, admin.json!.auth!.client_token);
    expect(read.status).toBe(200);
    const events = await eventually(async () => {
      const e = await keyAccessedEvents();
      return e.length > 0 ? e : undefined;
    }, 'a KeyAccessed event');
    expect(events[0]!.message).toMatch(/read of the Shared Encryption Key by token-admin-alice/);
    const mail = await eventually(async () => willowMails()[0], 'an e-mail');
    expect(mail.to.sort()).toEqual(['admin@willow.example.org', 'privacy@willow.example.org']);
    expect(mail.body).toContain('Ocean site 5150');
    expect(await operator.metrics()).toMatch(
      new RegExp(`cloudconnect_sek_access_total\\{namespace="${ns}",site="willow",accessor_type="token"\\} 1`),
    );
    const everything = [
      operator.output(),
      await operator.metrics(),
      JSON.stringify(events),
      willowMails()
        .map((m) => m.body)
        .join('\n'),
    ].join('\n');
    expect(everything).not.toContain(sek);
  });
});
