// The EmrIntegration reconciler's steps, in the way of Flux's source-controller sub-reconcilers:
// each step reads what the reconcile loaded and what the steps before it found, adds its conditions,
// its part of Ready, its status fields and its requeue hint to the run, and says whether the next
// step runs. The reconciler runs them in order, stops at the first that says `stop`, and then
// writes the status (status.ts) from the run.
import type { V1Secret } from '@kubernetes/client-node';
import type { EmrIntegration, EmrIntegrationSpec, EmrIntegrationStatus, OceanSite } from '../../api/v1alpha1/index.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import type { ObjectKey } from '../../runtime/controller.ts';
import type { AuthDecision } from './auth-decision.ts';
import type { Providers } from './providers.ts';
import type { RelayStatus } from './relay/status-decision.ts';

export type { Providers };

export type StepOutcome = 'continue' | 'stop';

export interface Step {
  readonly name: string;
  run(run: EmrRun): Promise<StepOutcome>;
}

/** What Ready says when every part of it is True. */
export interface ReadySummary {
  reason: string;
  message: string;
}

/** One reconcile of one EmrIntegration: what was loaded, then what each step found. */
export interface EmrRun {
  readonly key: ObjectKey;
  /** `namespace/name`. */
  readonly id: string;
  readonly integration: EmrIntegration;
  readonly spec: EmrIntegrationSpec;
  readonly site: OceanSite | undefined;
  readonly previous: EmrIntegrationStatus;
  readonly requestedAt: string | undefined;
  readonly now: Date;

  /** Conditions set by the steps, Ready aside (status.ts summarises Ready). */
  readonly conditions: ConditionInput[];
  /** What Ready summarises, in order: the first that is not True gives Ready its status and reason. */
  readonly readyParts: ConditionInput[];
  ready: ReadySummary;
  /** How long until the reconcile is wanted again, one hint per step that has one. */
  readonly requeueAfterMs: number[];

  /** credentials step. */
  credentials?: { secretName: string; secret: V1Secret | undefined };
  /** auth step: the decision, and the API user named by a check made in this reconcile (none between checks). */
  auth?: AuthDecision;
  checkedApiUser?: string;
  /** auth step: the providers the last check saw. */
  providers?: Providers;
  /** eReferral step: the target's credentials Secret as read (undefined when absent or not configured). */
  eReferralSecret?: V1Secret | undefined;
  /** relay step. */
  relay?: RelayStatus;
  /** relay step: the webhook key's version and times; the registration step adds the registration. */
  webhook?: NonNullable<EmrIntegrationStatus['webhook']>;
  /** relay step: the current webhook key and its version, for the registration step only (never in status). */
  webhookKey?: { version: number; current: string };
  /** schedules step. */
  sync?: NonNullable<EmrIntegrationStatus['sync']>;
}

/** A new run. Suspend changes no step's work here: it is Ready's reason (and the relay scales to 0). */
export function newRun(loaded: {
  key: ObjectKey;
  integration: EmrIntegration;
  spec: EmrIntegrationSpec;
  site: OceanSite | undefined;
  previous: EmrIntegrationStatus;
  requestedAt: string | undefined;
  now: Date;
}): EmrRun {
  return {
    ...loaded,
    id: `${loaded.key.namespace}/${loaded.key.name}`,
    conditions: [],
    readyParts: [],
    ready: { reason: loaded.spec.suspend ? 'Suspended' : 'Succeeded', message: 'Authenticated with the EMR' },
    requeueAfterMs: [],
  };
}

/** What an earlier step found; throws when that step has not run (the steps are out of order). */
export function found<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`EmrIntegration steps out of order: no ${what} yet`);
  return value;
}
