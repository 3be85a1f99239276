// EmrIntegration reconciler, first stage: resolves the site and the credentials Secret (by name
// only: values are not read yet) and reports what it can. EMR authentication checks, expiry,
// conflicts and provider visibility are the EmrIntegration issue's work and are not claimed here.
import { EMR_INTEGRATION, EMR_SECTION, EmrIntegrationSpec, type EmrIntegration, type EmrIntegrationStatus, type OceanSite } from '../api/v1alpha1/index.ts';
import type { Clock } from '../runtime/clock.ts';
import { setConditions, summarizeReady, type Condition, type ConditionInput } from '../runtime/conditions.ts';
import type { ObjectKey, Reconciler, ReconcileResult } from '../runtime/controller.ts';
import { withDefaults } from '../runtime/defaults.ts';
import { statusCodeOf } from '../runtime/errors.ts';
import type { SupervisedInformer } from '../runtime/informer.ts';
import type { Kube } from '../runtime/kube.ts';

export function credentialsSecretName(spec: EmrIntegrationSpec): string | undefined {
  if (spec.emr.type === 'None') return undefined;
  const section = (spec.emr as Record<string, unknown>)[EMR_SECTION[spec.emr.type]] as { credentialsSecretRef?: { name?: string } } | undefined;
  return section?.credentialsSecretRef?.name;
}

export function decideIntegrationStatus(
  integration: EmrIntegration,
  spec: EmrIntegrationSpec,
  site: OceanSite | undefined,
  secretExists: boolean | undefined,
  clock: Clock,
): EmrIntegrationStatus {
  const parts: ConditionInput[] = [];
  if (!site) {
    parts.push({ type: 'SiteFound', status: 'False', reason: 'SiteNotFound', message: `OceanSite ${spec.siteRef.name} does not exist in this namespace` });
  }
  if (secretExists === false) {
    parts.push({ type: 'Authenticated', status: 'False', reason: 'SecretNotFound', message: `Secret ${credentialsSecretName(spec)} named by the ${spec.emr.type} section does not exist` });
  } else if (spec.emr.type !== 'None') {
    parts.push({ type: 'Authenticated', status: 'Unknown', reason: 'NotChecked', message: 'EMR authentication is not checked by this operator version yet' });
  }
  const ready = summarizeReady(parts, undefined, {
    reason: spec.suspend ? 'Suspended' : 'Succeeded',
    message: spec.emr.type === 'None' ? 'Non-integrated site: SEK only' : 'Integration configured',
  });
  const previous = integration.status ?? {};
  return {
    ...previous,
    observedGeneration: integration.metadata.generation,
    conditions: setConditions(previous.conditions as Condition[] | undefined, [...parts.filter((p) => p.type === 'Authenticated'), ready], integration.metadata.generation, clock),
  };
}

export class EmrIntegrationReconciler implements Reconciler {
  private readonly deps: {
    kube: Kube;
    clock: Clock;
    integrations: SupervisedInformer<EmrIntegration>;
    sites: SupervisedInformer<OceanSite>;
  };

  constructor(deps: EmrIntegrationReconciler['deps']) {
    this.deps = deps;
  }

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const integration = this.deps.integrations.get(key.name, key.namespace);
    if (!integration || integration.metadata.deletionTimestamp) return {};
    const spec = withDefaults<EmrIntegrationSpec>(EmrIntegrationSpec, integration.spec);
    const site = this.deps.sites.get(spec.siteRef.name, key.namespace);
    const secretName = credentialsSecretName(spec);
    let secretExists: boolean | undefined;
    if (secretName) {
      try {
        // Metadata only: the operator does not need the values at this stage.
        await this.deps.kube.core.readNamespacedSecret({ name: secretName, namespace: key.namespace });
        secretExists = true;
      } catch (error) {
        if (statusCodeOf(error) !== 404) throw error;
        secretExists = false;
      }
    }
    const status = decideIntegrationStatus(integration, spec, site, secretExists, this.deps.clock);
    await this.deps.kube.applyStatus(EMR_INTEGRATION, integration, status);
    return {};
  }
}
