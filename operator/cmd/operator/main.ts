// The operator's entry point: `node operator/main.ts`. Configuration comes from the environment,
// all of it read by configFromEnv (README, "Configuration (environment variables)"); a bad value
// stops the process before anything starts (exit code 1) with one message naming every bad
// variable. The kubeconfig comes from KUBECONFIG or the in-cluster account.
import { configFromEnv, type OperatorConfig } from '../../manager/config.ts';
import { startManager } from '../../manager/manager.ts';
import { EnvError } from '../../runtime/env.ts';
import { createLogger } from '../../runtime/logger.ts';

function readConfig(): OperatorConfig | undefined {
  try {
    return configFromEnv();
  } catch (error) {
    if (!(error instanceof EnvError)) throw error;
    // LOG_LEVEL may be the bad variable: this message is logged at a level that always shows.
    createLogger({ level: 'info' }).error('the operator cannot start', { detail: error.message });
    process.exitCode = 1; // nothing was started: the process ends once the message is written
    return undefined;
  }
}

async function run(config: OperatorConfig): Promise<void> {
  const logger = createLogger({ level: config.logLevel });
  // The handlers go in before the manager starts: as PID 1 in a pod, a SIGTERM that comes while
  // the caches fill would otherwise be ignored until the grace period's SIGKILL.
  let manager: Awaited<ReturnType<typeof startManager>> | undefined;
  let stopping = false;
  let signals = 0;
  const stop = (): void => {
    // In-flight reconciles get a bounded time to finish; a stuck shutdown must not outlive the pod's grace period.
    const deadline = setTimeout(() => {
      logger.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    void (manager ? manager.stop() : Promise.resolve()).then(() => process.exit(0));
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      signals += 1;
      if (signals > 1) process.exit(1);
      logger.info('signal received', { signal });
      if (manager) stop();
      else stopping = true; // stopped as soon as it has started
    });
  }
  manager = await startManager(config, undefined, logger);
  if (stopping) stop();
}

const config = readConfig();
if (config) await run(config);
