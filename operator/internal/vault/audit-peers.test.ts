import { describe, expect, it } from 'vitest';
import { parsePeerList } from './audit-peers.ts';

describe('the audit peer allow list', () => {
  const { peers, invalid } = parsePeerList('10.0.3.7, 10.0.4.0/24, fd00::/64');

  it.each([
    ['allows a listed address', '10.0.3.7', true],
    ['allows an address in a listed range', '10.0.4.200', true],
    ['allows an IPv4 peer seen by a dual-stack listener', '::ffff:10.0.4.9', true],
    ['allows an address in a listed IPv6 range', 'fd00::17', true],
    ['refuses the next address', '10.0.3.8', false],
    ['refuses an address outside the range', '10.0.5.1', false],
    ['refuses loopback when it is not listed', '127.0.0.1', false],
    ['refuses a peer without an address', undefined, false],
  ] as const)('%s', (_n, remote, allowed) => {
    expect(peers.allows(remote)).toBe(allowed);
  });

  it('reads every entry', () => {
    expect(invalid).toEqual([]);
    expect(peers.entries).toEqual(['10.0.3.7', '10.0.4.0/24', 'fd00::/64']);
  });

  it.each([
    ['a host name', 'vault.vault.svc'],
    ['a prefix too long for IPv4', '10.0.0.0/33'],
    ['a prefix that is not a number', '10.0.0.0/x'],
    ['two slashes', '10.0.0.0/8/8'],
  ])('refuses %s', (_n, entry) => {
    expect(parsePeerList(`10.0.0.1, ${entry}`).invalid).toEqual([entry]);
  });
});
