import { describe, expect, it } from 'vitest';
import { jobFailureReason, jobFinished } from '../../internal/sitepod/sync-run.ts';
import { parseTerminationMessage } from './reconciler.ts';

describe('jobFinished', () => {
  it.each([
    ['is undefined while the Job runs', { status: { active: 1 } }, undefined],
    ['is Succeeded once the Job is Complete', { status: { conditions: [{ type: 'Complete', status: 'True' }] } }, 'Succeeded'],
    [
      'is Failed once the Job Failed',
      { status: { conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }] } },
      'Failed',
    ],
    ['ignores conditions that are not True', { status: { conditions: [{ type: 'Complete', status: 'False' }] } }, undefined],
  ] as const)('%s', (_n, job, expected) => {
    expect(jobFinished(job as never)).toBe(expected);
  });
});

describe('jobFailureReason', () => {
  it.each([
    ['is undefined while the Job runs', { status: { active: 1 } }, undefined],
    [
      "is the FailureTarget's reason while the Job controller still stops the pods (the deadline passed)",
      { status: { conditions: [{ type: 'FailureTarget', status: 'True', reason: 'DeadlineExceeded' }] } },
      'DeadlineExceeded',
    ],
    [
      "is the Failed condition's reason once the Job Failed",
      {
        status: {
          conditions: [
            { type: 'FailureTarget', status: 'True', reason: 'PodFailurePolicy' },
            { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' },
          ],
        },
      },
      'BackoffLimitExceeded',
    ],
    ['ignores conditions that are not True', { status: { conditions: [{ type: 'Failed', status: 'False', reason: 'X' }] } }, undefined],
  ] as const)('%s', (_n, job, expected) => {
    expect(jobFailureReason(job as never)).toBe(expected);
  });
});

describe('parseTerminationMessage', () => {
  it.each([
    [
      'reads the counts and reason the worker wrote',
      '{"result":"Failed","providers":3,"patients":40,"appointments":50,"durationSeconds":12.4,"errorReason":"EmrUnreachable"}',
      { providers: 3, patients: 40, appointments: 50, durationSeconds: 12, errorReason: 'EmrUnreachable' },
    ],
    ['ignores what is not JSON', 'panic: out of memory', {}],
    ['refuses a reason that is not a PascalCase word, so no text reaches status', '{"errorReason":"failed for patient Jane Doe"}', {}],
    ['keeps counts non-negative', '{"patients":-5}', { patients: 0 }],
  ] as const)('%s', (_n, text, expected) => {
    expect(parseTerminationMessage(text)).toEqual(expected);
  });
});
