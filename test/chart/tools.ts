// The pinned helm and actionlint builds (test/cluster/go/{helm,actionlint}) for the chart tests, and
// `helm template` parsed into objects. A missing binary is an error that says how to build it: the
// tests never skip.
import { type ExecFileException, execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

export const repoRoot = new URL('../..', import.meta.url).pathname;
export const chartDir = `${repoRoot}charts/cloudconnect-operator`;

/** Path of a pinned tool's cached build; throws with the command that builds it when it is not built. */
export function toolPath(name: 'helm' | 'actionlint'): string {
  const path = execFileSync(`${repoRoot}test/cluster/bin-path.sh`, [name], { encoding: 'utf8' }).trim();
  if (!existsSync(path)) {
    throw new Error(
      `${name} is not built (expected ${path}): run \`make cluster-binaries\` (or \`test/cluster/build.sh ${name}\`), which builds it from the Go module proxy`,
    );
  }
  return path;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A finished child's exit code: 0 without an error, its own code, or 1 when it has none (a signal). */
function exitCodeOf(error: ExecFileException | null): number {
  if (!error) return 0;
  return typeof error.code === 'number' ? error.code : 1;
}

export function run(bin: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      bin,
      args,
      { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: exitCodeOf(error), stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** `helm template` of the chart with `--set`/`-f` arguments: the rendered YAML and its objects. */
export async function renderChart(
  args: string[] = [],
  release = 'cc',
  namespace = 'cloudconnect-system',
): Promise<{ yaml: string; objects: K8sObject[] }> {
  const out = await run(toolPath('helm'), ['template', release, chartDir, '--namespace', namespace, ...args]);
  if (out.code !== 0) throw new Error(`helm template ${args.join(' ')} failed: ${out.stderr}`);
  const objects = parseAllDocuments(out.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
  return { yaml: out.stdout, objects };
}

/** The one object of `kind` (and `name` when given); throws listing what there is. */
export function findOne<T = K8sObject>(objects: K8sObject[], kind: string, name?: string): T {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1)
    throw new Error(
      `expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`,
    );
  return found[0] as T;
}
