// Step 3, conflicts: one API username may be connected to only one Cloud Connect
// instance. The step remembers who each integration authenticates as (the API user on an EMR
// endpoint, from its last check that named one), reports CredentialConflict when an integration of
// another site uses the same, and asks every integration that shares the old or the new identity
// to re-evaluate its own condition when one changes or goes.
import type { EmrIntegrationSpec } from '../../api/v1alpha1/index.ts';
import { adapterSettings } from '../../internal/emr/settings.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import { type EmrIdentity, findConflicts } from './conflicts.ts';
import type { EmrRun, Step, StepOutcome } from './step.ts';

/** Pure: the EMR endpoint an API user belongs to (base URL and tenant or instance). */
export function endpointOf(spec: EmrIntegrationSpec): string {
  const s = adapterSettings(spec);
  return `${s.baseUrl}|${s.tenantId ?? s.instanceId ?? ''}`;
}

/** Integrations a conflict message names; the rest are counted (a shared user across a fleet must not make every status huge). */
const NAMED_CONFLICTS = 5;

/** Pure: CredentialConflict for the integrations (of other sites) sharing the API user, and its part of Ready. */
export function conflictCondition(others: readonly string[] | undefined): { condition: ConditionInput; readyPart?: ConditionInput } {
  if (!others) {
    return {
      condition: { type: 'CredentialConflict', status: 'False', reason: 'NoConflict', message: 'No other site uses this EMR API user' },
    };
  }
  const named =
    others.length > NAMED_CONFLICTS
      ? `${others.slice(0, NAMED_CONFLICTS).join(', ')} and ${others.length - NAMED_CONFLICTS} more`
      : others.join(', ');
  const message = `The same EMR API user is connected for ${named} of another site; one API username may be connected to only one Cloud Connect instance`;
  return {
    condition: { type: 'CredentialConflict', status: 'True', reason: 'SharedApiUser', message },
    readyPart: { type: 'CredentialConflict', status: 'False', reason: 'CredentialConflict', message },
  };
}

function sameIdentity(a: EmrIdentity, b: EmrIdentity): boolean {
  return a.endpoint.toLowerCase() === b.endpoint.toLowerCase() && a.apiUser.toLowerCase() === b.apiUser.toLowerCase();
}

export class ConflictsStep implements Step {
  readonly name = 'conflicts';
  private readonly enqueue: (key: string) => void;
  private readonly identities = new Map<string, EmrIdentity>();

  constructor(deps: { enqueue: (key: string) => void }) {
    this.enqueue = deps.enqueue;
  }

  async run(run: EmrRun): Promise<StepOutcome> {
    if (run.checkedApiUser) {
      const site = `${run.key.namespace}/${run.spec.siteRef.name}`;
      this.setIdentity({ key: run.id, site, endpoint: endpointOf(run.spec), apiUser: run.checkedApiUser });
    }
    const { condition, readyPart } = conflictCondition(findConflicts([...this.identities.values()]).get(run.id));
    run.conditions.push(condition);
    if (readyPart) run.readyParts.push(readyPart);
    return 'continue';
  }

  /** Forgets a deleted integration (`namespace/name`); whoever shared its identity re-evaluates. */
  forget(id: string): void {
    const identity = this.identities.get(id);
    this.identities.delete(id);
    if (identity) this.enqueueSharing(id, [identity]);
  }

  private setIdentity(identity: EmrIdentity): void {
    const before = this.identities.get(identity.key);
    this.identities.set(identity.key, identity);
    if (before && before.apiUser === identity.apiUser && before.endpoint === identity.endpoint) return;
    // Whoever shares the old or new identity must re-evaluate its conflict condition.
    this.enqueueSharing(identity.key, before ? [before, identity] : [identity]);
  }

  private enqueueSharing(id: string, identities: readonly EmrIdentity[]): void {
    for (const other of this.identities.values()) {
      if (other.key !== id && identities.some((i) => sameIdentity(i, other))) this.enqueue(other.key);
    }
  }
}
