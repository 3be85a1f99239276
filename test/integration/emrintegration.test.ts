// EmrIntegration against the real API server, Vault and the EMR simulators (served over https with
// a test CA): every condition reached from a simulator fault and cleared when the fault goes,
// conflicts on both sides, the hidden provider named, and no credential anywhere it should not be.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leakedForms } from '../security/leak-forms.ts';
import { ACCURO_DEV_CREDENTIALS, type AccuroSimulator, start as startAccuro } from '../simulators/accuro.ts';
import { OSCAR_DEV_CREDENTIALS, type OscarSimulator, start as startOscar } from '../simulators/oscar.ts';
import { importedSite } from './fixtures.ts';
import { kubectl, kubectlOk, repoRoot } from './kubectl.ts';
import { eventually, everythingWritten, type OperatorProcess, startOperator } from './operator-process.ts';
import { makeTestTls } from './tls.ts';

const ns = `it-emr-${Date.now().toString(36)}`;
let accuro: AccuroSimulator;
let oscar: OscarSimulator;
let operator: OperatorProcess;

const apply = (obj: object) => kubectlOk(['apply', '-f', '-'], JSON.stringify(obj));

function site(name: string) {
  return importedSite({ namespace: ns, name, siteNumber: String(1000 + name.length) });
}

function accuroIntegration(name: string, siteName: string, secretName: string, settings: Record<string, unknown> = {}) {
  return {
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name, namespace: ns },
    spec: {
      siteRef: { name: siteName },
      emr: {
        type: 'Accuro',
        accuro: { tenantId: accuro.tenantId, apiUrl: accuro.url, credentialsSecretRef: { name: secretName } },
        caBundleSecretRef: { name: 'sim-ca' },
      },
      settings,
    },
  };
}

const accuroSecret = (name: string, over: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: ns },
  stringData: { ...ACCURO_DEV_CREDENTIALS, ...over },
});

async function conditionOf(name: string, type: string): Promise<{ status: string; reason: string; message: string } | undefined> {
  const obj = JSON.parse(await kubectlOk(['get', 'emrintegration', name, '-n', ns, '-o', 'json'])) as {
    status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
  };
  return obj.status?.conditions?.find((c) => c.type === type);
}

async function waitFor(name: string, type: string, status: string, reason?: string) {
  return eventually(
    async () => {
      const c = await conditionOf(name, type);
      return c && c.status === status && (reason === undefined || c.reason === reason) ? c : undefined;
    },
    `${name} ${type}=${status}${reason ? ` (${reason})` : ''}`,
  );
}

let token = 0;
const recheck = (name: string) =>
  kubectlOk(['annotate', '--overwrite', '-n', ns, `emrintegration/${name}`, `cloudconnect.dev/requestedAt=t${++token}`]);

beforeAll(async () => {
  const tls = makeTestTls();
  accuro = await startAccuro({
    tls: { cert: tls.cert, key: tls.key },
    volume: { providers: 6, patients: 50, appointmentsPerDay: 20, days: 1 },
  });
  oscar = await startOscar({
    tls: { cert: tls.cert, key: tls.key },
    volume: { providers: 4, patients: 20, appointmentsPerDay: 10, days: 1 },
  });
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`]);
  await kubectl(['create', 'namespace', ns]);
  await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sim-ca', namespace: ns }, stringData: { 'ca.crt': tls.ca } });
  for (const o of [...site('maple'), ...site('oak')]) await apply(o);
  operator = await startOperator();
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, 'oceansite/maple', 'oceansite/oak']);
});

afterAll(async () => {
  await operator?.stop();
  await accuro?.stop();
  await oscar?.stop();
});

describe('an Accuro integration', () => {
  it('authenticates over https with the site CA bundle and records the expiry', async () => {
    await apply(accuroSecret('maple-accuro-creds'));
    await apply(
      accuroIntegration('maple-accuro', 'maple', 'maple-accuro-creds', { syncProviderIds: [accuro.providerId(0), accuro.providerId(1)] }),
    );
    await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, 'emrintegration/maple-accuro']);
    const obj = JSON.parse(await kubectlOk(['get', 'emrintegration', 'maple-accuro', '-n', ns, '-o', 'json']));
    expect(new Date(obj.status.auth.notAfter).getTime()).toBeGreaterThan(Date.now());
    expect(new Date(obj.status.auth.renewalTime).getTime()).toBeLessThan(new Date(obj.status.auth.notAfter).getTime());
    const ids = [0, 1, 2, 3, 4, 5].map((i) => accuro.providerId(i));
    expect(obj.status.providers).toEqual({ discovered: 6, missing: [], visible: [...ids].sort(), notSynced: ids.slice(2).sort() });
    expect(await conditionOf('maple-accuro', 'ProvidersVisible')).toMatchObject({ status: 'True' });
    // Seed 000: "if other providers start using Ocean, enable them": the four the spec leaves out are named.
    const available = await conditionOf('maple-accuro', 'NewProvidersAvailable');
    expect(available).toMatchObject({ status: 'True', reason: 'ProvidersNotSynced' });
    for (const id of ids.slice(2)) expect(available?.message).toContain(id);
    expect(available?.message).not.toContain(`${ids[0]},`);
    const labels = JSON.parse(await kubectlOk(['get', 'secret', 'maple-accuro-creds', '-n', ns, '-o', 'json'])).metadata.labels;
    expect(labels['cloudconnect.dev/credentials']).toBe('true');
  });

  it.each([
    ['reports InvalidCredentials when the EMR rejects them', { rejectCredentials: true }, 'InvalidCredentials'],
    ['reports Deauthorized when access was revoked', { deauthorized: true }, 'Deauthorized'],
    ['reports EmrUnreachable when the EMR answers 5xx', { serverError: true }, 'EmrUnreachable'],
  ])('%s, and recovers when the fault is removed', async (_n, fault, reason) => {
    accuro.setFault(fault);
    await recheck('maple-accuro');
    const c = await waitFor('maple-accuro', 'Authenticated', 'False', reason);
    expect(await conditionOf('maple-accuro', 'Ready')).toMatchObject({ status: 'False', reason });
    expect(c.message).not.toContain(ACCURO_DEV_CREDENTIALS.apiPassword);
    accuro.clearFaults();
    await recheck('maple-accuro');
    await waitFor('maple-accuro', 'Authenticated', 'True');
  });

  it('names the configured provider that the API user cannot see, whose bookings would silently be missing', async () => {
    accuro.setFault({ hiddenProviderIds: [accuro.providerId(1)] });
    await recheck('maple-accuro');
    const c = await waitFor('maple-accuro', 'ProvidersVisible', 'False', 'ProvidersNotVisible');
    expect(c.message).toContain(accuro.providerId(1));
    expect(c.message).not.toContain(accuro.providerId(0));
    accuro.clearFaults();
    await recheck('maple-accuro');
    await waitFor('maple-accuro', 'ProvidersVisible', 'True');
  });

  it('names the providers that vanish after an Accuro provider-permission change while every provider is synced, until they are back', async () => {
    // Every provider synced (no syncProviderIds): nothing is "missing", so only the memory of the last check can tell.
    await apply(accuroIntegration('maple-accuro', 'maple', 'maple-accuro-creds', {}));
    await waitFor('maple-accuro', 'NewProvidersAvailable', 'False', 'AllProvidersSynced');
    await waitFor('maple-accuro', 'ProvidersVisible', 'True');
    accuro.setFault({ hiddenProviderIds: [accuro.providerId(3)] });
    await recheck('maple-accuro');
    const c = await waitFor('maple-accuro', 'ProvidersVisible', 'False', 'ProvidersVanished');
    expect(c.message).toContain(accuro.providerId(3));
    expect(c.message).toContain('Provider Permissions');
    expect(c.message).not.toContain(accuro.providerId(2));
    expect(await conditionOf('maple-accuro', 'Ready')).toMatchObject({ status: 'False', reason: 'ProvidersVanished' });
    // Still named at the next check, then gone once the permission is back.
    await recheck('maple-accuro');
    await waitFor('maple-accuro', 'ProvidersVisible', 'False', 'ProvidersVanished');
    accuro.clearFaults();
    await recheck('maple-accuro');
    await waitFor('maple-accuro', 'ProvidersVisible', 'True');
    const obj = JSON.parse(await kubectlOk(['get', 'emrintegration', 'maple-accuro', '-n', ns, '-o', 'json']));
    expect(obj.status.providers.vanished).toBeUndefined();
    await apply(
      accuroIntegration('maple-accuro', 'maple', 'maple-accuro-creds', { syncProviderIds: [accuro.providerId(0), accuro.providerId(1)] }),
    );
    await waitFor('maple-accuro', 'NewProvidersAvailable', 'True', 'ProvidersNotSynced');
  });

  it('re-checks at once when the credentials Secret is edited', async () => {
    await apply(accuroSecret('maple-accuro-creds', { apiPassword: 'wrong-password-123' }));
    await waitFor('maple-accuro', 'Authenticated', 'False', 'InvalidCredentials');
    await apply(accuroSecret('maple-accuro-creds'));
    await waitFor('maple-accuro', 'Authenticated', 'True');
  });

  it('reports SecretNotFound for a missing credentials Secret, and authenticates once it exists', async () => {
    await apply(accuroIntegration('maple-missing', 'maple', 'late-secret'));
    await waitFor('maple-missing', 'Authenticated', 'False', 'SecretNotFound');
    await apply(accuroSecret('late-secret'));
    await recheck('maple-missing');
    await waitFor('maple-missing', 'Authenticated', 'True');
    await kubectlOk(['delete', 'emrintegration', 'maple-missing', '-n', ns]);
  });

  it('reports SiteNotReady while its OceanSite does not exist, and authenticates once the site is Ready', async () => {
    await apply(accuroIntegration('orphan', 'birch', 'maple-accuro-creds'));
    await waitFor('orphan', 'Authenticated', 'False', 'SiteNotReady');
    for (const o of site('birch')) await apply(o);
    await waitFor('orphan', 'Authenticated', 'True');
    await kubectlOk(['delete', 'emrintegration', 'orphan', '-n', ns]);
  });

  it('stalls on a spec.emr.timeZone the tz database does not know, naming it, and recovers when it is fixed', async () => {
    const bad = accuroIntegration('maple-zone', 'maple', 'maple-accuro-creds');
    (bad.spec.emr as Record<string, unknown>).timeZone = 'America/Torontoo';
    await apply(bad);
    const stalled = await waitFor('maple-zone', 'Stalled', 'True', 'InvalidTimeZone');
    expect(stalled.message).toContain('spec.emr.timeZone "America/Torontoo"');
    expect(await conditionOf('maple-zone', 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidTimeZone' });
    (bad.spec.emr as Record<string, unknown>).timeZone = 'America/Toronto';
    await apply(bad);
    await waitFor('maple-zone', 'Ready', 'True');
    expect(await conditionOf('maple-zone', 'Stalled')).toBeUndefined();
    await kubectlOk(['delete', 'emrintegration', 'maple-zone', '-n', ns]);
  });

  it('warns when attachments are not imported automatically', async () => {
    await apply(accuroIntegration('maple-accuro', 'maple', 'maple-accuro-creds', { autoImportAttachments: false, eReferral: true }));
    const c = await waitFor('maple-accuro', 'AttachmentsImportDisabled', 'True', 'AutoImportOff');
    expect(c.message).toContain('eReferral');
    expect(await conditionOf('maple-accuro', 'Ready')).toMatchObject({ status: 'True' });
    await apply(accuroIntegration('maple-accuro', 'maple', 'maple-accuro-creds'));
    await waitFor('maple-accuro', 'AttachmentsImportDisabled', 'False');
  });
});

describe('a credential conflict (one API username may serve only one Cloud Connect instance)', () => {
  it('is reported by both integrations, naming the other, and clears when one is deleted', async () => {
    await apply(accuroSecret('oak-accuro-creds'));
    await apply(accuroIntegration('oak-accuro', 'oak', 'oak-accuro-creds'));
    const a = await waitFor('maple-accuro', 'CredentialConflict', 'True', 'SharedApiUser');
    const b = await waitFor('oak-accuro', 'CredentialConflict', 'True', 'SharedApiUser');
    expect(a.message).toContain(`${ns}/oak-accuro`);
    expect(b.message).toContain(`${ns}/maple-accuro`);
    expect(await conditionOf('oak-accuro', 'Ready')).toMatchObject({ status: 'False', reason: 'CredentialConflict' });
    await kubectlOk(['delete', 'emrintegration', 'oak-accuro', '-n', ns]);
    await waitFor('maple-accuro', 'CredentialConflict', 'False');
    await waitFor('maple-accuro', 'Ready', 'True');
  });
});

describe('an OSCAR Pro integration', () => {
  it('authenticates with OAuth 1.0a and reports Deauthorized when the token is revoked', async () => {
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'maple-oscar-creds', namespace: ns },
      stringData: { ...OSCAR_DEV_CREDENTIALS },
    });
    await apply({
      apiVersion: 'cloudconnect.dev/v1alpha1',
      kind: 'EmrIntegration',
      metadata: { name: 'maple-oscar', namespace: ns },
      spec: {
        siteRef: { name: 'maple' },
        emr: {
          type: 'OSCARPro',
          oscarPro: { serverUrl: oscar.url, credentialsSecretRef: { name: 'maple-oscar-creds' } },
          caBundleSecretRef: { name: 'sim-ca' },
        },
      },
    });
    await waitFor('maple-oscar', 'Authenticated', 'True');
    oscar.setFault({ deauthorized: true });
    await recheck('maple-oscar');
    await waitFor('maple-oscar', 'Authenticated', 'False', 'Deauthorized');
    oscar.clearFaults();
    await recheck('maple-oscar');
    await waitFor('maple-oscar', 'Authenticated', 'True');
  });
});

describe('metrics and hygiene', () => {
  it('exports expiry and condition series, and drops them when the integration is deleted', async () => {
    const before = await operator.metrics();
    expect(before).toMatch(
      new RegExp(`cloudconnect_emr_auth_expiration_timestamp_seconds\\{namespace="${ns}",name="maple-accuro",emr="Accuro"\\}`),
    );
    expect(before).toMatch(
      new RegExp(`cloudconnect_integration_condition\\{namespace="${ns}",name="maple-oscar",condition="Authenticated",status="True"\\} 1`),
    );
    expect(before).toMatch(/cloudconnect_emr_auth_checks_total\{[^}]*result="Deauthorized"\}/);
    await kubectlOk(['delete', 'emrintegration', 'maple-oscar', '-n', ns]);
    await eventually(async () => !(await operator.metrics()).includes(`namespace="${ns}",name="maple-oscar"`), 'maple-oscar series gone');
  });

  it('never writes a credential value into logs, events, status or metrics', async () => {
    const everything = await everythingWritten(operator, ns, kubectlOk);
    const values = [...Object.values(ACCURO_DEV_CREDENTIALS), ...Object.values(OSCAR_DEV_CREDENTIALS)];
    expect(values.length).toBeGreaterThan(4);
    for (const v of values) expect(leakedForms(everything, v), 'credential value leaked').toEqual([]);
    expect(everything).toContain('AuthenticationFailed');
  });
});
