import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { SyncSchedule } from '../../api/v1alpha1/index.ts';
import { type ObserveInput, observeRun, progressLine, resultLine } from './sync-progress.ts';

const token = 'kubectl-cloudconnect/2026-11-28T12:00:00.000Z';
const runName = 'maple-accuro-full-manual-1a2b3c4d';
const schedule = (status: Record<string, unknown>, suspend = false): SyncSchedule =>
  ({
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'SyncSchedule',
    metadata: { name: 'maple-accuro-full' },
    spec: { integrationRef: { name: 'maple-accuro' }, type: 'Full', schedule: '0 0 * * *', suspend },
    status,
  }) as SyncSchedule;
const job = (conditions: { type: string; status: string; reason?: string }[] = []): V1Job =>
  ({ metadata: { name: runName }, status: { conditions } }) as V1Job;
const pod = (phase: string, waiting?: string): V1Pod =>
  ({
    metadata: { name: `${runName}-x7k2p` },
    status: { phase, ...(waiting ? { containerStatuses: [{ name: 'sync', state: { waiting: { reason: waiting } } }] } : {}) },
  }) as V1Pod;
const input = (parts: Partial<ObserveInput>): ObserveInput => ({
  token,
  runName,
  schedule: schedule({}),
  job: undefined,
  pods: [],
  ...parts,
});

describe('observeRun', () => {
  it.each([
    ['waits for the operator while the request is not handled', input({}), 'Requested', 'waiting for the operator'],
    [
      'is Blocked with the reason while the integration is not authenticated',
      input({
        schedule: schedule({
          conditions: [
            {
              type: 'Ready',
              status: 'False',
              reason: 'IntegrationNotReady',
              message: 'Blocked: EmrIntegration maple-accuro is not Authenticated',
            },
          ],
        }),
      }),
      'Blocked',
      'IntegrationNotReady',
    ],
    ['is Blocked when the schedule is suspended', input({ schedule: schedule({}, true) }), 'Blocked', 'suspended'],
    [
      'has Started once the token is handled, before the Job is seen',
      input({ schedule: schedule({ lastHandledRequestedAt: token }) }),
      'Started',
      'waiting for its Job',
    ],
    [
      'has Started while the Job has no pod yet',
      input({ schedule: schedule({ lastHandledRequestedAt: token }), job: job() }),
      'Started',
      'waiting for its pod',
    ],
    [
      'is Running with the pod phase and waiting reason',
      input({ schedule: schedule({ lastHandledRequestedAt: token }), job: job(), pods: [pod('Pending', 'ContainerCreating')] }),
      'Running',
      'Pending (ContainerCreating)',
    ],
    [
      'is Finishing when the Job completed but status.lastRun is older',
      input({
        schedule: schedule({ lastHandledRequestedAt: token, lastRun: { name: 'older', result: 'Failed' } }),
        job: job([{ type: 'Complete', status: 'True' }]),
      }),
      'Finishing',
      'Succeeded',
    ],
    [
      'is Finished when status.lastRun is this run',
      input({ schedule: schedule({ lastHandledRequestedAt: token, lastRun: { name: runName, result: 'Succeeded', patients: 40 } }) }),
      'Finished',
      'Succeeded',
    ],
  ])('%s', (_name, given, phase, detail) => {
    const o = observeRun(given);
    expect(o.phase).toBe(phase);
    expect(o.detail).toContain(detail);
  });

  it('carries the Job failure reason while Finishing', () => {
    const o = observeRun(
      input({
        schedule: schedule({ lastHandledRequestedAt: token }),
        job: job([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }]),
      }),
    );
    expect(o.result).toEqual({ name: runName, result: 'Failed', errorReason: 'BackoffLimitExceeded' });
  });
});

describe('progressLine and resultLine', () => {
  it.each([
    [
      'prints the elapsed time, the phase and the detail',
      progressLine('Full', 'maple-accuro', { phase: 'Running', detail: 'pod x Running' }, 75_000),
      '[  1m] Full sync of maple-accuro: Running - pod x Running',
    ],
    [
      'reports a success with its counts and duration',
      resultLine('Full', 'maple-accuro', {
        name: runName,
        result: 'Succeeded',
        durationSeconds: 42,
        providers: 3,
        patients: 40,
        appointments: 50,
      }),
      `Full sync of maple-accuro Succeeded in 42s [run ${runName}]: 3 providers, 40 patients, 50 appointments`,
    ],
    [
      'reports a failure with its reason',
      resultLine('Appointments', 'maple-accuro', { name: runName, result: 'Failed', errorReason: 'EmrUnreachable' }),
      `Appointments sync of maple-accuro Failed (EmrUnreachable) [run ${runName}]`,
    ],
    ['says RunFailed for a failure without a reason', resultLine('Full', 'x', { result: 'Failed' }), 'Full sync of x Failed (RunFailed)'],
  ])('%s', (_name, actual, expected) => {
    expect(actual).toBe(expected);
  });
});
