import { describe, expect, it } from 'vitest';
import type { OceanSite } from '../../api/v1alpha1/index.ts';
import { SERVICE_ACCOUNT_IN_USE, serviceAccountFor, serviceAccountInUse } from './identity-step.ts';

const site = {
  apiVersion: 'cloudconnect.dev/v1alpha1',
  kind: 'OceanSite',
  metadata: { name: 'maple', namespace: 'clinic', uid: 'u-1' },
  spec: { siteNumber: '1', clinicalAdminEmail: 'a@b.c' },
} as OceanSite;

describe("the site's ServiceAccount", () => {
  it('is named after the site, in its namespace, labelled as the operator’s, owned by the site and mounts no API token', () => {
    const sa = serviceAccountFor(site);
    expect(sa.metadata).toMatchObject({
      name: 'maple',
      namespace: 'clinic',
      labels: { 'app.kubernetes.io/managed-by': 'cloudconnect-operator', 'cloudconnect.dev/site': 'maple' },
    });
    expect(sa.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'OceanSite', name: 'maple', uid: 'u-1' });
    expect(sa.automountServiceAccountToken).toBe(false);
  });

  it('when taken by another ServiceAccount stalls the site with a reason and a message naming it', () => {
    const refusal = serviceAccountInUse('clinic', 'maple');
    expect(refusal.reason).toBe(SERVICE_ACCOUNT_IN_USE);
    expect(refusal.message).toContain('ServiceAccount clinic/maple exists and was not made by the operator for this site');
  });
});
