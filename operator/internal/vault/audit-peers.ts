// Who may deliver audit entries over TCP: an allow list of addresses and CIDR ranges (Vault's pods or
// hosts), checked on the peer address of each connection before a byte is read. Vault's socket audit
// device offers neither TLS nor authentication, so on TCP the address is all there is to check.
import { BlockList, isIP } from 'node:net';

export interface PeerList {
  /** The entries as given, for the log. */
  entries: readonly string[];
  allows(remoteAddress: string | undefined): boolean;
}

/** Parses `10.0.3.7, 10.0.4.0/24, fd00::/64`; returns the entries it could not read in `invalid`. */
export function parsePeerList(text: string): { peers: PeerList; invalid: string[] } {
  const list = new BlockList();
  const entries: string[] = [];
  const invalid: string[] = [];
  for (const entry of text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    if (addEntry(list, entry)) entries.push(entry);
    else invalid.push(entry);
  }
  return {
    peers: { entries, allows: (remote) => remote !== undefined && matches(list, remote) },
    invalid,
  };
}

function addEntry(list: BlockList, entry: string): boolean {
  const [address = '', prefix, ...extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra.length > 0) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (prefix === undefined) {
    list.addAddress(address, type);
    return true;
  }
  const bits = Number(prefix);
  if (!/^\d{1,3}$/.test(prefix) || bits > (family === 4 ? 32 : 128)) return false;
  list.addSubnet(address, bits, type);
  return true;
}

/** A dual-stack listener sees IPv4 peers as `::ffff:a.b.c.d`; they are checked as the IPv4 address. */
function matches(list: BlockList, remote: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote)?.[1];
  const address = mapped ?? remote;
  const family = isIP(address);
  if (family === 0) return false;
  return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
