// Step 2, auth: checks authentication against the EMR when a check is due (first reconcile, the
// site's readiness changed, the credentials Secret was edited, the spec changed, a recheck was
// requested with the requestedAt annotation, or the jittered interval passed) and remembers it.
// Between checks the remembered check is re-read against the clock (decideAuth), so that the
// approach of expiry and expiry itself need no EMR call.
import { authorizeCommand, type EmrIntegrationSpec } from '../../api/v1alpha1/index.ts';
import { isTrue } from '../../runtime/conditions.ts';
import { parseDuration } from '../../runtime/duration.ts';
import type { OperatorMetrics } from '../../runtime/metrics.ts';
import { type AuthCheckDeps, checkAuthentication } from './auth-check.ts';
import { type AuthCheck, type AuthStatus, decideAuth } from './auth-decision.ts';
import { type Providers, providersSeen } from './providers.ts';
import { type EmrRun, found, type Step, type StepOutcome } from './step.ts';

export interface AuthStepDeps extends AuthCheckDeps {
  metrics: OperatorMetrics;
  random?: () => number;
}

/** What a check saw; a change of any of it makes the next check due at once. */
export interface Seen {
  siteReady: boolean;
  secretVersion: string | undefined;
  generation: number | undefined;
  requestedAt: string | undefined;
}

/** The last check of one integration. */
interface Memory extends Seen {
  check: AuthCheck;
  authBefore: AuthStatus | undefined;
  /** The jitter drawn at the check, so that re-reading it gives the same schedule. */
  random: number;
  nextCheckAt: Date;
  providers?: Providers;
}

/** Pure: whether to check against the EMR now rather than re-read the last check. */
export function checkDue(last: (Seen & { nextCheckAt: Date }) | undefined, seen: Seen, now: Date): boolean {
  return (
    !last ||
    last.siteReady !== seen.siteReady ||
    last.secretVersion !== seen.secretVersion ||
    last.generation !== seen.generation ||
    last.requestedAt !== seen.requestedAt ||
    now.getTime() >= last.nextCheckAt.getTime()
  );
}

/** Pure: spec.auth's durations (throws on one that is not a duration). */
export function checkTiming(spec: Pick<EmrIntegrationSpec, 'auth'>): { checkIntervalMs: number; renewBeforeMs?: number } {
  return {
    checkIntervalMs: parseDuration(spec.auth?.checkInterval ?? '1h'),
    ...(spec.auth?.renewBefore ? { renewBeforeMs: parseDuration(spec.auth.renewBefore) } : {}),
  };
}

export class AuthStep implements Step {
  readonly name = 'auth';
  private readonly deps: AuthStepDeps;
  private readonly memory = new Map<string, Memory>();

  constructor(deps: AuthStepDeps) {
    this.deps = deps;
  }

  async run(run: EmrRun): Promise<StepOutcome> {
    const { secret, secretName } = found(run.credentials, 'credentials');
    const seen: Seen = {
      siteReady: run.site !== undefined && isTrue(run.site.status?.conditions, 'Ready'),
      secretVersion: secret?.metadata?.resourceVersion,
      generation: run.integration.metadata.generation,
      requestedAt: run.requestedAt,
    };
    const last = this.memory.get(run.id);
    const due = checkDue(last, seen, run.now);
    const timing = checkTiming(run.spec);
    const memory = !due && last ? last : await this.check(run, seen, last, { spec: run.spec, site: run.site, secret, secretName });
    const decision = decideAuth({
      check: memory.check,
      previous: memory.authBefore,
      now: run.now,
      ...timing,
      random: memory.random,
      ...(run.spec.emr.type === 'OSCARPro' ? { reauthorizeCommand: authorizeCommand(run.key.name, run.key.namespace) } : {}),
    });
    if (memory !== last) memory.nextCheckAt = decision.nextCheckAt;

    run.auth = decision;
    run.providers = memory.providers;
    run.conditions.push(decision.authenticated, decision.expiringSoon);
    run.readyParts.push(decision.authenticated);
    if (decision.expiringSoon.status === 'True') run.ready = { ...run.ready, message: decision.expiringSoon.message };
    run.requeueAfterMs.push(memory.nextCheckAt.getTime() - run.now.getTime());
    return 'continue';
  }

  /** Drops the last check of a deleted integration (`namespace/name`). */
  forget(id: string): void {
    this.memory.delete(id);
  }

  private async check(
    run: EmrRun,
    seen: Seen,
    last: Memory | undefined,
    input: Parameters<typeof checkAuthentication>[1],
  ): Promise<Memory> {
    const authBefore = run.previous.auth as AuthStatus | undefined;
    const { check, providerIds, apiUser } = await checkAuthentication(this.deps, input, run.now);
    const before = last?.providers ?? run.previous.providers;
    const specEdited = run.previous.observedGeneration !== run.integration.metadata.generation;
    const configured = run.spec.settings?.syncProviderIds ?? [];
    const providers = providerIds ? providersSeen(providerIds, configured, before, specEdited) : undefined;
    const random = (this.deps.random ?? Math.random)();
    const memory: Memory = {
      ...seen,
      check,
      authBefore,
      random,
      nextCheckAt: run.now, // set from the decision
      providers: providers ?? last?.providers,
    };
    this.memory.set(run.id, memory);
    this.deps.metrics.emrAuthChecks.inc({
      namespace: run.key.namespace,
      name: run.key.name,
      emr: run.spec.emr.type,
      result: check.ok ? 'success' : check.reason,
    });
    if (apiUser) run.checkedApiUser = apiUser;
    return memory;
  }
}
