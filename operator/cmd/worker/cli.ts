// The sync worker's command line, with its inputs injectable (main.ts is the thin entry point).
// Reads exactly what operator/controller/syncschedule/job.ts gives the pod: the arguments, the environment,
// the credentials directory (one file per Secret key) and the projected Vault token; reads the SEK
// from Vault; runs the sync; logs redacted JSON lines to stderr; writes the result as JSON to the
// termination message file (the operator reads it from the Pod status) and to stdout.
// Exit codes: 0 Succeeded, 1 Failed, 2 bad usage.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { adapterSettings } from '../../internal/emr/settings.ts';
import { OceanClient, type OceanUploader } from '../../internal/ocean/client.ts';
import { fingerprint } from '../../internal/sek/identity.ts';
import { RotatingEncryptor, type VersionedSekSource } from '../../internal/sek/key-rotation.ts';
import { type AdapterFactory, emrAdapterFromConfig } from '../../internal/sitepod/emr-adapter.ts';
import {
  configFromEnv,
  oceanCredentials,
  parseIntegrationRef,
  readCredentialsDir,
  type SekSource,
  terminationMessageTarget,
  vaultVersionedSekSource,
  WorkerError,
} from '../../internal/sitepod/pod-env.ts';
import { createLogger, type Logger } from '../../runtime/logger.ts';
import { redactor } from '../../runtime/redact.ts';
import { failureOf, type RetryPolicy, runSync, type SyncResult, type SyncType } from './sync.ts';

export const USAGE = 'usage: cloudconnect-sync --integration <namespace>/<name> --type Full|Appointments [--run <name>]';

export interface CliArgs {
  namespace: string;
  name: string;
  type: SyncType;
  run: string;
  help: boolean;
}

const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,126}$/;

function parseOptions(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        integration: { type: 'string' },
        type: { type: 'string' },
        run: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new WorkerError('InvalidArguments', error instanceof Error ? error.message : String(error));
  }
}

/** Parses argv (without node and the script); throws WorkerError('InvalidArguments') with what is wrong. */
export function parseCliArgs(argv: readonly string[], now: Date): CliArgs {
  const { values } = parseOptions(argv);
  if (values.help) return { namespace: '', name: '', type: 'Full', run: '', help: true };
  const problems: string[] = [];
  const ref = values.integration === undefined ? undefined : parseIntegrationRef(values.integration);
  if (values.integration === undefined) problems.push('--integration is required');
  else if (!ref) problems.push(`--integration must be <namespace>/<name>, got ${JSON.stringify(values.integration)}`);
  if (values.type === undefined) problems.push('--type is required');
  else if (values.type !== 'Full' && values.type !== 'Appointments')
    problems.push(`--type must be Full or Appointments, got ${JSON.stringify(values.type)}`);
  if (values.run !== undefined && !RUN_NAME.test(values.run))
    problems.push(`--run must be a Job name (letters, digits, '.', '_', '-'), got ${JSON.stringify(values.run)}`);
  if (problems.length > 0) throw new WorkerError('InvalidArguments', problems.join('; '));
  return {
    ...(ref as { namespace: string; name: string }),
    type: values.type as SyncType,
    // Outside a Job: a name of our own, still unique per second, so batch ids stay unique.
    run: values.run ?? `local-${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').toLowerCase()}`,
    help: false,
  };
}

/** What the worker reports: the sync result plus its start and end (the termination message). */
export interface WorkerResult extends Omit<SyncResult, 'type' | 'batches'> {
  type?: SyncType;
  batches?: number;
  integration?: string;
  run?: string;
  startTime: string;
  completionTime: string;
}

export interface WorkerDeps {
  /** Replaces Vault (tests): the key, with no versions to rotate to. */
  sekSource?: SekSource;
  /** Builds the EMR adapter (default createAdapter). */
  adapterFactory?: AdapterFactory;
  /** Builds the Ocean client (default OceanClient). */
  oceanFactory?: (options: ConstructorParameters<typeof OceanClient>[0]) => OceanUploader;
  fetch?: typeof fetch;
  logger?: Logger;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  retry?: RetryPolicy;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

export async function writeTerminationMessage(path: string, result: WorkerResult, explicit: boolean, logger?: Logger): Promise<void> {
  try {
    await writeFile(path, JSON.stringify(result));
  } catch (error) {
    // Outside a pod /dev/termination-log does not exist; only a path someone chose is worth a warning.
    if (explicit) logger?.warn('cannot write the termination message', { path, code: (error as NodeJS.ErrnoException).code });
  }
}

export async function runWorker(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  deps: WorkerDeps = {},
): Promise<{ exitCode: number; result?: WorkerResult }> {
  const now = deps.now ?? (() => new Date());
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  const logger = deps.logger ?? createLogger();
  const startTime = now();
  // Read apart from the rest of the configuration: a bad environment is itself reported there.
  const termination = terminationMessageTarget(env);
  const finish = async (partial: Omit<WorkerResult, 'startTime' | 'completionTime'>, exitCode: number) => {
    const end = now();
    const result: WorkerResult = { ...partial, startTime: startTime.toISOString(), completionTime: end.toISOString() };
    await writeTerminationMessage(termination.path, result, termination.explicit, logger);
    stdout.write(`${JSON.stringify(result)}\n`);
    return { exitCode, result };
  };
  const failed = (errorReason: string, message: string) => ({
    result: 'Failed' as const,
    providers: 0,
    patients: 0,
    appointments: 0,
    durationSeconds: Math.max(0, Math.round((now().getTime() - startTime.getTime()) / 1000)),
    errorReason,
    message: redactor.string(message).slice(0, 512),
  });

  let args: CliArgs;
  try {
    args = parseCliArgs(argv, startTime);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    stderr.write(`cloudconnect-sync: ${message}\n${USAGE}\n`);
    return finish(failed('InvalidArguments', message), 2);
  }
  if (args.help) {
    stdout.write(`${USAGE}\n`);
    return { exitCode: 0 };
  }
  const integration = `${args.namespace}/${args.name}`;
  const context = { integration, type: args.type, run: args.run };

  try {
    const config = configFromEnv(env);
    const settings = adapterSettings(config.spec);
    logger.info('sync starting', { ...context, emr: settings.type, siteNumber: config.siteNumber });

    const credentials = await readCredentialsDir(config.credentialsDir);
    const ocean = oceanCredentials(credentials, env);
    const adapter = await emrAdapterFromConfig(config, credentials, {
      ...(deps.adapterFactory ? { adapterFactory: deps.adapterFactory } : {}),
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
      now,
    });
    const oceanOptions = {
      apiUrl: config.oceanApiUrl,
      siteNumber: config.siteNumber,
      ...ocean,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
      now,
    };
    const uploader = (deps.oceanFactory ?? ((o) => new OceanClient(o)))(oceanOptions);

    const injected = deps.sekSource;
    const sekSource: VersionedSekSource = injected
      ? async () => ({ value: await injected(), version: 0 })
      : vaultVersionedSekSource(config);
    const sek = await sekSource();
    redactor.register(sek.value);
    // The fingerprint (as in OceanSite status) tells which key encrypted the run, never the key.
    logger.info('SEK read', { ...context, sekFingerprint: fingerprint(sek.value), sekVersion: sek.version });
    const encryptor = new RotatingEncryptor({
      initial: sek,
      siteNumber: config.siteNumber,
      ...(config.keyVersionFile ? { versionFile: config.keyVersionFile } : {}),
      source: sekSource,
      onKey: (value) => redactor.register(value),
      onRotate: (from, to, kid) =>
        logger.info('SEK rotated during the run: later batches use the new version', {
          ...context,
          fromVersion: from,
          sekVersion: to,
          sekFingerprint: kid,
        }),
      onRefreshFailed: (version, error) =>
        logger.warn('SEK version announced but not readable; the current key stays in use', {
          ...context,
          sekVersion: version,
          detail: error instanceof Error ? error.message : 'error',
        }),
    });

    const sync = await runSync({
      adapter,
      type: args.type,
      scheduleDaysToSync: config.spec.settings?.scheduleDaysToSync ?? 1,
      syncProviderIds: config.spec.settings?.syncProviderIds,
      syncOfficeIds: settings.type === 'Accuro' ? config.spec.settings?.syncOfficeIds : undefined,
      now,
      ocean: uploader,
      encryptor,
      run: args.run,
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
      ...(deps.retry ? { retry: deps.retry } : {}),
      onProgress: (p) => logger.info(`records ${p.done}/${p.total}`, { ...context, kind: p.kind, done: p.done, total: p.total }),
      onWarning: (message, fields) => logger.warn(message, { ...context, ...fields }),
    });
    const level = sync.result === 'Succeeded' ? 'info' : 'error';
    const { message: detail, ...fields } = sync;
    logger.log(level, `sync ${sync.result.toLowerCase()}`, { ...context, ...fields, ...(detail ? { detail } : {}) });
    return finish({ ...sync, integration, run: args.run }, sync.result === 'Succeeded' ? 0 : 1);
  } catch (error) {
    const { errorReason, message } =
      error instanceof WorkerError ? { errorReason: error.reason, message: error.message } : failureOf(error);
    // Our bug: the stack says where; the message is left out, it could quote data.
    if (errorReason === 'InternalError')
      logger.error('sync worker error', {
        ...context,
        errorName: (error as Error).name,
        stack: (error as Error).stack?.split('\n').slice(1).join('\n'),
      });
    logger.error('sync failed', { ...context, errorReason, detail: message });
    return finish({ ...failed(errorReason, message), type: args.type, integration, run: args.run }, 1);
  }
}
