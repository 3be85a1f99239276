// Tenant isolation of the Shared Encryption Key against the real apiserver, Vault and operator. Each
// namespace is a clinic. A hostile tenant tries to reach the victim clinic's key through its own
// OceanSite: name the victim's key path (to get its fingerprint and a Vault grant reading it), the
// same with importFrom (to overwrite it) and with deletionPolicy Delete (to destroy it), a wildcard
// path; its pods log in to Vault as the one sync role and try the victim's key; two sites whose old
// Vault names collided (namespace p + site b-c, namespace p-b + site c) each read only their own key;
// a site named after a ServiceAccount the operator did not make (`default`, a tenant's) is refused; an
// importFrom naming a Secret that is not an import Secret (the EMR credentials) must leave it unread
// and in place. The operator writes no Vault policy or role at all. After each attack the victim's
// key is read with the root token: same KV version, same value.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { OceanSite } from '../../operator/api/v1alpha1/index.ts';
import { apply, importSecretState } from '../integration/fixtures.ts';
import { kubectl, kubectlOk, repoRoot } from '../integration/kubectl.ts';
import { eventually, type OperatorProcess, startOperator } from '../integration/operator-process.ts';
import { vaultRequest } from '../integration/vault.ts';
import { ACCURO_DEV_CREDENTIALS } from '../simulators/accuro.ts';

const id = Date.now().toString(36);
const VICTIM = `victim-${id}`;
const ATTACKER = `attacker-${id}`;
const ATTACKER_IMPORT = `attacker-import-${id}`;
const ATTACKER_DELETE = `attacker-delete-${id}`;
const UNMARKED = `clinic-unmarked-${id}`;
const LEGACY_ATTACKER = `attacker-legacy-${id}`;
const TAKEN = `clinic-taken-${id}`;
const SYNC_ROLE = 'cloudconnect-sync';
/** Namespaces p and p-b: site b-c in the first and site c in the second had the same Vault name in 0.1. */
const P = `coll-${id}`;
const PB = `${P}-b`;
const SITE = 'oak';
const VICTIM_PATH = `cloudconnect/${VICTIM}/${SITE}/sek`;
const victimSek = randomBytes(32).toString('base64');

let operator: OperatorProcess;

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

function oceanSite(namespace: string, name: string, encryptionKey: Record<string, unknown> = {}) {
  return {
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'OceanSite',
    metadata: { name, namespace },
    spec: { siteNumber: '4242', clinicalAdminEmail: `admin@${name}.example.org`, encryptionKey },
  };
}

function importSecret(namespace: string, name: string, sek: string) {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'cloudconnect.dev/sek-import', stringData: { sek } };
}

async function getSite(namespace: string, name: string): Promise<OceanSite> {
  return JSON.parse(await kubectlOk(['get', 'oceansite', name, '-n', namespace, '-o', 'json']));
}

async function condition(namespace: string, name: string, type: string): Promise<Condition | undefined> {
  const conditions = (await getSite(namespace, name)).status?.conditions as Condition[] | undefined;
  return conditions?.find((c) => c.type === type);
}

/** Waits for the site to stall and returns its Stalled condition. */
async function stalled(namespace: string, name: string): Promise<Condition> {
  return eventually(async () => {
    const c = await condition(namespace, name, 'Stalled');
    return c?.status === 'True' ? c : undefined;
  }, `${namespace}/${name} Stalled`);
}

/** The victim's key as Vault's root token reads it: current version and value. */
async function victimKey(): Promise<{ version: number | undefined; sek: string | undefined }> {
  const meta = await vaultRequest('GET', `secret/metadata/${VICTIM_PATH}`);
  const data = await vaultRequest('GET', `secret/data/${VICTIM_PATH}`);
  return { version: meta.json?.data?.current_version, sek: data.json?.data?.data?.sek };
}

async function expectVictimKeyUntouched(): Promise<void> {
  expect(await victimKey()).toEqual({ version: 1, sek: victimSek });
}

/** Every Vault policy and kubernetes-auth role there is: only what the administrator wrote (the operator writes none). */
async function vaultIdentities(): Promise<{ policies: string[]; roles: string[] }> {
  const policies = (await vaultRequest('GET', 'sys/policies/acl?list=true')).json?.data?.keys as string[] | undefined;
  const roles = (await vaultRequest('GET', 'auth/kubernetes/role?list=true')).json?.data?.keys as string[] | undefined;
  return { policies: (policies ?? []).sort(), roles: (roles ?? []).sort() };
}

let adminIdentities: { policies: string[]; roles: string[] };

/** A Vault login as a ServiceAccount of `namespace` (created if missing, as a tenant may) with `role`. */
async function loginAs(namespace: string, serviceAccount: string, role = SYNC_ROLE) {
  await kubectl(['create', 'serviceaccount', serviceAccount, '-n', namespace]);
  const jwt = (await kubectlOk(['create', 'token', serviceAccount, '-n', namespace, '--audience', 'vault'])).trim();
  return vaultRequest('POST', 'auth/kubernetes/login', { role, jwt });
}

/** What a pod of `namespace` running as `serviceAccount` reads at `path` (HTTP status). */
async function readAs(namespace: string, serviceAccount: string, path: string): Promise<number> {
  const login = await loginAs(namespace, serviceAccount);
  expect(login.status).toBe(200);
  return (await vaultRequest('GET', `secret/data/${path}`, undefined, login.json?.auth?.client_token)).status;
}

beforeAll(async () => {
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`]);
  await kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', '-f', `${repoRoot}/crds`]);
  adminIdentities = await vaultIdentities();
  for (const ns of [VICTIM, ATTACKER, ATTACKER_IMPORT, ATTACKER_DELETE, UNMARKED, LEGACY_ATTACKER, P, PB, TAKEN]) {
    await kubectlOk(['create', 'namespace', ns]);
  }
  operator = await startOperator();
  await apply(importSecret(VICTIM, 'oak-sek', victimSek));
  await apply(oceanSite(VICTIM, SITE, { importFrom: { secretRef: { name: 'oak-sek' } } }));
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', VICTIM, `oceansite/${SITE}`]);
  await expectVictimKeyUntouched();
});

afterAll(async () => {
  await operator?.stop();
});

describe('a site naming another clinic’s key', () => {
  it.each([
    ["another site's key", `cloudconnect/${VICTIM}/${SITE}/sek`, 'evil'],
    ['a * wildcard', 'cloudconnect/*/evil/sek', 'evil'],
    ['a + wildcard', 'cloudconnect/+/evil/sek', 'evil'],
    ['a path outside cloudconnect/', `secret-copies/${VICTIM}/evil/sek`, 'evil'],
  ])('is refused at admission when its path names %s', async (_what, path, name) => {
    const r = await kubectl(['apply', '-f', '-'], JSON.stringify(oceanSite(ATTACKER, name, { vault: { path } })));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'spec.encryptionKey.vault.path: Forbidden: spec.encryptionKey.vault.path must be cloudconnect/<this namespace>/<this OceanSite name>/sek (or be omitted)',
    );
    expect((await kubectl(['get', 'oceansite', name, '-n', ATTACKER])).stderr).toContain('NotFound');
  });

  it("is Stalled when a same-named site passes admission, gets no fingerprint, and its pods cannot read the victim's key", async () => {
    await apply(oceanSite(ATTACKER, SITE, { vault: { path: VICTIM_PATH } }));
    const c = await stalled(ATTACKER, SITE);
    expect(c.reason).toBe('KeyLocationNotAllowed');
    expect(c.message).toContain(
      `spec.encryptionKey.vault.path "${VICTIM_PATH}" is not allowed: the only accepted value is "cloudconnect/${ATTACKER}/${SITE}/sek"`,
    );
    expect(await condition(ATTACKER, SITE, 'Ready')).toMatchObject({ status: 'False', reason: 'KeyLocationNotAllowed' });
    const site = await getSite(ATTACKER, SITE);
    expect(site.status?.encryptionKey).toBeUndefined();
    expect(JSON.stringify(site.status)).not.toMatch(/fingerprint/);
    // Vault: the operator wrote no policy and no role; the attacker's ServiceAccount of the same name
    // logs in as the sync role but reads only its own namespace's subtree: the victim's key is 403.
    expect(await vaultIdentities()).toEqual(adminIdentities);
    expect(await readAs(ATTACKER, SITE, VICTIM_PATH)).toBe(403);
    expect(await readAs(ATTACKER, SITE, `cloudconnect/${VICTIM}/${SITE}/relay/x`)).toBe(403);
    await expectVictimKeyUntouched();
    expect(operator.output()).not.toContain(victimSek);
  });

  it('with importFrom does not overwrite the victim’s key, and its Secret is neither imported nor deleted', async () => {
    await apply(importSecret(ATTACKER_IMPORT, 'evil-sek', randomBytes(32).toString('base64')));
    await apply(oceanSite(ATTACKER_IMPORT, SITE, { vault: { path: VICTIM_PATH }, importFrom: { secretRef: { name: 'evil-sek' } } }));
    expect((await stalled(ATTACKER_IMPORT, SITE)).reason).toBe('KeyLocationNotAllowed');
    // A later reconcile (asked for) changes nothing either.
    await kubectlOk(['annotate', '--overwrite', '-n', ATTACKER_IMPORT, `oceansite/${SITE}`, 'cloudconnect.dev/requestedAt=again']);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await condition(ATTACKER_IMPORT, SITE, 'Stalled'))?.reason).toBe('KeyLocationNotAllowed');
    await expectVictimKeyUntouched();
    expect((await kubectl(['get', 'secret', 'evil-sek', '-n', ATTACKER_IMPORT])).code).toBe(0);
    expect((await vaultRequest('GET', `secret/metadata/cloudconnect/${ATTACKER_IMPORT}/${SITE}/sek`)).status).toBe(404);
    expect(await vaultIdentities()).toEqual(adminIdentities);
  });

  it('with deletionPolicy Delete, once deleted, leaves the victim’s key in Vault', async () => {
    await apply(oceanSite(ATTACKER_DELETE, SITE, { vault: { path: VICTIM_PATH }, deletionPolicy: 'Delete' }));
    expect((await stalled(ATTACKER_DELETE, SITE)).reason).toBe('KeyLocationNotAllowed');
    expect((await getSite(ATTACKER_DELETE, SITE)).metadata.finalizers).toContain('cloudconnect.dev/oceansite');
    await kubectlOk(['delete', 'oceansite', SITE, '-n', ATTACKER_DELETE, '--timeout=60s']);
    expect((await kubectl(['get', 'oceansite', SITE, '-n', ATTACKER_DELETE])).stderr).toContain('NotFound');
    expect((await vaultRequest('GET', `secret/metadata/${VICTIM_PATH}`)).status).toBe(200);
    await expectVictimKeyUntouched();
    // The victim's own identity still works: its ServiceAccount reads its key.
    const login = await loginAs(VICTIM, SITE);
    expect(login.status).toBe(200);
    const read = await vaultRequest('GET', `secret/data/${VICTIM_PATH}`, undefined, login.json?.auth?.client_token);
    expect(read.json?.data?.data?.sek).toBe(victimSek);
  });
});

describe('two sites whose Vault names collided in 0.1 (namespace p + site b-c, namespace p-b + site c)', () => {
  it('each read only their own key, and deleting one leaves the other readable', async () => {
    for (const [ns, name] of [
      [P, 'b-c'],
      [PB, 'c'],
    ] as const) {
      await apply(importSecret(ns, `${name}-sek`, randomBytes(32).toString('base64')));
      await apply(oceanSite(ns, name, { importFrom: { secretRef: { name: `${name}-sek` } } }));
      await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, `oceansite/${name}`]);
    }
    expect(await readAs(P, 'b-c', `cloudconnect/${P}/b-c/sek`)).toBe(200);
    expect(await readAs(PB, 'c', `cloudconnect/${PB}/c/sek`)).toBe(200);
    expect(await readAs(P, 'b-c', `cloudconnect/${PB}/c/sek`)).toBe(403);
    expect(await readAs(PB, 'c', `cloudconnect/${P}/b-c/sek`)).toBe(403);
    await kubectlOk(['delete', 'oceansite', 'b-c', '-n', P, '--timeout=60s']);
    expect((await kubectl(['get', 'serviceaccount', 'b-c', '-n', P])).stderr).toContain('NotFound');
    expect(await readAs(PB, 'c', `cloudconnect/${PB}/c/sek`)).toBe(200);
    expect(await vaultIdentities()).toEqual(adminIdentities);
  });
});

describe('a site named after a ServiceAccount the operator did not make', () => {
  it('is refused at admission when named default (every pod of the namespace may run as default)', async () => {
    const r = await kubectl(['apply', '-f', '-'], JSON.stringify(oceanSite(TAKEN, 'default')));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('metadata.name: an OceanSite cannot be named default');
  });

  it("is Stalled before any key is written, and the tenant's ServiceAccount is left as it was", async () => {
    await kubectlOk(['create', 'serviceaccount', 'billing', '-n', TAKEN]);
    const before = JSON.parse(await kubectlOk(['get', 'serviceaccount', 'billing', '-n', TAKEN, '-o', 'json']));
    await apply(importSecret(TAKEN, 'billing-sek', randomBytes(32).toString('base64')));
    await apply(oceanSite(TAKEN, 'billing', { importFrom: { secretRef: { name: 'billing-sek' } } }));
    const c = await stalled(TAKEN, 'billing');
    expect(c.reason).toBe('ServiceAccountInUse');
    expect(c.message).toContain(`ServiceAccount ${TAKEN}/billing exists and was not made by the operator for this site`);
    // No key for that account to read, and the import Secret still holds its key.
    expect((await vaultRequest('GET', `secret/metadata/cloudconnect/${TAKEN}/billing/sek`)).status).toBe(404);
    expect(await importSecretState(TAKEN, 'billing-sek')).toBe('holding data');
    const after = JSON.parse(await kubectlOk(['get', 'serviceaccount', 'billing', '-n', TAKEN, '-o', 'json']));
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    // Deleting the site leaves the account too.
    await kubectlOk(['delete', 'oceansite', 'billing', '-n', TAKEN, '--timeout=60s']);
    expect(JSON.parse(await kubectlOk(['get', 'serviceaccount', 'billing', '-n', TAKEN, '-o', 'json'])).metadata.uid).toBe(
      before.metadata.uid,
    );
  });
});

describe('an importFrom naming a Secret that is not an import Secret', () => {
  it('is refused, and the Secret (the EMR credentials) is neither read, copied nor deleted', async () => {
    const emrPassword = `unmarked-${randomBytes(8).toString('hex')}`;
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'accuro-creds', namespace: UNMARKED },
      type: 'Opaque',
      stringData: { ...ACCURO_DEV_CREDENTIALS, apiPassword: emrPassword },
    });
    const before = JSON.parse(await kubectlOk(['get', 'secret', 'accuro-creds', '-n', UNMARKED, '-o', 'json']));
    await apply(oceanSite(UNMARKED, 'pine', { importFrom: { secretRef: { name: 'accuro-creds', key: 'apiPassword' } } }));
    const c = await stalled(UNMARKED, 'pine');
    expect(c.reason).toBe('ImportSecretNotMarked');
    expect(c.message).toContain(
      'Secret accuro-creds (spec.encryptionKey.importFrom.secretRef.name) is not of type cloudconnect.dev/sek-import',
    );
    expect(await condition(UNMARKED, 'pine', 'Ready')).toMatchObject({ status: 'False', reason: 'ImportSecretNotMarked' });
    const after = JSON.parse(await kubectlOk(['get', 'secret', 'accuro-creds', '-n', UNMARKED, '-o', 'json']));
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect((await vaultRequest('GET', `secret/metadata/cloudconnect/${UNMARKED}/pine/sek`)).status).toBe(404);
    expect((await getSite(UNMARKED, 'pine')).status?.encryptionKey).toBeUndefined();
    // Nothing the operator wrote holds the value (the operator asks only for Secrets of the import type).
    expect(operator.output()).not.toContain(emrPassword);
  });

  it('is imported once the site names a Secret of type cloudconnect.dev/sek-import', async () => {
    const sek = randomBytes(32).toString('base64');
    await apply(importSecret(UNMARKED, 'pine-sek', sek));
    await apply(oceanSite(UNMARKED, 'pine', { importFrom: { secretRef: { name: 'pine-sek' } } }));
    await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', UNMARKED, 'oceansite/pine']);
    expect((await vaultRequest('GET', `secret/data/cloudconnect/${UNMARKED}/pine/sek`)).json?.data?.data?.sek).toBe(sek);
    expect(await importSecretState(UNMARKED, 'pine-sek')).toBe('emptied');
    expect((await kubectl(['get', 'secret', 'accuro-creds', '-n', UNMARKED])).code).toBe(0);
  });
});

describe('an OceanSite stored before the upgrade, naming another clinic’s key', () => {
  const CRD_FILE = `${repoRoot}/crds/cloudconnect.dev_oceansites.yaml`;

  it('is Stalled, loses the fingerprint, its pods cannot read the key, and it can still be updated and deleted', async () => {
    // The cluster before the upgrade: no root rule, an attacker site naming the victim's key, with the
    // victim's fingerprint in its status and the finalizer.
    await operator.stop();
    const legacyCrd = parse(readFileSync(CRD_FILE, 'utf8')) as {
      spec: { versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] };
    };
    delete legacyCrd.spec.versions[0]?.schema.openAPIV3Schema['x-kubernetes-validations'];
    await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', '-'], stringify(legacyCrd));
    const site = oceanSite(LEGACY_ATTACKER, 'evil', { vault: { path: VICTIM_PATH } });
    await eventually(
      async () =>
        (
          await kubectl(
            ['apply', '-f', '-'],
            JSON.stringify({ ...site, metadata: { ...site.metadata, finalizers: ['cloudconnect.dev/oceansite'] } }),
          )
        ).code === 0,
      'the legacy site stored',
    );
    const victimStatus = (await getSite(VICTIM, SITE)).status?.encryptionKey;
    expect(victimStatus?.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    // Written as the old operator wrote status: server-side apply under its field manager.
    await kubectlOk(
      ['apply', '--server-side', '--force-conflicts', '--field-manager=cloudconnect-operator', '--subresource=status', '-f', '-'],
      JSON.stringify({ ...site, status: { encryptionKey: victimStatus } }),
    );
    // The upgrade: the new CRD, the new operator.
    await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', CRD_FILE]);
    operator = await startOperator();
    const c = await stalled(LEGACY_ATTACKER, 'evil');
    expect(c.reason).toBe('KeyLocationNotAllowed');
    await eventually(
      async () => (await getSite(LEGACY_ATTACKER, 'evil')).status?.encryptionKey === undefined,
      "the victim's fingerprint gone",
    );
    expect(await readAs(LEGACY_ATTACKER, 'evil', VICTIM_PATH)).toBe(403);
    // The path it kept stands (ratcheting); changing it to another foreign path does not.
    await kubectlOk(['annotate', '-n', LEGACY_ATTACKER, 'oceansite/evil', 'example.org/touched=yes']);
    const moved = await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify(oceanSite(LEGACY_ATTACKER, 'evil', { vault: { path: `cloudconnect/${VICTIM}/other/sek` } })),
    );
    expect(moved.code).not.toBe(0);
    expect(moved.stderr).toContain('spec.encryptionKey.vault.path: Forbidden');
    await kubectlOk(['delete', 'oceansite', 'evil', '-n', LEGACY_ATTACKER, '--timeout=60s']);
    await expectVictimKeyUntouched();
  });
});
