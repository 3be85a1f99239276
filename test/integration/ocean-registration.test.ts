// The Ocean side of a site, against the shared cluster, Vault, a real nats-server, the Ocean
// simulator (https, test CA) and the operator process: the OceanSite's Ocean client
// (spec.ocean.credentialsSecretRef) checked into OceanAuthenticated (good, wrong, missing, expiring,
// e-mailed once), and the relay's webhook registered with Ocean with the exact key the relay accepts
// (the one in Vault), updated after a key rotation and a URL change, removed after the deletion.
// What is asserted is what the Ocean simulator STORED. No client secret nor webhook key reaches the
// operator's logs, Events, status or metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leakedForms } from '../security/leak-forms.ts';
import { ACCURO_DEV_CREDENTIALS, type AccuroSimulator, start as startAccuro } from '../simulators/accuro.ts';
import { type OceanSimulator, start as startOcean } from '../simulators/ocean.ts';
import { importedSite } from './fixtures.ts';
import { kubectl, kubectlOk, repoRoot } from './kubectl.ts';
import { type NatsServer, startNatsServer } from './nats.ts';
import { eventually, everythingWritten, type OperatorProcess, startOperator } from './operator-process.ts';
import { startSmtpSink } from './smtp.ts';
import { makeTestTls } from './tls.ts';
import { vaultRequest } from './vault.ts';

const ns = `it-oceanreg-${Date.now().toString(36)}`;
const SITE = 'cedar';
const SITE_NUMBER = '5150';
const INTEGRATION = 'cedar-accuro';
const URL_1 = 'https://cedar.example.org/ocean/webhook';
const URL_2 = 'https://relay.cedar.example.org/ocean/webhook';
const OCEAN_CLIENT = {
  clientId: `cedar-client-${Date.now().toString(36)}`,
  clientSecret: `cedar-secret-${Math.random().toString(36).slice(2)}-x9`,
};
const KEY_PATH = `secret/data/cloudconnect/${ns}/${SITE}/relay/${INTEGRATION}`;
const webhookKeys = new Set<string>();

let ocean: OceanSimulator;
let accuro: AccuroSimulator;
let nats: NatsServer;
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
let operator: OperatorProcess;

const apply = (obj: object) => kubectlOk(['apply', '-f', '-'], JSON.stringify(obj));
const oceanSecret = (data: Record<string, string>) =>
  apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cedar-ocean', namespace: ns }, stringData: data });

interface Obj {
  metadata: { finalizers?: string[] };
  status?: {
    conditions?: { type: string; status: string; reason: string; message: string }[];
    ocean?: Record<string, string>;
    webhook?: {
      keyVersion?: number;
      registration?: { id: string; url: string; keyHeader?: string; keyVersion: number; lastVerified?: string };
    };
  };
}
const get = async (kind: string, name: string): Promise<Obj> => JSON.parse(await kubectlOk(['get', kind, name, '-n', ns, '-o', 'json']));
const waitCondition = (kind: string, name: string, type: string, status: string, reason: string) =>
  eventually(async () => {
    const c = (await get(kind, name)).status?.conditions?.find((x) => x.type === type);
    return c?.status === status && c.reason === reason ? c : undefined;
  }, `${kind}/${name} ${type}=${status} (${reason})`);

/** The relay's current webhook key in Vault (what the relay accepts) and its KV version. */
async function vaultKey(): Promise<{ current: string; version: number }> {
  const r = await vaultRequest('GET', KEY_PATH);
  const data = r.json?.data as { data: { current: string; previous?: string; idSalt?: string }; metadata: { version: number } };
  for (const v of [data.data.current, data.data.previous, data.data.idSalt]) if (v) webhookKeys.add(v);
  return { current: data.data.current, version: data.metadata.version };
}

const integration = (publicUrl: string) => ({
  apiVersion: 'cloudconnect.dev/v1alpha1',
  kind: 'EmrIntegration',
  metadata: { name: INTEGRATION, namespace: ns },
  spec: {
    siteRef: { name: SITE },
    emr: {
      type: 'Accuro',
      accuro: { tenantId: accuro.tenantId, apiUrl: accuro.url, credentialsSecretRef: { name: 'accuro-creds' } },
      caBundleSecretRef: { name: 'sim-ca' },
    },
    webhook: { publicUrl, previousKeyGracePeriod: '1h' },
  },
});

let token = 0;
const recheckSite = () => kubectlOk(['annotate', '--overwrite', '-n', ns, `oceansite/${SITE}`, `cloudconnect.dev/requestedAt=o${++token}`]);

beforeAll(async () => {
  const tls = makeTestTls();
  [ocean, accuro, nats, smtp] = await Promise.all([
    startOcean({ tls: { cert: tls.cert, key: tls.key }, credentials: OCEAN_CLIENT, siteNumbers: [SITE_NUMBER] }),
    startAccuro({ tls: { cert: tls.cert, key: tls.key }, volume: { providers: 1, patients: 2, appointmentsPerDay: 1, days: 1 } }),
    startNatsServer({ name: 'ocean-registration' }),
    startSmtpSink(),
  ]);
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`]);
  await kubectl(['create', 'namespace', ns]);
  await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sim-ca', namespace: ns }, stringData: { 'ca.crt': tls.ca } });
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'accuro-creds', namespace: ns },
    stringData: { ...ACCURO_DEV_CREDENTIALS },
  });
  await oceanSecret(OCEAN_CLIENT);
  const [sekSecret, site] = importedSite({ namespace: ns, name: SITE, siteNumber: SITE_NUMBER }) as [
    object,
    { spec: Record<string, unknown> },
  ];
  await apply(sekSecret);
  await apply({ ...site, spec: { ...site.spec, ocean: { credentialsSecretRef: { name: 'cedar-ocean' } } } });
  operator = await startOperator({
    ...(await nats.operatorEnv()),
    OCEAN_API_URL: ocean.url,
    OCEAN_CA_BUNDLE: tls.ca,
    RELAY_IMAGE: 'registry.example.org/cloudconnect:relay-test',
    RELAY_STATUS_POLL_INTERVAL: '1s',
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(smtp.port),
    SMTP_FROM: 'cloudconnect@example.org',
  });
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, `oceansite/${SITE}`]);
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  await nats?.dispose();
  await smtp?.stop();
  await ocean?.stop();
  await accuro?.stop();
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
});

describe("an OceanSite's Ocean client", () => {
  it('is OceanAuthenticated with the client of spec.ocean.credentialsSecretRef, beside a Ready site', async () => {
    const c = await waitCondition('oceansite', SITE, 'OceanAuthenticated', 'True', 'Authenticated');
    expect(c.message).toMatch(/Ocean accepted the client/);
    expect((await get('oceansite', SITE)).status?.ocean?.lastCheckTime).toBeDefined();
    expect(ocean.requests.some((r) => r.path === '/svc/oauth2/token')).toBe(true);
  });

  it('turns False InvalidCredentials for a wrong secret, e-mails once, and recovers when the Secret is fixed', async () => {
    const before = smtp.mails.length;
    await oceanSecret({ ...OCEAN_CLIENT, clientSecret: 'not-the-cedar-secret' });
    await waitCondition('oceansite', SITE, 'OceanAuthenticated', 'False', 'InvalidCredentials');
    // Ready stays: the site's SEK is fine; the Ocean client is reported beside it.
    await waitCondition('oceansite', SITE, 'Ready', 'True', 'Succeeded');
    const mail = await eventually(
      async () => smtp.mails.slice(before).find((m) => /Ocean credentials are not working/.test(m.subject)),
      'the e-mail',
    );
    expect(mail.to).toContain(`admin@${SITE}.example.org`);
    await recheckSite();
    await new Promise((r) => setTimeout(r, 1500));
    expect(smtp.mails.slice(before).filter((m) => /Ocean credentials are not working/.test(m.subject))).toHaveLength(1);
    await oceanSecret(OCEAN_CLIENT);
    await waitCondition('oceansite', SITE, 'OceanAuthenticated', 'True', 'Authenticated');
  });

  it('names the missing key of an incomplete Secret', async () => {
    await oceanSecret({ clientId: OCEAN_CLIENT.clientId, clientSecret: '' });
    const c = await waitCondition('oceansite', SITE, 'OceanAuthenticated', 'False', 'MissingKeys');
    expect(c.message).toMatch(/clientSecret/);
    await oceanSecret(OCEAN_CLIENT);
    await waitCondition('oceansite', SITE, 'OceanAuthenticated', 'True', 'Authenticated');
  });

  it('says ExpiresSoon when Ocean reports the client secret expires within renewBefore, and OceanUnreachable when Ocean fails', async () => {
    const notAfter = new Date(Date.now() + 2 * 24 * 3600_000);
    ocean.setFault({ credentialNotAfter: notAfter.toISOString() });
    await recheckSite();
    const c = await waitCondition('oceansite', SITE, 'OceanAuthenticated', 'True', 'ExpiresSoon');
    expect(c.message).toContain(new Date(Math.floor(notAfter.getTime() / 1000) * 1000).toISOString());
    await eventually(async () => smtp.mails.find((m) => /Ocean credentials expire soon/.test(m.subject)), 'the expiry e-mail');
    ocean.setFault({ credentialNotAfter: null, serverError: 503 });
    await recheckSite();
    await waitCondition('oceansite', SITE, 'OceanAuthenticated', 'False', 'OceanUnreachable');
    ocean.clearFaults();
    await recheckSite();
    await waitCondition('oceansite', SITE, 'OceanAuthenticated', 'True', 'Authenticated');
  });

  it('says SecretNotFound for a Secret that does not exist', async () => {
    await kubectlOk(['apply', '-f', '-'], JSON.stringify(importedSite({ namespace: ns, name: 'elm', siteNumber: '5151' })[0]));
    const [, elm] = importedSite({ namespace: ns, name: 'elm', siteNumber: '5151' }) as [object, { spec: Record<string, unknown> }];
    await apply({ ...elm, spec: { ...elm.spec, ocean: { credentialsSecretRef: { name: 'no-such-secret' } } } });
    await waitCondition('oceansite', 'elm', 'OceanAuthenticated', 'False', 'SecretNotFound');
  });
});

describe("the relay's webhook registration with Ocean", () => {
  it('registers spec.webhook.publicUrl with the exact key the relay accepts, in the key header, for new referrals', async () => {
    await apply(integration(URL_1));
    await waitCondition('emrintegration', INTEGRATION, 'WebhookRegistered', 'True', 'Registered');
    const key = await vaultKey();
    expect(ocean.integrations).toHaveLength(1);
    const stored = ocean.integrations[0];
    expect(stored).toMatchObject({
      siteNumber: SITE_NUMBER,
      clientId: OCEAN_CLIENT.clientId,
      name: `Cloud Connect ${ns}/${INTEGRATION}`,
      type: 'eReferrals',
      requestUrl: URL_1,
      payloadType: 'Cloud Connect v1',
      authentication: { type: 'apiKey', headerName: 'Referral-Integration-API-Key', key: key.current },
      sendCopyOfNewReferrals: true,
    });
    const obj = await get('emrintegration', INTEGRATION);
    expect(obj.metadata.finalizers).toContain('cloudconnect.dev/ocean-webhook');
    expect(obj.status?.webhook?.registration).toMatchObject({ id: stored?.id, url: URL_1, keyVersion: key.version });
    expect(obj.status?.webhook?.registration?.lastVerified).toBeDefined();
    expect(obj.status?.webhook?.keyVersion).toBe(key.version);
  });

  it('updates the same registration with the new key after a key rotation', async () => {
    const before = await vaultKey();
    const id = ocean.integrations[0]?.id;
    await kubectlOk(['annotate', '--overwrite', '-n', ns, `emrintegration/${INTEGRATION}`, 'cloudconnect.dev/rotateWebhookKeyAt=r1']);
    const after = await eventually(async () => {
      const k = await vaultKey();
      return k.version > before.version ? k : undefined;
    }, 'the rotated key in Vault');
    expect(after.current).not.toBe(before.current);
    await eventually(async () => ocean.integrations[0]?.authentication.key === after.current, 'the new key registered with Ocean');
    expect(ocean.integrations.map((r) => r.id)).toEqual([id]);
    await eventually(
      async () => (await get('emrintegration', INTEGRATION)).status?.webhook?.registration?.keyVersion === after.version,
      'status.webhook.registration.keyVersion',
    );
  });

  it('updates the registration when the public URL changes', async () => {
    await kubectlOk([
      'patch',
      'emrintegration',
      INTEGRATION,
      '-n',
      ns,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { webhook: { publicUrl: URL_2 } } }),
    ]);
    await eventually(async () => ocean.integrations.length === 1 && ocean.integrations[0]?.requestUrl === URL_2, 'the new URL in Ocean');
    await eventually(async () => (await get('emrintegration', INTEGRATION)).status?.webhook?.registration?.url === URL_2, 'status URL');
  });

  it('registers again, at a requested check, when the registration was removed in the Ocean Portal', async () => {
    const old = ocean.integrations[0]?.id;
    ocean.integrations.length = 0; // what removing it in the portal leaves
    await kubectlOk(['annotate', '--overwrite', '-n', ns, `emrintegration/${INTEGRATION}`, 'cloudconnect.dev/requestedAt=verify-1']);
    const again = await eventually(async () => ocean.integrations[0], 'a new registration');
    expect(again.id).not.toBe(old);
    expect(again).toMatchObject({ requestUrl: URL_2, authentication: { key: (await vaultKey()).current } });
    await eventually(
      async () => (await get('emrintegration', INTEGRATION)).status?.webhook?.registration?.id === again.id,
      'the new id in status',
    );
    expect(ocean.integrations).toHaveLength(1);
  });

  it('is removed from Ocean when the integration is deleted, and the integration goes', async () => {
    await kubectlOk(['delete', 'emrintegration', INTEGRATION, '-n', ns, '--timeout=60s']);
    expect(ocean.integrations).toEqual([]);
    const gone = await kubectl(['get', 'emrintegration', INTEGRATION, '-n', ns]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/NotFound/);
  });

  it('keeps the integration while Ocean cannot be reached to deregister it, and lets it go once Ocean answers', async () => {
    await apply(integration(URL_1));
    await waitCondition('emrintegration', INTEGRATION, 'WebhookRegistered', 'True', 'Registered');
    expect(ocean.integrations.map((r) => r.requestUrl)).toEqual([URL_1]);
    // Ocean answers 503 to everything, its token endpoint included.
    const refused = () => ocean.requests.filter((r) => r.status === 503).length;
    const before = refused();
    ocean.setFault({ serverError: 503 });
    await kubectlOk(['delete', 'emrintegration', INTEGRATION, '-n', ns, '--wait=false']);
    await eventually(async () => refused() >= before + 2, 'two refused deregistration attempts');
    expect((await get('emrintegration', INTEGRATION)).metadata.finalizers).toContain('cloudconnect.dev/ocean-webhook');
    expect(ocean.integrations).toHaveLength(1);
    ocean.clearFaults();
    await eventually(async () => (await kubectl(['get', 'emrintegration', INTEGRATION, '-n', ns])).code !== 0, 'the integration gone');
    expect(ocean.integrations).toEqual([]);
  });

  it('lets a deleted integration go with a WebhookNotDeregistered Event when the Ocean client is gone', async () => {
    await apply(integration(URL_1));
    await waitCondition('emrintegration', INTEGRATION, 'WebhookRegistered', 'True', 'Registered');
    const id = ocean.integrations[0]?.id ?? '';
    await kubectlOk(['delete', 'secret', 'cedar-ocean', '-n', ns]);
    await kubectlOk(['delete', 'emrintegration', INTEGRATION, '-n', ns, '--timeout=60s']);
    const events = await kubectlOk(['get', 'events', '-n', ns, '--field-selector', 'reason=WebhookNotDeregistered', '-o', 'json']);
    const messages = (JSON.parse(events) as { items: { message: string }[] }).items.map((e) => e.message);
    expect(messages.some((m) => m.includes(id) && /Remove it in the Ocean Portal/.test(m))).toBe(true);
    // Honest: Ocean still has it; the Event says so.
    expect(ocean.integrations.map((r) => r.id)).toEqual([id]);
    await oceanSecret(OCEAN_CLIENT);
  });

  it('never shows the Ocean client secret or a webhook key in logs, Events, status or metrics', async () => {
    const written = await everythingWritten(operator, ns, kubectlOk);
    expect(webhookKeys.size).toBeGreaterThan(1);
    for (const secret of [OCEAN_CLIENT.clientSecret, ...webhookKeys]) expect(leakedForms(written, secret)).toEqual([]);
  });
});
