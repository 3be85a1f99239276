import { describe, expect, it } from 'vitest';
import { EVENT_WRITERS, Kube } from './kube.ts';

// Kube.event against a fake CoreV1Api: how many Event writes reach the API server at once.
function kubeWith(createNamespacedEvent: (req: { body: { reason?: string } }) => Promise<unknown>): Kube {
  const kubeConfig = { makeApiClient: () => ({ createNamespacedEvent }) };
  return new Kube(kubeConfig as never, { now: () => new Date('2026-12-02T00:00:00Z') } as never);
}

const schedule = {
  apiVersion: 'cloudconnect.dev/v1alpha1' as const,
  kind: 'SyncSchedule',
  metadata: { name: 's1', namespace: 'ns', uid: 'u1' },
  spec: {},
};

describe('Kube.event', () => {
  it(`writes at most ${EVENT_WRITERS} Events at once when a tick announces 50 runs, and records every one`, async () => {
    let inFlight = 0;
    let peak = 0;
    const written: string[] = [];
    const kube = kubeWith(async ({ body }) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight -= 1;
      written.push(body.reason ?? '');
    });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => kube.event(schedule, 'Normal', `Run${i}`, 'started')));
    expect(results.every((r) => r === 'recorded')).toBe(true);
    expect(written).toHaveLength(50);
    expect(peak).toBe(EVENT_WRITERS);
  });

  it('passes the turn on when a write fails: a refused Event does not hold up the next', async () => {
    const kube = kubeWith(async ({ body }) => {
      if (body.reason === 'Bad') throw Object.assign(new Error('forbidden'), { code: 403 });
    });
    const results = await Promise.all(['Bad', 'Bad', 'Bad', 'Good'].map((reason) => kube.event(schedule, 'Normal', reason, 'm')));
    expect(results).toEqual(['failed', 'failed', 'failed', 'recorded']);
  });
});
