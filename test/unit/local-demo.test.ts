// The `make up` demo's pure parts (test/local/demo/): the demo clinic's manifests (one integration
// per EMR type, https URLs, the demo CA bundle, no secret value among what is written to disk),
// the messages its Ocean sends, and the readiness rows make up prints.
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { toYamlStream } from '../local/demo/apply.ts';
import { credentialSecrets, generateCredentials } from '../local/demo/credentials.ts';
import { subjectAltNames } from '../local/demo/demo-tls.ts';
import { DEMO_INTEGRATIONS, demoManifests } from '../local/demo/manifests.ts';
import { demoMessages } from '../local/demo/messages.ts';
import { integrationReadiness } from '../local/demo/readiness.ts';

const CA = '-----BEGIN CERTIFICATE-----\nZGVtbw==\n-----END CERTIFICATE-----\n';
const urls = {
  oscar: 'https://10.244.77.1:18201/oscar',
  accuro: 'https://10.244.77.1:18202',
  fhir: 'https://10.244.77.1:18203/fhir',
  telus: 'https://10.244.77.1:18204',
  ocean: 'https://10.244.77.1:18205',
  referralTarget: 'https://10.244.77.1:18206/api/referrals',
};
const credentials = generateCredentials();
const sek = Buffer.alloc(32, 7).toString('base64');

type Obj = {
  kind: string;
  metadata: { name: string; namespace?: string };
  type?: string;
  spec?: Record<string, never>;
  stringData?: Record<string, string>;
};
const built = demoManifests({ urls, credentials, ca: CA, sek });
const resources = built.resources as Obj[];
const secrets = built.secrets as Obj[];
const integrations = resources.filter((o) => o.kind === 'EmrIntegration') as unknown as {
  metadata: { name: string };
  spec: { emr: Record<string, unknown> & { type: string; caBundleSecretRef?: { name: string; key: string } } };
}[];
const sectionUrl = (emr: Record<string, unknown>) =>
  Object.values(emr)
    .filter((v): v is Record<string, string> => typeof v === 'object' && v !== null && 'credentialsSecretRef' in v)
    .map((v) => v['apiUrl'] ?? v['serverUrl'] ?? v['baseUrl'])[0];

describe('the demo clinic manifests', () => {
  it('have one EmrIntegration per EMR type, each on the site', () => {
    expect(integrations.map((i) => i.spec.emr.type).sort()).toEqual(['Accuro', 'FHIR', 'MedAccess', 'None', 'OSCARPro', 'PSSuite']);
    expect(DEMO_INTEGRATIONS).toHaveLength(6);
    expect(resources.filter((o) => o.kind === 'OceanSite').map((o) => o.metadata.name)).toEqual(['demo']);
  });

  it.each(integrations.filter((i) => i.spec.emr.type !== 'None').map((i) => [i.metadata.name, i] as const))(
    'point %s at its simulator over https with the demo CA bundle and its own credentials Secret',
    (name, i) => {
      expect(sectionUrl(i.spec.emr)).toMatch(/^https:\/\/10\.244\.77\.1:182\d\d/);
      expect(i.spec.emr.caBundleSecretRef).toEqual({ name: 'demo-ca', key: 'ca.crt' });
      const secret = secrets.find((s) => s.metadata.name === `${name}-credentials`);
      expect(secret?.stringData?.['oceanClientSecret']).toBe(credentials.ocean.clientSecret);
    },
  );

  it('give the None integration no EMR section, CA or Secret, and make it the eReferral endpoint forwarding to the demo referral system', () => {
    const none = integrations.find((i) => i.spec.emr.type === 'None') as unknown as { spec: { emr: object; eReferral?: object } };
    expect(none?.spec.emr).toEqual({ type: 'None' });
    expect(secrets.some((s) => s.metadata.name === 'demo-none-credentials')).toBe(false);
    expect(none?.spec.eReferral).toEqual({
      forward: {
        url: urls.referralTarget,
        auth: 'Bearer',
        credentialsSecretRef: { name: 'demo-referral-target' },
        caBundleSecretRef: { name: 'demo-ca', key: 'ca.crt' },
      },
    });
    expect(secrets.find((s) => s.metadata.name === 'demo-referral-target')?.stringData).toEqual({
      token: credentials.referralTarget.token,
    });
  });

  it('put the CA bundle, the credentials and the SEK import in Secrets, and nothing secret among the resources', () => {
    expect(secrets.find((s) => s.metadata.name === 'demo-ca')?.stringData).toEqual({ 'ca.crt': CA });
    expect(secrets.find((s) => s.type === 'cloudconnect.dev/sek-import')?.stringData).toEqual({ sek });
    const onDisk = toYamlStream(built.resources);
    expect(parseAllDocuments(onDisk).map((d) => (d.toJS() as Obj).kind)).toEqual(resources.map((o) => o.kind));
    expect(onDisk).not.toMatch(/kind: Secret/);
    expect(credentialSecrets(credentials)).toHaveLength(13);
    for (const value of [...credentialSecrets(credentials), sek]) expect(onDisk).not.toContain(value);
  });

  it('import no SEK when the site exists already (its key is in Vault)', () => {
    const again = demoManifests({ urls, credentials, ca: CA }).secrets as Obj[];
    expect(again.some((s) => s.type === 'cloudconnect.dev/sek-import')).toBe(false);
    expect(again).toHaveLength(secrets.length - 1);
  });

  it('leave the sync schedules to the operator and add one Reminders schedule for the Accuro integration', () => {
    const schedules = resources.filter((o) => o.kind === 'SyncSchedule') as unknown as {
      metadata: { name: string };
      spec: { type: string; integrationRef: { name: string }; reminders?: { offsets: string[]; templateId: string } };
    }[];
    expect(schedules.map((s) => [s.metadata.name, s.spec.type, s.spec.integrationRef.name])).toEqual([
      ['demo-accuro-reminders', 'Reminders', 'demo-accuro'],
    ]);
    expect(schedules[0]?.spec.reminders).toMatchObject({ offsets: ['72h', '24h'], templateId: 'appointment-reminder' });
  });
});

describe('the demo messages', () => {
  const patient = (i: number) => ({ emrId: String(i + 1), firstName: 'Ada', lastName: `Patient${i}`, birthDate: '1980-01-01' });
  it('take the three shapes in turn, each with its own id and patient', () => {
    const m = demoMessages('demo-x', 4, patient);
    expect(m.map((x) => [x.messageId, x.type, (x['patient'] as { emrId: string }).emrId])).toEqual([
      ['demo-x-1', 'eFormNote', '1'],
      ['demo-x-2', 'referralAttachment', '2'],
      ['demo-x-3', 'demographicUpdate', '3'],
      ['demo-x-4', 'eFormNote', '4'],
    ]);
  });
  it('send demographic updates to every EMR type (all of their adapters apply them)', () => {
    const m = demoMessages('demo-x', 3, patient, 'Accuro');
    expect(m.map((x) => x.type)).toEqual(['eFormNote', 'referralAttachment', 'demographicUpdate']);
  });
  it('send no demographic update to an integration without an EMR', () => {
    const m = demoMessages('demo-x', 4, patient, 'None');
    expect(m.map((x) => x.type)).toEqual(['eFormNote', 'referralAttachment', 'eFormNote', 'referralAttachment']);
  });
});

describe('the readiness rows', () => {
  const item = (name: string, type: string, conditions: { type: string; status: string; reason?: string }[]) => ({
    metadata: { name },
    spec: { emr: { type } },
    status: { conditions },
  });
  it.each([
    [
      'count an authenticated and ready integration',
      'Accuro',
      [
        { type: 'Authenticated', status: 'True' },
        { type: 'Ready', status: 'True' },
      ],
      true,
    ],
    [
      'do not count one that is ready but not authenticated',
      'FHIR',
      [
        { type: 'Authenticated', status: 'False', reason: 'InvalidCredentials' },
        { type: 'Ready', status: 'True' },
      ],
      false,
    ],
    ['do not count one without conditions yet', 'OSCARPro', [], false],
    ['count a None integration on Ready alone (it has no EMR to authenticate)', 'None', [{ type: 'Ready', status: 'True' }], true],
  ])('%s', (_name, type, conditions, ok) => {
    expect(integrationReadiness({ items: [item('x', type, conditions)] })[0]?.ok).toBe(ok);
  });
});

describe('the demo certificate', () => {
  it.each([
    ['names the pods gateway, loopback and localhost', '10.244.77.1', 'IP:127.0.0.1,DNS:localhost,IP:10.244.77.1'],
    ['does not repeat loopback', '127.0.0.1', 'IP:127.0.0.1,DNS:localhost'],
    ['names a host name as DNS', 'demo.local', 'IP:127.0.0.1,DNS:localhost,DNS:demo.local'],
  ])('%s', (_name, host, san) => {
    expect(subjectAltNames(host)).toBe(san);
  });
});
