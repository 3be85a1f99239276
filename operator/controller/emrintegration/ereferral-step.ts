// eReferral endpoint (spec.eReferral, seed 001): the target's credentials Secret, read from the
// integration's own namespace only (the reference has no namespace field, and the admission refuses
// one) and labelled so that an edit rolls the relay. Condition EReferralTargetReady: True
// `TargetConfigured`; False `SecretNotFound` or `MissingKeys` (named, never a value), which is part of
// Ready. The relay is deployed either way (the Secret is mounted optional): bundles are queued, their
// deliveries fail with InvalidCredentials and retry until the Secret is fixed, so nothing is lost.
// For an integration without an EMR (emr.type None) this is its whole purpose: Ready says so.
import type { V1Secret } from '@kubernetes/client-node';
import { CREDENTIALS_LABEL, type EmrIntegrationSpec, eReferralCredentialKeys } from '../../api/v1alpha1/index.ts';
import { credentialsSecret } from '../../internal/kube/credentials-secret.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import type { SupervisedInformer } from '../../runtime/informer.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { EmrRun, Step, StepOutcome } from './step.ts';

const EREFERRAL_TARGET_READY = 'EReferralTargetReady';

/** Pure: the condition of the target's Secret as read (undefined: it does not exist). */
export function eReferralTargetCondition(
  spec: Pick<EmrIntegrationSpec, 'eReferral'>,
  secret: V1Secret | undefined,
): ConditionInput | undefined {
  const forward = spec.eReferral?.forward;
  if (!forward) return undefined;
  const name = forward.credentialsSecretRef.name;
  if (!secret)
    return {
      type: EREFERRAL_TARGET_READY,
      status: 'False',
      reason: 'SecretNotFound',
      message: `Secret ${name} (spec.eReferral.forward.credentialsSecretRef) does not exist in this namespace`,
    };
  const missing = eReferralCredentialKeys(forward.auth).filter((k) => !secret.data?.[k]);
  if (missing.length > 0)
    return {
      type: EREFERRAL_TARGET_READY,
      status: 'False',
      reason: 'MissingKeys',
      message: `Secret ${name} lacks ${missing.join(', ')} (auth ${forward.auth ?? 'Bearer'})`,
    };
  return {
    type: EREFERRAL_TARGET_READY,
    status: 'True',
    reason: 'TargetConfigured',
    message: `Referral bundles are forwarded to ${new URL(forward.url).host}`,
  };
}

export interface EReferralStepDeps {
  kube: Kube;
  logger: Logger;
  secrets: SupervisedInformer<V1Secret>;
}

export class EReferralStep implements Step {
  readonly name = 'eReferral';
  private readonly deps: EReferralStepDeps;

  constructor(deps: EReferralStepDeps) {
    this.deps = deps;
  }

  async run(run: EmrRun): Promise<StepOutcome> {
    const forward = run.spec.eReferral?.forward;
    if (!forward) return 'continue';
    const secret = await credentialsSecret(
      { ...this.deps, label: CREDENTIALS_LABEL },
      forward.credentialsSecretRef.name,
      run.key.namespace,
    );
    run.eReferralSecret = secret;
    const condition = eReferralTargetCondition(run.spec, secret);
    if (condition) {
      run.conditions.push(condition);
      run.readyParts.push(condition);
    }
    if (run.spec.emr.type === 'None' && !run.spec.suspend)
      run.ready = { reason: 'NonIntegrated', message: 'No EMR: an eReferral endpoint only (see EReferralTargetReady)' };
    return 'continue';
  }
}
