// The bench's stand-in for Ocean: posts prepared webhook bodies to the relay from a worker thread,
// so the posting client's own CPU (request building, response reading) is not counted in the relay's
// thread, as Ocean's is not in production. `ratePerSecond` paces the posts (each at its due time);
// without it they go as fast as `concurrency` allows. Answers the number of 202s, the time the
// posting took and, per body, when it was sent (epoch ms, for the end-to-end latency).
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

export interface PosterJob {
  url: string;
  headers: Record<string, string>;
  bodies: { key: string; body: string }[];
  concurrency: number;
  ratePerSecond?: number;
}

export interface PosterResult {
  accepted: number;
  ms: number;
  sentAt: [string, number][];
}

async function post(job: PosterJob): Promise<PosterResult> {
  const sentAt: [string, number][] = [];
  let accepted = 0;
  let next = 0;
  const t0 = performance.now();
  const start = Date.now();
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (next < job.bodies.length) {
        const i = next++;
        const b = job.bodies[i] as PosterJob['bodies'][number];
        if (job.ratePerSecond) {
          const due = start + (i * 1000) / job.ratePerSecond;
          if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        }
        sentAt.push([b.key, Date.now()]);
        const r = await fetch(job.url, { method: 'POST', headers: job.headers, body: b.body });
        await r.arrayBuffer();
        if (r.status === 202) accepted++;
      }
    }),
  );
  return { accepted, ms: performance.now() - t0, sentAt };
}

if (parentPort) parentPort.postMessage(await post(workerData as PosterJob));
