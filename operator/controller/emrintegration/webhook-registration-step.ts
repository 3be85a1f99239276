// Step 6, webhook registration: registers the relay's public URL (spec.webhook.publicUrl) with
// Ocean as an eReferrals integration with API Key Authentication (the header spec.webhook.keyHeader
// and the relay's current key from Vault), updates it when the URL, the header or the key changes
// (a rotation), verifies it once an interval, and deregisters it when the URL is removed or the
// integration is deleted (the finalizer cloudconnect.dev/ocean-webhook, added before the first
// registration). Ocean is called with the site's own Ocean client: the Secret named by the
// OceanSite's spec.ocean.credentialsSecretRef, read in the integration's namespace (the site is in
// it too; a reference has no namespace). What to do is decided by webhook-registration.ts; status
// shows the registration's id, URL, header, key version and last verification, never the key.
import type { V1Secret } from '@kubernetes/client-node';
import { EMR_INTEGRATION, type EmrIntegration, type OceanSite, WEBHOOK_REGISTRATION_FINALIZER } from '../../api/v1alpha1/index.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import { FHIR_PAYLOAD_TYPE, OceanIntegrations } from '../../internal/ocean/integrations.ts';
import {
  type OceanApiSettings,
  oceanFailureReason,
  oceanSecretCredentials,
  siteOceanClient,
} from '../../internal/ocean/site-credentials.ts';
import { backoffDelay } from '../../runtime/backoff.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import { safeMessage, statusCodeOf, TransientError } from '../../runtime/errors.ts';
import type { SupervisedInformer } from '../../runtime/informer.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { EmrRun, Step, StepOutcome } from './step.ts';
import {
  type DesiredRegistration,
  decideRegistration,
  NOT_REQUESTED,
  notRegistered,
  type Recorded,
  type RegistrationAction,
  registeredCondition,
  registrationName,
  untilVerify,
  WEBHOOK_REGISTERED,
} from './webhook-registration.ts';

export interface WebhookRegistrationDeps {
  kube: Kube;
  clock: Clock;
  logger: Logger;
  /** The operator's labelled credentials Secrets (the site's Ocean Secret once the OceanSite controller labelled it). */
  secrets?: SupervisedInformer<V1Secret>;
  ocean: OceanApiSettings;
}

/** Failures after which a deletion gives up deregistering (a person must remove it in the Ocean Portal); others are retried. */
const PERMANENT = new Set([
  'OceanCredentialsNotConfigured',
  'OceanCredentialsNotFound',
  'MissingKeys',
  'InvalidCredentials',
  'Expired',
  'Deauthorized',
  'OceanRejected',
  'SiteNotFound',
]);
const DEFAULT_KEY_HEADER = 'Referral-Integration-API-Key';
/** A failed attempt is repeated after 10 s, doubling up to 10 min (an edit of the spec or the Ocean Secret retries at once). */
const RETRY = { baseMs: 10_000, capMs: 600_000 };

type Clients = { integrations: OceanIntegrations } | { failed: ConditionInput };

export class WebhookRegistrationStep implements Step {
  readonly name = 'webhook-registration';
  private readonly deps: WebhookRegistrationDeps;
  /** What this process last registered per integration (null: deregistered), ahead of a lagging cache. */
  private readonly memory = new Map<string, Recorded | null>();
  /** The last failed attempt per integration: the same attempt waits out its backoff instead of calling Ocean at every poll. */
  private readonly failures = new Map<string, { attempt: string; at: number; count: number; condition: ConditionInput }>();

  constructor(deps: WebhookRegistrationDeps) {
    this.deps = deps;
  }

  async run(run: EmrRun): Promise<StepOutcome> {
    const recorded = this.recorded(run.id, run.previous.webhook?.registration);
    const publicUrl = run.spec.webhook?.publicUrl;
    if (publicUrl && !run.webhookKey) {
      run.conditions.push({
        type: WEBHOOK_REGISTERED,
        status: 'Unknown',
        reason: 'NoWebhookKey',
        message:
          'The relay has no webhook key yet (the site is not Ready, or the operator deploys no relay: NATS_URL is not set); nothing is registered with Ocean',
      });
      return 'continue';
    }
    const desired: DesiredRegistration | undefined =
      publicUrl && run.webhookKey
        ? { url: publicUrl, keyHeader: run.spec.webhook?.keyHeader ?? DEFAULT_KEY_HEADER, keyVersion: run.webhookKey.version }
        : undefined;
    const deleting = run.integration.metadata.deletionTimestamp !== undefined;
    const verifyNow = run.requestedAt !== undefined && run.requestedAt !== run.previous.lastHandledRequestedAt;
    const action = decideRegistration({ desired, recorded, deleting, verifyNow, now: run.now });
    const outcome = action.kind === 'nothing' ? { recorded, condition: undefined } : await this.act(run, action, desired);
    const now = outcome.recorded;
    run.conditions.push(outcome.condition ?? (now ? registeredCondition(now) : NOT_REQUESTED));
    if (run.webhook) {
      const { registration: _old, ...key } = run.webhook;
      run.webhook = { ...key, ...(now ? { registration: now } : {}) };
    }
    const verifyIn = untilVerify(now, run.now);
    if (verifyIn !== undefined) run.requeueAfterMs.push(verifyIn);
    if (outcome.condition?.status === 'False') run.requeueAfterMs.push(RETRY.baseMs);
    return 'continue';
  }

  /**
   * The deletion: deregisters what was registered, then removes the finalizer. Ocean away is retried
   * (thrown); what no retry can fix (no site, no Ocean Secret, the client refused) is said in an
   * Event and the finalizer goes, so that a deletion never hangs on Ocean.
   */
  async finalize(integration: EmrIntegration, site: OceanSite | undefined): Promise<void> {
    const id = `${integration.metadata.namespace}/${integration.metadata.name}`;
    const recorded = this.recorded(id, integration.status?.webhook?.registration);
    if (recorded) {
      const clients = await this.clients(integration.metadata.namespace ?? '', site);
      const failure = 'failed' in clients ? clients.failed : await this.remove(clients.integrations, recorded.id);
      if (failure && !PERMANENT.has(failure.reason))
        throw new TransientError(failure.reason, `cannot deregister the webhook from Ocean: ${failure.message}`);
      if (failure) {
        await this.deps.kube.event(
          integration,
          'Warning',
          'WebhookNotDeregistered',
          `Could not remove Ocean integration ${recorded.id} (${recorded.url}): ${failure.message}. Remove it in the Ocean Portal (Menu > Admin > Integrations).`,
        );
      } else {
        await this.deps.kube.event(
          integration,
          'Normal',
          'WebhookDeregistered',
          `Removed Ocean integration ${recorded.id} (${recorded.url})`,
        );
      }
    }
    await this.setFinalizer(integration, false);
    this.memory.delete(id);
  }

  forget(id: string): void {
    this.memory.delete(id);
    this.failures.delete(id);
  }

  private recorded(id: string, inStatus: Recorded | undefined): Recorded | undefined {
    const remembered = this.memory.get(id);
    if (remembered === null) return undefined;
    return remembered ?? inStatus;
  }

  private async act(
    run: EmrRun,
    action: Exclude<RegistrationAction, { kind: 'nothing' }>,
    desired: DesiredRegistration | undefined,
  ): Promise<{ recorded: Recorded | undefined; condition: ConditionInput | undefined }> {
    const before = this.recorded(run.id, run.previous.webhook?.registration);
    const attempt = this.attemptKey(run, action, desired);
    const failed = this.failures.get(run.id);
    if (failed?.attempt === attempt && run.now.getTime() - failed.at < backoffDelay(failed.count, RETRY))
      return { recorded: before, condition: failed.condition };
    const outcome = await this.attempt(run, action, desired, before);
    if (outcome.condition) {
      const count = failed?.attempt === attempt ? failed.count + 1 : 1;
      this.failures.set(run.id, { attempt, at: run.now.getTime(), count, condition: outcome.condition });
    } else this.failures.delete(run.id);
    return outcome;
  }

  /** What makes an attempt new: the action, what is wanted, the site's Ocean Secret (an edit retries at once). */
  private attemptKey(run: EmrRun, action: RegistrationAction, desired: DesiredRegistration | undefined): string {
    const secretName = run.site?.spec.ocean?.credentialsSecretRef?.name ?? '';
    const secretVersion = this.deps.secrets?.get(secretName, run.key.namespace)?.metadata?.resourceVersion ?? '';
    return JSON.stringify([action, desired, run.site?.metadata.generation, secretName, secretVersion]);
  }

  private async attempt(
    run: EmrRun,
    action: Exclude<RegistrationAction, { kind: 'nothing' }>,
    desired: DesiredRegistration | undefined,
    before: Recorded | undefined,
  ): Promise<{ recorded: Recorded | undefined; condition: ConditionInput | undefined }> {
    const clients = await this.clients(run.key.namespace, run.site);
    if ('failed' in clients) return { recorded: before, condition: clients.failed };
    // The finalizer before anything exists in Ocean: a deletion then always finds it.
    if (action.kind !== 'deregister') await this.setFinalizer(run.integration, true);
    try {
      if (action.kind === 'deregister') {
        const failure = await this.remove(clients.integrations, action.id);
        if (failure) return { recorded: before, condition: failure };
        this.memory.set(run.id, null);
        await this.setFinalizer(run.integration, false);
        await this.deps.kube.event(run.integration, 'Normal', 'WebhookDeregistered', `Removed Ocean integration ${action.id}`);
        return { recorded: undefined, condition: undefined };
      }
      if (!desired || !run.webhookKey) return { recorded: before, condition: undefined };
      const recorded = await this.put(run, clients.integrations, action, desired, run.webhookKey.current);
      this.memory.set(run.id, recorded);
      return { recorded, condition: undefined };
    } catch (error) {
      const reason = oceanFailureReason(error);
      this.deps.logger.warn('webhook registration with Ocean failed', { integration: run.id, action: action.kind, reason });
      return { recorded: before, condition: notRegistered(reason, safeMessage(error)) };
    }
  }

  /** Registers, updates or verifies; returns the registration as Ocean now has it. */
  private async put(
    run: EmrRun,
    ocean: OceanIntegrations,
    action: Exclude<RegistrationAction, { kind: 'nothing' | 'deregister' }>,
    desired: DesiredRegistration,
    key: string,
  ): Promise<Recorded> {
    const registration = {
      name: registrationName(run.key.namespace, run.key.name),
      requestUrl: desired.url,
      headerName: desired.keyHeader,
      key,
      // An eReferral endpoint without an EMR takes only FHIR bundles (its publicUrl ends in /ocean/fhir_bundles).
      ...(run.spec.emr.type === 'None' && run.spec.eReferral ? { payloadType: FHIR_PAYLOAD_TYPE } : {}),
    };
    const record = (id: string): Recorded => ({ id, ...desired, lastVerified: run.now.toISOString() });
    if (action.kind === 'verify') {
      const seen = await ocean.get(action.id);
      if (seen && seen.requestUrl === desired.url && seen.headerName === desired.keyHeader) return record(action.id);
      // Gone from Ocean (removed in the portal) or changed there: put it back as the spec says.
      const updated = seen ? await ocean.update(action.id, registration) : undefined;
      if (updated) return record(updated.id);
    } else if (action.kind === 'update') {
      const updated = await ocean.update(action.id, registration);
      if (updated) {
        await this.deps.kube.event(
          run.integration,
          'Normal',
          'WebhookRegistrationUpdated',
          `Updated Ocean integration ${updated.id}: ${desired.url}, key version ${desired.keyVersion}`,
        );
        return record(updated.id);
      }
    }
    const created = await ocean.create(registration);
    this.deps.logger.info('registered the webhook with Ocean', { integration: run.id, id: created.id, keyVersion: desired.keyVersion });
    await this.deps.kube.event(
      run.integration,
      'Normal',
      'WebhookRegistered',
      `Registered ${desired.url} with Ocean as integration ${created.id} (key version ${desired.keyVersion}, header ${desired.keyHeader})`,
    );
    return record(created.id);
  }

  /** Undefined once removed (or already gone); the failure's condition otherwise. */
  private async remove(ocean: OceanIntegrations, id: string): Promise<ConditionInput | undefined> {
    try {
      await ocean.remove(id);
      return undefined;
    } catch (error) {
      return notRegistered(oceanFailureReason(error), safeMessage(error));
    }
  }

  /** The site's Ocean client, from the Secret its spec names in this namespace. */
  private async clients(namespace: string, site: OceanSite | undefined): Promise<Clients> {
    if (!site)
      return { failed: notRegistered('SiteNotFound', 'The OceanSite does not exist: its Ocean client is needed to register the webhook') };
    const name = site.spec.ocean?.credentialsSecretRef?.name;
    if (!name) {
      return {
        failed: notRegistered(
          'OceanCredentialsNotConfigured',
          `OceanSite ${site.metadata.name} has no spec.ocean.credentialsSecretRef: the operator needs the site's Ocean client to register the webhook`,
        ),
      };
    }
    const secret = await this.secret(name, namespace);
    if (!secret)
      return {
        failed: notRegistered(
          'OceanCredentialsNotFound',
          `Secret ${name} named by the OceanSite's spec.ocean.credentialsSecretRef does not exist`,
        ),
      };
    const read = oceanSecretCredentials(secret);
    if ('missing' in read) return { failed: notRegistered('MissingKeys', `Secret ${name} lacks the key(s) ${read.missing.join(', ')}`) };
    const client = siteOceanClient(this.deps.ocean, site.spec.siteNumber, read.credentials, () => this.deps.clock.now());
    return { integrations: new OceanIntegrations(client) };
  }

  private async secret(name: string, namespace: string): Promise<V1Secret | undefined> {
    const cached = this.deps.secrets?.get(name, namespace);
    if (cached) return cached;
    try {
      return await this.deps.kube.core.readNamespacedSecret({ name, namespace });
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw error;
    }
  }

  private async setFinalizer(integration: EmrIntegration, present: boolean): Promise<void> {
    const finalizers = integration.metadata.finalizers ?? [];
    if (finalizers.includes(WEBHOOK_REGISTRATION_FINALIZER) === present) return;
    const next = present ? [...finalizers, WEBHOOK_REGISTRATION_FINALIZER] : finalizers.filter((f) => f !== WEBHOOK_REGISTRATION_FINALIZER);
    try {
      await this.deps.kube.patchMetadata(EMR_INTEGRATION, integration, { finalizers: next });
    } catch (error) {
      throw new TransientError('FinalizerUpdateFailed', `could not update finalizers: ${safeMessage(error)}`);
    }
  }
}
