// The Ocean step: checks the site's Ocean client (spec.ocean.credentialsSecretRef, a Secret of the
// site's own namespace: the reference has no namespace) against Ocean's token endpoint when a check
// is due (first reconcile, the Secret or the spec changed, requestedAt, the jittered interval, or
// sooner after a failure), re-reads the last check against the clock in between, and on each new
// failure reason (or when the expiry nears) emits one Warning Event and one e-mail to the Clinical
// Administrator. The Secret is labelled so that the operator's credentials Secret cache sees its
// edits. Nothing of the Secret reaches a log, an Event, status or an error: only its name.
import type { V1Secret } from '@kubernetes/client-node';
import type { OceanSite, OceanSiteSpec } from '../../api/v1alpha1/index.ts';
import { CREDENTIALS_LABEL } from '../../api/v1alpha1/index.ts';
import { credentialsSecret } from '../../internal/kube/credentials-secret.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import { type Mailer, siteRecipients } from '../../internal/notify/mailer.ts';
import {
  type OceanApiSettings,
  oceanFailureReason,
  oceanSecretCredentials,
  siteOceanClient,
} from '../../internal/ocean/site-credentials.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { Condition } from '../../runtime/conditions.ts';
import { parseDuration } from '../../runtime/duration.ts';
import { safeMessage } from '../../runtime/errors.ts';
import type { SupervisedInformer } from '../../runtime/informer.ts';
import type { Logger } from '../../runtime/logger.ts';
import {
  decideOceanAuth,
  type OceanAuthDecision,
  type OceanCheck,
  type OceanSeen,
  oceanAuthNotice,
  oceanCheckDue,
} from './ocean-auth-decision.ts';

export interface OceanAuthStepDeps {
  kube: Kube;
  clock: Clock;
  logger: Logger;
  mailer: Mailer;
  /** The operator's labelled credentials Secrets. */
  secrets?: SupervisedInformer<V1Secret>;
  ocean: OceanApiSettings;
  random?: () => number;
}

interface Memory extends OceanSeen {
  check: OceanCheck | undefined;
  failures: number;
  random: number;
  nextCheckAt: Date | undefined;
}

export class OceanAuthStep {
  private readonly deps: OceanAuthStepDeps;
  private readonly memory = new Map<string, Memory>();
  /** The condition each site was last notified for: a reconcile on a cache older than its status write sends nothing twice. */
  private readonly notified = new Map<string, string>();

  constructor(deps: OceanAuthStepDeps) {
    this.deps = deps;
  }

  async reconcile(site: OceanSite, spec: OceanSiteSpec, requestedAt: string | undefined, now: Date): Promise<OceanAuthDecision> {
    const namespace = site.metadata.namespace ?? '';
    const id = `${namespace}/${site.metadata.name}`;
    const secretName = spec.ocean?.credentialsSecretRef?.name;
    const secret = secretName ? await this.secret(secretName, namespace) : undefined;
    const seen: OceanSeen = {
      secretName,
      secretVersion: secret?.metadata?.resourceVersion,
      generation: site.metadata.generation,
      requestedAt,
    };
    let memory = this.memory.get(id);
    if (oceanCheckDue(memory, seen, now)) {
      const check = secretName ? await this.check(spec, secretName, secret, now) : undefined;
      const failures = check && !check.ok ? (memory?.failures ?? 0) + 1 : 0;
      memory = { ...seen, check, failures, random: (this.deps.random ?? Math.random)(), nextCheckAt: undefined };
      this.memory.set(id, memory);
    }
    const decision = decideOceanAuth({
      check: memory?.check,
      failures: memory?.failures ?? 0,
      now,
      checkIntervalMs: parseDuration(spec.ocean?.checkInterval ?? '1h'),
      renewBeforeMs: parseDuration(spec.ocean?.renewBefore ?? '168h'),
      random: memory?.random ?? 0,
    });
    if (memory) memory.nextCheckAt = decision.nextCheckAt;
    const key = `${decision.condition.status}/${decision.condition.reason}`;
    if (this.notified.get(id) !== key) await this.notify(site, spec, site.status?.conditions as Condition[] | undefined, decision);
    this.notified.set(id, key);
    return decision;
  }

  forget(id: string): void {
    this.memory.delete(id);
    this.notified.delete(id);
  }

  private async check(spec: OceanSiteSpec, secretName: string, secret: V1Secret | undefined, now: Date): Promise<OceanCheck> {
    if (!secret) {
      return {
        ok: false,
        at: now,
        reason: 'SecretNotFound',
        message: `Secret ${secretName} named by spec.ocean.credentialsSecretRef does not exist`,
      };
    }
    const read = oceanSecretCredentials(secret);
    if ('missing' in read) {
      return { ok: false, at: now, reason: 'MissingKeys', message: `Secret ${secretName} lacks the key(s) ${read.missing.join(', ')}` };
    }
    try {
      const client = siteOceanClient(this.deps.ocean, spec.siteNumber, read.credentials, () => this.deps.clock.now());
      const { notAfter } = await client.authenticate();
      return { ok: true, at: now, ...(notAfter ? { notAfter } : {}) };
    } catch (error) {
      return { ok: false, at: now, reason: oceanFailureReason(error), message: safeMessage(error) };
    }
  }

  private secret(name: string, namespace: string): Promise<V1Secret | undefined> {
    return credentialsSecret({ ...this.deps, label: CREDENTIALS_LABEL }, name, namespace);
  }

  private async notify(site: OceanSite, spec: OceanSiteSpec, before: Condition[] | undefined, decision: OceanAuthDecision): Promise<void> {
    const notice = oceanAuthNotice(before, decision.condition);
    if (!notice) return;
    await this.deps.kube.event(site, 'Warning', notice.reason, notice.text);
    const to = siteRecipients(spec, 'error');
    if (to.length === 0) return;
    await this.deps.mailer.send({
      to,
      subject: `Ocean site ${spec.siteNumber}: ${notice.subject}`,
      text: `${notice.text}\n\nThe Ocean client is in the Secret ${spec.ocean?.credentialsSecretRef?.name ?? ''} of namespace ${site.metadata.namespace ?? ''} (keys clientId, clientSecret); a new one is generated in the Ocean Portal under Menu > Admin > Manage Credentials > Manage OAuth Credentials.`,
    });
  }
}
