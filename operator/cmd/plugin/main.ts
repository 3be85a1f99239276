#!/usr/bin/env node
// kubectl-cloudconnect: the kubectl plugin (`kubectl cloudconnect ...` once it is on PATH).
// Thin: picks the command, runs it, and turns errors into exit codes (2 for bad arguments).
import { authorizeCommand } from './authorize.ts';
import { cardCommand } from './card.ts';
import { apiErrorMessage } from './client.ts';
import { type CommandIo, processIo } from './io.ts';
import { relayCommand } from './relay.ts';
import { statusCommand } from './status.ts';
import { supportBundleCommand } from './support-bundle.ts';
import { syncCommand } from './sync.ts';
import { EXIT, ROOT_HELP, UsageError } from './usage.ts';
import { validateCommand } from './validate.ts';

const COMMANDS: Record<string, (args: string[], io: CommandIo) => Promise<number>> = {
  status: statusCommand,
  sync: syncCommand,
  'support-bundle': supportBundleCommand,
  validate: validateCommand,
  relay: relayCommand,
  card: cardCommand,
  authorize: authorizeCommand,
};

export async function run(argv: string[], io: CommandIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    if (first === 'help' && rest[0] && COMMANDS[rest[0]]) return run([rest[0], '--help'], io);
    io.out(`${ROOT_HELP}\n`);
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS[first];
  if (!command) {
    io.err(`error: unknown command "${first}" for "kubectl cloudconnect"\nRun 'kubectl cloudconnect --help' for the commands.\n`);
    return EXIT.usage;
  }
  try {
    return await command(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}\nRun 'kubectl cloudconnect ${error.command || first} --help' for usage.\n`);
      return EXIT.usage;
    }
    io.err(`error: ${apiErrorMessage(error)}\n`);
    return EXIT.failed;
  }
}

if (import.meta.main) {
  process.exitCode = await run(process.argv.slice(2), processIo());
}
