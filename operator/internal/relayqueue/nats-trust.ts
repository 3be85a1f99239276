// The NATS trust chain of the relay queue, made once per installation (operator/cmd/nats-setup):
// an operator key (signs accounts), the system account, and the CLOUDCONNECT account with JetStream
// enabled, bounded by `storage` bytes, with `max_bytes_required` so that every stream must declare its
// byte limit and the server reserves it: the integrations' limits together can never exceed the
// account's store, so one integration filling its own stream cannot take another's space. The
// server's configuration (`serverAuthConfig`) trusts the operator JWT and preloads both account JWTs
// in a memory resolver; the Cloud Connect operator gets only the account's public key and the seed of
// its signing key (`AccountSigner`). The operator and account identity seeds are needed only to
// change the account (its limits, a new signing key, revocations): keep them offline.
import { encodeAccount, encodeOperator } from '@nats-io/jwt';
import { createAccount, createOperator, type KeyPair } from '@nats-io/nkeys';
import type { AccountSigner } from './nats-auth.ts';

const ACCOUNT_NAME = 'CLOUDCONNECT';

export interface NatsTrust {
  operatorJwt: string;
  systemAccount: string;
  systemAccountJwt: string;
  account: string;
  accountJwt: string;
  /** What the Cloud Connect operator holds. */
  signer: AccountSigner;
  /** Keep offline: they re-sign the account (limits, signing keys, revocations). */
  offline: { operatorSeed: string; accountSeed: string; systemAccountSeed: string };
}

export interface TrustOptions {
  /** JetStream file storage of the CLOUDCONNECT account in bytes (every integration's limits must fit). */
  storage: number;
  /** Largest message in bytes (the server's max_payload is the other bound). */
  maxPayload?: number;
}

const seedOf = (kp: KeyPair) => new TextDecoder().decode(kp.getSeed());

export async function createNatsTrust(options: TrustOptions): Promise<NatsTrust> {
  const operator = createOperator();
  const system = createAccount();
  const account = createAccount();
  const signing = createAccount();
  const operatorJwt = await encodeOperator('cloudconnect', operator, { system_account: system.getPublicKey() });
  const systemAccountJwt = await encodeAccount('SYS', system, {}, { signer: operator });
  const accountJwt = await encodeAccount(
    ACCOUNT_NAME,
    account,
    {
      signing_keys: [signing.getPublicKey()],
      limits: {
        // No memory streams, file streams only, each with a declared byte limit that is reserved.
        mem_storage: 0,
        disk_storage: options.storage,
        max_bytes_required: true,
        streams: -1,
        consumer: -1,
        subs: -1,
        conn: -1,
        data: -1,
        payload: options.maxPayload ?? -1,
        imports: 0,
        exports: 0,
        wildcards: true,
        leaf: 0,
        disallow_bearer: true,
      },
    },
    { signer: operator },
  );
  return {
    operatorJwt,
    systemAccount: system.getPublicKey(),
    systemAccountJwt,
    account: account.getPublicKey(),
    accountJwt,
    signer: { account: account.getPublicKey(), signingKeySeed: seedOf(signing) },
    offline: { operatorSeed: seedOf(operator), accountSeed: seedOf(account), systemAccountSeed: seedOf(system) },
  };
}

/** The part of nats-server's configuration that turns authentication on (include it, or append it). */
export function serverAuthConfig(
  trust: Pick<NatsTrust, 'operatorJwt' | 'systemAccount' | 'systemAccountJwt' | 'account' | 'accountJwt'>,
): string {
  return [
    '# Decentralized JWT authentication (made by operator/cmd/nats-setup): only users signed by the',
    '# CLOUDCONNECT account signing key connect; no anonymous user exists.',
    `operator: ${trust.operatorJwt}`,
    `system_account: ${trust.systemAccount}`,
    'resolver: MEMORY',
    'resolver_preload: {',
    `  ${trust.systemAccount}: ${trust.systemAccountJwt}`,
    `  ${trust.account}: ${trust.accountJwt}`,
    '}',
    '',
  ].join('\n');
}
