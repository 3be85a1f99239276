// The Vault policies an administrator writes once (operator/internal/vault/policies.ts, printed by the
// chart's NOTES.txt), tried against the real Vault and apiserver. The operator's is enough: every
// integration test runs the operator with it (test/integration/operator-process.ts). Here, that it is
// no more: logged in as the operator, nothing outside <kv>/cloudconnect/ and no policy, role, token or
// audit change; logged in as the sync role, a pod reads only its own site's subtree, never writes.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { kubectl, kubectlOk } from '../integration/kubectl.ts';
import { vaultRequest } from '../integration/vault.ts';

const id = Date.now().toString(36);
const A = `vp-a-${id}`;
const B = `vp-b-${id}`;

let operatorToken: string;

async function syncToken(namespace: string, serviceAccount: string): Promise<string> {
  await kubectl(['create', 'serviceaccount', serviceAccount, '-n', namespace]);
  const jwt = (await kubectlOk(['create', 'token', serviceAccount, '-n', namespace, '--audience', 'vault'])).trim();
  const login = await vaultRequest('POST', 'auth/kubernetes/login', { role: 'cloudconnect-sync', jwt });
  expect(login.status).toBe(200);
  return login.json?.auth?.client_token ?? '';
}

beforeAll(async () => {
  for (const ns of [A, B]) await kubectlOk(['create', 'namespace', ns]);
  const jwt = readFileSync(inject('cluster').operatorVaultTokenFile, 'utf8').trim();
  const login = await vaultRequest('POST', 'auth/kubernetes/login', { role: 'cloudconnect-operator', jwt });
  expect(login.status).toBe(200);
  operatorToken = login.json?.auth?.client_token ?? '';
  for (const [ns, site] of [
    [A, 'oak'],
    [A, 'elm'],
    [B, 'oak'],
  ]) {
    expect((await vaultRequest('POST', `secret/data/cloudconnect/${ns}/${site}/sek`, { data: { sek: `${ns}-${site}` } })).status).toBe(200);
  }
});

describe("the operator's Vault policy", () => {
  it.each([
    [
      'write a policy (so it could grant itself anything)',
      'PUT',
      'sys/policies/acl/cloudconnect-evil',
      { policy: 'path "*" { capabilities = ["sudo"] }' },
    ],
    ['change the sync policy', 'PUT', 'sys/policies/acl/cloudconnect-sync', { policy: 'path "secret/*" { capabilities = ["read"] }' }],
    ['delete the sync policy', 'DELETE', 'sys/policies/acl/cloudconnect-sync', undefined],
    [
      'write a kubernetes-auth role',
      'POST',
      'auth/kubernetes/role/cloudconnect-evil',
      { bound_service_account_names: ['*'], bound_service_account_namespaces: ['*'], token_policies: ['cloudconnect-operator'] },
    ],
    ['create a token with other policies', 'POST', 'auth/token/create', { policies: ['cloudconnect-sync'] }],
    ['read outside cloudconnect/', 'GET', 'secret/data/other/key', undefined],
    ['write next to cloudconnect/ (a prefix, not the folder)', 'POST', 'secret/data/cloudconnect-copies/x', { data: { sek: 'x' } }],
    ['turn the audit device off', 'DELETE', 'sys/audit/file', undefined],
    ['read another mount', 'GET', 'transit/keys', undefined],
  ] as const)('cannot %s (403)', async (_what, method, path, body) => {
    expect((await vaultRequest(method, path, body, operatorToken)).status).toBe(403);
  });

  it('can do what it is for: read, write and read the versions of a key under cloudconnect/', async () => {
    expect((await vaultRequest('GET', `secret/data/cloudconnect/${A}/oak/sek`, undefined, operatorToken)).status).toBe(200);
    expect((await vaultRequest('POST', `secret/data/cloudconnect/${A}/pine/sek`, { data: { sek: 'p' } }, operatorToken)).status).toBe(200);
    expect((await vaultRequest('GET', `secret/metadata/cloudconnect/${A}/pine/sek`, undefined, operatorToken)).status).toBe(200);
    expect((await vaultRequest('DELETE', `secret/metadata/cloudconnect/${A}/pine/sek`, undefined, operatorToken)).status).toBe(204);
  });
});

describe('the sync role and its templated policy', () => {
  it("lets a pod running as ServiceAccount <site> read its own site's key", async () => {
    const token = await syncToken(A, 'oak');
    const own = await vaultRequest('GET', `secret/data/cloudconnect/${A}/oak/sek`, undefined, token);
    expect(own.status).toBe(200);
    expect(own.json?.data?.data?.sek).toBe(`${A}-oak`);
  });

  it.each([
    ['another site of the same clinic', `secret/data/cloudconnect/${A}/elm/sek`],
    ['the same site name in another clinic', `secret/data/cloudconnect/${B}/oak/sek`],
    ['a wildcard-looking path', `secret/data/cloudconnect/${A}/*/sek`],
    ['outside cloudconnect/', 'secret/data/other/key'],
  ])('refuses %s (403)', async (_what, path) => {
    const token = await syncToken(A, 'oak');
    expect((await vaultRequest('GET', path, undefined, token)).status).toBe(403);
  });

  it('never writes, not even its own key (403), and the key is unchanged', async () => {
    const token = await syncToken(A, 'oak');
    expect((await vaultRequest('POST', `secret/data/cloudconnect/${A}/oak/sek`, { data: { sek: 'evil' } }, token)).status).toBe(403);
    expect((await vaultRequest('DELETE', `secret/metadata/cloudconnect/${A}/oak/sek`, undefined, token)).status).toBe(403);
    expect((await vaultRequest('GET', `secret/data/cloudconnect/${A}/oak/sek`)).json?.data?.data?.sek).toBe(`${A}-oak`);
  });

  it('refuses a token of another audience at login (403)', async () => {
    await kubectl(['create', 'serviceaccount', 'oak', '-n', B]);
    const jwt = (await kubectlOk(['create', 'token', 'oak', '-n', B])).trim();
    expect((await vaultRequest('POST', 'auth/kubernetes/login', { role: 'cloudconnect-sync', jwt })).status).toBe(403);
  });
});
