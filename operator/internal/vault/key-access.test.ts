import { describe, expect, it } from 'vitest';
import { type AuditEntry, classifyAuditEntry, type SiteKeyRef } from './key-access.ts';

const sites: SiteKeyRef[] = [
  {
    namespace: 'clinic',
    name: 'maple',
    location: { mount: 'secret', path: 'cloudconnect/clinic/maple/sek' },
    syncRole: 'cloudconnect-clinic-maple',
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
      'ignores the site sync role reading its own key',
      read({ accessor: 'a3', metadata: { role: 'cloudconnect-clinic-maple', service_account_name: 'cloudconnect-sync-maple' } }),
      undefined,
    ],
    ['ignores the operator own intake', read({ accessor: 'operator-accessor', display_name: 'token' }), undefined],
    ['ignores the response half of an access', read({ display_name: 'root', accessor: 'a1' }, undefined, 'response'), undefined],
    ['ignores other paths', read({ display_name: 'root', accessor: 'a1' }, 'secret/data/other'), undefined],
    [
      'ignores metadata reads, which do not reveal the key',
      read({ display_name: 'root', accessor: 'a1' }, 'secret/metadata/cloudconnect/clinic/maple/sek'),
      undefined,
    ],
  ] as const)('%s', (_n, entry, expected) => {
    const out = classifyAuditEntry(entry, sites, 'operator-accessor');
    if (expected === undefined) expect(out).toBeUndefined();
    else expect(out).toMatchObject(expected);
  });
});
