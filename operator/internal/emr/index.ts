// The adapter factory: one EmrAdapter per EMR type, built from the spec section's non-secret
// settings and the credentials Secret's values (see adapter.ts for AdapterConfig).

import { ACCURO_CREDENTIAL_KEYS, AccuroAdapter } from './accuro.ts';
import type { AdapterConfig, EmrAdapter } from './adapter.ts';
import { FHIR_CREDENTIAL_KEYS, FhirAdapter } from './fhir.ts';
import { OSCAR_CREDENTIAL_KEYS, OscarProAdapter } from './oscar-pro.ts';
import { TELUS_CREDENTIAL_KEYS, TelusAdapter } from './telus.ts';

export type EmrAdapterType = EmrAdapter['type'];

export const EMR_ADAPTER_TYPES: readonly EmrAdapterType[] = ['PSSuite', 'MedAccess', 'Accuro', 'OSCARPro', 'FHIR'];

/** The adapter class of each type (createAdapter builds them). */
const ADAPTER_CLASSES = {
  PSSuite: TelusAdapter,
  MedAccess: TelusAdapter,
  Accuro: AccuroAdapter,
  OSCARPro: OscarProAdapter,
  FHIR: FhirAdapter,
};

/**
 * What an EMR type's API can take beyond documents and chart notes (which every adapter files): the
 * optional EmrAdapter methods its adapter class has. The relay's intake refuses a message whose EMR
 * cannot take it (cmd/relay/capability.ts) instead of dead-lettering it later.
 */
export interface EmrCapabilities {
  /** EmrAdapter.updateDemographics: Ocean's demographic updates. */
  demographicUpdates: boolean;
  /** EmrAdapter.updateCustomFields: eForm answers mapped to custom demographic fields. */
  customFields: boolean;
}
export type EmrCapability = keyof EmrCapabilities;

/** The capabilities of a type, derived from its adapter class (one table, never out of step with the code). */
export function emrCapabilities(type: EmrAdapterType): EmrCapabilities {
  const prototype: Partial<EmrAdapter> = ADAPTER_CLASSES[type].prototype;
  return {
    demographicUpdates: typeof prototype.updateDemographics === 'function',
    customFields: typeof prototype.updateCustomFields === 'function',
  };
}

/** Whether the type's adapter applies Ocean's demographic updates (EmrAdapter.updateDemographics); elsewhere the relay refuses them. */
export function appliesDemographicUpdates(type: EmrAdapterType): boolean {
  return emrCapabilities(type).demographicUpdates;
}

/** Keys each type needs in its credentials Secret (optional extras: Accuro `uuid`). */
const REQUIRED_CREDENTIAL_KEYS: Record<EmrAdapterType, readonly string[]> = {
  PSSuite: TELUS_CREDENTIAL_KEYS.PSSuite,
  MedAccess: TELUS_CREDENTIAL_KEYS.MedAccess,
  Accuro: ACCURO_CREDENTIAL_KEYS,
  OSCARPro: OSCAR_CREDENTIAL_KEYS,
  FHIR: FHIR_CREDENTIAL_KEYS,
};

/** Keys of `credentials` the type needs but does not have (for a clear status message before any call). */
export function missingCredentialKeys(type: EmrAdapterType, credentials: Record<string, string>): string[] {
  return REQUIRED_CREDENTIAL_KEYS[type].filter((key) => !credentials[key]);
}

/**
 * Builds the adapter for `type`. Throws EmrError('InvalidCredentials') when the Secret lacks a key,
 * and a plain Error for a type without an adapter (`None`) or a missing tenantId/instanceId.
 */
export function createAdapter(type: EmrAdapterType, config: AdapterConfig): EmrAdapter {
  switch (type) {
    case 'OSCARPro':
      return new OscarProAdapter(config);
    case 'Accuro':
      return new AccuroAdapter(config);
    case 'FHIR':
      return new FhirAdapter(config);
    case 'PSSuite':
    case 'MedAccess':
      return new TelusAdapter(type, config);
    default:
      throw new Error(`no EMR adapter for type ${String(type)}`);
  }
}

export type { AdapterConfig, AuthResult, EmrAdapter, EmrErrorReason } from './adapter.ts';
