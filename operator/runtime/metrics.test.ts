import { describe, expect, it } from 'vitest';
import { OperatorMetrics } from './metrics.ts';

describe('OperatorMetrics', () => {
  it('drops every series of a deleted integration and keeps the others', async () => {
    const m = new OperatorMetrics({ defaultMetrics: false });
    m.integrationCondition.set({ namespace: 'a', name: 'gone', condition: 'Ready', status: 'True' }, 1);
    m.emrAuthChecks.inc({ namespace: 'a', name: 'gone', emr: 'Accuro', result: 'success' });
    m.syncRuns.inc({ namespace: 'a', integration: 'gone', type: 'Full', result: 'Succeeded' });
    m.syncDuration.observe({ namespace: 'a', integration: 'gone', type: 'Full' }, 12);
    m.integrationCondition.set({ namespace: 'a', name: 'kept', condition: 'Ready', status: 'True' }, 1);
    await m.forgetIntegration('a', 'gone');
    const text = await m.registry.metrics();
    expect(text).not.toContain('"gone"');
    expect(text).toContain('name="kept"');
  });
});
