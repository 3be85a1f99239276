// Step 6, notify: one Warning Event and one e-mail to the site's Clinical Administrator per
// transition of the authentication (it starts failing or fails for another reason; the renewal time
// is reached), not one per check; then the expiry gauges and a gauge per condition. It runs after
// the relay step, once every condition is known, and before the schedules step.
import { type EmrIntegrationSpec, OceanSiteSpec } from '../../api/v1alpha1/index.ts';
import { credentialsSecretName } from '../../internal/emr/settings.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import { type Mailer, siteRecipients } from '../../internal/notify/mailer.ts';
import { type Condition, type ConditionInput, findCondition } from '../../runtime/conditions.ts';
import type { ObjectKey } from '../../runtime/controller.ts';
import { withDefaults } from '../../runtime/defaults.ts';
import type { OperatorMetrics } from '../../runtime/metrics.ts';
import type { AuthStatus } from './auth-decision.ts';
import { conditionsOf } from './status.ts';
import { type EmrRun, found, type Step, type StepOutcome } from './step.ts';

export interface AuthNotice {
  /** The Event's reason. */
  reason: 'AuthenticationFailed' | 'AuthExpiringSoon';
  text: string;
  /** The e-mail's subject after `Ocean site <number>: `. */
  subject: string;
}

/** Pure: the notices owed for how Authenticated and AuthExpiringSoon changed since the conditions `before`. */
export function authNotices(
  emrType: EmrIntegrationSpec['emr']['type'],
  before: readonly Condition[] | undefined,
  authenticated: ConditionInput,
  expiring: ConditionInput,
): AuthNotice[] {
  const wasAuth = findCondition(before, 'Authenticated');
  const wasExpiring = findCondition(before, 'AuthExpiringSoon');
  const notices: AuthNotice[] = [];
  // SiteNotReady is the site's problem, reported on the site; it is not an EMR authentication failure.
  if (
    authenticated.status === 'False' &&
    authenticated.reason !== 'SiteNotReady' &&
    (wasAuth?.status !== 'False' || wasAuth.reason !== authenticated.reason)
  ) {
    notices.push({
      reason: 'AuthenticationFailed',
      text: `${emrType} authentication failed (${authenticated.reason}): ${authenticated.message}`,
      subject: 'EMR authentication failed',
    });
  }
  if (expiring.status === 'True' && wasExpiring?.status !== 'True') {
    notices.push({ reason: 'AuthExpiringSoon', text: expiring.message, subject: 'EMR authentication expires soon' });
  }
  return notices;
}

export class NotifyStep implements Step {
  readonly name = 'notify';
  private readonly deps: { kube: Kube; mailer: Mailer; metrics: OperatorMetrics };

  constructor(deps: { kube: Kube; mailer: Mailer; metrics: OperatorMetrics }) {
    this.deps = deps;
  }

  async run(run: EmrRun): Promise<StepOutcome> {
    const auth = found(run.auth, 'authentication decision');
    for (const notice of authNotices(run.spec.emr.type, run.previous.conditions, auth.authenticated, auth.expiringSoon)) {
      await this.send(run, notice);
    }
    this.exportMetrics(run.key, run.spec, auth.auth, conditionsOf(run));
    return 'continue';
  }

  private async send(run: EmrRun, notice: AuthNotice): Promise<void> {
    await this.deps.kube.event(run.integration, 'Warning', notice.reason, notice.text);
    const siteSpec = run.site ? withDefaults<OceanSiteSpec>(OceanSiteSpec, run.site.spec) : undefined;
    const to = siteSpec ? siteRecipients(siteSpec, 'error') : [];
    if (!siteSpec || to.length === 0) return;
    await this.deps.mailer.send({
      to,
      subject: `Ocean site ${siteSpec.siteNumber}: ${notice.subject}`,
      text: `Cloud Connect integration ${run.integration.metadata.name} (${run.spec.emr.type}): ${notice.text}\n\nTo re-authenticate, update the credentials Secret ${credentialsSecretName(run.spec)}.`,
    });
  }

  private exportMetrics(key: ObjectKey, spec: EmrIntegrationSpec, auth: AuthStatus, conditions: readonly ConditionInput[]): void {
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
}
