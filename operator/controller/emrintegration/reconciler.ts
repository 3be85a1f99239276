// EmrIntegration reconciler, in a fixed order:
//   load      the integration from the cache; gone → forget what is remembered of it (its metric
//             series, identity, last check, relay reads) and stop. What the operator creates for it
//             in the cluster (relay, default schedules) is owned by it and garbage-collected.
//   deletion  only with the finalizer cloudconnect.dev/ocean-webhook, which the webhook
//             registration step adds before it registers the relay with Ocean: deregister, then
//             remove the finalizer (webhook-registration-step.ts).
//   suspend   stops no step: it makes Ready's reason Suspended and scales the relay to 0 (step.ts).
//   steps     in order, stopping at the first that says stop (Flux's sub-reconcilers):
//             spec (an unknown emr.timeZone: stop) → credentials (None: stop) → auth → conflicts →
//             providers → eReferral target → relay → webhook registration → notify → schedules.
//             Without an EMR but with an eReferral endpoint (emr.type None, spec.eReferral): spec →
//             site → eReferral target → relay → webhook registration (nothing to authenticate or sync).
//   status    Ready summarised, status written only if it changed, requeue after the shortest hint.

import type { V1Secret } from '@kubernetes/client-node';
import {
  CREDENTIALS_LABEL,
  type EmrIntegration,
  EmrIntegrationSpec,
  type OceanSite,
  REQUESTED_AT_ANNOTATION,
  type SyncSchedule,
  WEBHOOK_REGISTRATION_FINALIZER,
} from '../../api/v1alpha1/index.ts';
import type { AdapterConfig, EmrAdapter } from '../../internal/emr/adapter.ts';
import type { EmrAdapterType } from '../../internal/emr/index.ts';
import type { EgressPolicy } from '../../internal/httpx/egress-config.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import type { Mailer } from '../../internal/notify/mailer.ts';
import type { OceanApiSettings } from '../../internal/ocean/site-credentials.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { ObjectKey, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import { withDefaults } from '../../runtime/defaults.ts';
import { safeMessage } from '../../runtime/errors.ts';
import type { SupervisedInformer } from '../../runtime/informer.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { OperatorMetrics } from '../../runtime/metrics.ts';
import { AuthStep } from './auth-step.ts';
import { ConflictsStep } from './conflicts-step.ts';
import { CredentialsStep, notIntegrated } from './credentials-step.ts';
import { EReferralStep } from './ereferral-step.ts';
import { NotifyStep } from './notify-step.ts';
import { providersStep } from './providers-step.ts';
import { type RelayConfig, RelayStep } from './relay-step.ts';
import { SchedulesStep } from './schedules-step.ts';
import { specStep } from './spec-step.ts';
import { patchStatus, requeueOf } from './status.ts';
import { type EmrRun, newRun, type Step } from './step.ts';
import { WebhookRegistrationStep } from './webhook-registration-step.ts';

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
  /** What the EMR's URLs may reach and answer in the operator's checks; default DEFAULT_EGRESS. */
  egress?: EgressPolicy;
  /** The EMR-bound message relay; undefined when the operator has no NATS URL (no relay is deployed). */
  relay?: RelayConfig;
  /** Ocean's API as the operator reaches it, for the webhook registration; default Ocean's public URL. */
  ocean?: OceanApiSettings;
}

const DEFAULT_OCEAN: OceanApiSettings = { apiUrl: 'https://ocean.cognisantmd.com' };

export class EmrIntegrationReconciler implements Reconciler {
  private readonly deps: EmrIntegrationDeps;
  private readonly auth: AuthStep;
  private readonly conflicts: ConflictsStep;
  private readonly relay: RelayStep;
  private readonly registration: WebhookRegistrationStep;
  /** In order; the first that says stop ends them (the status is still written). */
  private readonly steps: readonly Step[];
  /** The steps of an eReferral endpoint without an EMR. */
  private readonly eReferralOnlySteps: readonly Step[];

  constructor(deps: EmrIntegrationDeps) {
    this.deps = deps;
    this.auth = new AuthStep(deps);
    this.conflicts = new ConflictsStep(deps);
    this.relay = new RelayStep({
      kube: deps.kube,
      clock: deps.clock,
      logger: deps.logger,
      metrics: deps.metrics,
      mailer: deps.mailer,
      relay: deps.relay,
    });
    this.registration = new WebhookRegistrationStep({
      kube: deps.kube,
      clock: deps.clock,
      logger: deps.logger,
      secrets: deps.secrets,
      ocean: deps.ocean ?? { ...DEFAULT_OCEAN, ...(deps.egress ? { egress: deps.egress } : {}) },
    });
    const eReferral = new EReferralStep({ kube: deps.kube, logger: deps.logger, secrets: deps.secrets });
    this.steps = [
      specStep,
      new CredentialsStep({ kube: deps.kube, logger: deps.logger, secrets: deps.secrets, label: CREDENTIALS_LABEL }),
      this.auth,
      this.conflicts,
      providersStep,
      eReferral,
      this.relay,
      this.registration,
      new NotifyStep(deps),
      new SchedulesStep(deps),
    ];
    const siteStep: Step = {
      name: 'site',
      run: async (run) => {
        run.readyParts.push(...(notIntegrated(run.spec, run.site)?.readyParts ?? []));
        return 'continue';
      },
    };
    this.eReferralOnlySteps = [specStep, siteStep, eReferral, this.relay, this.registration];
  }

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const integration = this.deps.integrations.get(key.name, key.namespace);
    if (!integration) {
      this.forget(`${key.namespace}/${key.name}`);
      return {};
    }
    if (integration.metadata.deletionTimestamp && integration.metadata.finalizers?.includes(WEBHOOK_REGISTRATION_FINALIZER)) {
      const site = this.deps.sites.get(integration.spec.siteRef.name, key.namespace);
      await this.registration.finalize(integration, site);
      return {};
    }
    const run = this.load(key, integration);
    const steps = run.spec.emr.type === 'None' && run.spec.eReferral ? this.eReferralOnlySteps : this.steps;
    for (const step of steps) {
      if ((await step.run(run)) === 'stop') break;
    }
    await patchStatus(this.deps, run);
    return requeueOf(run.requeueAfterMs);
  }

  private load(key: ObjectKey, integration: EmrIntegration): EmrRun {
    const spec = withDefaults<EmrIntegrationSpec>(EmrIntegrationSpec, integration.spec);
    const now = this.deps.clock.now();
    return newRun({
      key,
      integration,
      spec,
      now,
      previous: integration.status ?? {},
      site: this.deps.sites.get(spec.siteRef.name, key.namespace),
      requestedAt: integration.metadata.annotations?.[REQUESTED_AT_ANNOTATION],
    });
  }

  private forget(id: string): void {
    this.conflicts.forget(id);
    this.auth.forget(id);
    this.relay.forget(id);
    this.registration.forget(id);
    const [namespace, name] = id.split('/');
    this.deps.metrics
      .forgetIntegration(namespace ?? '', name ?? '')
      .catch((error: unknown) => this.deps.logger.warn('could not drop metric series', { error: safeMessage(error) }));
  }
}
