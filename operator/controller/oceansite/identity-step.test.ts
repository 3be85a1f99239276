import { describe, expect, it } from 'vitest';
import { decideIdentity, identityHash } from './identity-step.ts';

const wanted = identityHash({ mount: 'secret', path: 'cloudconnect/ns/maple/sek' }, 'kubernetes');

describe('the site identity', () => {
  it.each([
    ['is applied on the first reconcile', undefined, false, 'apply'],
    ['is applied when the key moved', identityHash({ mount: 'secret', path: 'elsewhere' }, 'kubernetes'), true, 'apply'],
    [
      'is applied when the Vault auth mount changed',
      identityHash({ mount: 'secret', path: 'cloudconnect/ns/maple/sek' }, 'k8s'),
      true,
      'apply',
    ],
    ['is read back from Vault on a key recheck', wanted, false, 'verify'],
    ['is left alone between rechecks', wanted, true, 'keep'],
  ] as const)('%s', (_name, applied, fresh, expected) => {
    expect(decideIdentity({ applied, wanted, fresh })).toBe(expected);
  });
});
