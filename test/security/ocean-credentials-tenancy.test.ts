// A hostile clinic tries to use another clinic's Ocean client (OceanSite spec.ocean.credentialsSecretRef)
// against the real apiserver, Vault, nats-server, the Ocean simulator and the operator process: its
// OceanSite names the victim's Secret by name and claims the victim's site number, and its
// EmrIntegration asks the operator to register the attacker's URL with Ocean. References are
// same-namespace only (the field has no namespace, and one given is refused at admission), so the
// operator looks in the attacker's namespace, finds nothing, calls Ocean with nothing, and registers
// nothing. The victim is untouched: its Secret (same resourceVersion and data), its Ocean
// registration (one, with its URL and key), its OceanAuthenticated condition.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importedSite } from '../integration/fixtures.ts';
import { kubectl, kubectlOk, repoRoot } from '../integration/kubectl.ts';
import { type NatsServer, startNatsServer } from '../integration/nats.ts';
import { eventually, type OperatorProcess, startOperator } from '../integration/operator-process.ts';
import { makeTestTls } from '../integration/tls.ts';
import { vaultRequest } from '../integration/vault.ts';
import { ACCURO_DEV_CREDENTIALS, type AccuroSimulator, start as startAccuro } from '../simulators/accuro.ts';
import { type OceanSimulator, start as startOcean } from '../simulators/ocean.ts';

const id = Date.now().toString(36);
const VICTIM = `ocean-victim-${id}`;
const ATTACKER = `ocean-attacker-${id}`;
const SITE_NUMBER = '7070';
const VICTIM_URL = 'https://victim.example.org/ocean/webhook';
const ATTACKER_URL = 'https://attacker.example.org/ocean/webhook';
const VICTIM_CLIENT = { clientId: `victim-client-${id}`, clientSecret: `victim-secret-${id}-q7` };

let ocean: OceanSimulator;
let accuro: AccuroSimulator;
let nats: NatsServer;
let operator: OperatorProcess;

const apply = (obj: object) => kubectlOk(['apply', '-f', '-'], JSON.stringify(obj));
interface Obj {
  metadata: { resourceVersion: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
}
const get = async (kind: string, namespace: string, name: string): Promise<Obj> =>
  JSON.parse(await kubectlOk(['get', kind, name, '-n', namespace, '-o', 'json']));
const waitCondition = (kind: string, namespace: string, name: string, type: string, status: string, reason: string) =>
  eventually(async () => {
    const c = (await get(kind, namespace, name)).status?.conditions?.find((x) => x.type === type);
    return c?.status === status && c.reason === reason ? c : undefined;
  }, `${namespace}/${name} ${type}=${status} (${reason})`);

function site(namespace: string, ocean: Record<string, unknown>): object[] {
  const [sek, s] = importedSite({ namespace, name: 'clinic', siteNumber: SITE_NUMBER }) as [object, { spec: Record<string, unknown> }];
  return [sek, { ...s, spec: { ...s.spec, ocean } }];
}

function integration(namespace: string, publicUrl: string) {
  return {
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name: 'clinic-accuro', namespace },
    spec: {
      siteRef: { name: 'clinic' },
      emr: {
        type: 'Accuro',
        accuro: { tenantId: accuro.tenantId, apiUrl: accuro.url, credentialsSecretRef: { name: 'accuro-creds' } },
        caBundleSecretRef: { name: 'sim-ca' },
      },
      webhook: { publicUrl },
    },
  };
}

async function clinic(namespace: string, ca: string): Promise<void> {
  await kubectl(['create', 'namespace', namespace]);
  await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sim-ca', namespace }, stringData: { 'ca.crt': ca } });
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'accuro-creds', namespace },
    stringData: { ...ACCURO_DEV_CREDENTIALS },
  });
}

let victimSecret: Obj;
let victimKey: string;

beforeAll(async () => {
  const tls = makeTestTls();
  [ocean, accuro, nats] = await Promise.all([
    startOcean({ tls: { cert: tls.cert, key: tls.key }, credentials: VICTIM_CLIENT, siteNumbers: [SITE_NUMBER] }),
    startAccuro({ tls: { cert: tls.cert, key: tls.key }, volume: { providers: 1, patients: 2, appointmentsPerDay: 1, days: 1 } }),
    startNatsServer({ name: 'ocean-tenancy' }),
  ]);
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`]);
  await clinic(VICTIM, tls.ca);
  await clinic(ATTACKER, tls.ca);
  await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ocean-client', namespace: VICTIM }, stringData: VICTIM_CLIENT });
  for (const o of site(VICTIM, { credentialsSecretRef: { name: 'ocean-client' } })) await apply(o);
  operator = await startOperator({
    ...(await nats.operatorEnv()),
    OCEAN_API_URL: ocean.url,
    OCEAN_CA_BUNDLE: tls.ca,
    RELAY_IMAGE: 'registry.example.org/cloudconnect:relay-test',
    RELAY_STATUS_POLL_INTERVAL: '1s',
  });
  await waitCondition('oceansite', VICTIM, 'clinic', 'OceanAuthenticated', 'True', 'Authenticated');
  await apply(integration(VICTIM, VICTIM_URL));
  await waitCondition('emrintegration', VICTIM, 'clinic-accuro', 'WebhookRegistered', 'True', 'Registered');
  const key = await vaultRequest('GET', `secret/data/cloudconnect/${VICTIM}/clinic/relay/clinic-accuro`);
  const stored = key.json?.data as { data: { current: string } } | undefined;
  victimKey = stored?.data.current ?? '';
  expect(victimKey.length).toBeGreaterThan(30);
  victimSecret = await get('secret', VICTIM, 'ocean-client');
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  await nats?.dispose();
  await ocean?.stop();
  await accuro?.stop();
  for (const namespace of [VICTIM, ATTACKER]) await kubectl(['delete', 'namespace', namespace, '--wait=false']);
});

describe("a clinic using another clinic's Ocean client", () => {
  it('cannot name a Secret of another namespace: the reference has no namespace field', async () => {
    const [, s] = site(ATTACKER, { credentialsSecretRef: { name: 'ocean-client', namespace: VICTIM } });
    const refused = await kubectl(['apply', '-f', '-'], JSON.stringify(s));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/unknown field "spec\.ocean\.credentialsSecretRef\.namespace"/);
  });

  it("naming the victim's Secret by name and its site number finds nothing in its own namespace, and Ocean is never asked", async () => {
    const tokenCalls = () => ocean.requests.filter((r) => r.path === '/svc/oauth2/token').length;
    const before = tokenCalls();
    for (const o of site(ATTACKER, { credentialsSecretRef: { name: 'ocean-client' } })) await apply(o);
    const c = await waitCondition('oceansite', ATTACKER, 'clinic', 'OceanAuthenticated', 'False', 'SecretNotFound');
    expect(c.message).toBe('Secret ocean-client named by spec.ocean.credentialsSecretRef does not exist');
    await apply(integration(ATTACKER, ATTACKER_URL));
    const w = await waitCondition('emrintegration', ATTACKER, 'clinic-accuro', 'WebhookRegistered', 'False', 'OceanCredentialsNotFound');
    expect(w.message).not.toContain(VICTIM);
    // The attacker's webhook key exists (its relay is deployed): only the Ocean client is missing.
    expect((await vaultRequest('GET', `secret/data/cloudconnect/${ATTACKER}/clinic/relay/clinic-accuro`)).status).toBe(200);
    expect(ocean.integrations.map((r) => r.requestUrl)).toEqual([VICTIM_URL]);
    expect(tokenCalls()).toBe(before);
  });

  it('an attacker Secret of the same name in its own namespace is its own: Ocean refuses it and nothing is registered', async () => {
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'ocean-client', namespace: ATTACKER },
      stringData: { clientId: VICTIM_CLIENT.clientId, clientSecret: 'guessed-secret-0000' },
    });
    await waitCondition('oceansite', ATTACKER, 'clinic', 'OceanAuthenticated', 'False', 'InvalidCredentials');
    await waitCondition('emrintegration', ATTACKER, 'clinic-accuro', 'WebhookRegistered', 'False', 'InvalidCredentials');
    expect(ocean.integrations.map((r) => r.requestUrl)).toEqual([VICTIM_URL]);
  });

  it('leaves the victim untouched: its Secret, its registration with its own key, its condition', async () => {
    const now = await get('secret', VICTIM, 'ocean-client');
    expect(now.metadata.resourceVersion).toBe(victimSecret.metadata.resourceVersion);
    expect(now.data).toEqual(victimSecret.data);
    expect(ocean.integrations).toHaveLength(1);
    expect(ocean.integrations[0]).toMatchObject({ requestUrl: VICTIM_URL, authentication: { key: victimKey } });
    const c = (await get('oceansite', VICTIM, 'clinic')).status?.conditions?.find((x) => x.type === 'OceanAuthenticated');
    expect([c?.status, c?.reason]).toEqual(['True', 'Authenticated']);
  });
});
