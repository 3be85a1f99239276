// Wires informers, controllers, leader election and the health/metrics server together, and
// shuts them down gracefully on SIGTERM (in-flight reconciles finish, the Lease is released).
// Configuration: config.ts; what each controller watches and how its reconciler is built:
// setup-*.ts; what they share: wiring.ts.
import type { Server } from 'node:http';
import { type Clock, systemClock } from '../runtime/clock.ts';
import { startHealthServer } from '../runtime/health-server.ts';
import { DEFAULT_LEASE_TIMING, LeaderElector } from '../runtime/leader-election.ts';
import { createLogger, type Logger } from '../runtime/logger.ts';
import { auditEnabled, auditIntake, startAuditCatchUp, startAuditSocket } from './audit.ts';
import type { OperatorConfig } from './config.ts';
import { setupEmrIntegration } from './setup-emrintegration.ts';
import { setupOceanSite } from './setup-oceansite.ts';
import { setupSyncSchedule } from './setup-syncschedule.ts';
import { type ControllerSetup, type Wiring, wire } from './wiring.ts';

export interface Manager {
  metricsUrl: string;
  stop(): Promise<void>;
}

/** A started manager: what run() starts and shutdown() stops. */
interface Running {
  w: Wiring;
  setups: ControllerSetup[];
  elector: LeaderElector | undefined;
  health: { server: Server; url: string };
  /** /readyz: every cache synced. */
  state: { ready: boolean };
  /** Closed at shutdown before the informers (the audit listener and the audit log catch-up). */
  closers: (() => Promise<void>)[];
}

export async function startManager(
  config: OperatorConfig,
  clock: Clock = systemClock,
  logger: Logger = createLogger({ level: config.logLevel }),
): Promise<Manager> {
  const w = wire(config, clock, logger);
  logger.info('watching namespaces', { namespaces: config.watchNamespaces.length > 0 ? config.watchNamespaces : 'all' });
  const setups = [setupOceanSite(w), setupEmrIntegration(w), setupSyncSchedule(w)];
  const state = { ready: false };
  const health = await startHealthServer(config.metricsBind, w.metrics, { ready: () => state.ready });
  logger.info('serving health and metrics', { url: health.url });
  const running: Running = { w, setups, elector: leaderElector(w), health, state, closers: [] };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= shutdown(running);
    return stopping;
  };
  void run(running).catch((error: unknown) => {
    logger.error('manager failed', { error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  });
  return { metricsUrl: health.url, stop };
}

function leaderElector(w: Wiring): LeaderElector | undefined {
  const { config } = w;
  if (!config.leaderElect) return undefined;
  return new LeaderElector(w.kubeConfig, {
    name: config.leaseName,
    namespace: config.leaseNamespace,
    identity: config.identity,
    timing: DEFAULT_LEASE_TIMING,
    clock: w.clock,
    logger: w.logger,
    metrics: w.metrics,
  });
}

// As in controller-runtime: every replica fills its caches (and is then ready), only the leader
// runs the controllers. The Vault audit listener runs on every replica too: Vault's socket device
// reaches whichever replica the Service picks, and each entry arrives once, on one connection. The
// catch-up from Vault's file audit log runs on the leader only (one position, one reader).
async function run(running: Running): Promise<void> {
  const { w, elector, setups } = running;
  const { config, logger } = w;
  await Promise.all(w.informers.map((i) => i.start()));
  const audit = auditEnabled(w) ? await auditIntake(w) : undefined;
  if (audit && config.audit.listenAddress) running.closers.push(await startAuditSocket(w, audit));
  running.state.ready = true;
  if (elector) {
    logger.info('caches synced; waiting for the leader lease', {
      lease: `${config.leaseNamespace}/${config.leaseName}`,
      identity: config.identity,
    });
    const acquired = await elector.acquire(() => {
      logger.error('leadership lost: exiting so that only one operator reconciles');
      process.exit(1);
    });
    if (!acquired) return;
  }
  if (audit) running.closers.push(await startAuditCatchUp(w, audit));
  const controllers = setups.map((s) => s.controller);
  logger.info('starting controllers', { controllers: controllers.map((c) => c.name) });
  for (const c of controllers) c.start();
}

async function shutdown(running: Running): Promise<void> {
  const { w, setups, elector, health, closers } = running;
  w.logger.info('shutting down: finishing in-flight reconciles');
  await Promise.all(setups.map((s) => s.controller.shutdown()));
  // The audit intake before the Lease goes (the next leader takes over the catch-up) and before the
  // informers stop (it judges entries against their caches).
  await Promise.all(closers.map((c) => c()));
  await elector?.release();
  await Promise.all(w.informers.map((i) => i.stop()));
  for (const s of setups) await s.close?.();
  await new Promise<void>((r) => {
    health.server.close(() => r());
    health.server.closeAllConnections();
  });
  w.logger.info('stopped');
}
