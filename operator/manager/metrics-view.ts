// What the scrape-time metrics read (see OperatorMetrics.observe): conditions and schedule times of
// the cached objects, exactly as their status says, and Vault's health with a short timeout, probed
// at most once per vaultCacheMs however many scrapers ask (they share the answer).
import { type EmrIntegration, type OceanSite, type SyncSchedule, scheduleTarget } from '../api/v1alpha1/index.ts';
import { longestIntervalSeconds } from '../controller/syncschedule/interval.ts';
import { hashSeedOf } from '../controller/syncschedule/schedule.ts';
import type { VaultClient } from '../internal/vault/client.ts';
import type { ClusterView, ResourceSnapshot, ScheduleSnapshot } from '../runtime/metrics.ts';

export interface ViewSources {
  // Informer caches (SupervisedInformer), read-only.
  sites: { list(): OceanSite[] };
  integrations: { list(): EmrIntegration[] };
  schedules: { list(): SyncSchedule[] };
  vault: Pick<VaultClient, 'health'>;
  now?: () => Date;
  vaultTimeoutMs?: number;
  /** How long one health probe answers for (default 10 s; alerts wait minutes, scrapes come in pairs). */
  vaultCacheMs?: number;
}

type Conditioned = { metadata: { name?: string; namespace?: string }; status?: { conditions?: ResourceSnapshot['conditions'] } };

function resourceSnapshot(kind: string, obj: Conditioned): ResourceSnapshot {
  return { kind, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '', conditions: obj.status?.conditions ?? [] };
}

/** Interval per (schedule, time zone), computed once: a cron's longest gap does not change. */
const intervals = new Map<string, number | undefined>();

function scheduleSnapshot(schedule: SyncSchedule, timeZone: string, now: Date): ScheduleSnapshot {
  const seed = hashSeedOf(schedule.metadata.namespace ?? '', schedule.metadata.name ?? '');
  const key = `${schedule.spec.schedule}\u0000${timeZone}${schedule.spec.schedule.includes('H') ? `\u0000${seed}` : ''}`;
  if (!intervals.has(key)) {
    if (intervals.size > 10_000) intervals.clear();
    intervals.set(key, longestIntervalSeconds(schedule.spec.schedule, timeZone, now, seed));
  }
  const interval = intervals.get(key);
  const status = schedule.status ?? {};
  return {
    namespace: schedule.metadata.namespace ?? '',
    name: schedule.metadata.name ?? '',
    integration: scheduleTarget(schedule.spec).name,
    type: schedule.spec.type ?? '',
    times: {
      ...(schedule.metadata.creationTimestamp ? { created: new Date(String(schedule.metadata.creationTimestamp)).toISOString() } : {}),
      ...(status.lastScheduleTime ? { last_schedule: status.lastScheduleTime } : {}),
      ...(status.nextScheduleTime ? { next_schedule: status.nextScheduleTime } : {}),
      ...(status.lastSuccessfulTime ? { last_success: status.lastSuccessfulTime } : {}),
    },
    ...(interval === undefined ? {} : { intervalSeconds: interval }),
  };
}

/** Whether Vault answers its health check, initialized and unsealed, within the timeout. */
async function probeVault(vault: ViewSources['vault'], timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const probe = vault.health().then(
    (h) => h.initialized && !h.sealed,
    () => false,
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function clusterView(sources: ViewSources): ClusterView {
  const now = sources.now ?? (() => new Date());
  let lastProbe: { at: number; up: Promise<boolean> } | undefined;
  return {
    *resources() {
      for (const s of sources.sites.list()) yield resourceSnapshot('OceanSite', s);
      for (const i of sources.integrations.list()) yield resourceSnapshot('EmrIntegration', i);
      for (const s of sources.schedules.list()) yield resourceSnapshot('SyncSchedule', s);
    },
    *schedules() {
      // UTC when unset, as the reconciler reads it.
      for (const s of sources.schedules.list()) yield scheduleSnapshot(s, s.spec.timeZone ?? 'UTC', now());
    },
    vaultAvailable() {
      const at = now().getTime();
      if (!lastProbe || at - lastProbe.at >= (sources.vaultCacheMs ?? 10_000) || at < lastProbe.at) {
        lastProbe = { at, up: probeVault(sources.vault, sources.vaultTimeoutMs ?? 2000) };
      }
      return lastProbe.up;
    },
  };
}
