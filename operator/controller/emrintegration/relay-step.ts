// Step 5, relay: provision the integration's NATS streams (with the configured limits) and its NATS
// user in Vault (relay/nats-credentials.ts), apply the EMR-bound message relay's Deployment and
// Service (server-side apply, only when the live object lacks the desired hash or was scaled by hand), handle the replay
// annotation, read the relay's status record from NATS on a poll interval (not on every event), and
// turn it into status.relay, the Delivering condition, gauges, and one Event + e-mail per increase
// of the dead-letter count. Before the Deployment, the webhook's API key: created in Vault when
// absent, rotated on a new cloudconnect.dev/rotateWebhookKeyAt (relay/webhook-key.ts decides; only
// its version and times reach status.webhook). Without a NATS URL in the operator's configuration no
// relay is deployed and no key is made.
import { randomBytes } from 'node:crypto';
import { AppsV1Api, PatchStrategy, setHeaderOptions, type V1Deployment, type V1Secret, type V1Service } from '@kubernetes/client-node';
import {
  type EmrIntegration,
  type EmrIntegrationSpec,
  type EmrIntegrationStatus,
  type OceanSite,
  OceanSiteSpec,
  REPLAY_REQUESTED_AT_ANNOTATION,
  ROTATE_WEBHOOK_KEY_AT_ANNOTATION,
} from '../../api/v1alpha1/index.ts';
import { FIELD_MANAGER, type Kube } from '../../internal/kube/kube.ts';
import { type Mailer, siteRecipients } from '../../internal/notify/mailer.ts';
import type { VaultClient } from '../../internal/vault/client.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import { withDefaults } from '../../runtime/defaults.ts';
import { parseDuration } from '../../runtime/duration.ts';
import { safeMessage } from '../../runtime/errors.ts';
import type { SupervisedInformer } from '../../runtime/informer.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { OperatorMetrics } from '../../runtime/metrics.ts';
import { redactor } from '../../runtime/redact.ts';
import {
  buildRelayDeployment,
  buildRelayService,
  DESIRED_HASH_ANNOTATION,
  type RelayDeploymentSettings,
  relayName,
} from './relay/deployment.ts';
import type { RelayCredentialStore } from './relay/nats-credentials.ts';
import {
  decideRelayStatus,
  type RelayDeployment,
  type RelayObservation,
  type RelayStatus,
  type RelayThresholds,
} from './relay/status-decision.ts';
import type { RelayQueue } from './relay/status-reader.ts';
import {
  decideWebhookKey,
  knownRecordSuffices,
  type StoredWebhookKey,
  WEBHOOK_KEY_SECRET_FIELDS,
  type WebhookKeyStatus,
  webhookKeyPath,
  webhookKeyStatus,
} from './relay/webhook-key.ts';
import { type EmrRun, found, type Step, type StepOutcome } from './step.ts';

export const RELAY_SELECTOR = 'app.kubernetes.io/managed-by=cloudconnect-operator,app.kubernetes.io/name=cloudconnect-relay';
const APPLY = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

export interface RelayConfig {
  settings: RelayDeploymentSettings;
  queue: RelayQueue;
  /** Each relay's NATS user, minted by the operator and kept in Vault. */
  credentials: RelayCredentialStore;
  thresholds: RelayThresholds;
  /** How often each relay's status record is read. */
  pollIntervalMs: number;
  /** How long a dead letter is kept (RELAY_DEAD_LETTER_MAX_AGE): the expiry gauge counts down to it. */
  deadLetterMaxAgeMs: number;
  deployments: SupervisedInformer<V1Deployment>;
  services: SupervisedInformer<V1Service>;
  /** Where the webhook keys are kept (the operator's own Vault login; mount: settings.sekMount). */
  vault: Pick<VaultClient, 'kvRead' | 'kvWrite'>;
}

export interface RelayStepDeps {
  kube: Kube;
  clock: Clock;
  logger: Logger;
  metrics: OperatorMetrics;
  mailer: Mailer;
  /** Undefined when the operator has no NATS URL. */
  relay: RelayConfig | undefined;
}

export interface RelayStepResult {
  delivering: ConditionInput;
  relay: RelayStatus | undefined;
  webhook?: WebhookKeyStatus;
  /** The current webhook key and its version, for the registration with Ocean (never written to status). */
  webhookKey?: { version: number; current: string };
  requeueAfterMs?: number;
}

/** The key the EmrIntegration controller reconciles for a relay object (its controller owner). */
export function ownerKey(obj: {
  metadata?: { namespace?: string; ownerReferences?: { kind: string; name: string; controller?: boolean }[] };
}): string[] {
  const owner = obj.metadata?.ownerReferences?.find((o) => o.kind === 'EmrIntegration' && o.controller);
  return owner ? [`${obj.metadata?.namespace ?? ''}/${owner.name}`] : [];
}

/** Pure: the replay token to handle now: a value of the replay annotation not handled yet. */
export function replayToken(annotations: Record<string, string> | undefined, before: RelayStatus | undefined): string | undefined {
  const token = annotations?.[REPLAY_REQUESTED_AT_ANNOTATION];
  return token && token !== before?.lastHandledReplayAt ? token : undefined;
}

/** Pure: seconds until the oldest dead letter expires (0 once past), undefined when there is none. */
export function deadLetterExpiresInSeconds(
  record: { deadLettered: number; oldestDeadLetterAt?: string },
  now: Date,
  maxAgeMs: number,
): number | undefined {
  if (record.deadLettered === 0 || !record.oldestDeadLetterAt) return undefined;
  return Math.max(0, (Date.parse(record.oldestDeadLetterAt) + maxAgeMs - now.getTime()) / 1000);
}

interface Read {
  observation: RelayObservation;
  at: number;
}

export class RelayStep implements Step {
  readonly name = 'relay';
  private readonly deps: RelayStepDeps;
  /** The relay configuration and the client that applies Deployments; undefined without a NATS URL. */
  private readonly configured: { relay: RelayConfig; apps: AppsV1Api } | undefined;
  private readonly reads = new Map<string, Read>();
  /** The last replay each integration handled, for reconciles that run on a status older than it. */
  private readonly replays = new Map<string, Pick<RelayStatus, 'lastHandledReplayAt' | 'lastReplayedCount'>>();
  /** Each integration's webhook key record as last read or written, so a poll does not read Vault. */
  private readonly webhookKeys = new Map<string, { path: string; stored: StoredWebhookKey; readAt: number }>();

  constructor(deps: RelayStepDeps) {
    this.deps = deps;
    this.configured = deps.relay ? { relay: deps.relay, apps: deps.kube.kubeConfig.makeApiClient(AppsV1Api) } : undefined;
  }

  async run(run: EmrRun): Promise<StepOutcome> {
    // An eReferral endpoint without an EMR has no EMR credentials.
    const secret = run.spec.emr.type === 'None' ? undefined : found(run.credentials, 'credentials').secret;
    const result = await this.reconcile(run.integration, run.spec, run.site, secret, run.previous, run.eReferralSecret);
    // Delivering is reported beside Ready, not folded into it: a backlog is the EMR's outage, already in Authenticated.
    run.conditions.push(result.delivering);
    run.relay = result.relay;
    if (result.webhook) run.webhook = result.webhook;
    if (result.webhookKey) run.webhookKey = result.webhookKey;
    if (result.requeueAfterMs !== undefined) run.requeueAfterMs.push(result.requeueAfterMs);
    return 'continue';
  }

  async reconcile(
    integration: EmrIntegration,
    spec: EmrIntegrationSpec,
    site: OceanSite | undefined,
    credentials: V1Secret | undefined,
    previous: EmrIntegrationStatus,
    eReferralCredentials?: V1Secret,
  ): Promise<RelayStepResult> {
    const namespace = integration.metadata.namespace ?? '';
    const name = integration.metadata.name;
    const before = previous.relay;
    const now = this.deps.clock.now();
    const configured = this.configured;
    const base = {
      previous: before,
      thresholds: configured?.relay.thresholds ?? { backlogMessages: 0, backlogAgeMs: 0, staleAfterMs: 0 },
      now,
      siteName: spec.siteRef.name,
    };
    if (!configured) return decideRelayStatus({ ...base, deployment: 'notConfigured' });
    if (!site || site.status?.encryptionKey?.version === undefined) return decideRelayStatus({ ...base, deployment: 'siteNotReady' });

    const { relay, apps } = configured;
    const { status: webhook, current } = await this.webhookKey(relay, integration, spec, now);
    // The key is in Vault whatever NATS does: the registration with Ocean does not depend on the queue.
    const webhookKey = current && webhook.keyVersion !== undefined ? { webhookKey: { version: webhook.keyVersion, current } } : {};
    const deployment: RelayDeployment = spec.suspend ? 'suspended' : 'deployed';
    let natsCreds: Awaited<ReturnType<RelayCredentialStore['ensure']>>;
    try {
      // The streams before the user: a relay that starts finds everything it may use.
      await relay.queue.provision(namespace, name);
      natsCreds = await relay.credentials.ensure(namespace, site.metadata.name, name);
    } catch (error) {
      // Not a reconcile error: the condition says why (NATS away, the account's store full, Vault refusing) and the poll retries.
      const observation: RelayObservation = { kind: 'unreachable', message: safeMessage(error) };
      this.deps.logger.warn('cannot provision the relay queue', { integration: `${namespace}/${name}`, error: safeMessage(error) });
      return { ...decideRelayStatus({ ...base, deployment, observation }), ...webhookKey, requeueAfterMs: relay.pollIntervalMs };
    }
    const input = { integration, integrationSpec: spec, site, credentials, eReferralCredentials, settings: relay.settings, natsCreds };
    await this.ensure(apps, relay.deployments.get(relayName(name), namespace), buildRelayDeployment(input));
    await this.ensure(apps, relay.services.get(relayName(name), namespace), buildRelayService(input));

    const replayed = await this.replay(relay.queue, integration, before);
    // After a replay the figures changed: they are read now.
    const read = await this.read(relay, namespace, name, replayed?.now === true, now);
    const decision = decideRelayStatus({ ...base, previous: replayed?.status ?? before, deployment, observation: read.observation });
    this.exportGauges(read.observation, { namespace, integration: name }, now, relay.deadLetterMaxAgeMs);
    if (decision.newlyDeadLettered > 0) await this.notifyDeadLettered(integration, spec, site, decision.newlyDeadLettered, decision.relay);
    // While a previous key is accepted, come back when it stops being, so that status says so.
    const graceLeft = webhook.previousKeyValidUntil ? Date.parse(webhook.previousKeyValidUntil) - now.getTime() : Number.POSITIVE_INFINITY;
    return {
      delivering: decision.delivering,
      relay: decision.relay,
      webhook,
      ...webhookKey,
      requeueAfterMs: Math.max(1000, Math.min(graceLeft, relay.pollIntervalMs - (now.getTime() - read.at))),
    };
  }

  /** Creates, repairs or rotates the integration's webhook key in Vault; returns what status may show of it, and the current key. */
  private async webhookKey(
    relay: RelayConfig,
    integration: EmrIntegration,
    spec: EmrIntegrationSpec,
    now: Date,
  ): Promise<{ status: WebhookKeyStatus; current: string | undefined }> {
    const mount = relay.settings.sekMount;
    const id = `${integration.metadata.namespace}/${integration.metadata.name}`;
    const path = webhookKeyPath(integration.metadata.namespace ?? '', spec.siteRef.name, integration.metadata.name);
    const rotateToken = integration.metadata.annotations?.[ROTATE_WEBHOOK_KEY_AT_ANNOTATION];
    const known = this.webhookKeys.get(id);
    if (known && knownRecordSuffices(known, { path, rotateToken, now }))
      return { status: webhookKeyStatus(known.stored, now), current: known.stored.data['current'] };
    const stored = await relay.vault.kvRead(mount, path, undefined, { secretFields: WEBHOOK_KEY_SECRET_FIELDS });
    if (stored) this.webhookKeys.set(id, { path, stored, readAt: now.getTime() });
    const decision = decideWebhookKey({
      stored,
      rotateToken,
      now,
      graceMs: parseDuration(spec.webhook?.previousKeyGracePeriod ?? '24h'),
      newSecret: () => randomBytes(32).toString('base64url'),
    });
    if (!decision.write) return { status: webhookKeyStatus(stored ?? { data: {}, version: 0 }, now), current: stored?.data['current'] };
    const { data, cas, why } = decision.write;
    for (const field of WEBHOOK_KEY_SECRET_FIELDS) if (data[field]) redactor.register(data[field]);
    const written = await relay.vault.kvWrite(mount, path, data, cas);
    this.webhookKeys.set(id, { path, stored: { data, version: written.version }, readAt: now.getTime() });
    const status = webhookKeyStatus({ data, version: written.version }, now);
    this.deps.logger.info('wrote the webhook key', {
      integration: `${integration.metadata.namespace}/${integration.metadata.name}`,
      why,
      version: written.version,
    });
    const grace = status.previousKeyValidUntil ? `; the previous key is accepted until ${status.previousKeyValidUntil}` : '';
    await this.deps.kube.event(
      integration,
      'Normal',
      why === 'rotated' ? 'WebhookKeyRotated' : 'WebhookKeyCreated',
      `Generated the webhook API key (version ${written.version}, Vault ${mount}/${path}, field current)${grace}. ${spec.webhook?.publicUrl ? 'The operator registers it with Ocean (condition WebhookRegistered).' : "Enter it in Ocean's integration registration."}`,
    );
    return { status, current: data['current'] };
  }

  /** Drops what is remembered of a deleted integration (`namespace/name`). */
  forget(id: string): void {
    this.reads.delete(id);
    this.replays.delete(id);
    this.webhookKeys.delete(id);
    const [namespace = '', name = ''] = id.split('/');
    this.configured?.relay.queue.forget(namespace, name);
    this.configured?.relay.credentials.forget(namespace, name);
  }

  /** Moves the dead letters back to the queue when a new replay token is set; returns the status recording it. */
  private async replay(
    queue: RelayQueue,
    integration: EmrIntegration,
    before: RelayStatus | undefined,
  ): Promise<{ status: RelayStatus; now: boolean } | undefined> {
    const token = replayToken(integration.metadata.annotations, before);
    if (!token) return undefined;
    const namespace = integration.metadata.namespace ?? '';
    const name = integration.metadata.name;
    // A reconcile right after the one that replayed may still read the status from before it (the
    // cache lags the status write): the same token is not replayed twice.
    const handled = this.replays.get(`${namespace}/${name}`);
    if (handled?.lastHandledReplayAt === token) return { status: { ...before, ...handled }, now: false };
    // A NATS failure throws: the reconcile is retried with backoff and the token stays unhandled.
    const count = await queue.replay(namespace, name);
    this.replays.set(`${namespace}/${name}`, { lastHandledReplayAt: token, lastReplayedCount: count });
    this.deps.logger.info('replayed dead letters', { integration: `${namespace}/${name}`, count });
    await this.deps.kube.event(
      integration,
      'Normal',
      'DeadLettersReplayed',
      `Moved ${count} dead-lettered message(s) back to the delivery queue (${REPLAY_REQUESTED_AT_ANNOTATION}=${token})`,
    );
    return { status: { ...before, lastHandledReplayAt: token, lastReplayedCount: count }, now: true };
  }

  /** The relay's status record, read again once the poll interval has passed (or at once when `fresh`). */
  private async read(relay: RelayConfig, namespace: string, name: string, fresh: boolean, now: Date): Promise<Read> {
    const id = `${namespace}/${name}`;
    const last = fresh ? undefined : this.reads.get(id);
    if (last && now.getTime() - last.at < relay.pollIntervalMs) return last;
    const read = { observation: await relay.queue.read(namespace, name), at: now.getTime() };
    this.reads.set(id, read);
    this.deps.logger.debug('read the relay status', { integration: id, result: read.observation.kind });
    return read;
  }

  private exportGauges(
    observation: RelayObservation,
    labels: { namespace: string; integration: string },
    now: Date,
    deadLetterMaxAgeMs: number,
  ): void {
    if (observation.kind !== 'record') return;
    const r = observation.record;
    const { metrics } = this.deps;
    metrics.relayDeadLetters.set(labels, r.deadLettered);
    const expiresIn = deadLetterExpiresInSeconds(r, now, deadLetterMaxAgeMs);
    if (expiresIn === undefined) metrics.relayDeadLetterExpiresIn.remove(labels);
    else metrics.relayDeadLetterExpiresIn.set(labels, expiresIn);
    this.deps.metrics.relayPending.set(labels, r.pending);
    this.deps.metrics.relayOldestPendingAge.set(
      labels,
      r.pending > 0 && r.oldestPendingSince ? Math.max(0, (now.getTime() - Date.parse(r.oldestPendingSince)) / 1000) : 0,
    );
  }

  /** Server-side apply when the live object is missing, lacks the desired hash, or had its replicas changed by hand. */
  private async ensure(apps: AppsV1Api, live: V1Deployment | V1Service | undefined, desired: V1Deployment | V1Service): Promise<void> {
    const want = desired.metadata?.annotations?.[DESIRED_HASH_ANNOTATION];
    const replicasDrift =
      desired.kind === 'Deployment' && (live as V1Deployment | undefined)?.spec?.replicas !== (desired as V1Deployment).spec?.replicas;
    if (live && live.metadata?.annotations?.[DESIRED_HASH_ANNOTATION] === want && !replicasDrift) return;
    const params = {
      name: desired.metadata?.name ?? '',
      namespace: desired.metadata?.namespace ?? '',
      fieldManager: FIELD_MANAGER,
      force: true,
    };
    if (desired.kind === 'Deployment') await apps.patchNamespacedDeployment({ ...params, body: desired }, APPLY);
    else await this.deps.kube.core.patchNamespacedService({ ...params, body: desired }, APPLY);
    this.deps.logger.info(live ? 'updated the relay' : 'created the relay', {
      kind: desired.kind,
      object: `${params.namespace}/${params.name}`,
    });
  }

  private async notifyDeadLettered(
    integration: EmrIntegration,
    spec: EmrIntegrationSpec,
    site: OceanSite,
    count: number,
    relay: RelayStatus | undefined,
  ): Promise<void> {
    const total = relay?.deadLettered ?? count;
    const why = relay?.lastFailureReason ? ` The last delivery failure was ${relay.lastFailureReason}.` : '';
    // An eReferral endpoint without an EMR delivers to its referral target only.
    const what = spec.emr.type === 'None' ? 'eReferral bundle(s)' : 'EMR-bound message(s)';
    const where = spec.emr.type === 'None' ? 'the eReferral target' : `the ${spec.emr.type} EMR`;
    const text = `${count} ${what} could not be delivered to ${where} and were moved to the dead-letter queue (${total} there now).${why}`;
    await this.deps.kube.event(integration, 'Warning', 'MessagesDeadLettered', text);
    const siteSpec = withDefaults<OceanSiteSpec>(OceanSiteSpec, site.spec);
    const to = siteRecipients(siteSpec, 'error');
    if (to.length === 0) return;
    await this.deps.mailer.send({
      to,
      subject: `Ocean site ${siteSpec.siteNumber}: EMR-bound messages could not be delivered`,
      text: [
        `Cloud Connect integration ${integration.metadata.name} (${spec.emr.type}): ${text}`,
        '',
        'They are kept, encrypted, and are not lost. Once the cause is fixed (for example the EMR is reachable again or its credentials are renewed),',
        `your administrator replays them with: kubectl annotate emrintegration ${integration.metadata.name} -n ${integration.metadata.namespace} ${REPLAY_REQUESTED_AT_ANNOTATION}=$(date +%s) --overwrite`,
      ].join('\n'),
    });
  }
}
