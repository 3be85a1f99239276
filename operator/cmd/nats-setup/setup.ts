// `nats-setup --out DIR [--storage SIZE] [--max-payload SIZE]`: makes a new NATS trust chain for the
// relay queue (operator/internal/relayqueue/nats-trust.ts) and writes it as files:
//   auth.conf          nats-server's authentication (operator JWT, system account, resolver preload);
//                      public, but it decides who may connect: the chart mounts it into nats-server
//   account            the CLOUDCONNECT account's public key (the operator's NATS_ACCOUNT)
//   signing-key        the account signing key's seed (NATS_ACCOUNT_SIGNING_KEY_FILE): a secret
//   offline-keys.json  the operator, account and system account seeds: keep them offline; they are
//                      needed only to re-sign the account (new limits, a new signing key, revocations)
// Existing files are never overwritten (a new chain makes every relay user invalid).
import { constants } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createNatsTrust, serverAuthConfig } from '../../internal/relayqueue/nats-trust.ts';

export const USAGE = 'usage: nats-setup --out DIR [--storage SIZE (default 10Gi)] [--max-payload SIZE (default 8Mi)]';

const UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** `10Gi`, `512Mi`, `1048576`: bytes; undefined when not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)(Ki|Mi|Gi|Ti)?$/.exec(text.trim());
  if (!m) return undefined;
  const bytes = Number(m[1]) * (UNITS[m[2] ?? ''] ?? 1);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

export class UsageError extends Error {}

export function parseSetupArgs(argv: readonly string[]): { out: string; storage: number; maxPayload: number } {
  let values: { out?: string; storage?: string; 'max-payload'?: string };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { out: { type: 'string' }, storage: { type: 'string' }, 'max-payload': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!values.out) throw new UsageError('--out DIR is required');
  const storage = parseSize(values.storage ?? '10Gi');
  const maxPayload = parseSize(values['max-payload'] ?? '8Mi');
  if (storage === undefined) throw new UsageError(`--storage must be a size such as 10Gi, got ${JSON.stringify(values.storage)}`);
  if (maxPayload === undefined)
    throw new UsageError(`--max-payload must be a size such as 8Mi, got ${JSON.stringify(values['max-payload'])}`);
  return { out: values.out, storage, maxPayload };
}

/** Writes the four files into `out` (created if missing); fails if any of them exists. Returns the account's public key. */
export async function writeNatsSetup(options: { out: string; storage: number; maxPayload: number }): Promise<string> {
  const trust = await createNatsTrust({ storage: options.storage, maxPayload: options.maxPayload });
  await mkdir(options.out, { recursive: true, mode: 0o700 });
  const files: [string, string, number][] = [
    ['auth.conf', serverAuthConfig(trust), 0o644],
    ['account', `${trust.account}\n`, 0o644],
    ['signing-key', `${trust.signer.signingKeySeed}\n`, 0o600],
    ['offline-keys.json', `${JSON.stringify(trust.offline, null, 2)}\n`, 0o600],
  ];
  for (const [name, text, mode] of files)
    await writeFile(join(options.out, name), text, { mode, flag: constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY });
  return trust.account;
}
