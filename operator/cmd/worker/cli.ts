// The sync worker's command line, with its inputs injectable (main.ts is the thin entry point).
// Reads exactly what operator/controller/syncschedule/job.ts gives the pod: the arguments, the environment,
// the credentials directory (one file per Secret key) and the projected Vault token; reads the SEK
// from Vault; runs the sync; logs redacted JSON lines to stderr; writes the result as JSON to the
// termination message file (the operator reads it from the Pod status) and to stdout.
// Exit codes: 0 Succeeded, 1 Failed, 2 bad usage.
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { RemindersSpec } from '../../api/v1alpha1/index.ts';
import type { EmrAdapterType } from '../../internal/emr/index.ts';
import { adapterSettings } from '../../internal/emr/settings.ts';
import { OceanClient, type OceanClientOptions, type OceanUploader } from '../../internal/ocean/client.ts';
import { OceanReferralBookings } from '../../internal/ocean/referral-bookings.ts';
import { OceanReminders } from '../../internal/ocean/reminders.ts';
import { fingerprint } from '../../internal/sek/identity.ts';
import { RotatingEncryptor, type RotatingEncryptorOptions, type VersionedSekSource } from '../../internal/sek/key-rotation.ts';
import { type AdapterFactory, emrAdapterFromConfig } from '../../internal/sitepod/emr-adapter.ts';
import {
  configFromEnv,
  oceanCredentials,
  parseIntegrationRef,
  readCredentialsDir,
  type SekSource,
  type SiteConfig,
  siteConfigFromEnv,
  terminationMessageTarget,
  vaultVersionedSekSource,
  type WorkerConfig,
  WorkerError,
} from '../../internal/sitepod/pod-env.ts';
import { createLogger, type Logger } from '../../runtime/logger.ts';
import { redactor } from '../../runtime/redact.ts';
import { referralSource } from './referral-appointments.ts';
import { type RemindersInput, type RemindersResult, runReminders } from './reminders.ts';
import { remindersFromEnv } from './reminders-config.ts';
import { DEFAULT_RETRY, failureOf, type RetryPolicy, runSync, type SyncInput, type SyncResult, type SyncType, withRetry } from './sync.ts';

const USAGE =
  'usage: cloudconnect-sync --integration <namespace>/<name> --type Full|Appointments|Reminders [--run <name>]\n' +
  '       cloudconnect-sync --site <namespace>/<name> --type Reminders [--run <name>]   (a site without an integrated EMR)';

/** A sync, or a run of the patient reminders of a Reminders schedule (reminders.ts). */
export type RunType = SyncType | 'Reminders';

export interface CliArgs {
  /** --integration (an EmrIntegration's run) or --site (the reminders of a site without an integrated EMR). */
  target: 'integration' | 'site';
  namespace: string;
  name: string;
  type: RunType;
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
        site: { type: 'string' },
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
  if (values.help) return { target: 'integration', namespace: '', name: '', type: 'Full', run: '', help: true };
  const problems: string[] = [];
  const target = values.site === undefined ? 'integration' : 'site';
  const text = values.site ?? values.integration;
  const ref = text === undefined ? undefined : parseIntegrationRef(text);
  if (values.integration !== undefined && values.site !== undefined) problems.push('--integration and --site exclude each other');
  else if (text === undefined) problems.push('--integration is required');
  else if (!ref) problems.push(`--${target} must be <namespace>/<name>, got ${JSON.stringify(text)}`);
  if (target === 'site' && values.type !== undefined && values.type !== 'Reminders')
    problems.push('--site runs only --type Reminders (a site without an integrated EMR has nothing to sync)');
  if (values.type === undefined) problems.push('--type is required');
  else if (values.type !== 'Full' && values.type !== 'Appointments' && values.type !== 'Reminders')
    problems.push(`--type must be Full, Appointments or Reminders, got ${JSON.stringify(values.type)}`);
  if (values.run !== undefined && !RUN_NAME.test(values.run))
    problems.push(`--run must be a Job name (letters, digits, '.', '_', '-'), got ${JSON.stringify(values.run)}`);
  if (problems.length > 0) throw new WorkerError('InvalidArguments', problems.join('; '));
  return {
    target,
    ...(ref as { namespace: string; name: string }),
    type: values.type as RunType,
    // Outside a Job: a name of our own, still unique per second, so batch ids stay unique.
    run: values.run ?? `local-${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').toLowerCase()}`,
    help: false,
  };
}

/** What the worker reports: the sync (or reminders) result plus its start and end (the termination message). */
export interface WorkerResult extends Omit<SyncResult, 'type' | 'batches' | 'providers' | 'patients' | 'appointments'> {
  type?: RunType;
  providers?: number;
  patients?: number;
  appointments?: number;
  sent?: number;
  skipped?: number;
  failed?: number;
  skippedReasons?: Record<string, number>;
  failedReasons?: Record<string, number>;
  batches?: number;
  integration?: string;
  /** A site's reminders run (--site): the site, `<namespace>/<name>`. */
  site?: string;
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
  /** Builds the Ocean client of a Reminders run (default OceanClient). */
  oceanClientFactory?: (options: OceanClientOptions) => Pick<OceanClient, 'siteCall'>;
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

/** The run's clock, streams and logger, its start, and where its result goes. */
interface RunIo {
  now: () => Date;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  logger: Logger;
  startTime: Date;
  termination: { path: string; explicit: boolean };
}

/** What the worker reports before its start and end are added. */
type Report = Omit<WorkerResult, 'startTime' | 'completionTime'>;

/** The integration, type and run every log line of the run carries. */
interface RunContext {
  integration?: string;
  site?: string;
  type: RunType;
  run: string;
}

function runIo(env: NodeJS.ProcessEnv, deps: WorkerDeps): RunIo {
  const now = deps.now ?? (() => new Date());
  return {
    now,
    stdout: deps.stdout ?? process.stdout,
    stderr: deps.stderr ?? process.stderr,
    logger: deps.logger ?? createLogger(),
    startTime: now(),
    // Read apart from the rest of the configuration: a bad environment is itself reported there.
    termination: terminationMessageTarget(env),
  };
}

/** Writes the result to the termination message and stdout; returns it with the exit code. */
async function finish(io: RunIo, partial: Report, exitCode: number): Promise<{ exitCode: number; result: WorkerResult }> {
  const end = io.now();
  const result: WorkerResult = { ...partial, startTime: io.startTime.toISOString(), completionTime: end.toISOString() };
  await writeTerminationMessage(io.termination.path, result, io.termination.explicit, io.logger);
  io.stdout.write(`${JSON.stringify(result)}\n`);
  return { exitCode, result };
}

/** A Failed report of a run that started at `startTime`: no records, the reason and the redacted message. */
export function failedReport(startTime: Date, now: Date, errorReason: string, message: string) {
  return {
    result: 'Failed' as const,
    providers: 0,
    patients: 0,
    appointments: 0,
    durationSeconds: Math.max(0, Math.round((now.getTime() - startTime.getTime()) / 1000)),
    errorReason,
    message: redactor.string(message).slice(0, 512),
  };
}

function failed(io: RunIo, errorReason: string, message: string) {
  return failedReport(io.startTime, io.now(), errorReason, message);
}

/** Bad arguments: says what is wrong with the usage on stderr and reports InvalidArguments (exit 2). */
function badUsage(io: RunIo, error: unknown) {
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`cloudconnect-sync: ${message}\n${USAGE}\n`);
  return finish(io, failed(io, 'InvalidArguments', message), 2);
}

/** Logs why the run failed (with the stack for our own bugs) and returns its Failed report. */
function failureReport(io: RunIo, context: RunContext, error: unknown): Report {
  const { errorReason, message } = error instanceof WorkerError ? { errorReason: error.reason, message: error.message } : failureOf(error);
  // Our bug: the stack says where; the message is left out, it could quote data.
  if (errorReason === 'InternalError')
    io.logger.error('sync worker error', {
      ...context,
      errorName: (error as Error).name,
      stack: (error as Error).stack?.split('\n').slice(1).join('\n'),
    });
  io.logger.error('sync failed', { ...context, errorReason, detail: message });
  return { ...failed(io, errorReason, message), type: context.type, ...targetOf(context), run: context.run };
}

/** Ocean's client options for the site, with the credentials from the Secret (or the environment). */
function oceanOptions(
  config: SiteConfig,
  ocean: { clientId: string; clientSecret: string },
  deps: WorkerDeps,
  now: () => Date,
): OceanClientOptions {
  return {
    apiUrl: config.oceanApiUrl,
    siteNumber: config.siteNumber,
    ...ocean,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    egress: config.egress,
    ...(config.oceanCaBundle ? { caBundle: config.oceanCaBundle } : {}),
    now,
  };
}

type RunRetry = { policy: RetryPolicy; sleep: (ms: number) => Promise<void> };

/** The run's retry policy and sleep (injected in tests), as the Vault read of the SEK uses them. */
function retryOf(deps: WorkerDeps): RunRetry {
  return { policy: deps.retry ?? DEFAULT_RETRY, sleep: deps.sleep ?? ((ms) => sleep(ms)) };
}

/** Ocean's client of a Reminders run (reminder delivery, booked referral dates). */
function oceanClient(config: SiteConfig, ocean: { clientId: string; clientSecret: string }, deps: WorkerDeps, now: () => Date) {
  return (deps.oceanClientFactory ?? ((o) => new OceanClient(o)))(oceanOptions(config, ocean, deps, now));
}

/** Ocean's uploader for the site. */
function oceanUploader(config: WorkerConfig, ocean: { clientId: string; clientSecret: string }, deps: WorkerDeps, now: () => Date) {
  return (deps.oceanFactory ?? ((o) => new OceanClient(o)))(oceanOptions(config, ocean, deps, now));
}

/** Vault's versioned SEK, or the injected key as version 0 (tests). */
function versionedSekSource(config: SiteConfig, injected: SekSource | undefined): VersionedSekSource {
  return injected ? async () => ({ value: await injected(), version: 0 }) : vaultVersionedSekSource(config);
}

/** The encryptor's callbacks: new keys go to the redactor, rotations and failed refreshes to the log. */
function rotationHooks(logger: Logger, context: RunContext): Pick<RotatingEncryptorOptions, 'onKey' | 'onRotate' | 'onRefreshFailed'> {
  return {
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
  };
}

/** The SEK's current version, tried again on a Vault blip, registered with the redactor and logged by fingerprint only. */
async function readSek(source: VersionedSekSource, logger: Logger, context: RunContext, retry: RunRetry) {
  // A Vault that resets a connection or answers 503 for a moment is tried again, as the EMR and Ocean are.
  const vaultBlip = (error: unknown) => error instanceof WorkerError && error.reason === 'VaultUnavailable';
  const sek = await withRetry(source, retry.policy, retry.sleep, vaultBlip);
  redactor.register(sek.value);
  // The fingerprint (as in OceanSite status) tells which key encrypted the run, never the key.
  logger.info('SEK read', { ...context, sekFingerprint: fingerprint(sek.value), sekVersion: sek.version });
  return sek;
}

/** Reads the SEK (registered with the redactor, logged by fingerprint) and returns the run's encryptor. */
async function openEncryptor(config: WorkerConfig, source: VersionedSekSource, logger: Logger, context: RunContext, retry: RunRetry) {
  const sek = await readSek(source, logger, context, retry);
  return new RotatingEncryptor({
    initial: sek,
    siteNumber: config.siteNumber,
    ...(config.keyVersionFile ? { versionFile: config.keyVersionFile } : {}),
    source,
    ...rotationHooks(logger, context),
  });
}

/** What the integration's spec asks of the run: the window (in the site's days) and the provider and office filters. */
function syncScope(
  config: WorkerConfig,
  emr: EmrAdapterType,
): Pick<SyncInput, 'scheduleDaysToSync' | 'timeZone' | 'syncProviderIds' | 'syncOfficeIds'> {
  return {
    scheduleDaysToSync: config.spec.settings?.scheduleDaysToSync ?? 1,
    timeZone: config.siteTimeZone,
    syncProviderIds: config.spec.settings?.syncProviderIds,
    syncOfficeIds: emr === 'Accuro' ? config.spec.settings?.syncOfficeIds : undefined,
  };
}

/** Progress and warnings of the run as log lines. */
function syncLog(logger: Logger, context: RunContext): Pick<SyncInput, 'onProgress' | 'onWarning'> {
  return {
    onProgress: (p) => logger.info(`records ${p.done}/${p.total}`, { ...context, kind: p.kind, done: p.done, total: p.total }),
    onWarning: (message, fields) => logger.warn(message, { ...context, ...fields }),
  };
}

/** Configuration, credentials, the EMR adapter and the Ocean client's credentials: what every run type opens first. */
async function openRun(env: NodeJS.ProcessEnv, deps: WorkerDeps, io: RunIo, context: RunContext) {
  const config = configFromEnv(env);
  // LOG_LEVEL is parsed with the rest of the configuration; an injected logger keeps its own level.
  if (!deps.logger) io.logger.level = config.logLevel;
  const settings = adapterSettings(config.spec);
  io.logger.info(context.type === 'Reminders' ? 'reminders starting' : 'sync starting', {
    ...context,
    emr: settings.type,
    siteNumber: config.siteNumber,
  });
  const credentials = await readCredentialsDir(config.credentialsDir);
  const ocean = oceanCredentials(
    credentials,
    env,
    config.oceanCredentialsDir ? await readCredentialsDir(config.oceanCredentialsDir) : undefined,
  );
  const retry = retryOf(deps);
  const adapter = await emrAdapterFromConfig(config, credentials, {
    ...(deps.adapterFactory ? { adapterFactory: deps.adapterFactory } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    now: io.now,
    // A listing refused mid-way by a rate limit resumes at that page (up to the run's longest wait).
    rateLimitWaits: { attempts: retry.policy.attempts, maxWaitMs: retry.policy.maxDelayMs, sleep: retry.sleep },
  });
  return { config, settings, ocean, adapter };
}

/** Configuration, credentials, adapters and SEK, then the sync itself. Throws what stops the run before it starts. */
async function configureAndSync(env: NodeJS.ProcessEnv, deps: WorkerDeps, io: RunIo, context: RunContext): Promise<SyncResult> {
  const { config, settings, ocean, adapter } = await openRun(env, deps, io, context);
  const uploader = oceanUploader(config, ocean, deps, io.now);
  const encryptor = await openEncryptor(config, versionedSekSource(config, deps.sekSource), io.logger, context, retryOf(deps));

  return runSync({
    adapter,
    type: context.type as SyncType,
    ...syncScope(config, settings.type),
    now: io.now,
    ocean: uploader,
    encryptor,
    run: context.run,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    ...(deps.retry ? { retry: deps.retry } : {}),
    ...syncLog(io.logger, context),
  });
}

/**
 * A Reminders run: spec.reminders from the environment, the EMR and Ocean's reminder API. The SEK is
 * not read: nothing of this run is encrypted or decrypted (the contact goes to Ocean's delivery over TLS).
 */
async function configureAndRemind(env: NodeJS.ProcessEnv, deps: WorkerDeps, io: RunIo, context: RunContext): Promise<RemindersResult> {
  const reminders = remindersFromEnv(env);
  const { config, ocean, adapter } = await openRun(env, deps, io, context);
  const client = oceanClient(config, ocean, deps, io.now);
  return remind({ deps, io, context, config, reminders, adapter, client });
}

/** The reminders run itself, whatever lists the appointments (the EMR, or Ocean's booked referral dates). */
function remind(run: {
  deps: WorkerDeps;
  io: RunIo;
  context: RunContext;
  config: SiteConfig;
  reminders: RemindersSpec;
  adapter: RemindersInput['adapter'];
  client: Pick<OceanClient, 'siteCall'>;
}): Promise<RemindersResult> {
  const { deps, io, context, config } = run;
  return runReminders({
    adapter: run.adapter,
    ocean: new OceanReminders(run.client),
    reminders: run.reminders,
    siteNumber: config.siteNumber,
    timeZone: config.siteTimeZone,
    now: io.now,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    ...(deps.retry ? { retry: deps.retry } : {}),
    onWarning: (message, fields) => io.logger.warn(message, { ...context, ...fields }),
  });
}

/**
 * The reminders of a site without an integrated EMR (--site): no EMR and no EMR credentials; the
 * appointments are the site's booked eReferral dates in Ocean, whose contacts are SEK envelopes. The
 * SEK is read (Vault, as a sync run reads it) only when a reminder is due, and only the contact of a
 * due reminder is decrypted.
 */
async function configureAndRemindSite(env: NodeJS.ProcessEnv, deps: WorkerDeps, io: RunIo, context: RunContext): Promise<RemindersResult> {
  const reminders = remindersFromEnv(env);
  const config = siteConfigFromEnv(env);
  if (!deps.logger) io.logger.level = config.logLevel;
  io.logger.info('reminders starting', { ...context, siteNumber: config.siteNumber });
  const oceanFiles = config.oceanCredentialsDir ? await readCredentialsDir(config.oceanCredentialsDir) : undefined;
  const ocean = oceanCredentials({}, env, oceanFiles);
  const client = oceanClient(config, ocean, deps, io.now);
  const source = versionedSekSource(config, deps.sekSource);
  const retry = retryOf(deps);
  const adapter = referralSource({
    bookings: new OceanReferralBookings(client),
    siteNumber: config.siteNumber,
    sek: async () => (await readSek(source, io.logger, context, retry)).value,
  });
  return remind({ deps, io, context, config, reminders, adapter, client });
}

/** Logs how the run ended (an error line when it failed); counts and reasons only. */
function logOutcome(logger: Logger, context: RunContext, sync: SyncResult | RemindersResult): void {
  const level = sync.result === 'Succeeded' ? 'info' : 'error';
  const { message: detail, ...fields } = sync;
  logger.log(level, `sync ${sync.result.toLowerCase()}`, { ...context, ...fields, ...(detail ? { detail } : {}) });
}

const targetOf = (context: RunContext) => (context.site ? { site: context.site } : { integration: context.integration ?? '' });

/** A site's reminders, an integration's reminders, or a sync. */
function runOfType(env: NodeJS.ProcessEnv, deps: WorkerDeps, io: RunIo, context: RunContext): Promise<SyncResult | RemindersResult> {
  if (context.site) return configureAndRemindSite(env, deps, io, context);
  return context.type === 'Reminders' ? configureAndRemind(env, deps, io, context) : configureAndSync(env, deps, io, context);
}

export async function runWorker(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  deps: WorkerDeps = {},
): Promise<{ exitCode: number; result?: WorkerResult }> {
  const io = runIo(env, deps);
  let args: CliArgs;
  try {
    args = parseCliArgs(argv, io.startTime);
  } catch (error) {
    return badUsage(io, error);
  }
  if (args.help) {
    io.stdout.write(`${USAGE}\n`);
    return { exitCode: 0 };
  }
  const ref = `${args.namespace}/${args.name}`;
  const context: RunContext = { ...(args.target === 'site' ? { site: ref } : { integration: ref }), type: args.type, run: args.run };

  try {
    const sync = await runOfType(env, deps, io, context);
    logOutcome(io.logger, context, sync);
    return finish(io, { ...sync, ...targetOf(context), run: context.run }, sync.result === 'Succeeded' ? 0 : 1);
  } catch (error) {
    return finish(io, failureReport(io, context, error), 1);
  }
}
