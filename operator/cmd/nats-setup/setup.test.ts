import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from '@nats-io/jwt';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSetupArgs, parseSize, writeNatsSetup } from './setup.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('nats-setup', () => {
  it.each([
    ['bytes', '1048576', 1_048_576],
    ['gibibytes', '10Gi', 10 * 1024 ** 3],
    ['mebibytes', '8Mi', 8 * 1024 ** 2],
    ['not a size', '10GB', undefined],
    ['zero', '0', undefined],
  ])('reads a size in %s', (_name, text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it('needs --out and refuses a bad size, as usage errors', () => {
    expect(() => parseSetupArgs([])).toThrow(/--out DIR is required/);
    expect(() => parseSetupArgs(['--out', 'x', '--storage', 'lots'])).toThrow(/--storage must be a size/);
    expect(parseSetupArgs(['--out', 'x'])).toEqual({ out: 'x', storage: 10 * 1024 ** 3, maxPayload: 8 * 1024 ** 2 });
  });

  it('writes the server config, the account key and a private signing key, and never overwrites them', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'nats-setup-')), 'auth');
    dirs.push(out);
    const account = await writeNatsSetup({ out, storage: 1024 ** 3, maxPayload: 8 * 1024 ** 2 });
    expect((await readFile(join(out, 'account'), 'utf8')).trim()).toBe(account);
    const seed = (await readFile(join(out, 'signing-key'), 'utf8')).trim();
    expect(seed).toMatch(/^SA[A-Z2-7]{56}$/);
    expect((await stat(join(out, 'signing-key'))).mode & 0o077).toBe(0);
    expect((await stat(join(out, 'offline-keys.json'))).mode & 0o077).toBe(0);
    const conf = await readFile(join(out, 'auth.conf'), 'utf8');
    expect(conf).toMatch(/^resolver: MEMORY$/m);
    expect(conf).not.toContain(seed);
    const accountJwt = new RegExp(`^  ${account}: (\\S+)$`, 'm').exec(conf)?.[1] ?? '';
    const claims = decode<{ limits: Record<string, unknown>; signing_keys: string[] }>(accountJwt);
    expect(claims.nats.limits).toMatchObject({ disk_storage: 1024 ** 3, max_bytes_required: true, mem_storage: 0 });
    expect(claims.nats.signing_keys).toHaveLength(1);
    await expect(writeNatsSetup({ out, storage: 1024 ** 3, maxPayload: 1024 })).rejects.toThrow(/EEXIST/);
    expect((await readFile(join(out, 'signing-key'), 'utf8')).trim()).toBe(seed);
  });
});
