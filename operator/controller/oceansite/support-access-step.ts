// The support-access step: each active support site gets a RoleBinding to the site's
// support Role; bindings of removed or expired grants are deleted, each with an Event, and the
// Role goes with the last grant. Applied on a key recheck, when the list changed or once a grant
// expired, not on every reconcile.
import { RbacAuthorizationV1Api, type V1Role, type V1RoleBinding } from '@kubernetes/client-node';
import type { OceanSite, OceanSiteSpec } from '../../api/v1alpha1/index.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import { decideSupportAccess, type SupportDecision, supportBindingName, supportRoleName } from '../../internal/sek/identity.ts';
import { ignoreStatus, statusCodeOf } from '../../runtime/errors.ts';
import { supportBinding, supportRole } from './support-rbac.ts';

export interface SupportEvent {
  reason: 'SupportAccessGranted' | 'SupportAccessExpired' | 'SupportAccessRemoved';
  message: string;
}

export interface SupportPlan {
  decision: SupportDecision;
  /** The Role is applied while a grant is active, and deleted after the last binding. */
  role: 'apply' | 'delete';
  /** Active grants without a binding yet, in spec order. */
  grant: { name: string; support: string; expiresAt?: string; event: SupportEvent }[];
  /** Bindings of no active grant, in the order listed. */
  revoke: { name: string; event: SupportEvent }[];
}

/** What support access is applied for: the spec's list as written. */
export function supportHash(supportSites: OceanSiteSpec['supportSites']): string {
  return JSON.stringify(supportSites ?? []);
}

/** Pure: support access is applied on a key recheck, when the list changed since it was applied, or once a grant expired. */
export function supportDue(
  input: { fresh: boolean; applied: string | undefined; wanted: string; nextExpiry: number | undefined },
  now: Date,
): boolean {
  return !input.fresh || input.applied !== input.wanted || (input.nextExpiry !== undefined && now.getTime() >= input.nextExpiry);
}

/** Pure: the bindings to create and to delete, given the support sites of the spec and the bindings that exist. */
export function planSupportAccess(
  input: { supportSites: OceanSiteSpec['supportSites']; site: string; existing: readonly string[] },
  now: Date,
): SupportPlan {
  const decision = decideSupportAccess(input.supportSites, now);
  const wanted = new Set(decision.active.map((s) => supportBindingName(input.site, s.name)));
  const grant = decision.active
    .map((s) => ({ ...s, binding: supportBindingName(input.site, s.name) }))
    .filter((s) => !input.existing.includes(s.binding))
    .map((s) => ({
      name: s.binding,
      support: s.name,
      ...(s.expiresAt ? { expiresAt: s.expiresAt } : {}),
      event: {
        reason: 'SupportAccessGranted' as const,
        message: `Support site ${s.name} may read this namespace's cloudconnect resources and request work${s.expiresAt ? ` until ${s.expiresAt}` : ''}`,
      },
    }));
  const revoke = input.existing
    .filter((name) => !wanted.has(name))
    .map((name) => {
      const expired = decision.expired.find((e) => supportBindingName(input.site, e.name) === name);
      const event: SupportEvent = expired
        ? { reason: 'SupportAccessExpired', message: `Support access of ${expired.name} expired at ${expired.expiresAt} and was removed` }
        : { reason: 'SupportAccessRemoved', message: `Support access binding ${name} removed` };
      return { name, event };
    });
  return { decision, role: decision.active.length > 0 ? 'apply' : 'delete', grant, revoke };
}

/**
 * Pure: whether the site's support Role may exist, so that deleting it is worth a call: a binding
 * was there, the last applied list had a grant, or nothing is known (the first apply since start).
 * An idle site without support access then makes no write on its key rechecks.
 */
export function roleMayExist(existing: readonly string[], previouslyApplied: string | undefined): boolean {
  return existing.length > 0 || previouslyApplied === undefined || previouslyApplied !== supportHash(undefined);
}

export interface SupportMemory {
  /** Whether the key check was fresh (no recheck in this reconcile). */
  fresh: boolean;
  applied: string | undefined;
  nextExpiry: number | undefined;
}

export class SupportAccessStep {
  private readonly kube: Kube;
  private readonly rbac: RbacAuthorizationV1Api;

  constructor(kube: Kube) {
    this.kube = kube;
    this.rbac = kube.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  }

  /** Applies support access when due, else only decides it against the clock; returns the decision and what it is applied for. */
  async reconcile(
    site: OceanSite,
    spec: OceanSiteSpec,
    memory: SupportMemory,
    now: Date,
  ): Promise<{ decision: SupportDecision; applied: string }> {
    const applied = supportHash(spec.supportSites);
    const due = supportDue({ ...memory, wanted: applied }, now);
    const decision = due ? await this.apply(site, spec, memory.applied, now) : decideSupportAccess(spec.supportSites, now);
    return { decision, applied };
  }

  private async apply(site: OceanSite, spec: OceanSiteSpec, previouslyApplied: string | undefined, now: Date): Promise<SupportDecision> {
    const namespace = site.metadata.namespace ?? '';
    const roleName = supportRoleName(site.metadata.name);
    const listed = await this.rbac.listNamespacedRoleBinding({
      namespace,
      labelSelector: `cloudconnect.dev/support-of=${site.metadata.name}`,
    });
    const existing = listed.items.map((b) => b.metadata?.name ?? '');
    const plan = planSupportAccess({ supportSites: spec.supportSites, site: site.metadata.name, existing }, now);
    if (plan.role === 'apply') await this.applyRole(namespace, roleName, supportRole(site, namespace, roleName));
    for (const grant of plan.grant) {
      await this.applyBinding(namespace, supportBinding(site, namespace, roleName, grant));
      await this.kube.event(site, 'Normal', grant.event.reason, grant.event.message);
    }
    for (const revoke of plan.revoke) {
      await this.rbac.deleteNamespacedRoleBinding({ name: revoke.name, namespace }).catch(ignoreStatus(404));
      await this.kube.event(site, 'Normal', revoke.event.reason, revoke.event.message);
    }
    if (plan.role === 'delete' && roleMayExist(existing, previouslyApplied))
      await this.rbac.deleteNamespacedRole({ name: roleName, namespace }).catch(ignoreStatus(404));
    return plan.decision;
  }

  /** Create, or replace when it exists. */
  private async applyRole(namespace: string, name: string, body: V1Role): Promise<void> {
    try {
      await this.rbac.createNamespacedRole({ namespace, body });
    } catch (error) {
      if (statusCodeOf(error) !== 409) throw error;
      await this.rbac.replaceNamespacedRole({ name, namespace, body });
    }
  }

  /** Create; an existing binding is left as it is. */
  private async applyBinding(namespace: string, body: V1RoleBinding): Promise<void> {
    try {
      await this.rbac.createNamespacedRoleBinding({ namespace, body });
    } catch (error) {
      if (statusCodeOf(error) !== 409) throw error;
    }
  }
}
