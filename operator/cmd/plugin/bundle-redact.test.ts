import { describe, expect, it } from 'vitest';
import { Redactor } from '../../runtime/redact.ts';
import { bundleRedactor, redactLog, sanitizeObject, secretSummary } from './bundle-redact.ts';

const sek = 'EFVBBq7Z10Hqy1ea6lDl53tPRgBbD+v35NYwvA6DAXE=';
const password = 'correct-horse-battery-staple';
const secrets = [
  {
    metadata: { name: 'maple-accuro-credentials' },
    type: 'Opaque',
    data: { apiUsername: Buffer.from('maple-api').toString('base64'), apiPassword: Buffer.from(password).toString('base64') },
  },
];
const redactor = bundleRedactor(secrets);

describe('secretSummary', () => {
  it('keeps the name, type and key names of a Secret and drops its values and annotations', () => {
    const summary = secretSummary({ ...secrets[0]!, metadata: { name: 'maple-accuro-credentials', annotations: { note: password } } });
    expect(summary).toEqual({ name: 'maple-accuro-credentials', type: 'Opaque', keys: ['apiPassword', 'apiUsername'], labels: {} });
    expect(JSON.stringify(summary)).not.toContain(password);
  });
});

describe('sanitizeObject', () => {
  it.each([
    [
      'drops kubectl last-applied-configuration, which can quote a Secret',
      {
        metadata: {
          name: 'x',
          annotations: { 'kubectl.kubernetes.io/last-applied-configuration': `{"stringData":{"apiPassword":"${password}"}}` },
        },
      },
    ],
    ['drops managedFields', { metadata: { name: 'x', managedFields: [{ manager: password }] } }],
    ['scrubs a Secret value quoted in an Event message', { kind: 'Event', message: `login as maple-api with ${password} failed` }],
    ['scrubs an SEK-shaped key that no Secret holds any more', { kind: 'Event', message: `imported key ${sek}` }],
    ['replaces patient fields whole', { patient: { firstName: 'Ada', lastName: 'Lovelace-Sim' } }],
  ])('%s', (_name, input) => {
    const out = JSON.stringify(sanitizeObject(input, redactor));
    for (const leak of [password, sek, 'Lovelace-Sim', 'Ada']) expect(out).not.toContain(leak);
  });

  it('scrubs a key pasted into an OceanSite encryptionKey section while keeping the section', () => {
    const out = JSON.stringify(
      sanitizeObject(
        {
          apiVersion: 'cloudconnect.dev/v1alpha1',
          kind: 'OceanSite',
          metadata: { name: 'maple' },
          spec: { encryptionKey: { vault: { mount: 'secret', path: sek } } },
        },
        redactor,
      ),
    );
    expect(out).not.toContain(sek);
    expect(out).toContain('"vault":{"mount":"secret","path":"[REDACTED]"}');
  });

  it('keeps what a support engineer needs: names, references, reasons, fingerprints', () => {
    const out = sanitizeObject(
      {
        apiVersion: 'cloudconnect.dev/v1alpha1',
        metadata: { name: 'maple-accuro' },
        spec: { emr: { accuro: { credentialsSecretRef: { name: 'maple-accuro-credentials' } } } },
        status: { conditions: [{ type: 'Ready', reason: 'EmrUnreachable' }], encryptionKey: { fingerprint: 'a1b2c3d4e5f60718' } },
      },
      redactor,
    );
    expect(out).toMatchObject({
      spec: { emr: { accuro: { credentialsSecretRef: { name: 'maple-accuro-credentials' } } } },
      status: { conditions: [{ reason: 'EmrUnreachable' }], encryptionKey: { fingerprint: 'a1b2c3d4e5f60718' } },
    });
  });
});

describe('a bundle of a namespace whose Secrets hold short values', () => {
  const pin = '7Q!';
  const short = 'k"9%';
  const shortRedactor = bundleRedactor(
    [{ metadata: { name: 'pins' }, data: { pin: Buffer.from(pin).toString('base64'), password: Buffer.from(short).toString('base64') } }],
    new Redactor(),
  );
  it.each([
    ['loses a 4-character password quoted in an Event', `login with ${short} refused`, short],
    [
      'loses it URL-encoded in a logged form body',
      `body grant_type=password&password=${encodeURIComponent(short)}&x=1`,
      encodeURIComponent(short),
    ],
    ['loses it JSON-escaped in an echoed error body', `{"error_description":${JSON.stringify(`bad ${short}`)}}`, 'k\\"9%'],
    ['loses it in base64', `header ${Buffer.from(short).toString('base64')}`, Buffer.from(short).toString('base64')],
    ['loses a 3-character PIN standing alone', `pin=${pin} rejected`, pin],
  ])('%s', (_name, text, leak) => {
    const out = redactLog(text, shortRedactor);
    expect(out).not.toContain(leak);
    expect(out).toContain('[REDACTED]');
  });

  it('keeps a 3-character PIN’s characters inside a longer word', () => {
    expect(redactLog('object x7Q!y', shortRedactor)).toBe('object x7Q!y');
  });
});

describe('redactLog', () => {
  it.each([
    [
      'redacts patient fields of a JSON log line',
      `{"level":"info","message":"synced","patient":{"firstName":"Ada","lastName":"Lovelace-Sim"}}`,
      ['Lovelace-Sim', 'Ada'],
    ],
    [
      'redacts a patient record dumped under another name, contact details included',
      `{"message":"bad record","record":{"firstName":"Ada","lastName":"Lovelace-Sim","healthNumber":"1234567890","email":"ada.lovelace@example.net","address":{"street":"1 Main St","postalCode":"K1A 0B1"}}}`,
      ['Lovelace-Sim', '1234567890', 'ada.lovelace@example.net', 'Main St', 'K1A 0B1'],
    ],
    ['redacts an sek field of a JSON log line', `{"level":"error","sek":"${sek}"}`, [sek]],
    ['scrubs a password in a plain text line', `2026-11-28 login failed password=${password}`, [password]],
    ['scrubs a registered Secret value anywhere in a line', `{"message":"auth with ${password} refused"}`, [password]],
    ['scrubs an SEK in plain text', `key is ${sek}.`, [sek]],
  ])('%s', (_name, line, leaks) => {
    const out = redactLog(line, redactor);
    for (const leak of leaks) expect(out).not.toContain(leak);
    expect(out).toContain('[REDACTED]');
  });

  it('leaves an ordinary line alone', () => {
    const line = '{"level":"info","message":"reconciled","object":"clinic-maple/maple-accuro","reason":"EmrUnreachable"}';
    expect(redactLog(line, redactor)).toBe(line);
  });
});
