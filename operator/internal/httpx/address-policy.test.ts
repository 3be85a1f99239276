import { describe, expect, it } from 'vitest';
import { addressCheck, bareAddress, parseCidr, parseCidrList } from './address-policy.ts';

const strict = addressCheck({ allow: [], deny: [] });
const cidrs = (text: string) => parseCidrList(text).cidrs;

describe('which addresses a tenant-controlled endpoint may reach', () => {
  it.each([
    ['refuses IPv4 loopback', '127.0.0.1', 'loopback'],
    ['refuses all of 127.0.0.0/8, not only 127.0.0.1', '127.53.1.2', 'loopback'],
    ['refuses the cloud metadata service (link-local)', '169.254.169.254', 'link-local'],
    ['refuses the unspecified IPv4 address', '0.0.0.0', 'unspecified'],
    ['refuses 10.0.0.0/8 (a typical Pod range)', '10.244.1.7', 'private'],
    ['refuses 172.16.0.0/12 (a typical Service range)', '172.20.0.10', 'private'],
    ['refuses 192.168.0.0/16', '192.168.1.1', 'private'],
    ['refuses shared address space (100.64.0.0/10)', '100.64.0.1', 'shared address space'],
    ['refuses multicast', '224.0.0.251', 'multicast'],
    ['refuses IPv6 loopback', '::1', 'loopback'],
    ['refuses the unspecified IPv6 address', '::', 'unspecified'],
    ['refuses IPv6 link-local, with or without a zone', 'fe80::1%eth0', 'link-local'],
    ['refuses IPv6 unique-local', 'fd12:3456::1', 'unique-local'],
    ['refuses loopback written as an IPv4-mapped IPv6 address', '::ffff:127.0.0.1', 'loopback'],
    ['refuses the metadata service in the hex IPv4-mapped form a URL normalises to', '[::ffff:a9fe:a9fe]', 'link-local'],
    ['refuses a host name (only resolved addresses are decided)', 'localhost', 'not an IP address'],
  ] as const)('%s', (_name, address, range) => {
    expect(strict(address)).toBe(range);
  });

  it.each([
    ['allows a public IPv4 address', '203.0.114.10'],
    ['allows a public IPv6 address', '2001:4860:4860::8888'],
    ['allows a public address just outside 172.16.0.0/12', '172.32.0.1'],
    ['allows a public address just outside 100.64.0.0/10', '100.128.0.1'],
  ] as const)('%s', (_name, address) => {
    expect(strict(address)).toBeUndefined();
  });

  it('allows loopback only as far as EGRESS_ALLOW_CIDRS says', () => {
    const demo = addressCheck({ allow: cidrs('127.0.0.0/8'), deny: [] });
    expect(demo('127.0.0.1')).toBeUndefined();
    expect(demo('::ffff:127.0.0.1')).toBeUndefined();
    expect(demo('::1')).toBe('loopback');
    expect(demo('169.254.169.254')).toBe('link-local');
    expect(demo('10.0.0.1')).toBe('private');
  });

  it('refuses a denied range even when an allowed range covers it', () => {
    const check = addressCheck({ allow: cidrs('10.0.0.0/8'), deny: cidrs('10.96.0.0/12,34.118.224.0/20') });
    expect(check('10.1.2.3')).toBeUndefined();
    expect(check('10.96.0.1')).toBe('denied');
    expect(check('34.118.224.5')).toBe('denied');
  });
});

describe('CIDR lists', () => {
  it('reads IPv4 and IPv6 ranges and bare addresses', () => {
    expect(parseCidr('127.0.0.0/8')).toEqual({ address: '127.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseCidr(' ::1 ')).toEqual({ address: '::1', prefix: 128, family: 'ipv6' });
    expect(parseCidr('10.0.0.1')).toEqual({ address: '10.0.0.1', prefix: 32, family: 'ipv4' });
  });

  it.each([
    ['refuses a prefix longer than the address', '10.0.0.0/33'],
    ['refuses a host name', 'localhost/8'],
    ['refuses a prefix that is not a number', '10.0.0.0/x'],
    ['refuses two slashes', '10.0.0.0/8/8'],
  ] as const)('%s', (_name, text) => {
    expect(parseCidr(text)).toBeUndefined();
  });

  it('names the entries of a list that are not CIDRs, and ignores blanks', () => {
    expect(parseCidrList('127.0.0.0/8, ,nope,::1/128')).toEqual({
      cidrs: [
        { address: '127.0.0.0', prefix: 8, family: 'ipv4' },
        { address: '::1', prefix: 128, family: 'ipv6' },
      ],
      invalid: ['nope'],
    });
  });

  it('strips the brackets of a URL host and the zone of an address', () => {
    expect(bareAddress('[::1]')).toBe('::1');
    expect(bareAddress('fe80::1%eth0')).toBe('fe80::1');
  });
});
