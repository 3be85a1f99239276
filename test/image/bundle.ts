// An image tarball from test/image/build.sh opened the way a node opens it: extracted, read
// (index.json → manifest → config) and unpacked by umoci into an OCI runtime bundle, whose
// processes runc runs with a read-only root filesystem. For test/integration/image.test.ts.
import { execFile, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = new URL('../..', import.meta.url).pathname;

export interface BuiltImage {
  /** name:key, as containerd will know it. */
  image: string;
  tar: string;
}

/** Runs build.sh for KIND (cached when nothing changed) and reads its last line `IMAGE=... TAR=...`. */
export async function buildImage(kind: 'operator' | 'pause'): Promise<BuiltImage> {
  const { stdout } = await run(join(repoRoot, 'test/image/build.sh'), [kind], { maxBuffer: 16 * 1024 * 1024 });
  const last = stdout.trim().split('\n').at(-1) ?? '';
  const match = last.match(/^IMAGE=(\S+) TAR=(\S+)$/);
  if (!match?.[1] || !match[2]) throw new Error(`build.sh ${kind} printed no IMAGE=... TAR=... line: ${last}`);
  return { image: match[1], tar: match[2] };
}

export interface ImageConfig {
  User?: string;
  WorkingDir?: string;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Labels?: Record<string, string>;
}

export interface IndexEntry {
  digest: string;
  annotations?: Record<string, string>;
}

export interface OpenedImage {
  layout: string;
  index: IndexEntry[];
  config: ImageConfig;
  /** The umoci bundle: config.json and rootfs/. */
  bundle: string;
  rootfs: string;
}

async function readBlob<T>(layout: string, digest: string): Promise<T> {
  return JSON.parse(await readFile(join(layout, 'blobs', digest.replace(':', '/')), 'utf8')) as T;
}

/** Extracts the tarball under DIR, reads the image tagged TAG and unpacks it (as root: owners kept). */
export async function openImage(tar: string, tag: string, dir: string): Promise<OpenedImage> {
  const layout = join(dir, 'oci');
  await mkdir(layout, { recursive: true });
  await run('tar', ['-xf', tar, '-C', layout]);
  const indexJson = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: IndexEntry[] };
  const entry = indexJson.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!entry) throw new Error(`${tar} has no image tagged ${tag}`);
  const manifest = await readBlob<{ config: { digest: string } }>(layout, entry.digest);
  const config = (await readBlob<{ config: ImageConfig }>(layout, manifest.config.digest)).config;
  const bundle = join(dir, 'bundle');
  await run('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle]);
  return { layout, index: indexJson.manifests, config, bundle, rootfs: join(bundle, 'rootfs') };
}

export interface RunOptions {
  args: string[];
  env?: string[];
  /** Root filesystem read-only, as the chart's pods have it (default true). */
  readonly?: boolean;
  /** Called with the output so far; return true to stop the process with SIGTERM. */
  stopWhen?: (output: string) => boolean;
  timeoutMs?: number;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let runs = 0;

/** Writes the bundle's config.json for one process (no terminal, own empty network namespace). */
async function writeRuntimeConfig(bundle: string, options: RunOptions): Promise<void> {
  const base = JSON.parse(
    await readFile(join(bundle, 'config.json.orig'), 'utf8').catch(() => readFile(join(bundle, 'config.json'), 'utf8')),
  );
  await writeFile(join(bundle, 'config.json.orig'), JSON.stringify(base));
  base.process.terminal = false;
  base.process.args = options.args;
  base.process.env = [...base.process.env, ...(options.env ?? [])];
  base.root.readonly = options.readonly ?? true;
  await writeFile(join(bundle, 'config.json'), JSON.stringify(base));
}

export interface RunningProcess {
  /** The container's first process, as the host sees it (from runc's pid file). */
  pid(): Promise<number>;
  /** SIGTERM to runc, which forwards it to the container's process. */
  stop(): void;
  done: Promise<RunResult>;
}

function readOutput(child: ReturnType<typeof spawn>, onOutput: (output: string) => void): () => { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    onOutput(stdout + stderr);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    onOutput(stdout + stderr);
  });
  return () => ({ stdout, stderr });
}

/** Starts one process in the bundle with `runc run` (state under STATEDIR); `done` is its end. */
export async function startInBundle(bundle: string, stateDir: string, options: RunOptions): Promise<RunningProcess> {
  await writeRuntimeConfig(bundle, options);
  runs += 1;
  const id = `cc-image-test-${process.pid}-${runs}`;
  const pidFile = join(stateDir, `${id}.pid`);
  const child = spawn('runc', ['--root', stateDir, 'run', '--pid-file', pidFile, '--bundle', bundle, id], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stopped = false;
  const stop = () => {
    stopped = true;
    child.kill('SIGTERM');
  };
  const output = readOutput(child, (text) => {
    if (!stopped && options.stopWhen?.(text)) stop();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const done = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c))).then(async (code) => {
    clearTimeout(timer);
    await run('runc', ['--root', stateDir, 'delete', '--force', id]).catch(() => undefined);
    return { code, ...output() };
  });
  const pid = async () => {
    for (;;) {
      const text = await readFile(pidFile, 'utf8').catch(() => '');
      if (/^\d+$/.test(text.trim())) return Number(text.trim());
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`runc ended before the container started: ${output().stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { pid, stop, done };
}

/** Runs one process in the bundle and waits for it to end. */
export async function runInBundle(bundle: string, stateDir: string, options: RunOptions): Promise<RunResult> {
  return (await startInBundle(bundle, stateDir, options)).done;
}
