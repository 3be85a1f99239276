#!/usr/bin/env node
// `cloudconnect-sync --integration <namespace>/<name> --type Full|Appointments [--run <name>]`:
// the sync worker's entry point (the image's default command; the operator's Jobs pass only the
// arguments). Everything it does is in cli.ts; see README.md in this folder.
import { DEFAULT_TERMINATION_MESSAGE_PATH } from '../../internal/sitepod/pod-env.ts';
import { failedReport, runWorker, writeTerminationMessage } from './cli.ts';

const startTime = new Date();

// Kubernetes stops a run past activeDeadlineSeconds (or on Replace) with SIGTERM: say so in the
// termination message rather than leave the operator guessing.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    const path = process.env.TERMINATION_MESSAGE_PATH || DEFAULT_TERMINATION_MESSAGE_PATH;
    const now = new Date();
    const result = {
      ...failedReport(startTime, now, 'Terminated', `the worker was stopped by ${signal} before the run finished`),
      startTime: startTime.toISOString(),
      completionTime: now.toISOString(),
    };
    void writeTerminationMessage(path, result, Boolean(process.env.TERMINATION_MESSAGE_PATH)).finally(() =>
      process.exit(signal === 'SIGTERM' ? 143 : 130),
    );
  });
}

const { exitCode } = await runWorker(process.argv.slice(2), process.env);
process.exit(exitCode);
