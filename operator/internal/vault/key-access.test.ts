import { describe, expect, it } from 'vitest';
import { type AuditEntry, classifyAuditEntry, keyOperation, mayTouchKey, type SiteKeyRef } from './key-access.ts';

const sites: SiteKeyRef[] = [
  {
    namespace: 'clinic',
    name: 'maple',
    location: { mount: 'secret', path: 'cloudconnect/clinic/maple/sek' },
    serviceAccount: 'maple',
  },
];
const read = (auth: AuditEntry['auth'], path = 'secret/data/cloudconnect/clinic/maple/sek', type = 'request'): AuditEntry => ({
  type,
  time: '2026-11-23T10:00:00Z',
  auth,
  request: { path, operation: 'read' },
});

describe('classifyAuditEntry', () => {
  it.each([
    [
      'reports a read of the SEK with the root token',
      read({ display_name: 'root', accessor: 'a1' }),
      { site: 'maple', accessorType: 'token', accessor: 'root' },
    ],
    [
      'reports a read by another ServiceAccount',
      read({
        accessor: 'a2',
        display_name: 'kubernetes-x',
        metadata: { role: 'other-role', service_account_name: 'intruder', service_account_namespace: 'x' },
      }),
      { site: 'maple', accessorType: 'kubernetes', accessor: 'serviceaccount x/intruder (role other-role)' },
    ],
    [
      "ignores the sync role logged in as the site's own ServiceAccount reading its key",
      read({
        accessor: 'a3',
        display_name: 'kubernetes-clinic-maple',
        metadata: { role: 'cloudconnect-sync', service_account_name: 'maple', service_account_namespace: 'clinic' },
      }),
      undefined,
    ],
    [
      "reports the sync role logged in as another site's ServiceAccount of the same namespace",
      read({
        accessor: 'a8',
        display_name: 'kubernetes-clinic-birch',
        metadata: { role: 'cloudconnect-sync', service_account_name: 'birch', service_account_namespace: 'clinic' },
      }),
      { site: 'maple', accessorType: 'kubernetes', accessor: 'serviceaccount clinic/birch (role cloudconnect-sync)' },
    ],
    [
      'reports the sync role logged in as a ServiceAccount of the same name in another namespace',
      read({
        accessor: 'a9',
        display_name: 'kubernetes-other-maple',
        metadata: { role: 'cloudconnect-sync', service_account_name: 'maple', service_account_namespace: 'other' },
      }),
      { site: 'maple', accessorType: 'kubernetes' },
    ],
    [
      "reports the site's ServiceAccount logged in at another auth mount",
      read({
        accessor: 'a10',
        display_name: 'kubernetes2-clinic-maple',
        metadata: { role: 'cloudconnect-sync', service_account_name: 'maple', service_account_namespace: 'clinic' },
      }),
      { site: 'maple', accessorType: 'kubernetes' },
    ],
    [
      'reports a token created with the site sync role as metadata',
      read({
        accessor: 'a7',
        display_name: 'token-forged',
        metadata: { role: 'cloudconnect-sync', service_account_name: 'maple', service_account_namespace: 'clinic' },
      }),
      { site: 'maple', accessorType: 'kubernetes' },
    ],
    ['ignores the operator own intake', read({ accessor: 'operator-accessor', display_name: 'token' }), undefined],
    [
      'ignores the operator after a kubernetes-auth re-login gave it a new accessor',
      read({
        accessor: 'a4',
        display_name: 'kubernetes-cloudconnect-system-cloudconnect-operator',
        metadata: {
          role: 'cloudconnect-operator',
          service_account_name: 'cloudconnect-operator',
          service_account_namespace: 'cloudconnect-system',
        },
      }),
      undefined,
    ],
    [
      'reports a token whose metadata claims the operator role without a service account',
      read({ accessor: 'a5', display_name: 'token-x', metadata: { role: 'cloudconnect-operator' } }),
      { site: 'maple', accessorType: 'token' },
    ],
    [
      'reports a token created with the operator role and service account as metadata',
      read({
        accessor: 'a6',
        display_name: 'token-forged',
        metadata: {
          role: 'cloudconnect-operator',
          service_account_name: 'cloudconnect-operator',
          service_account_namespace: 'cloudconnect-system',
        },
      }),
      { site: 'maple' },
    ],
    ['ignores the response half of an access', read({ display_name: 'root', accessor: 'a1' }, undefined, 'response'), undefined],
    ['ignores other paths', read({ display_name: 'root', accessor: 'a1' }, 'secret/data/other'), undefined],
    [
      'ignores metadata reads, which do not reveal the key',
      read({ display_name: 'root', accessor: 'a1' }, 'secret/metadata/cloudconnect/clinic/maple/sek'),
      undefined,
    ],
  ] as const)('%s', (_n, entry, expected) => {
    const out = classifyAuditEntry(entry, sites, {
      accessor: 'operator-accessor',
      role: 'cloudconnect-operator',
      authMount: 'kubernetes',
      syncAuthMount: 'kubernetes',
      syncRole: 'cloudconnect-sync',
    });
    if (expected === undefined) expect(out).toBeUndefined();
    else expect(out).toMatchObject(expected);
  });
});

describe('every operation that reads, changes or destroys a key', () => {
  const foreign = { display_name: 'token-mallory', accessor: 'a9' };
  const entry = (path: string, operation: string): AuditEntry => ({
    type: 'request',
    time: '2026-11-23T10:00:00Z',
    auth: foreign,
    request: { id: 'r1', path, operation },
  });
  const key = 'cloudconnect/clinic/maple/sek';
  it.each([
    ['reports a read of the current or an older version', `secret/data/${key}`, 'read', 'read'],
    ['reports a write of a new version (PUT)', `secret/data/${key}`, 'update', 'write'],
    ['reports a write of a new version (POST on a new key)', `secret/data/${key}`, 'create', 'write'],
    ['reports a patch (HTTP PATCH)', `secret/data/${key}`, 'patch', 'patch'],
    ['reports a soft delete of the latest version', `secret/data/${key}`, 'delete', 'delete'],
    ['reports a soft delete of given versions', `secret/delete/${key}`, 'update', 'delete'],
    ['reports an undelete', `secret/undelete/${key}`, 'update', 'undelete'],
    ['reports a destroy of versions', `secret/destroy/${key}`, 'update', 'destroy'],
    ['reports a metadata update (max_versions, delete_version_after)', `secret/metadata/${key}`, 'update', 'metadata update'],
    ['reports a metadata patch', `secret/metadata/${key}`, 'patch', 'metadata update'],
    ['reports a metadata delete (every version destroyed)', `secret/metadata/${key}`, 'delete', 'metadata delete'],
  ] as const)('%s', (_n, path, operation, expected) => {
    const e = entry(path, operation);
    expect(mayTouchKey(e)).toBe(true);
    expect(keyOperation(e, sites[0]!.location)).toBe(expected);
    expect(classifyAuditEntry(e, sites, {})).toMatchObject({ site: 'maple', operation: expected });
  });

  it.each([
    ['ignores a metadata read (versions and times, not the key)', `secret/metadata/${key}`, 'read'],
    ['ignores a metadata list', 'secret/metadata/cloudconnect/clinic/maple', 'list'],
    ['ignores a subkeys read (key names without values)', `secret/subkeys/${key}`, 'read'],
    ['ignores another site whose path ends like this one', 'secret/data/x/cloudconnect/clinic/maple/sek', 'read'],
    ['ignores another mount', `kv/data/${key}`, 'read'],
    ['ignores a key below the site key', `secret/data/${key}/more`, 'read'],
  ] as const)('%s', (_n, path, operation) => {
    expect(classifyAuditEntry(entry(path, operation), sites, {})).toBeUndefined();
  });

  it('reports the sync role writing or deleting its own key, which it may only read', () => {
    const sync = {
      accessor: 'a3',
      display_name: 'kubernetes-clinic-maple',
      metadata: { role: 'cloudconnect-sync', service_account_name: 'maple', service_account_namespace: 'clinic' },
    };
    const identity = { syncRole: 'cloudconnect-sync', syncAuthMount: 'kubernetes' };
    expect(classifyAuditEntry({ ...entry(`secret/data/${key}`, 'read'), auth: sync }, sites, identity)).toBeUndefined();
    for (const [path, operation] of [
      [`secret/data/${key}`, 'update'],
      [`secret/metadata/${key}`, 'delete'],
    ] as const) {
      expect(classifyAuditEntry({ ...entry(path, operation), auth: sync }, sites, identity)).toMatchObject({ site: 'maple' });
    }
  });

  it('recognises the operator by the accessor of every login it made, however many re-logins there were', () => {
    const own = new Set(['login-1', 'login-2']);
    const byOperator = (accessor: string) => ({ ...entry(`secret/metadata/${key}`, 'delete'), auth: { accessor, display_name: 'token' } });
    expect(classifyAuditEntry(byOperator('login-1'), sites, { ownAccessors: own })).toBeUndefined();
    expect(classifyAuditEntry(byOperator('login-2'), sites, { ownAccessors: own })).toBeUndefined();
    expect(classifyAuditEntry(byOperator('login-3'), sites, { ownAccessors: own })).toMatchObject({ operation: 'metadata delete' });
  });
});
