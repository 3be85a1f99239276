// NATS identities of the relay queue (decentralized JWT auth, NATS's own mechanism). One NATS account,
// CLOUDCONNECT, holds every integration's streams; its JWT names an account signing key, which is
// the only key the operator holds. With it the operator mints:
// - its own user (operatorPermissions): the JetStream API, to create and update every integration's
//   streams, read every status record and replay dead letters; it writes no status record;
// - one user per EmrIntegration (relayPermissions): publish to its own work and dead-letter
//   subjects, pull from and ack its own durable consumer, read its own two streams, write and read
//   only its own status key and the keys of its own delivery-record bucket (never that bucket's
//   stream API: no purge, no delete), and receive replies only on its own inbox prefix. Anything else
//   (another integration's subject or consumer, deleting or purging a stream, creating a stream,
//   another status key, the `_INBOX.>` replies of others) is refused by the server.
// The creds text (JWT + nkey seed) is a secret: the relay reads it from Vault, and every seed and
// creds text passes through the redactor before anything could log it.
import { encodeUser, fmtCreds, type Permissions } from '@nats-io/jwt';
import { createUser, fromSeed } from '@nats-io/nkeys';
import { redactor } from '../../runtime/redact.ts';
import { relayQueueNames, STATUS_BUCKET } from './contract.ts';

/** Every subject a relay's user may publish and subscribe to: its own names, nothing else. */
export function relayPermissions(namespace: string, integration: string): Permissions {
  const n = relayQueueNames(namespace, integration);
  const api = '$JS.API';
  return {
    pub: {
      allow: [
        n.subject,
        n.deadSubject,
        `${api}.STREAM.INFO.${n.workStream}`,
        `${api}.STREAM.INFO.${n.deadStream}`,
        `${api}.DIRECT.GET.${n.workStream}`,
        `${api}.DIRECT.GET.${n.deadStream}`,
        `${api}.CONSUMER.INFO.${n.workStream}.${n.consumer}`,
        `${api}.CONSUMER.CREATE.${n.workStream}.${n.consumer}`,
        `${api}.CONSUMER.CREATE.${n.workStream}.${n.consumer}.>`,
        `${api}.CONSUMER.DURABLE.CREATE.${n.workStream}.${n.consumer}`,
        `${api}.CONSUMER.MSG.NEXT.${n.workStream}.${n.consumer}`,
        `$JS.ACK.${n.workStream}.${n.consumer}.>`,
        `$KV.${STATUS_BUCKET}.${n.statusKey}`,
        `${api}.DIRECT.GET.KV_${STATUS_BUCKET}.$KV.${STATUS_BUCKET}.${n.statusKey}`,
        // Its own delivery records: put and get any key of its own bucket, never the bucket's stream API.
        `$KV.${n.deliveryBucket}.>`,
        `${api}.DIRECT.GET.KV_${n.deliveryBucket}.>`,
      ],
    },
    sub: { allow: [`${n.inboxPrefix}.>`] },
  };
}

/** The operator: the JetStream API (streams, consumers, direct gets of status records and dead letters) and replays. */
export function operatorPermissions(): Permissions {
  return {
    pub: { allow: ['$JS.API.>', 'cloudconnect.relay.>'] },
    sub: { allow: ['_INBOX.>'] },
  };
}

/** What the operator holds: the account's public key and a seed of one of its signing keys. */
export interface AccountSigner {
  /** The account's public key (A…), the `issuer_account` of every user. */
  account: string;
  /** The seed of a signing key named in the account JWT (SA…). */
  signingKeySeed: string;
}

/** A new user with its own nkey: the creds file text (`nats` CLI format, what `credsAuthenticator` reads) and its public key. */
export async function mintUserCreds(
  signer: AccountSigner,
  name: string,
  permissions: Permissions,
): Promise<{ creds: string; publicKey: string }> {
  redactor.register(signer.signingKeySeed);
  const signingKey = fromSeed(new TextEncoder().encode(signer.signingKeySeed));
  const user = createUser();
  const seed = new TextDecoder().decode(user.getSeed());
  redactor.register(seed);
  const jwt = await encodeUser(name, user, signer.account, { ...permissions, bearer_token: false }, { signer: signingKey });
  const creds = new TextDecoder().decode(fmtCreds(jwt, user));
  redactor.register(creds);
  return { creds, publicKey: user.getPublicKey() };
}

/** The relay user of one integration. */
export function mintRelayCreds(
  signer: AccountSigner,
  namespace: string,
  integration: string,
): Promise<{ creds: string; publicKey: string }> {
  return mintUserCreds(signer, `relay ${namespace}/${integration}`, relayPermissions(namespace, integration));
}
