// The operator's entry point: `node operator/main.ts`. Configuration comes from the environment
// (documented in operator/README.md); the kubeconfig from KUBECONFIG or the in-cluster account.
import { configFromEnv, startManager } from '../../manager/manager.ts';
import { createLogger } from '../../runtime/logger.ts';

const logger = createLogger();
const manager = await startManager(configFromEnv(), undefined, logger);

let signals = 0;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    signals += 1;
    if (signals > 1) process.exit(1);
    logger.info('signal received', { signal });
    // In-flight reconciles get a bounded time to finish; a stuck shutdown must not outlive the pod's grace period.
    const deadline = setTimeout(
      () => {
        logger.error('graceful shutdown timed out; exiting');
        process.exit(1);
      },
      Number(process.env.SHUTDOWN_TIMEOUT_SECONDS ?? '25') * 1000,
    );
    deadline.unref();
    void manager.stop().then(() => process.exit(0));
  });
}
