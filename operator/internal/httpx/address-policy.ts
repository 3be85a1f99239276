// Pure: which IP addresses a call to a tenant-controlled endpoint (an EMR or Ocean URL) may connect
// to. Addresses that are not on the public internet (loopback, link-local and its cloud metadata
// service, unspecified, private and unique-local, shared address space, multicast, reserved) are
// refused unless the operator allows a range that covers them (EGRESS_ALLOW_CIDRS); ranges the
// operator denies (EGRESS_DENY_CIDRS: the cluster's Service and Pod ranges when they are not
// private ones) are refused even when allowed. Node's BlockList does the matching; an IPv4 rule
// also matches the IPv4-mapped IPv6 form (::ffff:127.0.0.1), so that form is no way around it.
import { BlockList, isIP } from 'node:net';

/** The ranges refused by default, each with the name an error gives it. */
const NON_PUBLIC_RANGES: readonly { cidr: string; name: string }[] = [
  { cidr: '0.0.0.0/8', name: 'unspecified' },
  { cidr: '127.0.0.0/8', name: 'loopback' },
  { cidr: '10.0.0.0/8', name: 'private' },
  { cidr: '172.16.0.0/12', name: 'private' },
  { cidr: '192.168.0.0/16', name: 'private' },
  { cidr: '100.64.0.0/10', name: 'shared address space' },
  { cidr: '169.254.0.0/16', name: 'link-local' },
  { cidr: '192.0.0.0/24', name: 'IETF protocol assignment' },
  { cidr: '198.18.0.0/15', name: 'benchmarking' },
  { cidr: '224.0.0.0/4', name: 'multicast' },
  { cidr: '240.0.0.0/4', name: 'reserved' },
  { cidr: '::/128', name: 'unspecified' },
  { cidr: '::1/128', name: 'loopback' },
  { cidr: 'fe80::/10', name: 'link-local' },
  { cidr: 'fc00::/7', name: 'unique-local' },
  { cidr: 'ff00::/8', name: 'multicast' },
];

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `a.b.c.d/n` or `x:y::/n`; a bare address is its own /32 or /128. Undefined when it is not one. */
export function parseCidr(text: string): Cidr | undefined {
  const [address = '', prefixText, ...rest] = text.trim().split('/');
  const version = isIP(address);
  if (rest.length > 0 || version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** A comma-separated list of CIDRs (blanks ignored): the parsed ones, and the entries that are not CIDRs. */
export function parseCidrList(text: string): { cidrs: Cidr[]; invalid: string[] } {
  const cidrs: Cidr[] = [];
  const invalid: string[] = [];
  for (const entry of text.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const cidr = parseCidr(entry);
    if (cidr) cidrs.push(cidr);
    else invalid.push(entry);
  }
  return { cidrs, invalid };
}

export interface AddressPolicy {
  /** Ranges allowed although they are not public (the local demo: 127.0.0.0/8). */
  allow: readonly Cidr[];
  /** Ranges refused whatever `allow` says (the cluster's own ranges when they are public addresses). */
  deny: readonly Cidr[];
}

/** The connection was refused by the sandbox: the host is, or resolves to, a refused address. */
export class EndpointNotAllowedError extends Error {
  readonly code = 'EGRESS_REFUSED';
  constructor(address: string, range: string) {
    super(`the endpoint resolves to ${address}, a ${range} address the operator does not allow (EGRESS_ALLOW_CIDRS)`);
    this.name = 'EndpointNotAllowedError';
  }
}

/** Decides for one address: undefined when it may be connected to, else the name of the refused range. */
export type AddressCheck = (address: string) => string | undefined;

function blockListOf(cidrs: readonly Cidr[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) list.addSubnet(c.address, c.prefix, c.family);
  return list;
}

/** `[::1]` (a URL's hostname) and `fe80::1%eth0` (a zone) → the bare address. */
export function bareAddress(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
}

export function addressCheck(policy: AddressPolicy): AddressCheck {
  const allow = blockListOf(policy.allow);
  const deny = blockListOf(policy.deny);
  const ranges = NON_PUBLIC_RANGES.map((r) => ({ name: r.name, list: blockListOf([parseCidr(r.cidr) as Cidr]) }));
  return (host) => {
    const address = bareAddress(host);
    const version = isIP(address);
    if (version === 0) return 'not an IP address';
    const family = version === 4 ? 'ipv4' : 'ipv6';
    if (deny.check(address, family)) return 'denied';
    if (allow.check(address, family)) return undefined;
    return ranges.find((r) => r.list.check(address, family))?.name;
  };
}
