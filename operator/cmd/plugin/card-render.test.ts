import { describe, expect, it } from 'vitest';
import type { EmrIntegration, OceanSite } from '../../api/v1alpha1/index.ts';
import { renderCardMarkdown, renderCardText, type SecretIdentifiers, secretIdentifiers } from './card-render.ts';

// Planted: every secret value the card could come near. None may appear on it.
const SECRET = {
  apiPassword: 'planted-api-password-7f3a',
  clientSecret: 'planted-client-secret-19be',
  subscriptionKey: 'planted-subscription-key-55c1',
  clientSecretOscar: 'planted-oscar-consumer-secret-a0',
  accessToken: 'planted-oscar-access-token-c4',
  tokenSecret: 'planted-oscar-token-secret-d9',
  instanceSecret: 'planted-telus-instance-secret-e2',
  activationCode: 'planted-telus-activation-f8',
};
const b64 = (data: Record<string, string>) =>
  Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));

const site: OceanSite = {
  apiVersion: 'cloudconnect.dev/v1alpha1',
  kind: 'OceanSite',
  metadata: { name: 'birch', namespace: 'clinic-birch' },
  spec: {
    siteNumber: '5151',
    displayName: 'Birch Clinic',
    clinicalAdminEmail: 'admin@birch.example.org',
    timeZone: 'America/Toronto',
    notifications: { additionalRecipients: ['it@birch.example.org'], emailOnError: false },
    supportSites: [{ name: 'oceanmd', expiresAt: '2027-01-01T00:00:00Z' }],
  },
  status: {
    encryptionKey: { path: 'cloudconnect/clinic-birch/birch/sek', mount: 'secret', version: 3, fingerprint: '0a1b2c3d4e5f6071' },
    serviceAccountName: 'birch',
  },
} as OceanSite;

const integration = (name: string, type: string, section: Record<string, unknown>, status = {}): EmrIntegration =>
  ({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name, namespace: 'clinic-birch' },
    spec: { siteRef: { name: 'birch' }, emr: { type, ...section } },
    status,
  }) as EmrIntegration;

const integrations = [
  integration(
    'birch-accuro',
    'Accuro',
    { accuro: { tenantId: 'BIRCH01', apiUrl: 'https://accuro.example', credentialsSecretRef: { name: 'accuro-creds' } } },
    { auth: { notAfter: '2027-02-01T00:00:00Z' }, webhook: { keyVersion: 2 } },
  ),
  integration('birch-oscar', 'OSCARPro', {
    oscarPro: { serverUrl: 'https://oscar.example/oscar', credentialsSecretRef: { name: 'oscar-creds' } },
  }),
  integration('birch-telus', 'PSSuite', { psSuite: { instanceId: 'inst-42', credentialsSecretRef: { name: 'telus-creds' } } }),
  integration('other-site-emr', 'FHIR', { fhir: { baseUrl: 'https://fhir.example', credentialsSecretRef: { name: 'fhir' } } }),
];
integrations[3]!.spec.siteRef.name = 'elsewhere';

const secrets = new Map<string, SecretIdentifiers>([
  [
    'accuro-creds',
    secretIdentifiers(
      'accuro-creds',
      'Accuro',
      b64({
        apiUsername: 'OceanAPI',
        apiPassword: SECRET.apiPassword,
        clientId: 'birch-client',
        clientSecret: SECRET.clientSecret,
        subscriptionKey: SECRET.subscriptionKey,
      }),
    ),
  ],
  [
    'oscar-creds',
    secretIdentifiers(
      'oscar-creds',
      'OSCARPro',
      b64({
        clientKey: 'birch-consumer',
        clientSecret: SECRET.clientSecretOscar,
        accessToken: SECRET.accessToken,
        tokenSecret: SECRET.tokenSecret,
      }),
    ),
  ],
  [
    'telus-creds',
    secretIdentifiers('telus-creds', 'PSSuite', b64({ instanceSecret: SECRET.instanceSecret, activationCode: SECRET.activationCode })),
  ],
]);

const input = { site, integrations, secrets, context: 'clinic-admin@prod', now: new Date('2026-12-02T10:00:00Z') };

describe('the credential reference card', () => {
  it.each([
    ['as text', renderCardText(input)],
    ['as Markdown', renderCardMarkdown(input)],
  ])('holds no secret value of any credentials Secret %s', (_n, card) => {
    for (const value of Object.values(SECRET)) expect(card).not.toContain(value);
  });

  it.each([
    ['the Ocean site number', '5151'],
    ['the SEK location, version and fingerprint', 'secret/cloudconnect/clinic-birch/birch/sek'],
    ['the SEK fingerprint', '0a1b2c3d4e5f6071'],
    ['the Accuro tenant', 'BIRCH01'],
    ['the Accuro API user name', 'OceanAPI'],
    ['the OSCAR consumer key', 'birch-consumer'],
    ['the TELUS instance', 'inst-42'],
    ['the names of the credential keys, not their values', 'keys: apiPassword, apiUsername, clientId, clientSecret, subscriptionKey'],
    ['where the webhook key is kept, and its version', 'secret/cloudconnect/clinic-birch/birch/relay/birch-accuro, version 2'],
    ['the support site and its expiry', 'oceanmd (until 2027-01-01T00:00:00Z)'],
    ['who else is e-mailed', 'it@birch.example.org'],
    ['that errors are not e-mailed', 'yes / no'],
    ['when the credentials expire', '2027-02-01T00:00:00Z'],
  ])('names %s', (_n, expected) => {
    expect(renderCardText(input)).toContain(expected);
    expect(renderCardMarkdown(input)).toContain(expected);
  });

  it("leaves out another site's integration in the same namespace", () => {
    expect(renderCardText(input)).not.toContain('other-site-emr');
  });

  it('says why a Secret could not be read, and still prints the rest', () => {
    const denied = new Map([['accuro-creds', { name: 'accuro-creds', keys: [], identifiers: {}, error: 'not readable: forbidden' }]]);
    const card = renderCardText({ ...input, secrets: denied });
    expect(card).toContain('accuro-creds (keys: -) (not readable: forbidden)');
    expect(card).toContain('BIRCH01');
  });
});

describe('what the card reads of a credentials Secret', () => {
  it.each([
    [
      'only the user and client names of Accuro',
      'Accuro',
      { apiUsername: 'u', apiPassword: 'p', clientId: 'c', clientSecret: 's' },
      { apiUsername: 'u', clientId: 'c' },
    ],
    [
      'only the consumer key of OSCAR Pro',
      'OSCARPro',
      { clientKey: 'k', clientSecret: 's', accessToken: 't', tokenSecret: 'ts' },
      { clientKey: 'k' },
    ],
    ['only the client id of FHIR', 'FHIR', { clientId: 'c', clientSecret: 's' }, { clientId: 'c' }],
    ['nothing of TELUS, whose Secret holds only secrets', 'MedAccess', { instanceSecret: 'x' }, {}],
    ['nothing of an EMR type it does not know', 'Other', { clientId: 'c' }, {}],
  ])('%s', (_n, type, data, expected) => {
    expect(secretIdentifiers('s', type, b64(data)).identifiers).toEqual(expected);
  });
});
