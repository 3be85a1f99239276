import type { V1PolicyRule } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { OceanSite } from '../../api/v1alpha1/index.ts';
import { supportBinding, supportRole } from './support-rbac.ts';

const site = {
  apiVersion: 'cloudconnect.dev/v1alpha1',
  kind: 'OceanSite',
  metadata: { name: 'maple', namespace: 'clinic-maple', uid: 'u-1' },
  spec: { siteNumber: '1234', clinicalAdminEmail: 'admin@maple.example.org' },
} as unknown as OceanSite;
const rules: V1PolicyRule[] = supportRole(site, 'clinic-maple', 'cloudconnect-support-maple').rules ?? [];

/** Whether the rules allow `verb` on `groupResource` as RBAC decides: 'batch:jobs', 'pods' (core), 'cloudconnect.dev:oceansites/status'. */
function allows(verb: string, groupResource: string): boolean {
  const at = groupResource.indexOf(':');
  const [group, resource] = at < 0 ? ['', groupResource] : [groupResource.slice(0, at), groupResource.slice(at + 1)];
  return rules.some(
    (r) =>
      (r.apiGroups ?? []).some((g) => g === group || g === '*') &&
      (r.resources ?? []).some((x) => x === resource || x === '*') &&
      r.verbs.some((v) => v === verb || v === '*'),
  );
}

const CC = 'cloudconnect.dev';

describe('the support Role', () => {
  it.each([
    ['reads no Secret', 'get', 'secrets'],
    ['lists no Secret', 'list', 'secrets'],
    ['watches no Secret', 'watch', 'secrets'],
    ['cannot create an OceanSite', 'create', `${CC}:oceansites`],
    ['cannot update an OceanSite', 'update', `${CC}:oceansites`],
    ['cannot patch an OceanSite (its supportSites and expiresAt stay the clinic’s)', 'patch', `${CC}:oceansites`],
    ['cannot delete an OceanSite', 'delete', `${CC}:oceansites`],
    ['cannot delete every OceanSite at once', 'deletecollection', `${CC}:oceansites`],
    ['cannot create an EmrIntegration', 'create', `${CC}:emrintegrations`],
    ['cannot update an EmrIntegration', 'update', `${CC}:emrintegrations`],
    ['cannot delete an EmrIntegration', 'delete', `${CC}:emrintegrations`],
    ['cannot create a SyncSchedule', 'create', `${CC}:syncschedules`],
    ['cannot delete a SyncSchedule', 'delete', `${CC}:syncschedules`],
    ['cannot write any status', 'patch', `${CC}:syncschedules/status`],
    ['cannot write an OceanSite status', 'update', `${CC}:oceansites/status`],
    ['cannot read pod logs', 'get', 'pods/log'],
    ['cannot exec into a pod', 'create', 'pods/exec'],
    ['cannot start a Job', 'create', 'batch:jobs'],
    ['cannot write Events', 'create', 'events'],
    ['cannot change RBAC', 'create', 'rbac.authorization.k8s.io:rolebindings'],
    ['cannot request a ServiceAccount token', 'create', 'serviceaccounts/token'],
  ])('%s', (_sentence, verb, resource) => {
    expect(allows(verb, resource)).toBe(false);
  });

  it.each([
    ['reads OceanSites', 'get', `${CC}:oceansites`],
    ['lists EmrIntegrations', 'list', `${CC}:emrintegrations`],
    ['watches SyncSchedules', 'watch', `${CC}:syncschedules`],
    ['reads a status', 'get', `${CC}:emrintegrations/status`],
    ['reads the namespace’s Events', 'list', 'events'],
    ['asks for a sync by patching a SyncSchedule’s requestedAt', 'patch', `${CC}:syncschedules`],
    ['asks for a sync by updating a SyncSchedule’s requestedAt', 'update', `${CC}:syncschedules`],
    ['asks for an EMR authentication check by patching an EmrIntegration’s requestedAt', 'patch', `${CC}:emrintegrations`],
    ['lists the Jobs the support bundle collects', 'list', 'batch:jobs'],
    ['lists the Pods the support bundle collects', 'list', 'pods'],
    ['lists the Deployments the support bundle collects', 'list', 'apps:deployments'],
    ['lists the ServiceAccounts the support bundle collects', 'list', 'serviceaccounts'],
  ])('%s', (_sentence, verb, resource) => {
    expect(allows(verb, resource)).toBe(true);
  });

  it('names no Secret, no wildcard and no escalate, bind or impersonate anywhere', () => {
    const words = rules.flatMap((r) => [...(r.apiGroups ?? []), ...(r.resources ?? []), ...r.verbs, ...(r.resourceNames ?? [])]);
    expect(words.filter((w) => w === '*' || w.startsWith('secrets') || ['escalate', 'bind', 'impersonate'].includes(w))).toEqual([]);
  });

  it('writes only where the requestedAt annotation asks for work: SyncSchedules and EmrIntegrations', () => {
    const writable = rules.filter((r) => r.verbs.some((v) => !['get', 'list', 'watch'].includes(v))).flatMap((r) => r.resources ?? []);
    expect(writable.sort()).toEqual(['emrintegrations', 'syncschedules']);
  });

  it('is owned by the OceanSite, so it goes with the site', () => {
    const role = supportRole(site, 'clinic-maple', 'cloudconnect-support-maple');
    expect(role.metadata?.ownerReferences?.map((o) => o.name)).toEqual(['maple']);
  });
});

describe('a support binding', () => {
  it.each([
    [
      'binds the support site’s group to the Role, noting its expiry',
      '2026-12-18T22:00:00Z',
      { 'cloudconnect.dev/expires-at': '2026-12-18T22:00:00Z' },
    ],
    ['carries no expiry annotation for a grant without one', undefined, {}],
  ])('%s', (_sentence, expiresAt, annotations) => {
    const binding = supportBinding(site, 'clinic-maple', 'cloudconnect-support-maple', {
      name: 'cloudconnect-support-maple-acme',
      support: 'acme',
      ...(expiresAt ? { expiresAt } : {}),
    });
    expect(binding.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'cloudconnect:support:acme' }]);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cloudconnect-support-maple' });
    expect(binding.metadata?.annotations).toEqual(annotations);
    expect(binding.metadata?.labels?.['cloudconnect.dev/support-of']).toBe('maple');
  });
});
