// EmrIntegration reconciler. Order: load → (deleted: forget metrics and identity) → None type →
// site ready? → credentials Secret (labelled so its edits are watched) → authentication check when
// due (interval, Secret edit, spec change, requestedAt) → providers visible → conflicts across
// sites → relay (Deployment + Service, replay, status record on a poll interval; relay.ts) →
// conditions, metrics, one notification per transition → status if changed → requeue.
import type { V1Secret } from '@kubernetes/client-node';
import {
  API_VERSION,
  EMR_INTEGRATION,
  type EmrIntegration,
  EmrIntegrationSpec,
  type EmrIntegrationStatus,
  GROUP,
  type OceanSite,
  OceanSiteSpec,
  REQUESTED_AT_ANNOTATION,
  type SyncSchedule,
  VERSION,
} from '../../api/v1alpha1/index.ts';
import { type AdapterConfig, type EmrAdapter, EmrError } from '../../internal/emr/adapter.ts';
import { createAdapter, type EmrAdapterType, missingCredentialKeys } from '../../internal/emr/index.ts';
import { adapterSettings, credentialsSecretName } from '../../internal/emr/settings.ts';
import { type Kube, MERGE_PATCH } from '../../internal/kube/kube.ts';
import { type Mailer, siteRecipients } from '../../internal/notify/mailer.ts';
import type { Clock } from '../../runtime/clock.ts';
import { type Condition, type ConditionInput, findCondition, isTrue, setConditions, summarizeReady } from '../../runtime/conditions.ts';
import type { ObjectKey, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import { withDefaults } from '../../runtime/defaults.ts';
import { parseDuration } from '../../runtime/duration.ts';
import { ignoreStatus, safeMessage, statusCodeOf } from '../../runtime/errors.ts';
import type { SupervisedInformer } from '../../runtime/informer.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { OperatorMetrics } from '../../runtime/metrics.ts';
import { redactor } from '../../runtime/redact.ts';
import { type AuthCheck, type AuthStatus, decideAuth, mapEmrError } from './auth-decision.ts';
import { DEFAULT_SCHEDULES_GRACE_MS, defaultSchedules, syncPanel } from './default-schedules.ts';

export { adapterSettings, credentialsSecretName };

import { type EmrIdentity, findConflicts } from './conflicts.ts';
import { type RelayConfig, RelayStep } from './relay-step.ts';

/** Label the operator puts on the credentials Secrets it uses, so that their edits are watched. */
export const CREDENTIALS_LABEL = 'cloudconnect.dev/credentials';

interface Memory {
  siteReady: boolean;
  secretVersion: string | undefined;
  generation: number | undefined;
  requestedAt: string | undefined;
  check: AuthCheck;
  authBefore: AuthStatus | undefined;
  /** The jitter drawn at the check, so that re-reading it gives the same schedule. */
  random: number;
  nextCheckAt: Date;
  providers?: { discovered: number; missing: string[] };
}

export interface EmrIntegrationDeps {
  kube: Kube;
  clock: Clock;
  logger: Logger;
  metrics: OperatorMetrics;
  mailer: Mailer;
  integrations: SupervisedInformer<EmrIntegration>;
  sites: SupervisedInformer<OceanSite>;
  secrets: SupervisedInformer<V1Secret>;
  /** The SyncSchedules cache: default schedules and the Sync Status panel come from it. */
  schedules?: SupervisedInformer<SyncSchedule>;
  enqueue: (key: string) => void;
  random?: () => number;
  adapterFactory?: (type: EmrAdapterType, config: AdapterConfig) => EmrAdapter;
  timeoutMs?: number;
  /** The EMR-bound message relay; undefined when the operator has no NATS URL (no relay is deployed). */
  relay?: RelayConfig;
}

export class EmrIntegrationReconciler implements Reconciler {
  private readonly deps: EmrIntegrationDeps;
  private readonly memory = new Map<string, Memory>();
  private readonly identities = new Map<string, EmrIdentity>();

  private readonly relay: RelayStep;

  constructor(deps: EmrIntegrationDeps) {
    this.deps = deps;
    this.relay = new RelayStep({
      kube: deps.kube,
      clock: deps.clock,
      logger: deps.logger,
      metrics: deps.metrics,
      mailer: deps.mailer,
      relay: deps.relay,
    });
  }

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const id = `${key.namespace}/${key.name}`;
    const integration = this.deps.integrations.get(key.name, key.namespace);
    if (!integration) {
      this.forget(id);
      return {};
    }
    const spec = withDefaults<EmrIntegrationSpec>(EmrIntegrationSpec, integration.spec);
    const now = this.deps.clock.now();
    const previous = integration.status ?? {};
    const site = this.deps.sites.get(spec.siteRef.name, key.namespace);
    const requestedAt = integration.metadata.annotations?.[REQUESTED_AT_ANNOTATION];
    const warnings: ConditionInput[] = [];
    if (spec.settings?.autoImportAttachments === false) {
      warnings.push({
        type: 'AttachmentsImportDisabled',
        status: 'True',
        reason: 'AutoImportOff',
        message: `Attachments are not imported into the EMR automatically${spec.settings.eReferral ? '; this site receives eReferrals, whose attachments will be missed' : ''} (eReferral users must keep it on)`,
      });
    } else {
      warnings.push({
        type: 'AttachmentsImportDisabled',
        status: 'False',
        reason: 'AutoImportOn',
        message: 'Attachments are imported automatically',
      });
    }

    if (spec.emr.type === 'None') {
      const ready = summarizeReady(
        site
          ? []
          : [{ type: 'SiteReady', status: 'False', reason: 'SiteNotReady', message: `OceanSite ${spec.siteRef.name} does not exist` }],
        undefined,
        {
          reason: 'NonIntegrated',
          message: 'No EMR: the site keeps only its SEK in Cloud Connect',
        },
      );
      await this.write(integration, previous, [ready], {}, requestedAt);
      return {};
    }

    const memory = this.memory.get(id);
    const secretName = credentialsSecretName(spec) ?? '';
    const secret = await this.credentialsSecret(secretName, key.namespace);
    const siteReady = site !== undefined && isTrue(site.status?.conditions, 'Ready');
    const due =
      !memory ||
      memory.siteReady !== siteReady ||
      memory.secretVersion !== secret?.metadata?.resourceVersion ||
      memory.generation !== integration.metadata.generation ||
      memory.requestedAt !== requestedAt ||
      now.getTime() >= memory.nextCheckAt.getTime();

    const timing = {
      checkIntervalMs: parseDuration(spec.auth?.checkInterval ?? '1h'),
      ...(spec.auth?.renewBefore ? { renewBeforeMs: parseDuration(spec.auth.renewBefore) } : {}),
    };
    let current = memory;
    if (due) {
      const authBefore = previous.auth as AuthStatus | undefined;
      const { check, providers, apiUser } = await this.check(spec, site, secret, secretName, now);
      const random = (this.deps.random ?? Math.random)();
      current = {
        siteReady,
        secretVersion: secret?.metadata?.resourceVersion,
        generation: integration.metadata.generation,
        requestedAt,
        check,
        authBefore,
        random,
        nextCheckAt: now, // set from the decision below
        ...(providers ? { providers } : memory?.providers ? { providers: memory.providers } : {}),
      };
      this.memory.set(id, current);
      this.deps.metrics.emrAuthChecks.inc({
        namespace: key.namespace,
        name: key.name,
        emr: spec.emr.type,
        result: check.ok ? 'success' : check.reason,
      });
      if (apiUser) this.setIdentity(id, { key: id, site: `${key.namespace}/${spec.siteRef.name}`, endpoint: endpointOf(spec), apiUser });
    }
    // Between checks the same check is re-read against the clock: expiry needs no EMR call.
    const decision = decideAuth({ check: current!.check, previous: current!.authBefore, now, ...timing, random: current!.random });
    if (due) current!.nextCheckAt = decision.nextCheckAt;

    const conditions: ConditionInput[] = [decision.authenticated, decision.expiringSoon, ...warnings];
    const conflicts = findConflicts([...this.identities.values()]).get(id);
    const conflict: ConditionInput = conflicts
      ? {
          type: 'CredentialConflict',
          status: 'True',
          reason: 'SharedApiUser',
          message: `The same EMR API user is connected for ${conflicts.join(', ')} of another site; one API username may be connected to only one Cloud Connect instance`,
        }
      : { type: 'CredentialConflict', status: 'False', reason: 'NoConflict', message: 'No other site uses this EMR API user' };
    conditions.push(conflict);
    const providers = current!.providers;
    let providersVisible: ConditionInput | undefined;
    if (decision.authenticated.status === 'True' && providers) {
      providersVisible =
        providers.missing.length > 0
          ? {
              type: 'ProvidersVisible',
              status: 'False',
              reason: 'ProvidersNotVisible',
              message: `The EMR API user cannot see configured provider(s) ${providers.missing.join(', ')}: their appointments will be missing (give the API user permission for them)`,
            }
          : { type: 'ProvidersVisible', status: 'True', reason: 'AllVisible', message: `${providers.discovered} provider(s) visible` };
      conditions.push(providersVisible);
    }
    const parts: ConditionInput[] = [decision.authenticated];
    if (conflicts) parts.push({ type: 'CredentialConflict', status: 'False', reason: 'CredentialConflict', message: conflict.message });
    if (providersVisible) parts.push(providersVisible);
    conditions.push(
      summarizeReady(parts, undefined, {
        reason: spec.suspend ? 'Suspended' : 'Succeeded',
        message: decision.expiringSoon.status === 'True' ? decision.expiringSoon.message : 'Authenticated with the EMR',
      }),
    );
    // Delivering is reported beside Ready, not folded into it: a backlog is the EMR's outage, already in Authenticated.
    const relay = await this.relay.reconcile(integration, spec, site, secret, previous);
    conditions.push(relay.delivering);

    await this.notifyTransitions(integration, spec, site, previous.conditions, decision.authenticated, decision.expiringSoon);
    this.exportMetrics(key, spec, decision.auth, conditions);
    const schedulesWait = await this.ensureDefaultSchedules(integration, site, now);
    const mine = this.deps.schedules?.list(key.namespace).filter((s) => s.spec.integrationRef.name === key.name) ?? [];
    await this.write(
      integration,
      previous,
      conditions,
      { auth: decision.auth, ...(providers ? { providers } : {}), sync: syncPanel(mine), ...(relay.relay ? { relay: relay.relay } : {}) },
      requestedAt,
    );
    const wait = Math.max(
      1000,
      Math.min(current!.nextCheckAt.getTime() - now.getTime(), schedulesWait ?? Infinity, relay.requeueAfterMs ?? Infinity),
    );
    return { requeueAfterMs: wait };
  }

  /** Creates the two default SyncSchedules once the integration has had a grace period without any; returns a wait if still in the grace period. */
  private async ensureDefaultSchedules(integration: EmrIntegration, site: OceanSite | undefined, now: Date): Promise<number | undefined> {
    const cache = this.deps.schedules;
    if (!cache) return undefined;
    const namespace = integration.metadata.namespace ?? '';
    if (cache.list(namespace).some((s) => s.spec.integrationRef.name === integration.metadata.name)) return undefined;
    const age = now.getTime() - new Date(String(integration.metadata.creationTimestamp ?? now.toISOString())).getTime();
    if (age < DEFAULT_SCHEDULES_GRACE_MS) return DEFAULT_SCHEDULES_GRACE_MS - age;
    const timeZone = site ? (withDefaults<OceanSiteSpec>(OceanSiteSpec, site.spec).timeZone ?? 'UTC') : 'UTC';
    for (const schedule of defaultSchedules(integration, timeZone)) {
      await this.deps.kube.custom
        .createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace,
          plural: 'syncschedules',
          body: { ...schedule, apiVersion: API_VERSION },
        })
        .catch(ignoreStatus(409));
    }
    await this.deps.kube.event(
      integration,
      'Normal',
      'DefaultSchedulesCreated',
      `No SyncSchedule named this integration: created a Full sync at 0 0 * * * and an Appointments sync at */30 * * * * (${timeZone})`,
    );
    return undefined;
  }

  private async credentialsSecret(name: string, namespace: string): Promise<V1Secret | undefined> {
    const cached = this.deps.secrets.get(name, namespace);
    if (cached) return cached;
    let secret: V1Secret;
    try {
      secret = await this.deps.kube.core.readNamespacedSecret({ name, namespace });
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw error;
    }
    // Labelled so that the Secret informer (label-selected) sees its edits from now on.
    await this.deps.kube.core
      .patchNamespacedSecret({ name, namespace, body: { metadata: { labels: { [CREDENTIALS_LABEL]: 'true' } } } }, MERGE_PATCH)
      .catch((error: unknown) =>
        this.deps.logger.warn('could not label credentials Secret', { secret: `${namespace}/${name}`, error: safeMessage(error) }),
      );
    return secret;
  }

  private async check(
    spec: EmrIntegrationSpec,
    site: OceanSite | undefined,
    secret: V1Secret | undefined,
    secretName: string,
    now: Date,
  ): Promise<{ check: AuthCheck; providers?: { discovered: number; missing: string[] }; apiUser?: string }> {
    if (!site || !isTrue(site.status?.conditions, 'Ready')) {
      return {
        check: {
          ok: false,
          at: now,
          reason: 'SiteNotReady',
          message: site ? `OceanSite ${spec.siteRef.name} is not Ready` : `OceanSite ${spec.siteRef.name} does not exist`,
        },
      };
    }
    if (!secret) {
      return { check: { ok: false, at: now, reason: 'SecretNotFound', message: `Secret ${secretName} named by spec.emr does not exist` } };
    }
    const credentials: Record<string, string> = {};
    for (const [k, v] of Object.entries(secret.data ?? {})) {
      credentials[k] = Buffer.from(v, 'base64').toString('utf8');
      redactor.register(credentials[k]);
    }
    const settings = adapterSettings(spec);
    const missing = missingCredentialKeys(settings.type, credentials);
    if (missing.length > 0) {
      return {
        check: { ok: false, at: now, reason: 'InvalidCredentials', message: `Secret ${secretName} lacks the key(s) ${missing.join(', ')}` },
      };
    }
    const caBundle = await this.caBundle(spec, secret.metadata?.namespace ?? '');
    const factory = this.deps.adapterFactory ?? createAdapter;
    try {
      const adapter = factory(settings.type, {
        baseUrl: settings.baseUrl,
        credentials,
        ...(settings.tenantId ? { tenantId: settings.tenantId } : {}),
        ...(settings.instanceId ? { instanceId: settings.instanceId } : {}),
        ...(settings.tokenUrl ? { tokenUrl: settings.tokenUrl } : {}),
        ...(caBundle ? { caBundle } : {}),
        now: () => this.deps.clock.now(),
        timeoutMs: this.deps.timeoutMs ?? 15_000,
      });
      const auth = await adapter.authenticate();
      let providers: { discovered: number; missing: string[] } | undefined;
      try {
        const visible = new Set((await adapter.listProviders()).map((p) => p.id));
        const configured = spec.settings?.syncProviderIds ?? [];
        providers = { discovered: visible.size, missing: configured.filter((p) => !visible.has(p)) };
      } catch (error) {
        this.deps.logger.warn('could not list providers', { emr: spec.emr.type, error: safeMessage(error) });
      }
      return {
        check: {
          ok: true,
          at: now,
          ...(auth.notAfter ? { notAfter: auth.notAfter } : {}),
          ...(auth.notBefore ? { notBefore: auth.notBefore } : {}),
        },
        ...(providers ? { providers } : {}),
        apiUser: auth.apiUser ?? credentials.apiUsername ?? credentials.clientKey ?? credentials.clientId ?? settings.instanceId,
      };
    } catch (error) {
      if (error instanceof EmrError)
        return { check: { ok: false, at: now, reason: mapEmrError(error.reason), message: safeMessage(error) } };
      return { check: { ok: false, at: now, reason: 'EmrUnreachable', message: safeMessage(error) } };
    }
  }

  private async caBundle(spec: EmrIntegrationSpec, namespace: string): Promise<string | undefined> {
    const ref = spec.emr.caBundleSecretRef;
    if (!ref) return undefined;
    try {
      const secret = await this.deps.kube.core.readNamespacedSecret({ name: ref.name, namespace });
      const data = secret.data?.[ref.key ?? 'ca.crt'];
      return data ? Buffer.from(data, 'base64').toString('utf8') : undefined;
    } catch {
      return undefined;
    }
  }

  private setIdentity(id: string, identity: EmrIdentity): void {
    const before = this.identities.get(id);
    this.identities.set(id, identity);
    if (before && before.apiUser === identity.apiUser && before.endpoint === identity.endpoint) return;
    // Whoever shares the old or new identity must re-evaluate its conflict condition.
    for (const other of this.identities.values()) {
      if (other.key === id) continue;
      const same = (a: EmrIdentity | undefined) =>
        a && a.endpoint.toLowerCase() === other.endpoint.toLowerCase() && a.apiUser.toLowerCase() === other.apiUser.toLowerCase();
      if (same(before) || same(identity)) this.deps.enqueue(other.key);
    }
  }

  private forget(id: string): void {
    const identity = this.identities.get(id);
    this.identities.delete(id);
    this.memory.delete(id);
    this.relay.forget(id);
    if (identity) {
      for (const other of this.identities.values()) {
        if (
          other.endpoint.toLowerCase() === identity.endpoint.toLowerCase() &&
          other.apiUser.toLowerCase() === identity.apiUser.toLowerCase()
        )
          this.deps.enqueue(other.key);
      }
    }
    const [namespace, name] = id.split('/');
    this.deps.metrics
      .forgetIntegration(namespace ?? '', name ?? '')
      .catch((error: unknown) => this.deps.logger.warn('could not drop metric series', { error: safeMessage(error) }));
  }

  private async notifyTransitions(
    integration: EmrIntegration,
    spec: EmrIntegrationSpec,
    site: OceanSite | undefined,
    before: Condition[] | undefined,
    authenticated: ConditionInput,
    expiring: ConditionInput,
  ): Promise<void> {
    const wasAuth = findCondition(before, 'Authenticated');
    const wasExpiring = findCondition(before, 'AuthExpiringSoon');
    const notices: { reason: string; text: string }[] = [];
    // SiteNotReady is the site's problem, reported on the site; it is not an EMR authentication failure.
    if (
      authenticated.status === 'False' &&
      authenticated.reason !== 'SiteNotReady' &&
      (wasAuth?.status !== 'False' || wasAuth.reason !== authenticated.reason)
    ) {
      notices.push({
        reason: 'AuthenticationFailed',
        text: `${spec.emr.type} authentication failed (${authenticated.reason}): ${authenticated.message}`,
      });
    }
    if (expiring.status === 'True' && wasExpiring?.status !== 'True') {
      notices.push({ reason: 'AuthExpiringSoon', text: expiring.message });
    }
    for (const n of notices) {
      await this.deps.kube.event(integration, 'Warning', n.reason, n.text);
      const siteSpec = site ? withDefaults<OceanSiteSpec>(OceanSiteSpec, site.spec) : undefined;
      const to = siteSpec ? siteRecipients(siteSpec, 'error') : [];
      if (siteSpec && to.length > 0) {
        await this.deps.mailer.send({
          to,
          subject: `Ocean site ${siteSpec.siteNumber}: ${n.reason === 'AuthExpiringSoon' ? 'EMR authentication expires soon' : 'EMR authentication failed'}`,
          text: `Cloud Connect integration ${integration.metadata.name} (${spec.emr.type}): ${n.text}\n\nTo re-authenticate, update the credentials Secret ${credentialsSecretName(spec)}.`,
        });
      }
    }
  }

  private exportMetrics(key: ObjectKey, spec: EmrIntegrationSpec, auth: AuthStatus, conditions: ConditionInput[]): void {
    const labels = { namespace: key.namespace, name: key.name, emr: spec.emr.type };
    if (auth.notAfter) this.deps.metrics.emrAuthExpiration.set(labels, new Date(auth.notAfter).getTime() / 1000);
    if (auth.renewalTime) this.deps.metrics.emrAuthRenewal.set(labels, new Date(auth.renewalTime).getTime() / 1000);
    for (const c of conditions) {
      for (const status of ['True', 'False', 'Unknown']) {
        this.deps.metrics.integrationCondition.set(
          { namespace: key.namespace, name: key.name, condition: c.type, status },
          c.status === status ? 1 : 0,
        );
      }
    }
  }

  private async write(
    integration: EmrIntegration,
    previous: EmrIntegrationStatus,
    conditions: ConditionInput[],
    extra: Partial<EmrIntegrationStatus>,
    requestedAt: string | undefined,
  ): Promise<void> {
    const status: EmrIntegrationStatus = {
      ...previous,
      ...extra,
      observedGeneration: integration.metadata.generation,
      conditions: setConditions(previous.conditions, conditions, integration.metadata.generation, this.deps.clock),
      ...(requestedAt ? { lastHandledRequestedAt: requestedAt } : {}),
    };
    if (await this.deps.kube.applyStatus(EMR_INTEGRATION, integration, status)) {
      this.deps.logger.debug('status written', { integration: `${integration.metadata.namespace}/${integration.metadata.name}` });
    }
  }
}

function endpointOf(spec: EmrIntegrationSpec): string {
  const s = adapterSettings(spec);
  return `${s.baseUrl}|${s.tenantId ?? s.instanceId ?? ''}`;
}
