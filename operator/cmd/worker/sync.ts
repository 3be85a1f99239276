// One sync run, with every dependency injected (adapter, Ocean, encryptor, clock, sleep): what the
// CLI runs and what the tests and the benchmark drive directly.
//   Full:         providers, then the patients referenced by the window's appointments, then the
//                 appointments of the window (referential order: Ocean never gets an appointment
//                 before its patient and provider), then a manifest that closes the run.
//   Appointments: the appointments of the window, then the manifest.
// The window is [start of today (UTC), + scheduleDaysToSync days). Records go up in encrypted
// batches of `batchSize`; patients are fetched `concurrency` at a time, and uploads overlap the
// fetches. Transient failures (EMR/Ocean unreachable, rate limited) are retried a few times with
// backoff (Retry-After when given); anything else ends the run as Failed with the error's reason.
import { type Appointment, type EmrAdapter, EmrError, type Patient, type Provider } from '../../internal/emr/adapter.ts';
import { OceanError, type OceanUploader } from '../../internal/ocean/client.ts';
import type { BatchEncryptor, RecordKind } from '../../internal/sek/crypto.ts';

export type SyncType = 'Full' | 'Appointments';

export const DEFAULT_BATCH_SIZE = 500;
export const DEFAULT_CONCURRENCY = 8;
const DAY_MS = 86_400_000;

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

export interface SyncWindow {
  from: Date;
  to: Date;
}

/** [start of the UTC day of `now`, + days). Adapters read EMR local times as UTC (operator/internal/emr/README.md). */
export function syncWindow(now: Date, days: number): SyncWindow {
  const from = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS);
  return { from, to: new Date(from.getTime() + Math.max(1, Math.floor(days)) * DAY_MS) };
}

/** A PascalCase reason for any error a run can end with. */
export function failureOf(error: unknown): { errorReason: string; message: string } {
  if (error instanceof EmrError || error instanceof OceanError) return { errorReason: error.reason, message: error.message.slice(0, 512) };
  // Anything else is our bug; its message could quote data, so only its type is reported.
  const name = error instanceof Error ? error.name : typeof error;
  return { errorReason: 'InternalError', message: `unexpected ${name} in the sync worker (see its log)` };
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof EmrError) return error.reason === 'EmrUnreachable' || error.reason === 'RateLimited';
  if (error instanceof OceanError) return error.reason === 'OceanUnreachable' || error.reason === 'OceanRateLimited';
  return false;
}

export async function withRetry<T>(fn: () => Promise<T>, policy: RetryPolicy, sleep: (ms: number) => Promise<void>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= policy.attempts || !isRetryable(error)) throw error;
      const hinted = (error as EmrError | OceanError).retryAfterMs;
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

export async function runSync(input: SyncInput): Promise<SyncResult> {
  const { adapter, type, ocean, encryptor, now } = input;
  const run = input.run ?? 'run';
  const batchSize = Math.max(1, input.batchSize ?? DEFAULT_BATCH_SIZE);
  const concurrency = Math.max(1, input.concurrency ?? DEFAULT_CONCURRENCY);
  const retryPolicy = input.retry ?? DEFAULT_RETRY;
  const sleep = input.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const retry = <T>(fn: () => Promise<T>) => withRetry(fn, retryPolicy, sleep);
  const started = now();
  const window = syncWindow(started, input.scheduleDaysToSync);
  const counts = { providers: 0, patients: 0, appointments: 0 };
  const sequence: Record<RecordKind, number> = { provider: 0, patient: 0, appointment: 0, manifest: 0 };
  let batches = 0;
  let skippedPatients = 0;
  let done = 0;
  let total = 0;

  const seconds = () => Math.max(0, Math.round((now().getTime() - started.getTime()) / 1000));
  const progress = (kind: RecordKind) => input.onProgress?.({ kind, done, total });

  async function upload(kind: RecordKind, records: readonly unknown[]): Promise<void> {
    if (records.length === 0) return;
    sequence[kind] += 1;
    const batchId = `${run}:${kind}:${sequence[kind]}`;
    await encryptor.refresh?.();
    const envelope = encryptor.encryptBatch({ batchId, kind }, records);
    await retry(() => ocean.upload({ run, batchId, kind, count: records.length, envelope }));
    if (kind !== 'manifest') {
      counts[COUNT_OF[kind]] += records.length;
      batches += 1;
    }
  }

  async function uploadAll(kind: Exclude<RecordKind, 'manifest'>, records: readonly unknown[]): Promise<void> {
    for (let i = 0; i < records.length; i += batchSize) {
      const chunk = records.slice(i, i + batchSize);
      await upload(kind, chunk);
      done += chunk.length;
      progress(kind);
    }
  }

  async function fetchPatient(id: string): Promise<Patient | undefined> {
    try {
      return await retry(() => adapter.getPatient(id));
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
  async function syncPatients(ids: readonly string[]): Promise<void> {
    let buffer: Patient[] = [];
    let consumed = 0;
    const flush = async () => {
      const patients = buffer;
      const count = consumed;
      buffer = [];
      consumed = 0;
      await upload('patient', patients);
      done += count;
      progress('patient');
    };
    await mapLimit(ids, concurrency, async (id) => {
      const patient = await fetchPatient(id);
      if (patient) buffer.push(patient);
      else skippedPatients += 1;
      consumed += 1;
      if (buffer.length >= batchSize) await flush();
    });
    if (consumed > 0) await flush();
  }

  try {
    let providers: Provider[] = [];
    if (type === 'Full') providers = await retry(() => adapter.listProviders());
    const providerIds = input.syncProviderIds && input.syncProviderIds.length > 0 ? [...input.syncProviderIds] : undefined;
    let appointments: Appointment[] = await retry(() => adapter.listAppointments(window.from, window.to, providerIds));
    if (input.syncOfficeIds && input.syncOfficeIds.length > 0) {
      const offices = new Set(input.syncOfficeIds);
      appointments = appointments.filter((a) => a.officeId !== undefined && offices.has(a.officeId));
    }
    const patientIds = type === 'Full' ? [...new Set(appointments.map((a) => a.patientId))] : [];
    total = providers.length + patientIds.length + appointments.length;
    progress(type === 'Full' ? 'provider' : 'appointment');

    await uploadAll('provider', providers);
    await syncPatients(patientIds);
    await uploadAll('appointment', appointments);
    if (skippedPatients > 0) input.onWarning?.('patients referenced by appointments were not found in the EMR', { skippedPatients });

    // The manifest tells Ocean the run is complete and what it contained: a run without one is
    // partial, and its records must not replace the previous complete set.
    await upload('manifest', [
      {
        run,
        type,
        window: { from: window.from.toISOString(), to: window.to.toISOString() },
        counts: { ...counts },
        batches,
        ...(skippedPatients > 0 ? { skippedPatients } : {}),
      },
    ]);
    return {
      result: 'Succeeded',
      type,
      ...counts,
      batches,
      durationSeconds: seconds(),
      ...(skippedPatients > 0 ? { skippedPatients } : {}),
    };
  } catch (error) {
    return {
      result: 'Failed',
      type,
      ...counts,
      batches,
      durationSeconds: seconds(),
      ...(skippedPatients > 0 ? { skippedPatients } : {}),
      ...failureOf(error),
    };
  }
}
