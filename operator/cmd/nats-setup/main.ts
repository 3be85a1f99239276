#!/usr/bin/env node
// `node operator/cmd/nats-setup/main.ts --out DIR [--storage 10Gi]`: a new NATS trust chain for the
// relay queue, as files for nats-server and the operator (setup.ts says which is which). Exit codes:
// 0 written, 1 failed (a file exists, the directory cannot be written), 2 bad usage.
import { parseSetupArgs, USAGE, UsageError, writeNatsSetup } from './setup.ts';

try {
  const options = parseSetupArgs(process.argv.slice(2));
  const account = await writeNatsSetup(options);
  process.stdout.write(
    `wrote auth.conf, account, signing-key and offline-keys.json to ${options.out} (account ${account}, ${options.storage} bytes of JetStream storage)\n`,
  );
} catch (error) {
  process.stderr.write(`nats-setup: ${(error as Error).message}\n`);
  if (error instanceof UsageError) process.stderr.write(`${USAGE}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
}
