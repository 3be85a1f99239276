// Step 1, credentials: an integration without an EMR (type None) has none, and its reconcile stops
// here with Ready NonIntegrated. Otherwise the credentials Secret named by spec.emr is read from the
// cache, or from the API server the first time, and then labelled so that the label-selected Secret
// informer sees its edits from then on (an edit triggers an authentication check).
import type { V1Secret } from '@kubernetes/client-node';
import type { EmrIntegrationSpec, OceanSite } from '../../api/v1alpha1/index.ts';
import { credentialsSecretName } from '../../internal/emr/settings.ts';
import { credentialsSecret } from '../../internal/kube/credentials-secret.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import type { SupervisedInformer } from '../../runtime/informer.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { EmrRun, ReadySummary, Step, StepOutcome } from './step.ts';

export interface CredentialsStepDeps {
  kube: Kube;
  logger: Logger;
  secrets: SupervisedInformer<V1Secret>;
  /** The label put on the credentials Secrets the operator uses (the Secret informer selects it). */
  label: string;
}

/** Pure: what Ready says of an integration without an EMR; undefined when it has one. */
export function notIntegrated(
  spec: Pick<EmrIntegrationSpec, 'emr' | 'siteRef'>,
  site: OceanSite | undefined,
): { readyParts: ConditionInput[]; ready: ReadySummary } | undefined {
  if (spec.emr.type !== 'None') return undefined;
  const siteMissing: ConditionInput = {
    type: 'SiteReady',
    status: 'False',
    reason: 'SiteNotReady',
    message: `OceanSite ${spec.siteRef.name} does not exist`,
  };
  return {
    readyParts: site ? [] : [siteMissing],
    ready: { reason: 'NonIntegrated', message: 'No EMR: the site keeps only its SEK in Cloud Connect' },
  };
}

export class CredentialsStep implements Step {
  readonly name = 'credentials';
  private readonly deps: CredentialsStepDeps;

  constructor(deps: CredentialsStepDeps) {
    this.deps = deps;
  }

  async run(run: EmrRun): Promise<StepOutcome> {
    const none = notIntegrated(run.spec, run.site);
    if (none) {
      run.readyParts.push(...none.readyParts);
      run.ready = none.ready;
      return 'stop';
    }
    const secretName = credentialsSecretName(run.spec) ?? '';
    run.credentials = { secretName, secret: await this.secret(secretName, run.key.namespace) };
    return 'continue';
  }

  private secret(name: string, namespace: string): Promise<V1Secret | undefined> {
    return credentialsSecret(this.deps, name, namespace);
  }
}
