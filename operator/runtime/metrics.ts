// Prometheus metrics with controller-runtime's names for reconciles, work queues and leader
// election, plus the operator's own `cloudconnect_` metrics. Labels never carry secrets or PHI:
// only controller names, results, namespaces, object names and EMR types.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { QueueMetrics } from './workqueue.ts';

export interface ResourceSnapshot {
  kind: string;
  namespace: string;
  name: string;
  conditions?: readonly { type: string; status: string; reason?: string }[];
}

export interface ScheduleSnapshot {
  namespace: string;
  name: string;
  integration: string;
  type: string;
  times: { created?: string; last_schedule?: string; next_schedule?: string; last_success?: string };
  intervalSeconds?: number;
}

/** What the operator sees at scrape time: its caches and Vault's health. */
export interface ClusterView {
  resources(): Iterable<ResourceSnapshot>;
  schedules(): Iterable<ScheduleSnapshot>;
  vaultAvailable(): Promise<boolean>;
}

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller',
    labelNames: ['controller', 'result'] as const,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly terminalErrors = new Counter({
    name: 'controller_runtime_terminal_reconcile_errors_total',
    help: 'Total number of terminal reconciliation errors per controller (stalled, not retried)',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly activeWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Number of currently used workers per controller',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly maxWorkers = new Gauge({
    name: 'controller_runtime_max_concurrent_reconciles',
    help: 'Maximum number of concurrent reconciles per controller',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of workqueue',
    labelNames: ['name', 'controller'] as const,
    registers: [this.registry],
  });
  readonly queueAdds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    labelNames: ['name', 'controller'] as const,
    registers: [this.registry],
  });
  readonly queueRetries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue',
    labelNames: ['name', 'controller'] as const,
    registers: [this.registry],
  });
  readonly queueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested',
    labelNames: ['name', 'controller'] as const,
    buckets: [1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10, 100, 1000],
    registers: [this.registry],
  });
  readonly workDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes',
    labelNames: ['name', 'controller'] as const,
    buckets: [1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10, 100, 1000],
    registers: [this.registry],
  });
  readonly leaderStatus = new Gauge({
    name: 'leader_election_master_status',
    help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly watchRestarts = new Counter({
    name: 'cloudconnect_watch_restarts_total',
    help: 'Watches restarted by the operator after an error or a silent stop',
    labelNames: ['resource', 'reason'] as const,
    registers: [this.registry],
  });

  readonly sekAccessTotal = new Counter({
    name: 'cloudconnect_sek_access_total',
    help: 'Audited accesses to a site Shared Encryption Key by identities other than the site sync role and the operator',
    labelNames: ['namespace', 'site', 'accessor_type'] as const,
    registers: [this.registry],
  });

  readonly auditDropped = new Counter({
    name: 'cloudconnect_vault_audit_dropped_total',
    help: 'Vault audit input refused or dropped: connections from a peer not allowed or over the limit, lines over the length limit or not JSON',
    labelNames: ['source', 'reason'] as const,
    registers: [this.registry],
  });

  readonly emrAuthExpiration = new Gauge({
    name: 'cloudconnect_emr_auth_expiration_timestamp_seconds',
    help: 'When the EMR credential of an integration expires (Unix seconds)',
    labelNames: ['namespace', 'name', 'emr'] as const,
    registers: [this.registry],
  });
  readonly emrAuthRenewal = new Gauge({
    name: 'cloudconnect_emr_auth_renewal_timestamp_seconds',
    help: 'When AuthExpiringSoon turns True for an integration (Unix seconds)',
    labelNames: ['namespace', 'name', 'emr'] as const,
    registers: [this.registry],
  });
  readonly emrAuthChecks = new Counter({
    name: 'cloudconnect_emr_auth_checks_total',
    help: 'EMR authentication checks by result (success or a failure reason)',
    labelNames: ['namespace', 'name', 'emr', 'result'] as const,
    registers: [this.registry],
  });
  readonly integrationCondition = new Gauge({
    name: 'cloudconnect_integration_condition',
    help: 'Conditions of EmrIntegrations: 1 for the current status of each condition, 0 otherwise',
    labelNames: ['namespace', 'name', 'condition', 'status'] as const,
    registers: [this.registry],
  });

  readonly syncRuns = new Counter({
    name: 'cloudconnect_sync_runs_total',
    help: 'Finished sync runs by result',
    labelNames: ['namespace', 'integration', 'type', 'result'] as const,
    registers: [this.registry],
  });
  readonly syncDuration = new Histogram({
    name: 'cloudconnect_sync_duration_seconds',
    help: 'Duration of finished sync runs',
    labelNames: ['namespace', 'integration', 'type'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [this.registry],
  });
  readonly syncLastSuccess = new Gauge({
    name: 'cloudconnect_sync_last_success_timestamp_seconds',
    help: 'When the last successful sync run of an integration and type finished (Unix seconds)',
    labelNames: ['namespace', 'integration', 'type'] as const,
    registers: [this.registry],
  });
  readonly syncRecords = new Counter({
    name: 'cloudconnect_sync_records_total',
    help: 'Records synced by finished runs, by kind (providers, patients, appointments)',
    labelNames: ['namespace', 'integration', 'type', 'kind'] as const,
    registers: [this.registry],
  });
  readonly reminders = new Counter({
    name: 'cloudconnect_reminders_total',
    help: 'Patient reminders of finished Reminders runs by outcome (sent, skipped, failed) and reason (NoContact, OptedOut, Cancelled, Rescheduled, QuietHours, or the failure reason); never a patient or appointment id',
    labelNames: ['namespace', 'integration', 'outcome', 'reason'] as const,
    registers: [this.registry],
  });

  // The relay's queue gauges, also exported by each relay pod under the same names and labels;
  // the operator sets them from the relay's status record so one scrape of the operator sees every relay.
  readonly relayPending = new Gauge({
    name: 'cloudconnect_relay_pending_messages',
    help: 'Messages stored and not yet delivered, including those waiting for a retry.',
    labelNames: ['namespace', 'integration'] as const,
    registers: [this.registry],
  });
  readonly relayOldestPendingAge = new Gauge({
    name: 'cloudconnect_relay_oldest_pending_age_seconds',
    help: 'Age of the oldest undelivered message (0 when none).',
    labelNames: ['namespace', 'integration'] as const,
    registers: [this.registry],
  });
  readonly relayDeadLetters = new Gauge({
    name: 'cloudconnect_relay_dead_letters',
    help: "Messages in the integration's dead-letter stream (as its relay last reported).",
    labelNames: ['namespace', 'integration'] as const,
    registers: [this.registry],
  });
  readonly relayDeadLetterExpiresIn = new Gauge({
    name: 'cloudconnect_relay_dead_letter_expires_in_seconds',
    help: 'Time until the oldest dead letter expires (RELAY_DEAD_LETTER_MAX_AGE after it was dead-lettered); absent when there are none.',
    labelNames: ['namespace', 'integration'] as const,
    registers: [this.registry],
  });

  /**
   * Read from the informer caches and Vault at scrape time (kube-state-metrics style), so these
   * series always equal what status says, survive operator restarts and vanish with their object.
   */
  private view: ClusterView | undefined;
  readonly resourceCondition = new Gauge({
    name: 'cloudconnect_resource_condition',
    help: 'Conditions of every OceanSite, EmrIntegration and SyncSchedule as written in status: 1 per current condition, labelled with its status and reason',
    labelNames: ['kind', 'namespace', 'name', 'condition', 'status', 'reason'] as const,
    registers: [this.registry],
    collect: () => {
      this.resourceCondition.reset();
      for (const r of this.view?.resources() ?? []) {
        for (const c of r.conditions ?? [])
          this.resourceCondition.set(
            { kind: r.kind, namespace: r.namespace, name: r.name, condition: c.type, status: c.status, reason: c.reason ?? '' },
            1,
          );
      }
    },
  });
  readonly scheduleTimestamps = new Gauge({
    name: 'cloudconnect_syncschedule_timestamp_seconds',
    help: 'Times of each SyncSchedule from its status (Unix seconds): event is created, last_schedule, next_schedule or last_success',
    labelNames: ['namespace', 'name', 'integration', 'type', 'event'] as const,
    registers: [this.registry],
    collect: () => {
      this.scheduleTimestamps.reset();
      this.scheduleInterval.reset();
      for (const s of this.view?.schedules() ?? []) {
        const labels = { namespace: s.namespace, name: s.name, integration: s.integration, type: s.type };
        for (const [event, at] of Object.entries(s.times)) if (at) this.scheduleTimestamps.set({ ...labels, event }, Date.parse(at) / 1000);
        if (s.intervalSeconds !== undefined) this.scheduleInterval.set(labels, s.intervalSeconds);
      }
    },
  });
  readonly scheduleInterval = new Gauge({
    name: 'cloudconnect_syncschedule_interval_seconds',
    help: 'Longest gap between consecutive runs of a SyncSchedule (its cron in its time zone); "two intervals without a success" is measured with it',
    labelNames: ['namespace', 'name', 'integration', 'type'] as const,
    registers: [this.registry],
  });
  readonly vaultUp = new Gauge({
    name: 'cloudconnect_vault_up',
    help: 'Whether Vault (or OpenBao) answered its health check at scrape time, initialized and unsealed: 1 yes, 0 no',
    registers: [this.registry],
    collect: async () => {
      if (this.view) this.vaultUp.set((await this.view.vaultAvailable()) ? 1 : 0);
    },
  });

  /** Where the scrape-time series above are read from; without it they are not exported. */
  observe(view: ClusterView): void {
    this.view = view;
  }

  /** Removes every series of a deleted integration, so dashboards do not show ghosts. */
  async forgetIntegration(namespace: string, name: string): Promise<void> {
    const metrics = [
      this.emrAuthExpiration,
      this.emrAuthRenewal,
      this.emrAuthChecks,
      this.integrationCondition,
      this.syncRuns,
      this.syncDuration,
      this.syncLastSuccess,
      this.syncRecords,
      this.reminders,
      this.relayPending,
      this.relayOldestPendingAge,
      this.relayDeadLetters,
      this.relayDeadLetterExpiresIn,
    ];
    for (const metric of metrics) {
      const remove = metric.remove.bind(metric) as (labels: Record<string, string | number>) => void;
      for (const value of (await metric.get()).values) {
        // Histograms report bucket series with an extra `le` label; the series itself is keyed without it.
        const { le: _bucket, ...labels } = value.labels as Record<string, string | number>;
        if (labels.namespace === namespace && (labels.name ?? labels.integration) === name) remove(labels);
      }
    }
  }

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  queueMetricsFor(controller: string): QueueMetrics {
    const labels = { name: controller, controller };
    return {
      depth: (n) => this.queueDepth.set(labels, n),
      added: () => this.queueAdds.inc(labels),
      retried: () => this.queueRetries.inc(labels),
      queuedFor: (s) => this.queueDuration.observe(labels, s),
      workedFor: (s) => this.workDuration.observe(labels, s),
    };
  }
}
