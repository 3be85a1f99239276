// The project's image on the real node: built (or reused from the cache) by test/image/build.sh
// through test/image/bundle.ts, and loaded into the node's containerd by test/image/import.sh
// (skipped when it is already there).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type BuiltImage, buildImage } from '../image/bundle.ts';
import { repoRoot } from '../integration/kubectl.ts';

const run = promisify(execFile);

/** Builds the operator image and imports it into the containerd at `containerdAddress`; its name. */
export async function operatorImageOnNode(containerdAddress: string): Promise<string> {
  const image: BuiltImage = await buildImage('operator');
  await run(`${repoRoot}/test/image/import.sh`, [image.tar, containerdAddress], { cwd: repoRoot, maxBuffer: 1 << 26 });
  return image.image;
}
