// Applies the demo clinic for the running demo simulators: writes the non-secret resources to
// .local/demo/demo.yaml (what was applied, for reading) and applies the Secrets from memory through
// kubectl's stdin, so no credential or key is ever on disk outside the 0600 credentials file.
// A new site gets a fresh random SEK to import; an existing one keeps the key it has in Vault.
//
//   node test/local/demo/apply.ts [--local .local]
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { readCredentials } from './credentials.ts';
import { type Kubectl, localAccess } from './kube.ts';
import { DEFAULT_LOCAL_DIR, DEMO_NAMESPACE, DEMO_SITE, demoPaths } from './layout.ts';
import { type DemoSimulatorUrls, demoManifests } from './manifests.ts';

const FIELD_MANAGER = 'cloudconnect-demo';

/** The manifests as a YAML stream (what is written to disk: never a Secret). */
export function toYamlStream(objects: object[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}

async function siteExists(kubectl: Kubectl): Promise<boolean> {
  const out = await kubectl(['get', 'oceansites', '-n', DEMO_NAMESPACE, '--ignore-not-found', '-o', 'name']);
  return out.split('\n').some((l) => l.trim() === `oceansite.cloudconnect.dev/${DEMO_SITE}`);
}

const applyList = (kubectl: Kubectl, items: object[]) =>
  kubectl(
    ['apply', '--server-side', '--force-conflicts', `--field-manager=${FIELD_MANAGER}`, '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
  );

export async function applyDemo(localDir: string, kubectl: Kubectl): Promise<{ resources: number; secrets: number }> {
  const paths = demoPaths(localDir);
  const { urls } = JSON.parse(readFileSync(paths.simulatorsFile, 'utf8')) as { urls: DemoSimulatorUrls };
  const fresh = !(await siteExists(kubectl));
  const manifests = demoManifests({
    urls,
    credentials: readCredentials(paths.credentialsFile),
    ca: readFileSync(paths.caFile, 'utf8'),
    ...(fresh ? { sek: randomBytes(32).toString('base64') } : {}),
  });
  writeFileSync(paths.manifestsFile, toYamlStream(manifests.resources));
  const [namespace, ...rest] = manifests.resources;
  await applyList(kubectl, namespace ? [namespace] : []);
  await applyList(kubectl, manifests.secrets);
  await applyList(kubectl, rest);
  return { resources: manifests.resources.length, secrets: manifests.secrets.length };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { local: { type: 'string' } }, strict: true });
  const localDir = resolve(values.local ?? DEFAULT_LOCAL_DIR);
  const applied = await applyDemo(localDir, localAccess(localDir).kubectl);
  process.stdout.write(
    `applied ${applied.resources} resources (${demoPaths(localDir).manifestsFile}) and ${applied.secrets} Secrets from memory\n`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    process.stderr.write(`demo apply: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
