import { describe, expect, it } from 'vitest';
import { VaultClient } from './client.ts';

describe("the Vault client's own accessors", () => {
  it('remembers the accessor of each of its logins, the newest 64, so its own requests are known across re-logins', () => {
    const client = new VaultClient({ address: 'http://127.0.0.1:1' });
    for (let login = 1; login <= 70; login++) client.rememberOwnAccessor(`accessor-${login}`);
    expect(client.ownAccessors.size).toBe(64);
    expect(client.ownAccessors.has('accessor-70')).toBe(true);
    expect(client.ownAccessors.has('accessor-7')).toBe(true);
    expect(client.ownAccessors.has('accessor-6')).toBe(false);
  });

  it('keeps an accessor seen again as the newest', () => {
    const client = new VaultClient({ address: 'http://127.0.0.1:1' });
    for (let login = 1; login <= 64; login++) client.rememberOwnAccessor(`accessor-${login}`);
    client.rememberOwnAccessor('accessor-1');
    client.rememberOwnAccessor('accessor-65');
    expect(client.ownAccessors.has('accessor-1')).toBe(true);
    expect(client.ownAccessors.has('accessor-2')).toBe(false);
  });
});
