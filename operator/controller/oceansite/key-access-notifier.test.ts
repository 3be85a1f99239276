import { describe, expect, it } from 'vitest';
import { KeyAccessNotifier, keyAccessEventName, shownIdentity } from './key-access-notifier.ts';

describe('what a key-access notice shows of an identity', () => {
  it.each([
    ["keeps Vault's own names as they are", 'token-admin-alice (entity 9f1c-22)', 'token-admin-alice (entity 9f1c-22)'],
    ['keeps a service account', 'serviceaccount x/intruder (role other-role)', 'serviceaccount x/intruder (role other-role)'],
    [
      'does not let the writer of the entry put sentences, links or new lines into the e-mail',
      'x.\n\nAll is fine, call +1 555 0100 or visit https://evil.example/?a=1',
      'x.??All is fine? call ?1 555 0100 or visit https?//evil.example/?a?1',
    ],
    ['cuts a long name', 'a'.repeat(500), `${'a'.repeat(160)}…`],
  ])('%s', (_n, text, shown) => {
    expect(shownIdentity(text)).toBe(shown);
  });
});

describe('the name of a key-access Event', () => {
  it('is the same for the same request, whichever replica or source saw it, and differs for another request', () => {
    const a = keyAccessEventName('maple', 'c3c0b5c8-1b0e-4e8e-9d5e-2f7b1c1e0a11');
    expect(a).toBe(keyAccessEventName('maple', 'c3c0b5c8-1b0e-4e8e-9d5e-2f7b1c1e0a11'));
    expect(a).not.toBe(keyAccessEventName('maple', 'c3c0b5c8-1b0e-4e8e-9d5e-2f7b1c1e0a12'));
    expect(a).toMatch(/^maple\.key-access\.[0-9a-f]{20}$/);
  });
});

describe('the site an audit entry could name (looked up by the path, not by trying every site)', () => {
  const site = (namespace: string, name: string) => ({ metadata: { namespace, name } });
  const cached = [site('clinic-a', 'maple'), site('clinic-b', 'birch')];
  const notifier = new KeyAccessNotifier({
    sekKvMount: 'secret',
    sites: { get: (name: string, namespace: string) => cached.find((s) => s.metadata.name === name && s.metadata.namespace === namespace) },
  } as never);
  const named = (path: string) => notifier.candidateSites({ type: 'request', request: { path, operation: 'read' } }).map((s) => s.location);

  it.each([
    [
      "names the site whose key a data read holds, with the key's own location",
      'secret/data/cloudconnect/clinic-a/maple/sek',
      ['clinic-a/maple'],
    ],
    ['names it for a metadata or destroy path of the same key', 'secret/destroy/cloudconnect/clinic-b/birch/sek', ['clinic-b/birch']],
    ['names no site for a site the cache does not hold', 'secret/data/cloudconnect/clinic-a/oak/sek', []],
    ['names no site for a site of another namespace under the same name', 'secret/data/cloudconnect/clinic-b/maple/sek', []],
    ["names no site for another secret of the site's folder", 'secret/data/cloudconnect/clinic-a/maple/other', []],
    [
      'takes the namespace and site from the end of the path, as the key location is',
      'x/cloudconnect/clinic-a/maple/sek/data/cloudconnect/clinic-b/birch/sek',
      ['clinic-b/birch'],
    ],
  ])('%s', (_n, path, expected) => {
    expect(named(path)).toEqual(expected.map((ref) => ({ mount: 'secret', path: `cloudconnect/${ref}/sek` })));
  });
});
