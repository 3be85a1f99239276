// One sync run, with every dependency injected (adapter, Ocean, encryptor, clock, sleep): what the
// CLI runs and what the tests and the benchmark drive directly.
//   Full:         providers, then the patients referenced by the window's appointments, then the
//                 appointments of the window (referential order: Ocean never gets an appointment
//                 before its patient and provider), then a manifest that closes the run.
//   Appointments: the appointments of the window, then the manifest.
// The window is [start of today, start of the day scheduleDaysToSync days later) in the site's time
// zone (sync-window.ts; a DST day is 23 or 25 hours long). Records go up in encrypted
// batches of `batchSize`; patients are fetched `concurrency` at a time, and uploads overlap the
// fetches. Transient failures (EMR/Ocean unreachable, rate limited) are retried a few times with
// backoff (Retry-After when given); anything else ends the run as Failed with the error's reason.
import { type Appointment, type EmrAdapter, EmrError, type Patient, type Provider } from '../../internal/emr/adapter.ts';
import { RemoteError } from '../../internal/httpx/remote-error.ts';
import { OceanError, type OceanUploader } from '../../internal/ocean/client.ts';
import type { BatchEncryptor, RecordKind } from '../../internal/sek/crypto.ts';
import { type SyncWindow, syncWindow } from './sync-window.ts';

export type SyncType = 'Full' | 'Appointments';

export const DEFAULT_BATCH_SIZE = 500;
export const DEFAULT_CONCURRENCY = 8;

export interface SyncProgress {
  kind: RecordKind;
  done: number;
  total: number;
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  /** Longest wait between attempts; a longer Retry-After gives up instead of waiting. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 1000, maxDelayMs: 30_000 };

export interface SyncInput {
  adapter: EmrAdapter;
  type: SyncType;
  scheduleDaysToSync: number;
  /** The site's IANA time zone (OceanSite spec.timeZone): the window is counted in its days. */
  timeZone: string;
  /** Appointments of these providers only; empty or absent means every provider the API user sees. */
  syncProviderIds?: readonly string[] | undefined;
  /** Appointments in these offices only (Accuro); empty or absent means all. */
  syncOfficeIds?: readonly string[] | undefined;
  now: () => Date;
  ocean: OceanUploader;
  encryptor: BatchEncryptor;
  onProgress?: (progress: SyncProgress) => void;
  /** Warnings without PHI (counts, ids never names). */
  onWarning?: (message: string, fields: Record<string, unknown>) => void;
  /** Run (Job) name: batch ids are `<run>:<kind>:<n>`. */
  run?: string;
  batchSize?: number;
  concurrency?: number;
  retry?: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
}

export interface SyncResult {
  result: 'Succeeded' | 'Failed';
  type: SyncType;
  providers: number;
  patients: number;
  appointments: number;
  /** Data batches uploaded (the manifest not included). */
  batches: number;
  durationSeconds: number;
  /** Patients referenced by an appointment that the EMR no longer has (NotFound); not uploaded. */
  skippedPatients?: number;
  errorReason?: string;
  /** A redacted, PHI-free description of the failure. */
  message?: string;
}

/** A PascalCase reason for any error a run can end with. */
export function failureOf(error: unknown): { errorReason: string; message: string } {
  if (error instanceof RemoteError) return { errorReason: error.egress ?? error.reason, message: error.message.slice(0, 512) };
  // Anything else is our bug; its message could quote data, so only its type is reported.
  const name = error instanceof Error ? error.name : typeof error;
  return { errorReason: 'InternalError', message: `unexpected ${name} in the sync worker (see its log)` };
}

function isRetryable(error: unknown): boolean {
  // A refused address or an oversized answer will be the same on the next attempt; a timeout may not.
  if (error instanceof RemoteError && error.egress !== undefined && error.egress !== 'EndpointTimeout') return false;
  if (error instanceof EmrError) return error.reason === 'EmrUnreachable' || error.reason === 'RateLimited';
  if (error instanceof OceanError) return error.reason === 'OceanUnreachable' || error.reason === 'OceanRateLimited';
  return false;
}

export async function withRetry<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy,
  sleep: (ms: number) => Promise<void>,
  retryable: (error: unknown) => boolean = isRetryable,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= policy.attempts || !retryable(error)) throw error;
      const hinted = (error as RemoteError).retryAfterMs;
      const delay = hinted ?? Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      if (delay > policy.maxDelayMs) throw error;
      await sleep(delay);
    }
  }
}

/** Maps with at most `limit` calls in flight; the first failure stops new calls and is thrown. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i] as T);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
  return out;
}

const COUNT_OF: Record<Exclude<RecordKind, 'manifest'>, 'providers' | 'patients' | 'appointments'> = {
  provider: 'providers',
  patient: 'patients',
  appointment: 'appointments',
};

type RecordCounts = Record<'providers' | 'patients' | 'appointments', number>;

/** One run in progress: its settled options and what it has uploaded so far. */
interface SyncRun {
  readonly input: SyncInput;
  readonly run: string;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly retry: <T>(fn: () => Promise<T>) => Promise<T>;
  readonly started: Date;
  readonly window: SyncWindow;
  readonly counts: RecordCounts;
  /** Batches uploaded so far per kind (a batch id's last part). */
  readonly sequence: Record<RecordKind, number>;
  batches: number;
  skippedPatients: number;
  done: number;
  total: number;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function startRun(input: SyncInput): SyncRun {
  const retryPolicy = input.retry ?? DEFAULT_RETRY;
  const sleep = input.sleep ?? wait;
  const { now } = input;
  const started = now();
  return {
    input,
    run: input.run ?? 'run',
    batchSize: Math.max(1, input.batchSize ?? DEFAULT_BATCH_SIZE),
    concurrency: Math.max(1, input.concurrency ?? DEFAULT_CONCURRENCY),
    retry: (fn) => withRetry(fn, retryPolicy, sleep),
    started,
    window: syncWindow(started, input.scheduleDaysToSync, input.timeZone),
    counts: { providers: 0, patients: 0, appointments: 0 },
    sequence: { provider: 0, patient: 0, appointment: 0, manifest: 0 },
    batches: 0,
    skippedPatients: 0,
    done: 0,
    total: 0,
  };
}

function progress(r: SyncRun, kind: RecordKind): void {
  r.input.onProgress?.({ kind, done: r.done, total: r.total });
}

/** Encrypts and uploads one batch (none when empty); data batches count toward the result. */
async function upload(r: SyncRun, kind: RecordKind, records: readonly unknown[]): Promise<void> {
  if (records.length === 0) return;
  const { encryptor, ocean } = r.input;
  r.sequence[kind] += 1;
  const batchId = `${r.run}:${kind}:${r.sequence[kind]}`;
  await encryptor.refresh?.();
  const envelope = encryptor.encryptBatch({ batchId, kind }, records);
  await r.retry(() => ocean.upload({ run: r.run, batchId, kind, count: records.length, envelope }));
  if (kind !== 'manifest') {
    r.counts[COUNT_OF[kind]] += records.length;
    r.batches += 1;
  }
}

/** Uploads records in batches of `batchSize`, reporting progress after each. */
async function uploadAll(r: SyncRun, kind: Exclude<RecordKind, 'manifest'>, records: readonly unknown[]): Promise<void> {
  for (let i = 0; i < records.length; i += r.batchSize) {
    const chunk = records.slice(i, i + r.batchSize);
    await upload(r, kind, chunk);
    r.done += chunk.length;
    progress(r, kind);
  }
}

async function fetchPatient(r: SyncRun, id: string): Promise<Patient | undefined> {
  try {
    return await r.retry(() => r.input.adapter.getPatient(id));
  } catch (error) {
    // An appointment may outlive a merged or deleted chart; that is no reason to fail the run.
    if (error instanceof EmrError && error.reason === 'NotFound') return undefined;
    throw error;
  }
}

/**
 * A sliding window of `concurrency` fetches over all patient ids (no barrier between batches);
 * whichever fetch fills a batch uploads it while the other fetches go on.
 */
async function syncPatients(r: SyncRun, ids: readonly string[]): Promise<void> {
  let buffer: Patient[] = [];
  let consumed = 0;
  const flush = async () => {
    const patients = buffer;
    const count = consumed;
    buffer = [];
    consumed = 0;
    await upload(r, 'patient', patients);
    r.done += count;
    progress(r, 'patient');
  };
  await mapLimit(ids, r.concurrency, async (id) => {
    const patient = await fetchPatient(r, id);
    if (patient) buffer.push(patient);
    else r.skippedPatients += 1;
    consumed += 1;
    if (buffer.length >= r.batchSize) await flush();
  });
  if (consumed > 0) await flush();
}

/** Every provider the API user sees (Full runs only). */
async function fetchProviders(r: SyncRun): Promise<Provider[]> {
  return r.input.type === 'Full' ? await r.retry(() => r.input.adapter.listProviders()) : [];
}

/** Pure: the appointments in the given offices; all of them when none are given. */
function inOffices(appointments: Appointment[], officeIds: readonly string[] | undefined): Appointment[] {
  if (!officeIds || officeIds.length === 0) return appointments;
  const offices = new Set(officeIds);
  return appointments.filter((a) => a.officeId !== undefined && offices.has(a.officeId));
}

/** The window's appointments, of the chosen providers and offices. */
async function fetchAppointments(r: SyncRun): Promise<Appointment[]> {
  const { adapter, syncProviderIds, syncOfficeIds } = r.input;
  const providerIds = syncProviderIds && syncProviderIds.length > 0 ? [...syncProviderIds] : undefined;
  const appointments = await r.retry(() => adapter.listAppointments(r.window.from, r.window.to, providerIds));
  return inOffices(appointments, syncOfficeIds);
}

/** Pure: the distinct patients the appointments reference (Full runs only). */
function patientIdsOf(type: SyncType, appointments: readonly Appointment[]): string[] {
  return type === 'Full' ? [...new Set(appointments.map((a) => a.patientId))] : [];
}

/** The part of the result (and the manifest) that says what was skipped, when anything was. */
function skipped(r: SyncRun): { skippedPatients?: number } {
  return r.skippedPatients > 0 ? { skippedPatients: r.skippedPatients } : {};
}

/**
 * The manifest tells Ocean the run is complete and what it contained: a run without one is
 * partial, and its records must not replace the previous complete set.
 */
function manifestOf(r: SyncRun) {
  return {
    run: r.run,
    type: r.input.type,
    window: { from: r.window.from.toISOString(), to: r.window.to.toISOString() },
    counts: { ...r.counts },
    batches: r.batches,
    ...skipped(r),
  };
}

/** Fetches and uploads in referential order (providers, patients, appointments), then the manifest. */
async function transfer(r: SyncRun): Promise<void> {
  const { type } = r.input;
  const providers = await fetchProviders(r);
  const appointments = await fetchAppointments(r);
  const patientIds = patientIdsOf(type, appointments);
  r.total = providers.length + patientIds.length + appointments.length;
  progress(r, type === 'Full' ? 'provider' : 'appointment');

  await uploadAll(r, 'provider', providers);
  await syncPatients(r, patientIds);
  await uploadAll(r, 'appointment', appointments);
  if (r.skippedPatients > 0) r.input.onWarning?.('patients referenced by appointments were not found in the EMR', skipped(r));
  await upload(r, 'manifest', [manifestOf(r)]);
}

/** What the run did so far, as the result reports it. */
function summary(r: SyncRun) {
  const { now } = r.input;
  return {
    type: r.input.type,
    ...r.counts,
    batches: r.batches,
    durationSeconds: Math.max(0, Math.round((now().getTime() - r.started.getTime()) / 1000)),
    ...skipped(r),
  };
}

export async function runSync(input: SyncInput): Promise<SyncResult> {
  const r = startRun(input);
  try {
    await transfer(r);
    return { result: 'Succeeded', ...summary(r) };
  } catch (error) {
    return { result: 'Failed', ...summary(r), ...failureOf(error) };
  }
}
