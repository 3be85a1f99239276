import { describe, expect, it } from 'vitest';
import type { EmrIntegration, OceanSite, SyncSchedule } from '../api/v1alpha1/index.ts';
import { OperatorMetrics } from '../runtime/metrics.ts';
import { clusterView } from './metrics-view.ts';

const site = {
  apiVersion: 'cloudconnect.dev/v1alpha1',
  kind: 'OceanSite',
  metadata: { name: 'maple', namespace: 'clinic' },
  spec: { siteNumber: '4271', timeZone: 'America/Toronto' },
  status: {
    conditions: [
      {
        type: 'Ready',
        status: 'False',
        reason: 'VaultUnavailable',
        message: 'Vault is unavailable: ECONNREFUSED',
        lastTransitionTime: '2026-11-28T00:00:00Z',
      },
    ],
  },
} as unknown as OceanSite;
const schedule = {
  apiVersion: 'cloudconnect.dev/v1alpha1',
  kind: 'SyncSchedule',
  metadata: { name: 'maple-accuro-appointments', namespace: 'clinic', creationTimestamp: '2026-11-28T10:00:00Z' },
  spec: { integrationRef: { name: 'maple-accuro' }, type: 'Appointments', schedule: '*/30 * * * *' },
  status: {
    lastSuccessfulTime: '2026-11-28T11:30:20Z',
    nextScheduleTime: '2026-11-28T12:00:00Z',
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Scheduled',
        message: 'Next Appointments sync due at 2026-11-28T12:00:00.000Z',
        lastTransitionTime: '2026-11-28T10:00:01Z',
      },
    ],
  },
} as unknown as SyncSchedule;

function metricsOf(vaultHealth: () => Promise<{ sealed: boolean; initialized: boolean }>, schedules: SyncSchedule[] = [schedule]) {
  const metrics = new OperatorMetrics({ defaultMetrics: false });
  metrics.observe(
    clusterView({
      sites: { list: () => [site] },
      integrations: { list: () => [] as EmrIntegration[] },
      schedules: { list: () => schedules },
      vault: { health: vaultHealth },
      vaultTimeoutMs: 50,
    }),
  );
  return metrics;
}

describe('scrape-time metrics from the caches', () => {
  it('exports each condition as written in status, with its reason and never its message', async () => {
    const text = await metricsOf(async () => ({ sealed: false, initialized: true })).registry.metrics();
    expect(text).toContain(
      'cloudconnect_resource_condition{kind="OceanSite",namespace="clinic",name="maple",condition="Ready",status="False",reason="VaultUnavailable"} 1',
    );
    expect(text).toContain(
      'cloudconnect_resource_condition{kind="SyncSchedule",namespace="clinic",name="maple-accuro-appointments",condition="Ready",status="True",reason="Scheduled"} 1',
    );
    expect(text).not.toContain('ECONNREFUSED');
  });

  it('exports the schedule times from status and the cron interval', async () => {
    const text = await metricsOf(async () => ({ sealed: false, initialized: true })).registry.metrics();
    const labels = 'namespace="clinic",name="maple-accuro-appointments",integration="maple-accuro",type="Appointments"';
    expect(text).toContain(
      `cloudconnect_syncschedule_timestamp_seconds{${labels},event="created"} ${Date.parse('2026-11-28T10:00:00Z') / 1000}`,
    );
    expect(text).toContain(
      `cloudconnect_syncschedule_timestamp_seconds{${labels},event="last_success"} ${Date.parse('2026-11-28T11:30:20Z') / 1000}`,
    );
    expect(text).toContain(
      `cloudconnect_syncschedule_timestamp_seconds{${labels},event="next_schedule"} ${Date.parse('2026-11-28T12:00:00Z') / 1000}`,
    );
    expect(text).not.toContain('event="last_schedule"');
    expect(text).toContain(`cloudconnect_syncschedule_interval_seconds{${labels}} 1800`);
  });

  it('drops the series of an object gone from the cache at the next scrape', async () => {
    const schedules = [schedule];
    const metrics = metricsOf(async () => ({ sealed: false, initialized: true }), schedules);
    expect(await metrics.registry.metrics()).toContain('maple-accuro-appointments');
    schedules.pop();
    expect(await metrics.registry.metrics()).not.toContain('maple-accuro-appointments');
  });

  it.each([
    ['unsealed and initialized', async () => ({ sealed: false, initialized: true }), 1],
    ['sealed', async () => ({ sealed: true, initialized: true }), 0],
    ['unreachable', async () => Promise.reject(new Error('ECONNREFUSED')), 0],
    ['not answering within the timeout', () => new Promise<never>(() => undefined), 0],
  ])('reports Vault %s as cloudconnect_vault_up %d', async (_name, health, expected) => {
    const text = await metricsOf(health as () => Promise<{ sealed: boolean; initialized: boolean }>).registry.metrics();
    expect(text).toContain(`cloudconnect_vault_up ${expected}`);
  });

  it('exports no per-object series before the manager connects the caches', async () => {
    const text = await new OperatorMetrics({ defaultMetrics: false }).registry.metrics();
    expect(text).not.toMatch(/^cloudconnect_resource_condition\{/m);
    expect(text).not.toMatch(/^cloudconnect_syncschedule_timestamp_seconds\{/m);
  });
});

describe('the Vault probe behind cloudconnect_vault_up', () => {
  it('is shared by scrapes within vaultCacheMs and repeated after it', async () => {
    let probes = 0;
    let clock = Date.parse('2026-11-28T12:00:00Z');
    const view = clusterView({
      sites: { list: () => [] },
      integrations: { list: () => [] },
      schedules: { list: () => [] },
      vault: {
        health: async () => {
          probes++;
          return { sealed: false, initialized: true };
        },
      },
      now: () => new Date(clock),
      vaultCacheMs: 10_000,
    });
    expect(await Promise.all([view.vaultAvailable(), view.vaultAvailable()])).toEqual([true, true]);
    clock += 9_999;
    await view.vaultAvailable();
    expect(probes).toBe(1);
    clock += 1;
    await view.vaultAvailable();
    expect(probes).toBe(2);
  });
});
