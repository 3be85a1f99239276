// One authentication check against the EMR, for the auth step: none while the OceanSite is not Ready
// or the credentials Secret is missing or lacks a key the EMR type needs; otherwise the adapter
// authenticates (with the CA bundle of spec.emr.caBundleSecretRef) and lists the providers the API
// user can see. Every failure becomes a failed check with a condition reason; nothing is thrown.
import type { V1Secret } from '@kubernetes/client-node';
import type { EmrIntegrationSpec, OceanSite } from '../../api/v1alpha1/index.ts';
import { type AdapterConfig, type AuthResult, type EmrAdapter, EmrError } from '../../internal/emr/adapter.ts';
import { createAdapter, type EmrAdapterType, missingCredentialKeys } from '../../internal/emr/index.ts';
import { adapterSettings } from '../../internal/emr/settings.ts';
import { DEFAULT_EGRESS, type EgressPolicy } from '../../internal/httpx/egress-config.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import type { Clock } from '../../runtime/clock.ts';
import { isTrue } from '../../runtime/conditions.ts';
import { safeMessage } from '../../runtime/errors.ts';
import type { Logger } from '../../runtime/logger.ts';
import { redactor } from '../../runtime/redact.ts';
import { type AuthCheck, mapEmrError } from './auth-decision.ts';

export interface AuthCheckDeps {
  kube: Kube;
  clock: Clock;
  logger: Logger;
  adapterFactory?: (type: EmrAdapterType, config: AdapterConfig) => EmrAdapter;
  /** The whole-request deadline of each call; default the egress policy's. */
  timeoutMs?: number;
  /** What the EMR's URLs may reach and answer; default DEFAULT_EGRESS (nothing non-public reachable). */
  egress?: EgressPolicy;
}

export interface CheckInput {
  spec: EmrIntegrationSpec;
  site: OceanSite | undefined;
  secret: V1Secret | undefined;
  secretName: string;
}

export interface CheckResult {
  check: AuthCheck;
  /** The ids of the providers the API user sees (absent when the EMR would not list them). */
  providerIds?: string[];
  /** Who the EMR knows the integration as, for conflicts across sites. */
  apiUser?: string;
}

type Settings = ReturnType<typeof adapterSettings>;

/** Pure: the Secret to check with, or the failed check when the site is not Ready or the Secret is missing. */
export function readyToCheck(input: CheckInput, now: Date): { secret: V1Secret } | { failed: AuthCheck } {
  const { site, secret } = input;
  const siteName = input.spec.siteRef.name;
  if (!site || !isTrue(site.status?.conditions, 'Ready')) {
    const message = site ? `OceanSite ${siteName} is not Ready` : `OceanSite ${siteName} does not exist`;
    return { failed: { ok: false, at: now, reason: 'SiteNotReady', message } };
  }
  if (!secret) {
    return {
      failed: { ok: false, at: now, reason: 'SecretNotFound', message: `Secret ${input.secretName} named by spec.emr does not exist` },
    };
  }
  return { secret };
}

/** Pure: the failed check when the Secret lacks keys the EMR type needs; undefined when it lacks none. */
export function lacksKeys(secretName: string, missing: readonly string[], now: Date): AuthCheck | undefined {
  if (missing.length === 0) return undefined;
  return { ok: false, at: now, reason: 'InvalidCredentials', message: `Secret ${secretName} lacks the key(s) ${missing.join(', ')}` };
}

/** Pure: the failed check for what the adapter threw (the EMR's typed errors keep their reason). */
export function failedCheck(error: unknown, now: Date): AuthCheck {
  if (error instanceof EmrError)
    return { ok: false, at: now, reason: error.egress ?? mapEmrError(error.reason), message: safeMessage(error) };
  return { ok: false, at: now, reason: 'EmrUnreachable', message: safeMessage(error) };
}

/** Pure: the API user, as the EMR names it or else from the credentials or the instance. */
export function apiUserOf(auth: AuthResult, credentials: Record<string, string>, settings: Settings): string | undefined {
  return auth.apiUser ?? credentials.apiUsername ?? credentials.clientKey ?? credentials.clientId ?? settings.instanceId;
}

export async function checkAuthentication(deps: AuthCheckDeps, input: CheckInput, now: Date): Promise<CheckResult> {
  const ready = readyToCheck(input, now);
  if ('failed' in ready) return { check: ready.failed };
  const credentials = decodeCredentials(ready.secret);
  const settings = adapterSettings(input.spec);
  const lacking = lacksKeys(input.secretName, missingCredentialKeys(settings.type, credentials), now);
  if (lacking) return { check: lacking };
  const caBundle = await readCaBundle(deps.kube, input.spec, ready.secret.metadata?.namespace ?? '');
  try {
    return await authenticate(deps, input.spec, { settings, credentials, caBundle }, now);
  } catch (error) {
    return { check: failedCheck(error, now) };
  }
}

/** The Secret's values, each registered with the redactor before anything can log it. */
function decodeCredentials(secret: V1Secret): Record<string, string> {
  const credentials: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) {
    const value = Buffer.from(v, 'base64').toString('utf8');
    credentials[k] = value;
    redactor.register(value);
  }
  return credentials;
}

async function readCaBundle(kube: Kube, spec: EmrIntegrationSpec, namespace: string): Promise<string | undefined> {
  const ref = spec.emr.caBundleSecretRef;
  if (!ref) return undefined;
  try {
    const secret = await kube.core.readNamespacedSecret({ name: ref.name, namespace });
    const data = secret.data?.[ref.key ?? 'ca.crt'];
    return data ? Buffer.from(data, 'base64').toString('utf8') : undefined;
  } catch {
    return undefined;
  }
}

async function authenticate(
  deps: AuthCheckDeps,
  spec: EmrIntegrationSpec,
  input: { settings: Settings; credentials: Record<string, string>; caBundle: string | undefined },
  now: Date,
): Promise<CheckResult> {
  const { settings, credentials, caBundle } = input;
  const factory = deps.adapterFactory ?? createAdapter;
  const adapter = factory(settings.type, {
    baseUrl: settings.baseUrl,
    credentials,
    ...(settings.tenantId ? { tenantId: settings.tenantId } : {}),
    ...(settings.instanceId ? { instanceId: settings.instanceId } : {}),
    ...(settings.tokenUrl ? { tokenUrl: settings.tokenUrl } : {}),
    ...(caBundle ? { caBundle } : {}),
    now: () => deps.clock.now(),
    egress: deps.egress ?? DEFAULT_EGRESS,
    timeoutMs: deps.timeoutMs ?? (deps.egress ?? DEFAULT_EGRESS).timeoutMs,
  });
  const auth = await adapter.authenticate();
  const providerIds = await listProviders(deps.logger, adapter, spec);
  return {
    check: {
      ok: true,
      at: now,
      ...(auth.notAfter ? { notAfter: auth.notAfter } : {}),
      ...(auth.notBefore ? { notBefore: auth.notBefore } : {}),
    },
    ...(providerIds ? { providerIds } : {}),
    apiUser: apiUserOf(auth, credentials, settings),
  };
}

/** Undefined when the EMR would not list them: the check itself still counts. */
async function listProviders(logger: Logger, adapter: EmrAdapter, spec: EmrIntegrationSpec): Promise<string[] | undefined> {
  try {
    return (await adapter.listProviders()).map((p) => p.id);
  } catch (error) {
    logger.warn('could not list providers', { emr: spec.emr.type, error: safeMessage(error) });
    return undefined;
  }
}
