// Writes the chart's copies of the Vault policies (charts/cloudconnect-operator/files/vault/*.hcl,
// printed by NOTES.txt with the mount and accessor filled in) from operator/internal/vault/policies.ts,
// the one source the local and test Vaults are set up from too (`make generate`); `--check` fails on
// drift (`make verify`).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  KV_MOUNT_PLACEHOLDER,
  operatorPolicy,
  SYNC_AUTH_ACCESSOR_PLACEHOLDER,
  syncPolicy,
} from '../../operator/internal/vault/policies.ts';

const DIR = new URL('../../charts/cloudconnect-operator/files/vault', import.meta.url).pathname;

const files = new Map([
  ['operator-policy.hcl', operatorPolicy(KV_MOUNT_PLACEHOLDER)],
  ['sync-policy.hcl', syncPolicy(KV_MOUNT_PLACEHOLDER, SYNC_AUTH_ACCESSOR_PLACEHOLDER)],
]);

const check = process.argv.includes('--check');
const drift: string[] = [];
await mkdir(DIR, { recursive: true });
for (const [name, text] of files) {
  const file = join(DIR, name);
  if (!check) {
    await writeFile(file, text);
  } else if ((await readFile(file, 'utf8').catch(() => '')) !== text) {
    drift.push(file);
  }
}
if (drift.length > 0) {
  console.error(`the chart's Vault policies are out of date (run make generate): ${drift.join(', ')}`);
  process.exit(1);
}
console.log(check ? "the chart's Vault policies are up to date" : `wrote ${[...files.keys()].join(', ')} in ${DIR}`);
