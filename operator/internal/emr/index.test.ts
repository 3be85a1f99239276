import { describe, expect, it } from 'vitest';
import { EmrError } from './adapter.ts';
import {
  appliesDemographicUpdates,
  createAdapter,
  EMR_ADAPTER_TYPES,
  type EmrAdapterType,
  emrCapabilities,
  missingCredentialKeys,
} from './index.ts';

const full: Record<string, string> = {
  clientKey: 'k-value',
  clientSecret: 's-value',
  accessToken: 'a-value',
  tokenSecret: 't-value',
  apiUsername: 'OceanAPIX',
  apiPassword: 'p-value',
  clientId: 'c-value',
  subscriptionKey: 'sk-value',
  instanceSecret: 'i-value',
  activationCode: 'ac-value',
};

describe('createAdapter', () => {
  it.each(EMR_ADAPTER_TYPES)('builds a %s adapter of that type', (type) => {
    const adapter = createAdapter(type, { baseUrl: 'https://emr.example.org/oscar', credentials: full, tenantId: 'T1', instanceId: 'I1' });
    expect(adapter.type).toBe(type);
  });

  const missing: [EmrAdapterType, string, string[]][] = [
    ['OSCARPro', 'tokenSecret', ['tokenSecret']],
    ['Accuro', 'subscriptionKey', ['subscriptionKey']],
    ['FHIR', 'clientSecret', ['clientSecret']],
    ['PSSuite', 'activationCode', ['activationCode']],
    ['MedAccess', 'instanceSecret', ['instanceSecret']],
  ];
  it.each(missing)('reports InvalidCredentials when the %s Secret lacks %s, naming the key and no value', (type, key, expected) => {
    const credentials = { ...full };
    delete credentials[key];
    expect(missingCredentialKeys(type, credentials)).toEqual(expected);
    let caught: unknown;
    try {
      createAdapter(type, { baseUrl: 'https://emr.example.org/x', credentials, tenantId: 'T1', instanceId: 'I1' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EmrError);
    expect((caught as EmrError).reason).toBe('InvalidCredentials');
    expect((caught as EmrError).message).toContain(key);
    for (const value of Object.values(full)) expect((caught as EmrError).message).not.toContain(value);
  });

  it('refuses a type that has no adapter', () => {
    expect(() => createAdapter('None' as EmrAdapterType, { baseUrl: 'https://x', credentials: {} })).toThrow(/no EMR adapter/);
  });
});

describe('what each EMR type can take (emrCapabilities, from the adapter classes)', () => {
  it.each([
    ['FHIR updates the Patient resource and its custom-field extensions', 'FHIR'],
    ['Accuro updates the patient and its patient custom fields', 'Accuro'],
    ['OSCAR Pro updates the DemographicTo1 and its extras', 'OSCARPro'],
    ['PS Suite (TELUS) updates the patient record and its custom fields', 'PSSuite'],
    ['Med Access (TELUS) likewise', 'MedAccess'],
  ] as const)('%s', (_name, type) => {
    expect(emrCapabilities(type)).toEqual({ demographicUpdates: true, customFields: true });
    expect(appliesDemographicUpdates(type)).toBe(true);
  });
});
