import { describe, expect, it } from 'vitest';
import type { EmrIntegration, EmrIntegrationSpec } from '../../api/v1alpha1/index.ts';
import { found, newRun } from './step.ts';

const integration = { metadata: { name: 'x', namespace: 'ns' } } as unknown as EmrIntegration;
const start = (suspend: boolean) =>
  newRun({
    key: { namespace: 'ns', name: 'x' },
    integration,
    spec: { siteRef: { name: 's' }, emr: { type: 'None' }, suspend } as EmrIntegrationSpec,
    site: undefined,
    previous: {},
    requestedAt: undefined,
    now: new Date(0),
  });

describe('a new run', () => {
  it.each([
    ['summarises Ready as Succeeded', false, 'Succeeded'],
    ['summarises Ready as Suspended when the integration is suspended (no step is skipped)', true, 'Suspended'],
  ] as const)('%s', (_n, suspend, reason) => {
    const run = start(suspend);
    expect(run.ready).toEqual({ reason, message: 'Authenticated with the EMR' });
    expect(run).toMatchObject({ id: 'ns/x', conditions: [], readyParts: [], requeueAfterMs: [] });
  });

  it('throws when a step reads what an earlier step has not found yet', () => {
    expect(() => found(start(false).auth, 'authentication decision')).toThrow(/steps out of order: no authentication decision yet/);
  });
});
