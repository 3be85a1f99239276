// VAULT_CACERT: the operator trusts a Vault served by a private CA only through that file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestTls } from '../../../test/integration/tls.ts';
import { VaultClient, VaultUnavailableError } from './client.ts';

let server: Server;
let address = '';
let caFile = '';

beforeAll(async () => {
  const tls = makeTestTls();
  caFile = join(mkdtempSync(join(tmpdir(), 'vault-ca-')), 'ca.crt');
  writeFileSync(caFile, tls.ca);
  server = createServer({ cert: tls.cert, key: tls.key }, (_req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ initialized: true, sealed: false, standby: false }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  address = `https://127.0.0.1:${port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('a Vault behind a private CA', () => {
  it('is reached when the configuration names the CA file (VAULT_CACERT)', async () => {
    const client = new VaultClient({ address, token: 'test-token', caCert: caFile });
    expect(await client.health()).toEqual({ sealed: false, initialized: true });
  });

  it('is refused as unavailable without it (the certificate is not trusted)', async () => {
    const client = new VaultClient({ address, token: 'test-token' });
    await expect(client.health()).rejects.toBeInstanceOf(VaultUnavailableError);
  });
});
