// The egress sandbox's settings (README, "Configuration"): which non-public ranges tenant-controlled
// endpoints may reach, the response size cap and the deadlines. The operator reads them from its
// environment and passes the ones it was given to the sync and relay pods it creates, which read
// them back with the same function.
import { type Env, EnvReader, formatDuration } from '../../runtime/env.ts';
import { type AddressPolicy, type Cidr, parseCidrList } from './address-policy.ts';

export interface EgressPolicy extends AddressPolicy {
  /** Largest response body read from an endpoint, in bytes. */
  maxResponseBytes: number;
  /** Longest wait for a TCP (and TLS) connection. */
  connectTimeoutMs: number;
  /** Longest whole request: connection, answer and the body read to its end. */
  timeoutMs: number;
}

/** Nothing non-public is reachable; 16 MiB; 10 s to connect; 30 s per request. */
export const DEFAULT_EGRESS: EgressPolicy = {
  allow: [],
  deny: [],
  maxResponseBytes: 16 * 1024 * 1024,
  connectTimeoutMs: 10_000,
  timeoutMs: 30_000,
};

export const EGRESS_ENV = {
  allow: 'EGRESS_ALLOW_CIDRS',
  deny: 'EGRESS_DENY_CIDRS',
  maxResponseBytes: 'EGRESS_MAX_RESPONSE_BYTES',
  connectTimeout: 'EGRESS_CONNECT_TIMEOUT',
  timeout: 'EGRESS_TIMEOUT',
} as const;

function readCidrs(r: EnvReader, name: string): Cidr[] {
  const text = r.text(name, { trim: true });
  if (text === undefined) return [];
  const { cidrs, invalid } = parseCidrList(text);
  if (invalid.length > 0) r.problem(`${name} must be comma-separated CIDRs such as 127.0.0.0/8,::1/128`, name, text);
  return cidrs;
}

/** The policy from the environment; problems are recorded in `r` like every other variable's. */
export function readEgress(r: EnvReader): EgressPolicy {
  return {
    allow: readCidrs(r, EGRESS_ENV.allow),
    deny: readCidrs(r, EGRESS_ENV.deny),
    maxResponseBytes: r.int(EGRESS_ENV.maxResponseBytes, { default: DEFAULT_EGRESS.maxResponseBytes, min: 1024, max: 1024 ** 3 }),
    connectTimeoutMs: r.duration(EGRESS_ENV.connectTimeout, { default: DEFAULT_EGRESS.connectTimeoutMs, min: 100 }),
    timeoutMs: r.duration(EGRESS_ENV.timeout, { default: DEFAULT_EGRESS.timeoutMs, min: 100 }),
  };
}

/** Outside a reader (tests, tools): the policy of `env`, throwing on a bad value. */
export function egressFromEnv(env: Env): EgressPolicy {
  const r = new EnvReader(env);
  const policy = readEgress(r);
  r.check({ context: 'invalid egress configuration' });
  return policy;
}

const cidrText = (cidrs: readonly Cidr[]) => cidrs.map((c) => `${c.address}/${c.prefix}`).join(',');

/** The variables a pod needs to apply `policy`: only those that differ from the default. */
export function egressEnv(policy: EgressPolicy): { name: string; value: string }[] {
  const env: { name: string; value: string }[] = [];
  if (policy.allow.length > 0) env.push({ name: EGRESS_ENV.allow, value: cidrText(policy.allow) });
  if (policy.deny.length > 0) env.push({ name: EGRESS_ENV.deny, value: cidrText(policy.deny) });
  if (policy.maxResponseBytes !== DEFAULT_EGRESS.maxResponseBytes)
    env.push({ name: EGRESS_ENV.maxResponseBytes, value: String(policy.maxResponseBytes) });
  if (policy.connectTimeoutMs !== DEFAULT_EGRESS.connectTimeoutMs)
    env.push({ name: EGRESS_ENV.connectTimeout, value: formatDuration(policy.connectTimeoutMs) });
  if (policy.timeoutMs !== DEFAULT_EGRESS.timeoutMs) env.push({ name: EGRESS_ENV.timeout, value: formatDuration(policy.timeoutMs) });
  return env;
}
