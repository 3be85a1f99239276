// Pure: what an EmrIntegration spec says about reaching its EMR (adapter type, base URL, ids, the
// credentials Secret). Kept apart from the reconciler so the sync worker loads no Kubernetes client.
import { EMR_SECTION, type EmrIntegrationSpec } from '../../api/v1alpha1/index.ts';
import type { EmrAdapterType } from './index.ts';

export function credentialsSecretName(spec: EmrIntegrationSpec): string | undefined {
  if (spec.emr.type === 'None') return undefined;
  const section = (spec.emr as Record<string, unknown>)[EMR_SECTION[spec.emr.type]] as
    | { credentialsSecretRef?: { name?: string } }
    | undefined;
  return section?.credentialsSecretRef?.name;
}

/** Default vendor endpoints when the spec does not name one. */
const DEFAULT_URLS: Record<EmrAdapterType, string> = {
  PSSuite: 'https://api.pssuite.telus.example',
  MedAccess: 'https://api.medaccess.telus.example',
  Accuro: 'https://api.qhrtech.com',
  OSCARPro: '',
  FHIR: '',
};

export function adapterSettings(spec: EmrIntegrationSpec): {
  type: EmrAdapterType;
  baseUrl: string;
  tenantId?: string;
  instanceId?: string;
  tokenUrl?: string;
} {
  const emr = spec.emr;
  switch (emr.type) {
    case 'Accuro':
      return { type: 'Accuro', baseUrl: emr.accuro?.apiUrl ?? DEFAULT_URLS.Accuro, tenantId: emr.accuro?.tenantId ?? '' };
    case 'OSCARPro':
      return { type: 'OSCARPro', baseUrl: emr.oscarPro?.serverUrl ?? '' };
    case 'FHIR':
      return { type: 'FHIR', baseUrl: emr.fhir?.baseUrl ?? '', ...(emr.fhir?.tokenUrl ? { tokenUrl: emr.fhir.tokenUrl } : {}) };
    case 'PSSuite':
      return { type: 'PSSuite', baseUrl: emr.psSuite?.apiUrl ?? DEFAULT_URLS.PSSuite, instanceId: emr.psSuite?.instanceId ?? '' };
    case 'MedAccess':
      return { type: 'MedAccess', baseUrl: emr.medAccess?.apiUrl ?? DEFAULT_URLS.MedAccess, instanceId: emr.medAccess?.instanceId ?? '' };
    default:
      throw new Error('no adapter for EMR type None');
  }
}
