import { describe, expect, it } from 'vitest';
import type { EmrIntegrationSpec } from '../../api/v1alpha1/index.ts';
import { specProblem } from './spec-step.ts';

const emr = (timeZone?: string) => ({ emr: { type: 'OSCARPro', ...(timeZone ? { timeZone } : {}) } }) as Pick<EmrIntegrationSpec, 'emr'>;

describe('specProblem', () => {
  it.each([
    ['accepts an integration without spec.emr.timeZone (the site zone is used)', undefined, undefined],
    ['accepts a zone the tz database knows', 'America/Regina', undefined],
    [
      'stalls on a well-formed zone the tz database does not know, naming the field',
      'America/Torontoo',
      'spec.emr.timeZone "America/Torontoo"',
    ],
  ])('%s', (_name, zone, message) => {
    const problem = specProblem(emr(zone));
    if (message === undefined) expect(problem).toBeUndefined();
    else
      expect(problem).toMatchObject({
        type: 'Stalled',
        status: 'True',
        reason: 'InvalidTimeZone',
        message: expect.stringContaining(message),
      });
  });
});
