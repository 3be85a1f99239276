// The images test/image/build.sh packs, as declared in spec.json: build.sh reads the JSON itself;
// the tests read it through this module (the Dockerfile against it in test/unit/image-spec.test.ts,
// the built image against it in test/integration/image.test.ts).
import { readFileSync } from 'node:fs';

export interface OperatorImageSpec {
  repository: string;
  /** uid:gid of the process. */
  user: string;
  /** The /etc/passwd name of that user (distroless :nonroot calls 65532 nonroot). */
  userName: string;
  home: string;
  workdir: string;
  /** NAME=value, as the image config lists them. */
  env: string[];
  entrypoint: string[];
  /** Where the Node binary is (distroless' path). */
  node: string;
  /** Paths copied from the repository into WORKDIR (a trailing / is a directory). */
  copy: string[];
  /** File names left out of the copied directories (tests and their helpers). */
  exclude: string[];
  /** The command that installs the production dependencies from package.json + package-lock.json. */
  dependencies: string[];
  labels: Record<string, string>;
}

export interface PauseImageSpec {
  repository: string;
  user: string;
  entrypoint: string[];
}

export interface ImageSpec {
  operator: OperatorImageSpec;
  pause: PauseImageSpec;
}

const imageDir = new URL('.', import.meta.url).pathname;

export function readImageSpec(): ImageSpec {
  return JSON.parse(readFileSync(`${imageDir}spec.json`, 'utf8')) as ImageSpec;
}

/** Whether a file name is left out of the image by one of the spec's exclude names (exact names or `*suffix`). */
export function excludedByName(name: string, exclude: readonly string[]): boolean {
  return exclude.some((pattern) => (pattern.startsWith('*') ? name.endsWith(pattern.slice(1)) : name === pattern));
}
