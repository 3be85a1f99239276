// Step 0, spec: what admission cannot check and would otherwise fail only in the pods. A
// spec.emr.timeZone that is well formed (CEL) but unknown to the tz database stalls the integration
// here, with the field named, instead of failing every sync run and the relay's start with
// InvalidConfiguration.
import type { EmrIntegrationSpec } from '../../api/v1alpha1/index.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import { isKnownTimeZone } from '../../runtime/time-zone.ts';
import type { EmrRun, Step, StepOutcome } from './step.ts';

/** Pure: the Stalled condition of a spec that cannot work as written, or undefined. */
export function specProblem(spec: Pick<EmrIntegrationSpec, 'emr'>): ConditionInput | undefined {
  const zone = spec.emr.timeZone;
  if (zone === undefined || isKnownTimeZone(zone)) return undefined;
  return {
    type: 'Stalled',
    status: 'True',
    reason: 'InvalidTimeZone',
    message: `spec.emr.timeZone ${JSON.stringify(zone)} is not a known IANA time zone (e.g. America/Toronto); omit it to use the site's`,
  };
}

export const specStep: Step = {
  name: 'spec',
  async run(run: EmrRun): Promise<StepOutcome> {
    const stalled = specProblem(run.spec);
    if (!stalled) return 'continue';
    run.conditions.push(stalled);
    run.readyParts.push({ ...stalled, type: 'Ready', status: 'False' });
    return 'stop';
  },
};
