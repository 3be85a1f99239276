// `make bench-sync`: one Full sync of a large clinic (default 20,000 patients in the EMR, 5,000
// appointments in the one-day window) from the Accuro simulator to the Ocean simulator, both in
// this process, through the real adapter, encryptor and Ocean client. Then, in the same process,
// the encryption alone over the very bytes the sync encrypted (recovered by decrypting what Ocean
// stored): a plain AES-256-GCM loop (one message per batch, the limit), our scheme (HKDF + GCM per
// batch) and the naive one-cipher-per-record loop. Prints figures; asserts nothing about speed.
// Knobs: BENCH_PATIENTS, BENCH_APPOINTMENTS, BENCH_PROVIDERS, BENCH_BATCH_SIZE, BENCH_CONCURRENCY,
// BENCH_EMR_LATENCY_MS (the simulator waits that long before every answer, as a remote EMR would;
// default 0: then the simulators and the worker share this one thread, and the run is CPU bound).
import { createCipheriv, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, runSync } from '../../operator/cmd/worker/sync.ts';
import { AccuroAdapter } from '../../operator/internal/emr/accuro.ts';
import { OceanClient } from '../../operator/internal/ocean/client.ts';
import {
  type BatchContext,
  type BatchEncryptor,
  decryptBatch,
  type Envelope,
  encodeRecords,
  SekEncryptor,
} from '../../operator/internal/sek/crypto.ts';
import { start as startAccuro } from '../simulators/accuro.ts';
import { SIMULATOR_EGRESS } from '../simulators/egress.ts';
import { start as startOcean } from '../simulators/ocean.ts';

const PATIENTS = Number(process.env.BENCH_PATIENTS ?? '20000');
const APPOINTMENTS = Number(process.env.BENCH_APPOINTMENTS ?? '5000');
const PROVIDERS = Number(process.env.BENCH_PROVIDERS ?? '50');
const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE ?? String(DEFAULT_BATCH_SIZE));
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? String(DEFAULT_CONCURRENCY));
const EMR_LATENCY_MS = Number(process.env.BENCH_EMR_LATENCY_MS ?? '0');
const SITE = '31337';
const SEK = randomBytes(32).toString('base64');

const log = (message: string) => process.stdout.write(`[bench-sync] ${message}\n`);
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000).toLocaleString('en-US');
const mb = (bytes: number, ms: number) => ((bytes / 1e6 / ms) * 1000).toFixed(0);

/** Runs `fn` until at least `minMs` have passed (and at least once); returns ms per run. */
function timeLoop(fn: () => void, minMs = 1500): number {
  fn(); // warm-up
  let runs = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    fn();
    runs += 1;
    elapsed = performance.now() - t0;
  } while (elapsed < minMs);
  return elapsed / runs;
}

async function main(): Promise<void> {
  const today = new Date().toISOString().slice(0, 10);
  const volume = { providers: PROVIDERS, patients: PATIENTS, appointmentsPerDay: APPOINTMENTS, days: 1, startDate: today };
  // No request budget (limits.ts leniency): the bench measures our sync against a crypto loop, not an EMR's quota.
  const lenient = { rateLimit: false } as const;
  const [emr, ocean] = await Promise.all([
    startAccuro({ seed: 7, volume, timeZone: 'UTC', limits: lenient }),
    startOcean({ seed: 7, limits: lenient }),
  ]);
  if (EMR_LATENCY_MS > 0) emr.setFault({ slowMs: EMR_LATENCY_MS });
  log(
    `node ${process.version}; EMR: ${PROVIDERS} providers, ${PATIENTS.toLocaleString('en-US')} patients, ${APPOINTMENTS.toLocaleString('en-US')} appointments today, ${EMR_LATENCY_MS} ms latency; batches of ${BATCH_SIZE}, ${CONCURRENCY} patient fetches in flight`,
  );
  try {
    const inner = new SekEncryptor(SEK, SITE);
    let encryptMs = 0;
    let plaintextBytes = 0;
    const timed: BatchEncryptor = {
      siteNumber: SITE,
      encryptBatch(context: BatchContext, records: readonly unknown[]): Envelope {
        const t = performance.now();
        const plaintext = encodeRecords(records);
        const envelope = inner.encryptPlaintext(context, plaintext);
        encryptMs += performance.now() - t;
        plaintextBytes += plaintext.length;
        return envelope;
      },
    };
    const t0 = performance.now();
    const result = await runSync({
      adapter: new AccuroAdapter({
        baseUrl: emr.url,
        tenantId: emr.tenantId,
        credentials: { ...emr.credentials },
        egress: SIMULATOR_EGRESS,
        timeZone: 'UTC',
      }),
      type: 'Full',
      // The clinic of the benchmark works in UTC: today's appointments are the UTC day's.
      timeZone: 'UTC',
      scheduleDaysToSync: 1,
      now: () => new Date(),
      ocean: new OceanClient({ apiUrl: ocean.url, siteNumber: SITE, ...ocean.credentials, egress: SIMULATOR_EGRESS }),
      encryptor: timed,
      run: 'bench-full',
      batchSize: BATCH_SIZE,
      concurrency: CONCURRENCY,
    });
    const syncMs = performance.now() - t0;
    if (result.result !== 'Succeeded') throw new Error(`the sync failed: ${result.errorReason ?? ''} ${result.message ?? ''}`);
    const records = result.providers + result.patients + result.appointments;
    log(
      `sync: ${result.providers} providers + ${result.patients.toLocaleString('en-US')} patients (those with an appointment in the window) + ${result.appointments.toLocaleString('en-US')} appointments = ${records.toLocaleString('en-US')} records in ${result.batches} batches, ${(syncMs / 1000).toFixed(2)} s`,
    );
    log(
      `sync: ${rate(records, syncMs)} records/s end to end; EMR requests ${emr.requests.length.toLocaleString('en-US')}; plaintext ${(plaintextBytes / 1e6).toFixed(2)} MB`,
    );
    log(
      `sync: encryption (JSON lines + HKDF + AES-256-GCM) ${encryptMs.toFixed(1)} ms = ${((encryptMs / syncMs) * 100).toFixed(2)}% of the run`,
    );

    // The same bytes, recovered from what Ocean stored (the manifest left out).
    const batches = ocean.batches
      .map((b) => b.body as { batchId: string; kind: BatchContext['kind']; envelope: Envelope })
      .filter((b) => b.kind !== 'manifest')
      .map((b) => {
        const decrypted = decryptBatch(b.envelope, SEK, SITE, { batchId: b.batchId, kind: b.kind });
        return { context: { batchId: b.batchId, kind: b.kind }, records: decrypted.records, plaintext: encodeRecords(decrypted.records) };
      });
    const bytes = batches.reduce((n, b) => n + b.plaintext.length, 0);
    const key = randomBytes(32);

    const plainMs = timeLoop(() => {
      for (const b of batches) {
        const cipher = createCipheriv('aes-256-gcm', key, randomBytes(12));
        cipher.update(b.plaintext);
        cipher.final();
        cipher.getAuthTag();
      }
    });
    const oursMs = timeLoop(() => {
      for (const b of batches) inner.encryptPlaintext(b.context, b.plaintext);
    });
    const oursWithJsonMs = timeLoop(() => {
      for (const b of batches) inner.encryptBatch(b.context, b.records);
    });
    const lines = batches.flatMap((b) => b.records.map((r) => Buffer.from(JSON.stringify(r))));
    const perRecordMs = timeLoop(() => {
      for (const line of lines) {
        const cipher = createCipheriv('aes-256-gcm', key, randomBytes(12));
        cipher.update(line);
        cipher.final();
        cipher.getAuthTag();
      }
    });
    log(
      `crypto over the same ${(bytes / 1e6).toFixed(2)} MB (${records.toLocaleString('en-US')} records, ${batches.length} batches), mean of loops run ≥ 1.5 s each:`,
    );
    log(
      `  plain AES-256-GCM, one message per batch:   ${plainMs.toFixed(2)} ms  ${rate(records, plainMs)} records/s  ${mb(bytes, plainMs)} MB/s`,
    );
    log(
      `  ours, HKDF + AES-256-GCM per batch:          ${oursMs.toFixed(2)} ms  ${rate(records, oursMs)} records/s  ${mb(bytes, oursMs)} MB/s  (${(oursMs / plainMs).toFixed(2)}x plain)`,
    );
    log(`  ours incl. JSON-lines encoding:              ${oursWithJsonMs.toFixed(2)} ms  ${rate(records, oursWithJsonMs)} records/s`);
    log(
      `  naive, one cipher per record:                ${perRecordMs.toFixed(2)} ms  ${rate(records, perRecordMs)} records/s  (${(perRecordMs / plainMs).toFixed(1)}x plain)`,
    );
    log(
      `ratio: the sync runs at ${((syncMs > 0 ? plainMs / syncMs : 0) * 100).toFixed(2)}% of plain AES-256-GCM speed; encryption is not the bottleneck, the EMR round trips are`,
    );
  } finally {
    await Promise.all([emr.stop(), ocean.stop()]);
  }
}

await main();
