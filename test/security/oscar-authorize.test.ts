// Attacks on OSCAR Pro's authorization through `kubectl cloudconnect authorize` (the real plugin
// process, the real API server, the OSCAR simulator over https verifying OAuth 1.0a with the
// independent `oauth-1.0a` package): a wrong PIN on the authorize page, a verifier replayed into
// another request, a callback for another request, the token or secret in the command's output,
// and a Secret of the same name in another namespace. Each asserts the refusal and that the victim
// (the Secret, the simulator's accepted token) is untouched. `--no-wait`: no operator is involved.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, kubectlOk, repoRoot } from '../integration/kubectl.ts';
import { AUTHORIZE_URL, type PluginProcess, startPlugin } from '../integration/plugin-process.ts';
import { makeTestTls, type TestTls } from '../integration/tls.ts';
import { OSCAR_DEV_CREDENTIALS, type OscarSimulator, start as startOscar } from '../simulators/oscar.ts';
import { authorizeInBrowser } from '../simulators/oscar-authorize-browser.ts';
import { leakedForms } from './leak-forms.ts';

const stamp = Date.now().toString(36);
const clinic = `sec-authz-${stamp}`;
const victim = `sec-authz-victim-${stamp}`;
let tls: TestTls;
let oscar: OscarSimulator;

const apply = (o: object) => kubectlOk(['apply', '-f', '-'], JSON.stringify(o));

async function secret(namespace: string, name: string): Promise<{ resourceVersion: string; data: Record<string, string> }> {
  const s = JSON.parse(await kubectlOk(['get', 'secret', name, '-n', namespace, '-o', 'json'])) as {
    metadata: { resourceVersion: string };
    data: Record<string, string>;
  };
  const data = Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  return { resourceVersion: s.metadata.resourceVersion, data };
}

function integration(namespace: string, name: string, secretName: string) {
  return {
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name, namespace },
    spec: {
      siteRef: { name: 'site' },
      emr: {
        type: 'OSCARPro',
        oscarPro: { serverUrl: oscar.url, credentialsSecretRef: { name: secretName } },
        caBundleSecretRef: { name: 'sim-ca' },
      },
    },
  };
}

/** Starts the command and returns it with the printed authorize URL and the callback it listens on. */
async function started(args: string[]): Promise<{ run: PluginProcess; url: string; callback: string }> {
  const run = startPlugin(['authorize', ...args, '--no-browser', '--no-wait']);
  const [url] = await run.waitFor(AUTHORIZE_URL);
  const [, callback = ''] = await run.waitFor(/Waiting for OSCAR's redirect to (http:\/\/127\.0\.0\.1:\d+\/\S+) /);
  return { run, url, callback };
}

beforeAll(async () => {
  tls = makeTestTls();
  oscar = await startOscar({
    tls: { cert: tls.cert, key: tls.key },
    volume: { providers: 2, patients: 3, appointmentsPerDay: 2, days: 1 },
  });
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`]);
  for (const ns of [clinic, victim]) {
    await kubectl(['create', 'namespace', ns]);
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sim-ca', namespace: ns }, stringData: { 'ca.crt': tls.ca } });
  }
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'oscar-creds', namespace: clinic },
    stringData: { ...OSCAR_DEV_CREDENTIALS },
  });
  await apply(integration(clinic, 'oscar', 'oscar-creds'));
});

afterAll(async () => {
  await oscar?.stop();
});

describe('OSCAR authorization through kubectl cloudconnect authorize', () => {
  it('refuses a wrong PIN on the authorize page: no verifier, no token issued, the Secret untouched', async () => {
    const before = await secret(clinic, 'oscar-creds');
    const accepted = { ...oscar.credentials };
    const { run, url } = await started(['oscar', '-n', clinic, '--timeout', '5s']);
    const page = await authorizeInBrowser(url, { ...oscar.authorization.emrUser, pin: '0000' }, { ca: tls.ca });
    expect(page.status).toBe(401);
    expect(page.location).toBeUndefined();
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('no callback from OSCAR within 5 s');
    expect(oscar.authorization.issued).toEqual([]);
    expect(oscar.credentials).toEqual(accepted);
    expect(await secret(clinic, 'oscar-creds')).toEqual(before);
  });

  it('refuses a verifier replayed into another request, and ignores a callback for another request', async () => {
    // A first authorization, completed: its verifier is what an eavesdropper on the browser saw.
    const first = await started(['oscar', '-n', clinic]);
    const done = await authorizeInBrowser(first.url, oscar.authorization.emrUser, { ca: tls.ca });
    expect(await first.run.exited).toBe(0);
    const old = new URL(done.location ?? '').searchParams;
    const afterFirst = await secret(clinic, 'oscar-creds');
    const accepted = { ...oscar.credentials };

    const second = await started(['oscar', '-n', clinic, '--timeout', '30s']);
    const token = new URL(second.url).searchParams.get('oauth_token') ?? '';
    const stray = await fetch(
      `${second.callback}?${new URLSearchParams({ oauth_token: old.get('oauth_token') ?? '', oauth_verifier: old.get('oauth_verifier') ?? '' })}`,
    );
    expect(stray.status).toBe(400);
    const forged = await fetch(
      `${second.callback}?${new URLSearchParams({ oauth_token: token, oauth_verifier: old.get('oauth_verifier') ?? '' })}`,
    );
    expect(forged.status).toBe(200);
    expect(await second.run.exited).toBe(1);
    expect(second.run.stderr()).toContain('OSCAR refused the access token request (HTTP 401, oauth_problem=verifier_invalid)');
    expect(oscar.authorization.issued).toHaveLength(1);
    expect(oscar.credentials).toEqual(accepted);
    expect(await secret(clinic, 'oscar-creds')).toEqual(afterFirst);
  });

  it('never prints the access token, its secret or the client secret, in any form', async () => {
    const { run, url } = await started(['oscar', '-n', clinic]);
    await authorizeInBrowser(url, oscar.authorization.emrUser, { ca: tls.ca });
    expect(await run.exited).toBe(0);
    const written = (await secret(clinic, 'oscar-creds')).data;
    expect(written['accessToken']).toBe(oscar.credentials.accessToken);
    const output = `${run.stdout()}\n${run.stderr()}`;
    expect(output).toContain('Wrote accessToken and tokenSecret');
    for (const value of [written['accessToken'] ?? '', written['tokenSecret'] ?? '', written['clientSecret'] ?? ''])
      expect(leakedForms(output, value)).toEqual([]);
    // And when OSCAR refuses: the client secret it was signed with is not in the error either.
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'oscar-wrong', namespace: clinic },
      stringData: { clientKey: OSCAR_DEV_CREDENTIALS.clientKey, clientSecret: 'Pl4nted-Client-Secret' },
    });
    await apply(integration(clinic, 'oscar-wrong', 'oscar-wrong'));
    const refused = startPlugin(['authorize', 'oscar-wrong', '-n', clinic, '--no-browser', '--no-wait']);
    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toContain('oauth_problem=signature_invalid');
    expect(leakedForms(`${refused.stdout()}\n${refused.stderr()}`, 'Pl4nted-Client-Secret')).toEqual([]);
  });

  it('cannot write a Secret in another namespace than the integration’s, even one of the same name', async () => {
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'shared-name', namespace: victim },
      stringData: { ...OSCAR_DEV_CREDENTIALS },
    });
    const victimBefore = await secret(victim, 'shared-name');
    // The clinic's integration names a Secret that exists only in the victim's namespace.
    await apply(integration(clinic, 'oscar-elsewhere', 'shared-name'));
    const missing = startPlugin(['authorize', 'oscar-elsewhere', '-n', clinic, '--no-browser', '--no-wait']);
    expect(await missing.exited).toBe(1);
    expect(missing.stderr()).toContain(`Secret shared-name (spec.emr.oscarPro.credentialsSecretRef) does not exist in namespace ${clinic}`);
    // Now with a Secret of that name in the clinic's namespace too: the flow completes and writes there only.
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'shared-name', namespace: clinic },
      stringData: { ...OSCAR_DEV_CREDENTIALS },
    });
    const { run, url } = await started(['oscar-elsewhere', '-n', clinic]);
    await authorizeInBrowser(url, oscar.authorization.emrUser, { ca: tls.ca });
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain(`to Secret ${clinic}/shared-name`);
    expect((await secret(clinic, 'shared-name')).data['accessToken']).toBe(oscar.credentials.accessToken);
    expect(await secret(victim, 'shared-name')).toEqual(victimBefore);
  });
});
