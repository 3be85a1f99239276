// Argument errors and help texts of `kubectl cloudconnect`. A UsageError exits with code 2 (like
// kubectl and most CLIs), after printing its message and a pointer to --help.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { parseDuration } from '../../runtime/duration.ts';

export class UsageError extends Error {
  readonly command: string;
  constructor(message: string, command = '') {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** Exit codes: 0 ok, 1 the thing failed (invalid manifest, failed run), 2 bad arguments. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const GLOBAL_OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export const GLOBAL_HELP = `Global options:
  --kubeconfig FILE   kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config)
  --context NAME      kubeconfig context to use (default: the current context)
  -n, --namespace NS  namespace (default: the context's namespace, then "default")
  -h, --help          show help`;

export const ROOT_HELP = `kubectl cloudconnect: look after Cloud Connect resources (OceanSite, EmrIntegration, SyncSchedule).

Usage:
  kubectl cloudconnect COMMAND [options]

Commands:
  status           site -> integrations -> schedules as a tree, with health and last/next sync
                   (status -A: every namespace, one table with a NAMESPACE column)
  sync             start a sync of an integration now and follow it to its end
  support-bundle   collect resources, Events and operator logs into a redacted .tar.gz
  validate         check manifests against the API (server-side dry run) or the CRD schemas offline
  relay replay     move an integration's dead-lettered EMR-bound messages back to its relay queue
  card             print a site's credential reference card (identifiers and where secrets are kept; no secret)
  authorize        OSCAR Pro: run OAuth 1.0a's authorization ("Authorize Ocean") and write the access token into the integration's Secret

Run "kubectl cloudconnect COMMAND --help" for a command's options.

${GLOBAL_HELP}

Exit codes: 0 success, 1 the operation failed (invalid manifest, failed run, timeout), 2 bad arguments.`;

/**
 * parseArgs with our global options added; every parse error becomes a UsageError naming the
 * command, so main can print it and exit 2.
 */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  args: string[],
  options: O,
  positionals: { min: number; max: number; names: string },
) {
  const parsed = (() => {
    try {
      return parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // Node's text goes on about "--" positionals; the first sentence is the useful part.
      throw new UsageError(message.replace(/\. To specify a positional argument.*$/s, ''), command);
    }
  })();
  if (!(parsed.values as { help?: boolean }).help) {
    if (parsed.positionals.length < positionals.min) throw new UsageError(`missing argument: ${positionals.names}`, command);
    if (parsed.positionals.length > positionals.max) {
      throw new UsageError(
        `unexpected argument${parsed.positionals.length - positionals.max > 1 ? 's' : ''}: ${parsed.positionals.slice(positionals.max).join(' ')}`,
        command,
      );
    }
  }
  return parsed;
}

/** A positive duration for --timeout: a Go duration ("90s", "5m", "1h30m", as kubectl takes), or plain seconds. */
export function parseTimeout(text: string, command: string): number {
  const t = text.trim();
  let ms: number;
  try {
    ms = /^\d+(\.\d+)?$/.test(t) ? Number(t) * 1000 : parseDuration(t);
  } catch {
    throw new UsageError(`--timeout must be a duration such as 90s, 5m or 1h, not "${text}"`, command);
  }
  if (ms <= 0) throw new UsageError('--timeout must be greater than zero', command);
  return ms;
}
