import { describe, expect, it } from 'vitest';
import type { OceanSiteSpec } from '../../api/v1alpha1/index.ts';
import { keyLocation } from '../../internal/sek/identity.ts';
import { specError } from './validate.ts';

const spec = (timeZone?: string, vault?: { mount?: string; path?: string }): OceanSiteSpec => ({
  siteNumber: '1234',
  clinicalAdminEmail: 'admin@clinic.example.org',
  ...(timeZone === undefined ? {} : { timeZone }),
  ...(vault === undefined ? {} : { encryptionKey: { vault } }),
});
const own = keyLocation('attacker', 'evil', 'secret');

describe('a spec', () => {
  it.each([
    ['works without a time zone (UTC)', spec(), undefined],
    ['works with a known IANA time zone', spec('America/Toronto'), undefined],
    ['stalls with an unknown time zone', spec('Mars/Olympus'), 'InvalidTimeZone'],
    [
      'works when it spells out its own key location',
      spec(undefined, { mount: 'secret', path: 'cloudconnect/attacker/evil/sek' }),
      undefined,
    ],
    ["stalls when it names another namespace's key", spec(undefined, { path: 'cloudconnect/victim/oak/sek' }), 'KeyLocationNotAllowed'],
    ['stalls when it names a wildcard path', spec(undefined, { path: 'cloudconnect/*/evil/sek' }), 'KeyLocationNotAllowed'],
    ['stalls when it names another mount', spec(undefined, { mount: 'kv' }), 'KeyLocationNotAllowed'],
    ['stalls on the key location before the time zone', spec('Mars/Olympus', { mount: 'kv' }), 'KeyLocationNotAllowed'],
  ])('%s', (_name, s, reason) => {
    expect(specError(s, own)?.reason).toBe(reason);
  });

  it.each([
    [
      'names the path field and the only accepted path',
      { path: 'cloudconnect/victim/oak/sek' },
      'spec.encryptionKey.vault.path "cloudconnect/victim/oak/sek" is not allowed: the only accepted value is "cloudconnect/attacker/evil/sek"',
    ],
    [
      "names the mount field and the operator's mount",
      { mount: 'kv' },
      'spec.encryptionKey.vault.mount "kv" is not allowed: the only accepted value is "secret"',
    ],
  ])('refusing a key location %s', (_name, vault, message) => {
    expect(specError(spec(undefined, vault), own)?.message).toContain(message);
  });
});
