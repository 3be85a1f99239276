#!/usr/bin/env node
// `cloudconnect-relay --integration <namespace>/<name>`: the EMR-bound message relay of one
// EmrIntegration (the operator's relay Deployment). Everything it does is in cli.ts and relay.ts;
// see README.md in this folder. Exit codes: 0 stopped by SIGTERM/SIGINT, 1 failed, 2 bad usage.
import { WorkerError } from '../../internal/sitepod/pod-env.ts';
import { createLogger } from '../../runtime/logger.ts';
import { runRelay, USAGE } from './cli.ts';

// Start-up failures are logged before LOG_LEVEL is known, at a level that always shows.
const startupLogger = createLogger({ level: 'info' });
try {
  const { relay, nc, logger } = await runRelay(process.argv.slice(2), process.env);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info('relay stopping', { signal });
      // Unacked messages simply stay in the stream; a hard stop loses nothing.
      const hard = setTimeout(() => process.exit(1), 10_000);
      hard.unref();
      void relay
        .stop()
        .then(() => nc.drain())
        .finally(() => process.exit(0));
    });
  }
} catch (error) {
  const reason = error instanceof WorkerError ? error.reason : 'InternalError';
  if (reason === 'InvalidArguments') process.stderr.write(`cloudconnect-relay: ${(error as Error).message}\n${USAGE}\n`);
  startupLogger.error('relay failed to start', {
    errorReason: reason,
    detail: (error as Error).message,
    ...(reason === 'InternalError' ? { stack: (error as Error).stack?.split('\n').slice(1).join('\n') } : {}),
  });
  process.exit(reason === 'InvalidArguments' ? 2 : 1);
}
