// OceanSite against the real API server and Vault: SEK intake, verification, rotation, per-site
// identity, support access, stalls, deletion — and no SEK byte anywhere the run wrote.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { OceanSite } from '../../operator/api/v1alpha1/index.ts';
import { importSecretState } from './fixtures.ts';
import { kubectl, kubectlOk, repoRoot } from './kubectl.ts';
import { eventually, everythingWritten, type OperatorProcess, startOperator } from './operator-process.ts';
import { vaultRequest } from './vault.ts';

const ns = `it-oceansite-${Date.now().toString(36)}`;
const seks = new Map<string, string>();
let operator: OperatorProcess;

function newSek(label: string): string {
  const sek = randomBytes(32).toString('base64');
  seks.set(label, sek);
  return sek;
}

async function applyJson(obj: object): Promise<void> {
  await kubectlOk(['apply', '-f', '-'], JSON.stringify(obj));
}

function site(name: string, spec: Record<string, unknown>) {
  return {
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'OceanSite',
    metadata: { name, namespace: ns },
    spec: { siteNumber: '1234', clinicalAdminEmail: 'admin@clinic.example.org', ...spec },
  };
}

function importSecret(name: string, sek: string, key = 'sek') {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: ns },
    type: 'cloudconnect.dev/sek-import',
    stringData: { [key]: sek },
  };
}

async function getSite(name: string): Promise<OceanSite> {
  return JSON.parse(await kubectlOk(['get', 'oceansite', name, '-n', ns, '-o', 'json']));
}

async function condition(name: string, type: string): Promise<{ status: string; reason: string; message: string } | undefined> {
  const s = await getSite(name);
  return (s.status?.conditions as { type: string; status: string; reason: string; message: string }[] | undefined)?.find(
    (c) => c.type === type,
  );
}

beforeAll(async () => {
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`]);
  await kubectlOk(['wait', '--for=condition=Established', '-f', `${repoRoot}/crds`]);
  await kubectl(['create', 'namespace', ns]);
  operator = await startOperator();
});

afterAll(async () => {
  await operator?.stop();
});

describe('an OceanSite', () => {
  it('imports the SEK from a one-time Secret into Vault and empties the Secret', async () => {
    const sek = newSek('maple');
    await applyJson(importSecret('maple-sek', sek));
    await applyJson(site('maple', { encryptionKey: { importFrom: { secretRef: { name: 'maple-sek' } } } }));
    await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, 'oceansite/maple']);
    const stored = await vaultRequest('GET', `secret/data/cloudconnect/${ns}/maple/sek`);
    expect(stored.json?.data?.data?.sek).toBe(sek);
    expect(await importSecretState(ns, 'maple-sek')).toBe('emptied');
    const s = await getSite('maple');
    expect(s.status?.encryptionKey).toMatchObject({ mount: 'secret', path: `cloudconnect/${ns}/maple/sek`, version: 1 });
    expect(s.status?.encryptionKey?.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(s.metadata.finalizers).toContain('cloudconnect.dev/oceansite');
    expect(await condition('maple', 'KeyStored')).toMatchObject({ status: 'True', reason: 'Stored' });
  });

  it('verifies a key that is already in Vault without importing anything', async () => {
    const sek = newSek('birch');
    await vaultRequest('POST', `secret/data/cloudconnect/${ns}/birch/sek`, { data: { sek } });
    // Spelling out the site's own location is accepted (the fields stay for compatibility).
    await applyJson(site('birch', { encryptionKey: { vault: { mount: 'secret', path: `cloudconnect/${ns}/birch/sek` } } }));
    await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, 'oceansite/birch']);
    expect((await getSite('birch')).status?.encryptionKey).toMatchObject({ path: `cloudconnect/${ns}/birch/sek`, version: 1 });
  });

  it('says KeyNotFound while the key is neither in Vault nor importable', async () => {
    await applyJson(site('cedar', {}));
    const c = await eventually(async () => {
      const k = await condition('cedar', 'KeyStored');
      return k?.reason === 'KeyNotFound' ? k : undefined;
    }, 'KeyStored=False KeyNotFound');
    expect(c.status).toBe('False');
    expect(c.message).toContain(`cloudconnect/${ns}/cedar/sek`);
  });

  it("notices a rotation on request, records KeyRotated and tells the site's running workers the new version", async () => {
    // Two running "workers" (kwok runs them): one of this site, one of another site.
    const worker = (name: string, siteName: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: ns,
        labels: { 'cloudconnect.dev/site': siteName },
        annotations: { 'cloudconnect.dev/sek-version': '1' },
      },
      spec: { automountServiceAccountToken: false, containers: [{ name: 'sync', image: 'cloudconnect-sync:test' }] },
    });
    await applyJson(worker('birch-sync-1', 'birch'));
    await applyJson(worker('maple-sync-1', 'maple'));
    const phase = async (name: string) => JSON.parse(await kubectlOk(['get', 'pod', name, '-n', ns, '-o', 'json'])).status?.phase;
    await eventually(async () => (await phase('birch-sync-1')) === 'Running', 'the birch worker pod running');
    const sek = newSek('birch-v2');
    await vaultRequest('POST', `secret/data/cloudconnect/${ns}/birch/sek`, { data: { sek } });
    await kubectlOk(['annotate', '--overwrite', '-n', ns, 'oceansite/birch', 'cloudconnect.dev/requestedAt=rotate-1']);
    await eventually(async () => (await getSite('birch')).status?.encryptionKey?.version === 2, 'version 2 in status');
    const s = await getSite('birch');
    expect(s.status?.lastHandledRequestedAt).toBe('rotate-1');
    const events = await kubectlOk([
      'get',
      'events',
      '-n',
      ns,
      '--field-selector',
      'involvedObject.name=birch,reason=KeyRotated',
      '-o',
      'json',
    ]);
    expect(JSON.parse(events).items.length).toBeGreaterThan(0);
    const announced = async (name: string) =>
      JSON.parse(await kubectlOk(['get', 'pod', name, '-n', ns, '-o', 'json'])).metadata.annotations?.['cloudconnect.dev/sek-version'];
    await eventually(async () => (await announced('birch-sync-1')) === '2', 'the birch worker told version 2');
    expect(await announced('maple-sync-1')).toBe('1');
  });

  it.each([
    [
      'stalls when the import Secret lacks the key field',
      'elm',
      { encryptionKey: { importFrom: { secretRef: { name: 'elm-sek', key: 'missing' } } } },
      'ImportSecretKeyMissing',
      'elm-sek',
    ],
    [
      "stalls when the Vault mount is not the operator's",
      'fir',
      { encryptionKey: { vault: { mount: 'no-such-mount' } } },
      'KeyLocationNotAllowed',
      'spec.encryptionKey.vault.mount "no-such-mount" is not allowed: the only accepted value is "secret"',
    ],
  ])('%s', async (_n, name, spec, reason, mentioned) => {
    await applyJson(importSecret(`${name}-sek`, newSek(name)));
    await applyJson(site(name, spec));
    const stalled = await eventually(async () => (await condition(name, 'Stalled')) ?? undefined, `Stalled on ${name}`);
    expect(stalled).toMatchObject({ status: 'True', reason });
    expect(stalled.message).toContain(mentioned);
    expect(await condition(name, 'Ready')).toMatchObject({ status: 'False', reason });
  });
});

describe('the per-site identity', () => {
  it('lets the site ServiceAccount read its own SEK and nothing else', async () => {
    const sek = newSek('oak');
    await applyJson(importSecret('oak-sek', sek));
    await applyJson(site('oak', { encryptionKey: { importFrom: { secretRef: { name: 'oak-sek' } } } }));
    await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, 'oceansite/oak']);
    const jwt = (await kubectlOk(['create', 'token', 'oak', '-n', ns, '--audience', 'vault'])).trim();
    const login = await vaultRequest('POST', 'auth/kubernetes/login', { role: 'cloudconnect-sync', jwt });
    expect(login.status).toBe(200);
    const token = login.json!.auth!.client_token;
    const own = await vaultRequest('GET', `secret/data/cloudconnect/${ns}/oak/sek`, undefined, token);
    expect(own.status).toBe(200);
    expect(own.json?.data?.data?.sek).toBe(sek);
    const other = await vaultRequest('GET', `secret/data/cloudconnect/${ns}/maple/sek`, undefined, token);
    expect(other.status).toBe(403);
    const write = await vaultRequest('POST', `secret/data/cloudconnect/${ns}/oak/sek`, { data: { sek: 'x' } }, token);
    expect(write.status).toBe(403);
  });
});

describe('support access', () => {
  async function can(group: string, verb: string, resource: string): Promise<boolean> {
    const sar = await kubectlOk(
      ['create', '-f', '-', '-o', 'json'],
      JSON.stringify({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: 'support-person',
          groups: [group],
          resourceAttributes: { namespace: ns, verb, group: resource === 'secrets' ? '' : 'cloudconnect.dev', resource },
        },
      }),
    );
    return JSON.parse(sar).status.allowed === true;
  }

  it('lets a support site read and request syncs but never write EmrIntegrations or read Secrets, and removes it at expiry', async () => {
    const expiresAt = new Date(Date.now() + 8000).toISOString().replace(/\.\d+Z$/, 'Z');
    await applyJson(
      site('maple', {
        encryptionKey: { importFrom: { secretRef: { name: 'maple-sek' } } },
        supportSites: [{ name: 'helpdesk' }, { name: 'vendor', expiresAt }],
      }),
    );
    await eventually(async () => await can('cloudconnect:support:helpdesk', 'patch', 'syncschedules'), 'helpdesk may request a sync');
    expect(await can('cloudconnect:support:helpdesk', 'get', 'secrets')).toBe(false);
    expect(await can('cloudconnect:support:helpdesk', 'update', 'emrintegrations')).toBe(false);
    expect(await can('cloudconnect:support:helpdesk', 'delete', 'oceansites')).toBe(false);
    expect(await can('cloudconnect:support:vendor', 'patch', 'syncschedules')).toBe(true);
    expect(await can('cloudconnect:support:nobody', 'patch', 'syncschedules')).toBe(false);
    await eventually(
      async () => !(await can('cloudconnect:support:vendor', 'patch', 'syncschedules')),
      'vendor access removed at expiry',
      30_000,
    );
    expect(await can('cloudconnect:support:helpdesk', 'patch', 'syncschedules')).toBe(true);
    const events = await kubectlOk([
      'get',
      'events',
      '-n',
      ns,
      '--field-selector',
      'involvedObject.name=maple,reason=SupportAccessExpired',
      '-o',
      'json',
    ]);
    expect(JSON.parse(events).items.length).toBe(1);
  });
});

describe('a sealed Vault', () => {
  it('turns KeyStored Unknown with VaultUnavailable, and the site recovers by itself once unsealed', async () => {
    const log = readFileSync(join(inject('cluster').stateDir, 'logs/vault.log'), 'utf8');
    const unsealKey = /Unseal Key: (\S+)/.exec(log)?.[1];
    expect(unsealKey).toBeDefined();
    expect((await vaultRequest('PUT', 'sys/seal')).status).toBe(204);
    try {
      await kubectlOk(['annotate', '--overwrite', '-n', ns, 'oceansite/maple', 'cloudconnect.dev/requestedAt=sealed-1']);
      const c = await eventually(async () => {
        const k = await condition('maple', 'KeyStored');
        return k?.reason === 'VaultUnavailable' ? k : undefined;
      }, 'KeyStored VaultUnavailable');
      expect(c.status).toBe('Unknown');
      expect(await condition('maple', 'Ready')).toMatchObject({ status: 'Unknown', reason: 'VaultUnavailable' });
    } finally {
      await vaultRequest('PUT', 'sys/unseal', { key: unsealKey });
    }
    await eventually(async () => (await condition('maple', 'KeyStored'))?.status === 'True', 'KeyStored True again', 90_000);
    expect(operator.output()).toContain('reconcile failed; retrying');
  });
});

describe('deleting an OceanSite', () => {
  it('removes the ServiceAccount and keeps the key by default', async () => {
    await kubectlOk(['delete', 'oceansite', 'oak', '-n', ns, '--timeout=60s']);
    expect((await kubectl(['get', 'sa', 'oak', '-n', ns])).stderr).toContain('NotFound');
    expect((await vaultRequest('GET', `secret/data/cloudconnect/${ns}/oak/sek`)).status).toBe(200);
  });

  it('destroys the key with deletionPolicy Delete', async () => {
    await applyJson(site('birch', { encryptionKey: { vault: { path: `cloudconnect/${ns}/birch/sek` }, deletionPolicy: 'Delete' } }));
    await eventually(
      async () => (await getSite('birch')).metadata.generation === (await getSite('birch')).status?.observedGeneration,
      'birch observed',
    );
    await kubectlOk(['delete', 'oceansite', 'birch', '-n', ns, '--timeout=60s']);
    expect((await vaultRequest('GET', `secret/metadata/cloudconnect/${ns}/birch/sek`)).status).toBe(404);
  });
});

describe('secrets hygiene', () => {
  it('never writes an SEK into logs, events, status or metrics', async () => {
    const everything = await everythingWritten(operator, ns, kubectlOk);
    expect(seks.size).toBeGreaterThan(3);
    for (const [label, sek] of seks) {
      expect(everything.includes(sek), `SEK ${label} leaked`).toBe(false);
      expect(everything.includes(Buffer.from(sek).toString('base64')), `base64 of SEK ${label} leaked`).toBe(false);
    }
    expect(operator.output()).toContain('SEK imported into Vault');
  });
});
