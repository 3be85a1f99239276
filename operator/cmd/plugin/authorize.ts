// `kubectl cloudconnect authorize INTEGRATION`: OSCAR Pro's "Authorize Ocean" step (seed 000) from
// the command line. Runs OAuth 1.0a's three legs against the integration's OSCAR server with the
// REST client's key and secret from its credentials Secret: a request token, the authorize URL for
// the clinic's EMR administrator (who signs in as the OceanConnect EMR user with the PIN), the
// verifier (a local callback on 127.0.0.1, or pasted with --verifier-stdin), then the access token,
// which it writes into the same Secret (accessToken, tokenSecret) and nowhere else. It prints key
// names, the Secret and the expiry, never a token or a secret; then it waits for the operator's check.
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type V1Secret } from '@kubernetes/client-node';
import { EMR_INTEGRATION, type EmrIntegration, REQUESTED_AT_ANNOTATION } from '../../api/v1alpha1/index.ts';
import { egressFromEnv } from '../../internal/httpx/egress-config.ts';
import { HttpClient } from '../../internal/httpx/http.ts';
import { MERGE_PATCH } from '../../internal/kube/kube.ts';
import { findCondition } from '../../runtime/conditions.ts';
import { ignoreStatus } from '../../runtime/errors.ts';
import { listenForCallback } from './authorize-callback.ts';
import { openBrowser, readVerifier } from './authorize-input.ts';
import { OscarOAuthClient } from './authorize-legs.ts';
import {
  AuthorizeError,
  authorizeUrl,
  consumerOf,
  type OscarTarget,
  oscarTarget,
  secretPatch,
  tokenExpiry,
  writtenLine,
} from './authorize-plan.ts';
import { getIntegration, getNamespaced, loadClient, type PluginClient, requestByAnnotation } from './client.ts';
import type { CommandIo } from './io.ts';
import { EXIT, GLOBAL_HELP, parseCommandArgs, parseTimeout } from './usage.ts';

const AUTHORIZE_HELP = `Authorize an OSCAR Pro EmrIntegration (OAuth 1.0a, "Authorize Ocean"): get a request token from
the OSCAR server, have the clinic's EMR administrator approve it on OSCAR's page (signed in as the
OceanConnect EMR user, with its PIN), exchange it for an access token and write that into the
integration's credentials Secret (keys accessToken and tokenSecret). Never prints a token or secret.

Usage:
  kubectl cloudconnect authorize INTEGRATION [-n NAMESPACE] [--verifier-stdin] [--no-browser] [--timeout 10m] [--no-wait]

The authorize URL is printed, and opened in a browser when this machine has one. After "Authorize",
OSCAR redirects the browser to a listener this command opens on 127.0.0.1 (a random port), so the
browser must run on this machine; the REST client in OSCAR (Administration > Integration > REST
Clients) must have the URI http://127.0.0.1. Otherwise use --verifier-stdin: the callback is "oob",
OSCAR shows a verification code, and you paste it here (or pipe it in); the REST client's URI is
then "oob".

Options:
      --verifier-stdin  read the verification code from stdin (an "oob" request) instead of the callback
      --no-browser      only print the authorize URL
      --timeout D       how long to wait for the approval (default 10m)
      --no-wait         do not wait for the operator to check the new token

The Secret's clientKey and clientSecret are the REST client's. OSCAR is reached as the operator
reaches it: spec.emr.caBundleSecretRef's CA, and the egress limits of EGRESS_ALLOW_CIDRS,
EGRESS_DENY_CIDRS, EGRESS_TIMEOUT... from this environment (a private or loopback address is
refused unless EGRESS_ALLOW_CIDRS covers it).

${GLOBAL_HELP}`;

/** How long to wait for the operator to check the new token. */
const CHECK_WAIT_MS = 120_000;
const POLL_MS = 1000;

export async function authorizeCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'authorize',
    args,
    {
      'verifier-stdin': { type: 'boolean' },
      'no-browser': { type: 'boolean' },
      timeout: { type: 'string' },
      'no-wait': { type: 'boolean' },
    },
    { min: 1, max: 1, names: 'INTEGRATION (the OSCAR Pro EmrIntegration to authorize)' },
  );
  if (values.help) {
    io.out(`${AUTHORIZE_HELP}\n`);
    return EXIT.ok;
  }
  const timeoutMs = parseTimeout(values.timeout ?? '10m', 'authorize');
  const client = loadClient(values);
  const core = client.kc.makeApiClient(CoreV1Api);
  try {
    const integration = await getIntegration(client, positionals[0] ?? '');
    const target = oscarTarget({ ...integration, metadata: { ...integration.metadata, namespace: client.namespace } });
    const oauth = await oauthClient(core, target);
    const access = await threeLegs(oauth, target, io, {
      timeoutMs,
      pasted: values['verifier-stdin'] === true,
      browser: values['no-browser'] !== true,
    });
    await core.patchNamespacedSecret(
      { name: target.secretName, namespace: target.namespace, body: secretPatch(access.token, access.secret) },
      MERGE_PATCH,
    );
    io.out(`${writtenLine(target, tokenExpiry(access.expiresHeader, access.params, io.now()))}\n`);
    return values['no-wait'] ? EXIT.ok : await waitForCheck(client, target, io);
  } catch (error) {
    if (!(error instanceof AuthorizeError)) throw error;
    io.err(`error: ${error.message}\n`);
    return EXIT.failed;
  }
}

/** The OAuth client for the integration's server: the Secret's client key and secret, the CA bundle, the egress limits. */
async function oauthClient(core: CoreV1Api, target: OscarTarget): Promise<OscarOAuthClient> {
  const secret = await readSecret(core, target.namespace, target.secretName);
  if (!secret)
    throw new AuthorizeError(
      `Secret ${target.secretName} (spec.emr.oscarPro.credentialsSecretRef) does not exist in namespace ${target.namespace}`,
    );
  const consumer = consumerOf(target.secretName, secret.data);
  let caBundle: string | undefined;
  if (target.caBundle) {
    const ca = await readSecret(core, target.namespace, target.caBundle.name);
    const pem = ca?.data?.[target.caBundle.key];
    if (!pem) throw new AuthorizeError(`Secret ${target.caBundle.name} (spec.emr.caBundleSecretRef) has no key ${target.caBundle.key}`);
    caBundle = Buffer.from(pem, 'base64').toString('utf8');
  }
  const http = new HttpClient({
    emr: 'OSCAR',
    egress: egressFromEnv(process.env),
    secrets: [consumer.consumerSecret],
    ...(caBundle ? { caBundle } : {}),
  });
  return new OscarOAuthClient({ serverUrl: target.serverUrl, consumer, http });
}

function readSecret(core: CoreV1Api, namespace: string, name: string): Promise<V1Secret | undefined> {
  return core.readNamespacedSecret({ name, namespace }).catch(ignoreStatus(404)) as Promise<V1Secret | undefined>;
}

interface LegOptions {
  timeoutMs: number;
  pasted: boolean;
  browser: boolean;
}

/** Request token → the person approves → verifier → access token. */
async function threeLegs(oauth: OscarOAuthClient, target: OscarTarget, io: CommandIo, options: LegOptions) {
  const listener = options.pasted ? undefined : await listenForCallback();
  try {
    const request = await oauth.requestToken(listener?.url ?? 'oob');
    const url = authorizeUrl(target.serverUrl, request.token);
    io.err(
      `To authorize EmrIntegration ${target.namespace}/${target.name}, the clinic's EMR administrator opens this URL, signs in as the OceanConnect EMR user with its PIN, and presses "Authorize":\n\n  ${url}\n\n`,
    );
    if (options.browser && openBrowser(url)) io.err('(opened in your browser)\n');
    let verifier: string;
    if (listener) {
      io.err(`Waiting for OSCAR's redirect to ${listener.url} (up to ${Math.round(options.timeoutMs / 1000)} s)...\n`);
      verifier = await listener.verifier(request.token, options.timeoutMs);
    } else {
      io.err('Paste the verification code OSCAR shows, then press Enter: ');
      // stdin is not needed again: let go of it, or an open pipe keeps the command from exiting.
      verifier = await readVerifier(process.stdin, options.timeoutMs).finally(() => process.stdin.destroy());
    }
    return await oauth.accessToken(request, verifier);
  } finally {
    await listener?.close();
  }
}

/** Asks the operator to check now and reports the Authenticated condition it then writes. */
async function waitForCheck(client: PluginClient, target: OscarTarget, io: CommandIo): Promise<number> {
  const token = await requestByAnnotation(client, EMR_INTEGRATION, target.name, REQUESTED_AT_ANNOTATION, io.now());
  const deadline = io.now().getTime() + CHECK_WAIT_MS;
  for (;;) {
    const current = await getNamespaced<EmrIntegration>(client, EMR_INTEGRATION.plural, target.namespace, target.name);
    const authenticated = findCondition(current?.status?.conditions, 'Authenticated');
    if (current?.status?.lastHandledRequestedAt === token && authenticated) {
      io.out(
        `EmrIntegration ${target.namespace}/${target.name}: Authenticated=${authenticated.status} (${authenticated.reason}): ${authenticated.message}\n`,
      );
      return authenticated.status === 'True' ? EXIT.ok : EXIT.failed;
    }
    if (io.now().getTime() > deadline) {
      io.err(
        `error: the operator has not checked the new token after ${CHECK_WAIT_MS / 1000} s (kubectl cloudconnect status -n ${target.namespace})\n`,
      );
      return EXIT.failed;
    }
    await sleep(POLL_MS);
  }
}
