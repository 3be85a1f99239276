// OceanSite reconciler, in a fixed order (as Flux's source-controller): load → deletion (the
// finalizer: identity, then the key with deletionPolicy Delete, then the finalizer itself) → add
// the finalizer → the steps, in order: validate (validate.ts; the key's place comes from the
// site's namespace and name and the operator's SEK_KV_MOUNT, and a spec naming another stalls the
// site before anything is read) → identity, the site's ServiceAccount that Vault's templated sync
// policy maps to the site's key (identity-step.ts) → key, the SEK in Vault, imported or verified,
// rotation (key-step.ts) → support access (support-access-step.ts) → the Ocean client
// (ocean-auth-step.ts: OceanAuthenticated, beside Ready, not part of it) → status, written only when
// it changed (status.ts). A failed step is recorded on the status before its error is returned.

import type { V1Secret } from '@kubernetes/client-node';
import {
  type EmrIntegration,
  type OceanSite,
  OceanSiteSpec,
  type OceanSiteStatus,
  REQUESTED_AT_ANNOTATION,
} from '../../api/v1alpha1/index.ts';
import { INTEGRATIONS_BY_SITE } from '../../internal/kube/cache-indexes.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import type { Mailer } from '../../internal/notify/mailer.ts';
import type { OceanApiSettings } from '../../internal/ocean/site-credentials.ts';
import { type KeyLocation, keyLocation, siteServiceAccount } from '../../internal/sek/identity.ts';
import type { VaultClient } from '../../internal/vault/client.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import type { ObjectKey, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import { withDefaults } from '../../runtime/defaults.ts';
import { parseDuration } from '../../runtime/duration.ts';
import type { SupervisedInformer } from '../../runtime/informer.ts';
import type { Logger } from '../../runtime/logger.ts';
import { Finalizer, hasFinalizer } from './finalizer.ts';
import { IdentityStep } from './identity-step.ts';
import type { KeyState } from './key-state.ts';
import { decideKeyCheck, KeyStep } from './key-step.ts';
import { OceanAuthStep } from './ocean-auth-step.ts';
import { decideFailure, failedStatus, keyStoredCondition, readyCondition, readyStatus, requeueAfter, StatusWriter } from './status.ts';
import { SupportAccessStep } from './support-access-step.ts';
import { keyLocationError, specError } from './validate.ts';

export interface OceanSiteDeps {
  kube: Kube;
  vault: VaultClient;
  clock: Clock;
  logger: Logger;
  sites: SupervisedInformer<OceanSite>;
  integrations: SupervisedInformer<EmrIntegration>;
  /** The KV version 2 mount of every site's SEK (SEK_KV_MOUNT). */
  sekKvMount: string;
  mailer: Mailer;
  /** The labelled credentials Secrets (the site's Ocean Secret once labelled). */
  secrets?: SupervisedInformer<V1Secret>;
  /** Ocean's API as the operator reaches it (OCEAN_API_URL, OCEAN_CA_BUNDLE, the egress sandbox). */
  ocean: OceanApiSettings;
}

/** What the operator remembers between reconciles so that an idle site costs no API or Vault call. */
interface SiteMemory {
  checkedAt: number;
  generation: number | undefined;
  requestedAt: string | undefined;
  key: KeyState | undefined;
  /** The site's ServiceAccount was in place (and the operator's) at the last check. */
  identityApplied: boolean;
  /** Support access as last applied, and when the next grant expires. */
  supportApplied: string | undefined;
  supportNextExpiry: number | undefined;
}

/** One reconcile of a site that exists and is not being deleted: read once, shared by the steps. */
interface SiteRun {
  key: ObjectKey;
  id: string;
  site: OceanSite;
  spec: OceanSiteSpec;
  location: KeyLocation;
  now: Date;
  previous: OceanSiteStatus;
  integrations: number;
  memory: SiteMemory | undefined;
  recheckMs: number;
}

export class OceanSiteReconciler implements Reconciler {
  private readonly deps: OceanSiteDeps;
  private readonly memory = new Map<string, SiteMemory>();
  private readonly finalizer: Finalizer;
  private readonly keyStep: KeyStep;
  private readonly identityStep: IdentityStep;
  private readonly supportStep: SupportAccessStep;
  private readonly oceanStep: OceanAuthStep;
  private readonly status: StatusWriter;

  constructor(deps: OceanSiteDeps) {
    this.deps = deps;
    this.finalizer = new Finalizer(deps.kube);
    this.keyStep = new KeyStep({ kube: deps.kube, vault: deps.vault, logger: deps.logger });
    this.identityStep = new IdentityStep(deps.kube);
    this.supportStep = new SupportAccessStep(deps.kube);
    this.oceanStep = new OceanAuthStep({
      kube: deps.kube,
      clock: deps.clock,
      logger: deps.logger,
      mailer: deps.mailer,
      ocean: deps.ocean,
      ...(deps.secrets ? { secrets: deps.secrets } : {}),
    });
    this.status = new StatusWriter(deps.kube, deps.clock);
  }

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const site = this.deps.sites.get(key.name, key.namespace);
    const id = `${key.namespace}/${key.name}`;
    if (!site) {
      this.memory.delete(id);
      this.oceanStep.forget(id);
      return {};
    }
    const spec = withDefaults<OceanSiteSpec>(OceanSiteSpec, site.spec);
    const location = keyLocation(key.namespace, key.name, this.deps.sekKvMount);
    if (site.metadata.deletionTimestamp) {
      await this.finalize(site, spec, location);
      this.memory.delete(id);
      return {};
    }
    await this.finalizer.add(site);
    const run: SiteRun = {
      key,
      id,
      site,
      spec,
      location,
      now: this.deps.clock.now(),
      previous: site.status ?? {},
      integrations: this.deps.integrations.byIndex(INTEGRATIONS_BY_SITE, key.namespace, key.name).length,
      memory: this.memory.get(id),
      recheckMs: parseDuration(spec.encryptionKey?.recheckInterval ?? '10m'),
    };
    const conditions: ConditionInput[] = [];
    try {
      return await this.runSteps(run, conditions);
    } catch (error) {
      return await this.recordFailure(run, conditions, error);
    }
  }

  /** Deletion: what the steps made goes first, the finalizer last. A site naming another key than its own destroys none. */
  private async finalize(site: OceanSite, spec: OceanSiteSpec, location: KeyLocation): Promise<void> {
    if (!hasFinalizer(site)) return;
    await this.identityStep.finalize(site);
    const misplaced = keyLocationError(spec, location);
    if (misplaced) {
      this.deps.logger.warn('SEK not touched on deletion: the site names another key location', {
        site: `${site.metadata.namespace ?? ''}/${site.metadata.name}`,
        reason: misplaced.message,
      });
    } else {
      await this.keyStep.finalize(site, spec, location);
    }
    await this.finalizer.remove(site);
  }

  /** The steps in order; each adds to `conditions`, which the failure path keeps. */
  private async runSteps(run: SiteRun, conditions: ConditionInput[]): Promise<ReconcileResult> {
    const { site, memory, now } = run;
    const invalid = specError(run.spec, run.location);
    if (invalid) throw invalid;
    const requestedAt = site.metadata.annotations?.[REQUESTED_AT_ANNOTATION];
    const generation = site.metadata.generation;
    const check = decideKeyCheck({ memory, generation, requestedAt, recheckMs: run.recheckMs }, now);
    // The ServiceAccount first: a site whose name is taken by another account never gets a key written.
    const identityApplied = await this.identityStep.reconcile(site, memory?.identityApplied ?? false, check.fresh);
    const key = await this.keyStep.reconcile(run, check);
    conditions.push(keyStoredCondition(key, run.location));
    const support = await this.supportStep.reconcile(
      site,
      run.spec,
      { fresh: check.fresh, applied: memory?.supportApplied, nextExpiry: memory?.supportNextExpiry },
      now,
    );
    const ocean = await this.oceanStep.reconcile(site, run.spec, requestedAt, now);
    this.memory.set(run.id, {
      checkedAt: check.fresh ? check.checkedAt : now.getTime(),
      generation,
      requestedAt,
      key,
      identityApplied,
      supportApplied: support.applied,
      supportNextExpiry: support.decision.nextExpiry?.getTime(),
    });
    const serviceAccount = siteServiceAccount(run.key.name);
    const status = readyStatus({
      previous: run.previous,
      generation,
      key,
      serviceAccount,
      integrations: run.integrations,
      support: support.decision,
      requestedAt,
    });
    if (ocean.status) status.ocean = ocean.status;
    else delete status.ocean;
    conditions.push(readyCondition(conditions));
    // Beside Ready, not in it: the site's readiness is its SEK (ocean-auth-decision.ts says why).
    conditions.push(ocean.condition);
    await this.status.write(site, run.previous, status, conditions);
    const untilOceanCheck = ocean.nextCheckAt ? Math.max(1000, ocean.nextCheckAt.getTime() - now.getTime()) : Number.POSITIVE_INFINITY;
    return { requeueAfterMs: Math.min(untilOceanCheck, requeueAfter(support.decision.nextExpiry, run.recheckMs, now)) };
  }

  /** Records the failure on the status (unless it is of no known kind), then throws the error to retry with. */
  private async recordFailure(run: SiteRun, conditions: ConditionInput[], error: unknown): Promise<never> {
    const failure = decideFailure(conditions, error);
    if (!failure) throw error;
    conditions.push(...failure.conditions);
    const status = failedStatus(run.previous, run.site.metadata.generation, run.integrations, run.location);
    await this.status.write(run.site, run.previous, status, conditions);
    throw failure.retry ?? error;
  }
}
