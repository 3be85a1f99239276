// The images the local cluster runs, built here without a Docker engine (test/image/build.sh, cached
// by content), opened the way a node opens them: umoci unpacks the tarball into a runtime bundle and
// runc runs it with a read-only root filesystem. The operator image is the Dockerfile's (same spec,
// test/unit/image-spec.test.ts): non-root, no shell, code owned by root, and its three programs start.
// The pause image holds a pod sandbox: it waits for SIGTERM and reaps the orphans it inherits.
// Needs root (runc, nsenter), as CI runs it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELAY_COMMAND } from '../../operator/controller/emrintegration/relay/deployment.ts';
import { buildImage, type OpenedImage, openImage, runInBundle, startInBundle } from '../image/bundle.ts';
import { excludedByName, readImageSpec } from '../image/spec.ts';
import { eventually } from './operator-process.ts';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const spec = readImageSpec();
const nodeBin = join(root, 'node_modules/node/bin/node');
const pinnedNode = (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> })
  .devDependencies.node;
// What a missing file, a missing module or a permission problem looks like from Node or runc.
const brokenImage = /ERR_MODULE_NOT_FOUND|Cannot find (module|package)|EACCES|EROFS|permission denied|no such file/i;

let work: string;
let runcState: string;

/** Every path under DIR (files, directories, links), relative to it, sorted. */
async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** The libraries and loader `ldd` lists for the pinned Node, as absolute paths. */
async function lddPaths(): Promise<string[]> {
  const { stdout } = await run('ldd', [nodeBin]);
  return stdout
    .split('\n')
    .map((line) => line.trim().match(/^(?:\S+ => )?(\/\S+) \(/)?.[1])
    .filter((path): path is string => path !== undefined);
}

/** Host pids of the processes whose parent is PARENT (from /proc/<pid>/stat). */
async function childrenOf(parent: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[1] === String(parent)) children.push(Number(entry));
  }
  return children;
}

function containerdNames(image: OpenedImage): Array<{ name?: string; digest: string }> {
  return image.index.map((m) => ({ name: m.annotations?.['io.containerd.image.name'], digest: m.digest }));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cloudconnect-image-'));
  runcState = join(work, 'runc');
  await mkdir(runcState);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the operator image', () => {
  let image: OpenedImage;
  let key: string;

  beforeAll(async () => {
    const built = await buildImage('operator');
    key = built.image.split(':').at(-1) ?? '';
    expect(built.image).toBe(`${spec.operator.repository}:${key}`);
    image = await openImage(built.tar, key, join(work, 'operator'));
  });

  it('is named for containerd as <name>:<key> and <name>:dev, one manifest', () => {
    const names = containerdNames(image);
    expect(names.map((n) => n.name).sort()).toEqual([`${spec.operator.repository}:${key}`, `${spec.operator.repository}:dev`].sort());
    expect(new Set(names.map((n) => n.digest)).size).toBe(1);
  });

  it('runs the sync worker as 65532:65532 in /app with NODE_ENV=production, as the spec says', () => {
    expect(image.config.User).toBe('65532:65532');
    expect(image.config).toMatchObject({
      User: spec.operator.user,
      WorkingDir: spec.operator.workdir,
      Env: spec.operator.env,
      Entrypoint: spec.operator.entrypoint,
      Labels: spec.operator.labels,
    });
    expect(image.config.Cmd ?? []).toEqual([]);
  });

  it('has no shell, no env and no package manager', async () => {
    for (const dir of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'usr/local/bin', 'usr/local/sbin']) {
      await expect(lstat(join(image.rootfs, dir)), dir).rejects.toThrow('ENOENT');
    }
    const tools = ['sh', 'bash', 'dash', 'busybox', 'env', 'apt', 'apt-get', 'dpkg', 'npm', 'npx', 'corepack', 'yarn', 'pnpm'];
    const found = [];
    for (const path of await walk(image.rootfs)) {
      if (!tools.includes(path.split('/').at(-1) ?? '')) continue;
      const stat = await lstat(join(image.rootfs, path));
      if (!stat.isDirectory()) found.push(path);
    }
    expect(found).toEqual([]);
    await expect(lstat(join(image.rootfs, 'app/node_modules/npm'))).rejects.toThrow('ENOENT');
  });

  it('has every file owned by root and none writable by uid 65532', async () => {
    const bad: string[] = [];
    for (const path of await walk(image.rootfs)) {
      const stat = await lstat(join(image.rootfs, path));
      const writableByOthers = !stat.isSymbolicLink() && (stat.mode & 0o022) !== 0;
      if (stat.uid !== 0 || stat.gid !== 0 || writableByOthers) bad.push(`${path} ${stat.uid}:${stat.gid} ${stat.mode.toString(8)}`);
    }
    expect(bad).toEqual([]);
  });

  it('holds outside /app only the pinned Node, exactly the libraries ldd lists, and the users', async () => {
    const files = [];
    for (const path of await walk(image.rootfs)) {
      if (!path.startsWith('app') && !(await lstat(join(image.rootfs, path))).isDirectory()) files.push(`/${path}`);
    }
    expect(files.sort()).toEqual([spec.operator.node, ...(await lddPaths()), '/etc/group', '/etc/passwd'].sort());
    expect(await sha256(join(image.rootfs, spec.operator.node))).toBe(await sha256(nodeBin));
    expect(await readFile(join(image.rootfs, 'etc/passwd'), 'utf8')).toContain(
      'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n',
    );
    expect(await readFile(join(image.rootfs, 'etc/group'), 'utf8')).toContain('nonroot:x:65532:\n');
  });

  it('holds in /app package.json, the production dependencies only and operator/ without tests', async () => {
    const app = join(image.rootfs, spec.operator.workdir);
    expect((await readdir(app)).sort()).toEqual(['node_modules', 'operator', 'package.json']);
    expect(await readFile(join(app, 'package.json'), 'utf8')).toBe(await readFile(join(root, 'package.json'), 'utf8'));
    const sources = [];
    for (const path of await walk(join(root, 'operator'))) {
      const isFile = (await lstat(join(root, 'operator', path))).isFile();
      if (isFile && !excludedByName(path.split('/').at(-1) ?? '', spec.operator.exclude)) sources.push(path);
    }
    const inImage = [];
    for (const path of await walk(join(app, 'operator'))) if ((await lstat(join(app, 'operator', path))).isFile()) inImage.push(path);
    expect(inImage).toEqual(sources);
    expect(inImage.some((path) => path.endsWith('.test.ts') || path.endsWith('test-helpers.ts'))).toBe(false);
    // package-lock.json marks what only the development tools need ("dev": true): none of it is in.
    const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const packages = Object.entries(lock.packages).filter(([path]) => path.startsWith('node_modules/'));
    const present = async (path: string) => (await lstat(join(app, path, 'package.json')).catch(() => undefined)) !== undefined;
    const missing = [];
    const extra = [];
    for (const [path, entry] of packages) {
      if (!entry.dev && !(await present(path))) missing.push(path);
      if (entry.dev && (await present(path))) extra.push(path);
    }
    expect({ missing, extra }).toEqual({ missing: [], extra: [] });
    expect(packages.filter(([, entry]) => !entry.dev).length).toBeGreaterThan(0);
  });

  it('runs node --version on a read-only root: the pinned version', async () => {
    const result = await runInBundle(image.bundle, runcState, { args: [spec.operator.node, '--version'] });
    expect(result).toMatchObject({ code: 0, stdout: `v${pinnedNode}\n` });
  });

  // Each program loads its whole module graph before it reads its configuration: its own refusal
  // (rather than a missing module or a permission error) shows the image holds what it needs.
  it.each([
    {
      program: 'the sync worker (the entrypoint), with no arguments',
      command: spec.operator.entrypoint,
      env: [],
      says: '--integration is required; --type is required',
    },
    { program: 'the relay, with no arguments', command: RELAY_COMMAND, env: [], says: '--integration must be <namespace>/<name>, got ""' },
    {
      program: 'the operator, with a bad LOG_LEVEL (no configuration at all is a valid one)',
      command: ['/nodejs/bin/node', 'operator/main.ts'],
      env: ['LOG_LEVEL=loud'],
      says: 'invalid operator configuration: LOG_LEVEL must be one of',
    },
  ])('starts $program and refuses with its configuration error', async ({ command, env, says }) => {
    const result = await runInBundle(image.bundle, runcState, { args: command, env });
    const output = result.stdout + result.stderr;
    expect(output).toContain(says);
    expect(output).not.toMatch(brokenImage);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
  });

  // It stops once the informers log a retry: a retry runs from a timer, so main() has installed its
  // SIGTERM handler by then. (A SIGTERM before that is lost: Node as PID 1 ignores it.)
  it('starts the operator with no configuration, serving its probes, and stops it cleanly on SIGTERM', async () => {
    const retries = (output: string) => output.split('\n').filter((line) => line.includes('"path":"/api/v1/secrets"')).length;
    const result = await runInBundle(image.bundle, runcState, {
      args: ['/nodejs/bin/node', 'operator/main.ts'],
      stopWhen: (output) => output.includes('serving health and metrics') && retries(output) >= 2,
    });
    const output = result.stdout + result.stderr;
    expect(output).toContain('"message":"serving health and metrics"');
    expect(output).toContain('"message":"signal received","signal":"SIGTERM"');
    expect(output).toContain('"message":"stopped"');
    expect(output).not.toMatch(brokenImage);
    expect(result.code).toBe(0);
  });

  it('keeps the process from changing its code even where the root filesystem is writable', async () => {
    const script = `const fs = require('node:fs');
      for (const path of ['/app/operator/main.ts', '/app/new-file.ts', '/app/node_modules/yaml/package.json', '/nodejs/bin/node', '/etc/passwd']) {
        try { fs.appendFileSync(path, '//'); console.log('wrote', path); } catch (error) { console.log(error.code, path); }
      }`;
    const result = await runInBundle(image.bundle, runcState, { args: [spec.operator.node, '-e', script], readonly: false });
    expect(result.stdout.trim().split('\n')).toEqual([
      'EACCES /app/operator/main.ts',
      'EACCES /app/new-file.ts',
      'EACCES /app/node_modules/yaml/package.json',
      'EACCES /nodejs/bin/node',
      'EACCES /etc/passwd',
    ]);
    expect(await readFile(join(image.rootfs, 'app/operator/main.ts'), 'utf8')).toBe(await readFile(join(root, 'operator/main.ts'), 'utf8'));
  });
});

describe('the pause image', () => {
  let image: OpenedImage;

  beforeAll(async () => {
    const built = await buildImage('pause');
    const key = built.image.split(':').at(-1) ?? '';
    expect(built.image).toBe(`${spec.pause.repository}:${key}`);
    image = await openImage(built.tar, key, join(work, 'pause'));
  });

  // Alone: no libraries and no loader, so the program that runs below is statically linked.
  it('is the pause program alone, run as 65535:65535', async () => {
    expect(image.config).toMatchObject({ User: spec.pause.user, Entrypoint: spec.pause.entrypoint });
    expect(await walk(image.rootfs)).toEqual(['pause']);
  });

  it('blocks until SIGTERM, reaps an orphan it inherits as PID 1, and exits 0', async () => {
    const pause = await startInBundle(image.bundle, runcState, { args: spec.pause.entrypoint });
    try {
      const pid = await pause.pid();
      // A shell in the sandbox's PID namespace starts `sleep` and exits: the orphan becomes pause's child.
      await run('nsenter', ['--target', String(pid), '--pid', '--', '/bin/sh', '-c', 'sleep 3 </dev/null >/dev/null 2>&1 & exit 0']);
      const [orphan] = await eventually(
        async () => {
          const children = await childrenOf(pid);
          return children.length === 1 && children;
        },
        'the orphaned sleep to be adopted by pause',
        10_000,
      );
      expect(await readFile(`/proc/${orphan}/comm`, 'utf8')).toBe('sleep\n');
      // Once it exits, pause waits for it: no zombie is left in the process table.
      await eventually(
        async () => (await readFile(`/proc/${orphan}/stat`, 'utf8').catch(() => 'gone')) === 'gone',
        'the orphan to be reaped',
        15_000,
      );
      expect(await childrenOf(pid)).toEqual([]);
      expect(await readFile(`/proc/${pid}/comm`, 'utf8')).toBe('pause\n');
    } finally {
      pause.stop();
    }
    const result = await pause.done;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('shutting down, got signal: terminated');
  });
});
