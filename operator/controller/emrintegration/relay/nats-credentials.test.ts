import { describe, expect, it } from 'vitest';
import { createNatsTrust } from '../../../internal/relayqueue/nats-trust.ts';
import { credsFingerprint, relayNatsCredsPath } from './nats-credentials.ts';

describe("a relay's NATS user in Vault", () => {
  it("lives under the site's subtree, which the templated sync policy lets only that site's pods read", () => {
    expect(relayNatsCredsPath('clinic', 'maple', 'maple-accuro')).toBe('cloudconnect/clinic/maple/relay/maple-accuro/nats');
  });

  it('is minted again for another signing key or another integration, and kept otherwise', async () => {
    const one = await createNatsTrust({ storage: 1024 ** 2 });
    const two = await createNatsTrust({ storage: 1024 ** 2 });
    expect(credsFingerprint(one.signer, 'clinic', 'a')).toBe(credsFingerprint(one.signer, 'clinic', 'a'));
    expect(credsFingerprint(two.signer, 'clinic', 'a')).not.toBe(credsFingerprint(one.signer, 'clinic', 'a'));
    expect(credsFingerprint(one.signer, 'clinic', 'b')).not.toBe(credsFingerprint(one.signer, 'clinic', 'a'));
  });
});
