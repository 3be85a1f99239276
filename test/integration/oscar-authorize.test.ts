// `kubectl cloudconnect authorize` end to end: the real plugin process against the real API server,
// the operator process and the OSCAR simulator over https (OAuth 1.0a's three legs, verified by the
// simulator with the independent `oauth-1.0a` package). The test plays the clinic's EMR administrator:
// it opens the printed authorize URL, signs in as the OceanConnect user with the PIN and presses
// "Authorize Ocean"; the browser's redirect reaches the command's callback on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationHeader } from '../../operator/internal/httpx/oauth1.ts';
import { OSCAR_DEV_CREDENTIALS, type OscarSimulator, start as startOscar } from '../simulators/oscar.ts';
import { authorizeInBrowser } from '../simulators/oscar-authorize-browser.ts';
import { importedSite } from './fixtures.ts';
import { kubectl, kubectlOk, repoRoot } from './kubectl.ts';
import { eventually, type OperatorProcess, startOperator } from './operator-process.ts';
import { AUTHORIZE_URL, startPlugin } from './plugin-process.ts';
import { makeTestTls, type TestTls } from './tls.ts';

const ns = `it-authz-${Date.now().toString(36)}`;
const COMMAND = (name: string) => `kubectl cloudconnect authorize ${name} -n ${ns}`;
let tls: TestTls;
let oscar: OscarSimulator;
let operator: OperatorProcess;

const apply = (o: object) => kubectlOk(['apply', '-f', '-'], JSON.stringify(o));

function oscarIntegration(name: string, secretName: string, serverUrl = oscar.url) {
  return {
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name, namespace: ns },
    spec: {
      siteRef: { name: 'birch' },
      emr: { type: 'OSCARPro', oscarPro: { serverUrl, credentialsSecretRef: { name: secretName } }, caBundleSecretRef: { name: 'sim-ca' } },
    },
  };
}

async function authenticated(name: string) {
  const obj = JSON.parse(await kubectlOk(['get', 'emrintegration', name, '-n', ns, '-o', 'json'])) as {
    status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
  };
  return obj.status?.conditions?.find((c) => c.type === 'Authenticated');
}

const waitAuthenticated = (name: string, status: string, reason?: string) =>
  eventually(
    async () => {
      const c = await authenticated(name);
      return c?.status === status && (reason === undefined || c.reason === reason) ? c : undefined;
    },
    `${name} Authenticated=${status} ${reason ?? ''}`,
  );

async function secretData(name: string): Promise<Record<string, string>> {
  const secret = JSON.parse(await kubectlOk(['get', 'secret', name, '-n', ns, '-o', 'json'])) as { data: Record<string, string> };
  return Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

/** A signed providers call with an access pair, as the adapter makes it: the simulator's status code. */
async function oscarAccepts(token: string, tokenSecret: string): Promise<number> {
  const url = new URL(`${oscar.url}/ws/services/providerService/providers_json`);
  const credentials = { consumerKey: oscar.credentials.clientKey, consumerSecret: oscar.credentials.clientSecret, token, tokenSecret };
  const { Agent, fetch } = await import('undici');
  const response = await fetch(url, {
    headers: { authorization: authorizationHeader({ method: 'GET', url, credentials }) },
    dispatcher: new Agent({ connect: { ca: tls.ca } }),
  });
  return response.status;
}

beforeAll(async () => {
  tls = makeTestTls();
  oscar = await startOscar({
    tls: { cert: tls.cert, key: tls.key },
    volume: { providers: 3, patients: 10, appointmentsPerDay: 4, days: 1 },
  });
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`]);
  await kubectl(['create', 'namespace', ns]);
  await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sim-ca', namespace: ns }, stringData: { 'ca.crt': tls.ca } });
  for (const o of importedSite({ namespace: ns, name: 'birch', siteNumber: '7171' })) await apply(o);
  operator = await startOperator();
  await kubectlOk(['wait', '--for=condition=Ready', '--timeout=60s', '-n', ns, 'oceansite/birch']);
});

afterAll(async () => {
  await operator?.stop();
  await oscar?.stop();
});

describe('kubectl cloudconnect authorize', () => {
  it('names the command while the Secret holds only the client key and secret', async () => {
    const { clientKey, clientSecret } = OSCAR_DEV_CREDENTIALS;
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'birch-new-creds', namespace: ns },
      stringData: { clientKey, clientSecret },
    });
    await apply(oscarIntegration('birch-new', 'birch-new-creds'));
    const c = await waitAuthenticated('birch-new', 'False', 'InvalidCredentials');
    expect(c.message).toContain('accessToken');
    expect(c.message).toContain(`to authorize again, run: ${COMMAND('birch-new')}`);
  });

  it('shows Deauthorized with the command to run when OSCAR revokes the token', async () => {
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'birch-oscar-creds', namespace: ns },
      stringData: { ...OSCAR_DEV_CREDENTIALS },
    });
    await apply(oscarIntegration('birch-oscar', 'birch-oscar-creds'));
    await waitAuthenticated('birch-oscar', 'True');
    oscar.setFault({ deauthorized: true });
    await kubectlOk(['annotate', '--overwrite', '-n', ns, 'emrintegration/birch-oscar', 'cloudconnect.dev/requestedAt=revoked']);
    const c = await waitAuthenticated('birch-oscar', 'False', 'Deauthorized');
    expect(c.message).toContain('oauth_problem=token_revoked');
    expect(c.message).toContain(`to authorize again, run: ${COMMAND('birch-oscar')}`);
  });

  it('runs the three legs with the OceanConnect user and PIN, writes the new token into the Secret, and the integration turns Authenticated', async () => {
    const before = await secretData('birch-oscar-creds');
    const run = startPlugin(['authorize', 'birch-oscar', '-n', ns, '--no-browser']);
    try {
      const [url] = await run.waitFor(AUTHORIZE_URL);
      await run.waitFor(/Waiting for OSCAR's redirect to http:\/\/127\.0\.0\.1:\d+\//);
      const browser = await authorizeInBrowser(url, oscar.authorization.emrUser, { ca: tls.ca });
      expect(browser.status).toBe(303);
      expect(browser.callback?.status).toBe(200);
      expect(browser.callback?.body).toContain('OSCAR authorized Cloud Connect');
      expect(await run.exited).toBe(0);
    } finally {
      run.kill();
    }
    expect(run.stdout()).toContain(`Wrote accessToken and tokenSecret to Secret ${ns}/birch-oscar-creds; OSCAR says the token expires at `);
    expect(run.stdout()).toContain(`EmrIntegration ${ns}/birch-oscar: Authenticated=True (Authenticated)`);
    const after = await secretData('birch-oscar-creds');
    expect(after['accessToken']).toBe(oscar.credentials.accessToken);
    expect(after['tokenSecret']).toBe(oscar.credentials.tokenSecret);
    expect(after['accessToken']).not.toBe(before['accessToken']);
    expect({ clientKey: after['clientKey'], clientSecret: after['clientSecret'] }).toEqual({
      clientKey: before['clientKey'],
      clientSecret: before['clientSecret'],
    });
    expect(oscar.authorization.issued).toHaveLength(1);
    // The operator's check used the new pair: the old one is refused now.
    expect((await authenticated('birch-oscar'))?.status).toBe('True');
    expect(await oscarAccepts(before['accessToken'] ?? '', before['tokenSecret'] ?? '')).toBe(401);
    expect(await oscarAccepts(after['accessToken'] ?? '', after['tokenSecret'] ?? '')).toBe(200);
  });

  it('refuses an integration that is not OSCAR Pro', async () => {
    await apply({
      apiVersion: 'cloudconnect.dev/v1alpha1',
      kind: 'EmrIntegration',
      metadata: { name: 'birch-none', namespace: ns },
      spec: { siteRef: { name: 'birch' }, emr: { type: 'None' } },
    });
    const run = startPlugin(['authorize', 'birch-none', '-n', ns, '--no-browser']);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('EmrIntegration birch-none is emr.type None, not OSCARPro');
  });

  it('refuses a Secret without the client key, before asking OSCAR for anything', async () => {
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'birch-empty', namespace: ns }, stringData: { clientSecret: 'x' } });
    await apply(oscarIntegration('birch-empty', 'birch-empty'));
    const requests = oscar.requests.length;
    const run = startPlugin(['authorize', 'birch-empty', '-n', ns, '--no-browser']);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('Secret birch-empty lacks clientKey');
    expect(oscar.requests.slice(requests).filter((r) => r.path.includes('/ws/oauth/'))).toEqual([]);
  });

  it('shows oauth_problem when OSCAR refuses the request token', async () => {
    const { clientKey } = OSCAR_DEV_CREDENTIALS;
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'birch-wrong', namespace: ns },
      stringData: { clientKey, clientSecret: 'not-the-client-secret' },
    });
    await apply(oscarIntegration('birch-wrong', 'birch-wrong'));
    const run = startPlugin(['authorize', 'birch-wrong', '-n', ns, '--no-browser']);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('OSCAR refused the request token (HTTP 401, oauth_problem=signature_invalid)');
    expect(run.stderr()).not.toContain('not-the-client-secret');
  });

  it('gives up when nobody authorizes within --timeout', async () => {
    const run = startPlugin(['authorize', 'birch-new', '-n', ns, '--no-browser', '--timeout', '2s']);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('no callback from OSCAR within 2 s');
    expect((await secretData('birch-new-creds'))['accessToken']).toBeUndefined();
  });

  it('takes a pasted verification code with --verifier-stdin (an oob request)', async () => {
    const oob = await startOscar({ tls: { cert: tls.cert, key: tls.key }, clientUri: 'oob' });
    try {
      await apply({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'birch-oob-creds', namespace: ns },
        stringData: { ...OSCAR_DEV_CREDENTIALS },
      });
      await apply(oscarIntegration('birch-oob', 'birch-oob-creds', oob.url));
      const run = startPlugin(['authorize', 'birch-oob', '-n', ns, '--no-browser', '--verifier-stdin']);
      const [url] = await run.waitFor(AUTHORIZE_URL);
      await run.waitFor(/Paste the verification code/);
      const page = await authorizeInBrowser(url, oob.authorization.emrUser, { ca: tls.ca });
      const verifier = /<code id="oauth_verifier">([^<]+)<\/code>/.exec(page.body)?.[1] ?? '';
      run.write(`${verifier}\n`);
      expect(await run.exited, `${run.stdout()}\n${run.stderr()}`).toBe(0);
      expect((await secretData('birch-oob-creds'))['accessToken']).toBe(oob.credentials.accessToken);
    } finally {
      await oob.stop();
    }
  });
});
