// A memory cgroup for a benchmarked process, so that it runs under the limit a pod would give it
// (the chart's `resources.limits.memory`): Node sizes its V8 heap from the constrained memory it
// finds at start (512 MiB → a 259 MiB heap limit, against some 4 GiB on an unconstrained 24 GiB
// machine), so RSS measured without a limit says more about V8's laziness than about the operator.
// cgroup v2 (memory.max) or v1 (memory.limit_in_bytes), as root; undefined when neither is writable.
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface MemoryCgroup {
  /** Prefix for spawn: `sh -c 'echo $$ > cgroup.procs; exec "$@"' sh <command…>`. */
  wrap(command: string, args: string[]): { command: string; args: string[] };
  /** The group's highest memory use (RSS and page cache charged to it), MiB. */
  peakMib(): Promise<number | undefined>;
  remove(): Promise<void>;
}

/** A fresh group below this process's own, limited to `limitBytes`; undefined when cgroups cannot be written here. */
export async function memoryCgroup(name: string, limitBytes: number): Promise<MemoryCgroup | undefined> {
  const own = await readFile('/proc/self/cgroup', 'utf8').catch(() => '');
  const v1 = /^\d+:memory:(.*)$/m.exec(own)?.[1];
  const v2 = /^0::(.*)$/m.exec(own)?.[1];
  const candidates = [
    ...(v1 !== undefined
      ? [{ dir: join('/sys/fs/cgroup/memory', v1, name), limit: 'memory.limit_in_bytes', peak: 'memory.max_usage_in_bytes' }]
      : []),
    ...(v2 !== undefined ? [{ dir: join('/sys/fs/cgroup', v2, name), limit: 'memory.max', peak: 'memory.peak' }] : []),
  ];
  for (const c of candidates) {
    try {
      await mkdir(c.dir, { recursive: true });
      await writeFile(join(c.dir, c.limit), String(limitBytes));
      return {
        wrap: (command, args) => ({
          command: '/bin/sh',
          args: ['-c', `echo $$ > ${join(c.dir, 'cgroup.procs')} && exec "$@"`, 'sh', command, ...args],
        }),
        peakMib: async () => {
          const text = await readFile(join(c.dir, c.peak), 'utf8').catch(() => '');
          return text ? Number(text.trim()) / 1024 / 1024 : undefined;
        },
        remove: () => rmdir(c.dir).catch(() => undefined),
      };
    } catch {
      await rmdir(c.dir).catch(() => undefined);
    }
  }
  return undefined;
}

/** "512Mi", "1Gi", "800M" or bytes → bytes. */
export function parseQuantity(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(text.trim());
  if (!m) throw new Error(`not a memory quantity: ${text} (e.g. 512Mi)`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Math.round(Number(m[1]) * unit);
}
