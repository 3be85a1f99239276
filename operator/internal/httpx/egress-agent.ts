// The dispatcher every call to a tenant-controlled endpoint goes through: undici's Agent with a
// connector that checks the address the socket will actually connect to. A host name is resolved by
// our own lookup, which refuses when any address it resolves to is refused, and the socket connects
// to the address that lookup returned, so a name that resolves to a public address for a check and
// to 127.0.0.1 for the connection (DNS rebinding) gains nothing; an IP literal is checked as is.
// Deadlines: the connect timeout, and headers and body timeouts at the whole-request deadline.
// http.ts imports this module on its first call, so that undici is not loaded at start-up.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { type AddressCheck, addressCheck, bareAddress, EndpointNotAllowedError } from './address-policy.ts';
import type { EgressPolicy } from './egress-config.ts';

/** Pure: the first refused address among `addresses`, with its range; undefined when all may be reached. */
function firstRefused(addresses: readonly string[], check: AddressCheck): { address: string; range: string } | undefined {
  for (const address of addresses) {
    const range = check(address);
    if (range !== undefined) return { address, range };
  }
  return undefined;
}

/** A `net.connect` lookup that resolves every address and refuses the lot when one is refused. */
export function guardedLookup(check: AddressCheck, resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refused = firstRefused(
        addresses.map((a) => a.address),
        check,
      );
      if (refused) return callback(new EndpointNotAllowedError(refused.address, refused.range), '', 0);
      const first = addresses[0];
      if (options.all) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, addresses);
      return callback(null, first?.address ?? '', first?.family ?? 0);
    });
  };
}

function createAgent(policy: EgressPolicy, caBundle: string | undefined): Agent {
  const check = addressCheck(policy);
  // One TLS context per Agent, made once: `ca` given to each connection instead makes OpenSSL parse the
  // whole root store again for every socket (some 0.8 MiB of native memory and a few ms of CPU each;
  // 200 open connections held 157 MiB more RSS that way).
  const secureContext = caBundle ? createSecureContext({ ca: [...rootCertificates, caBundle] }) : undefined;
  const connector = buildConnector({
    timeout: policy.connectTimeoutMs,
    lookup: guardedLookup(check),
    ...(secureContext ? { secureContext } : {}),
  });
  return new Agent({
    headersTimeout: policy.timeoutMs,
    bodyTimeout: policy.timeoutMs,
    // undici's own cap, one byte over ours, counted as bytes arrive (capped-body.ts counts as they are read).
    maxResponseSize: policy.maxResponseBytes + 1,
    connect: (options, callback) => {
      const host = bareAddress(options.hostname);
      const range = isIP(host) === 0 ? undefined : check(host);
      if (range !== undefined) return callback(new EndpointNotAllowedError(host, range), null);
      return connector(options, callback);
    },
  });
}

const agents = new Map<string, Agent>();
/** Distinct CA bundles are few (one per integration that names one); past this the oldest pool is closed. */
const MAX_AGENTS = 64;

/** One Agent (and connection pool) per distinct policy and CA bundle, shared by every client using them. */
function egressAgent(policy: EgressPolicy, caBundle: string | undefined): Agent {
  const key = JSON.stringify([policy, caBundle ?? '']);
  let agent = agents.get(key);
  if (!agent) {
    agent = createAgent(policy, caBundle);
    agents.set(key, agent);
    const [oldest] = agents.keys();
    if (agents.size > MAX_AGENTS && oldest !== undefined) {
      void agents.get(oldest)?.close();
      agents.delete(oldest);
    }
  }
  return agent;
}

/** undici's fetch through the sandboxed Agent (Node's global fetch takes no dispatcher of this undici). */
export function egressFetch(policy: EgressPolicy, caBundle: string | undefined): typeof fetch {
  const agent = egressAgent(policy, caBundle);
  const withAgent = (input: URL | string, init?: RequestInit) =>
    undiciFetch(input, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent });
  return withAgent as unknown as typeof fetch;
}
