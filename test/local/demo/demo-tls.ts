// The demo CA, made at start with openssl (as test/integration/tls.ts does): a CA and one server
// certificate for the simulators' host address (plus 127.0.0.1 and localhost). The private keys
// are read into memory and their files removed at once; only the CA certificate is written out.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DemoTls {
  ca: string;
  cert: string;
  key: string;
}

/** subjectAltName entries for a host address: always loopback and localhost too. */
export function subjectAltNames(host: string): string {
  const names = new Set(['IP:127.0.0.1', 'DNS:localhost', isIP(host) ? `IP:${host}` : `DNS:${host}`]);
  return [...names].join(',');
}

export function makeDemoTls(host: string, days = 30): DemoTls {
  const dir = mkdtempSync(join(tmpdir(), 'cc-demo-tls-'));
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  try {
    const key = ['-newkey', 'rsa:2048', '-nodes'];
    run(['req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', String(days), '-subj', '/CN=cloudconnect-demo-ca']);
    run(['req', ...key, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${host}`]);
    writeFileSync(join(dir, 'san.ext'), `subjectAltName=${subjectAltNames(host)}\n`);
    const sign = ['-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', String(days), '-extfile', 'san.ext'];
    run(['x509', '-req', '-in', 'server.csr', ...sign, '-out', 'server.crt']);
    return {
      ca: readFileSync(join(dir, 'ca.crt'), 'utf8'),
      cert: readFileSync(join(dir, 'server.crt'), 'utf8'),
      key: readFileSync(join(dir, 'server.key'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
