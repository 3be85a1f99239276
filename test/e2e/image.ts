// The project's image for the real node: test/image/build.sh builds it (or reuses the cached one)
// and prints `IMAGE=<name> TAR=<oci archive>` last; test/image/import.sh loads it into the node's containerd.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { repoRoot } from '../integration/kubectl.ts';

const run = promisify(execFile);

export interface BuiltImage {
  name: string;
  tar: string;
}

/** The `IMAGE=… TAR=…` line build.sh ends with. */
export function parseBuildOutput(stdout: string): BuiltImage {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  const name = /(?:^|\s)IMAGE=(\S+)/.exec(last)?.[1];
  const tar = /(?:^|\s)TAR=(\S+)/.exec(last)?.[1];
  if (!name || !tar) throw new Error(`test/image/build.sh did not end with IMAGE=… TAR=… (last line: ${last})`);
  return { name, tar };
}

export async function buildImage(args: string[] = []): Promise<BuiltImage> {
  const { stdout } = await run(`${repoRoot}/test/image/build.sh`, args, { cwd: repoRoot, maxBuffer: 1 << 26 });
  return parseBuildOutput(stdout);
}

/** Loads the archive into the node's containerd (test/image/import.sh: skipped when already there). */
export async function importImage(image: BuiltImage, containerdAddress: string): Promise<void> {
  await run(`${repoRoot}/test/image/import.sh`, [image.tar, containerdAddress], { cwd: repoRoot, maxBuffer: 1 << 26 });
}
