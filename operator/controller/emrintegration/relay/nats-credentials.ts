// Each relay's NATS user, kept in Vault where only that site's pods read it:
// `<SEK_KV_MOUNT>/cloudconnect/<namespace>/<site>/relay/<integration>/nats`, field `creds` (a creds
// file: the user JWT and its nkey seed), under the templated sync policy that already lets the site's
// ServiceAccount read `<kv>/cloudconnect/<namespace>/<site>/*` and nothing of another site. The
// operator mints a user when none is there, or when the one there was minted for other permissions
// or another signing key (the `fingerprint` field); otherwise it keeps it. The relay's pod template
// carries the KV version, so a new user rolls the relay. The creds never reach status, Events or logs.
import { createHash } from 'node:crypto';
import { fromSeed } from '@nats-io/nkeys';
import { type AccountSigner, mintRelayCreds, relayPermissions } from '../../../internal/relayqueue/nats-auth.ts';
import type { VaultClient } from '../../../internal/vault/client.ts';

/** The KV v2 path (under the SEK mount) of an integration's NATS user. */
export function relayNatsCredsPath(namespace: string, site: string, integration: string): string {
  return `cloudconnect/${namespace}/${site}/relay/${integration}/nats`;
}

/** Pure: what a user must have been minted with to be kept: the account, the signing key and the permissions. */
export function credsFingerprint(signer: AccountSigner, namespace: string, integration: string): string {
  const signingKey = fromSeed(new TextEncoder().encode(signer.signingKeySeed)).getPublicKey();
  return createHash('sha256')
    .update(JSON.stringify([signer.account, signingKey, relayPermissions(namespace, integration)]))
    .digest('hex')
    .slice(0, 32);
}

export interface RelayNatsCredentials {
  path: string;
  /** KV version of the creds: the relay's pod template carries it. */
  version: number;
}

export interface RelayCredentialStore {
  ensure(namespace: string, site: string, integration: string): Promise<RelayNatsCredentials>;
  forget(namespace: string, integration: string): void;
}

export class VaultRelayCredentials implements RelayCredentialStore {
  private readonly vault: VaultClient;
  private readonly mount: string;
  private readonly signer: AccountSigner;
  /** `namespace/integration` → what is in Vault (so Vault is read once per integration and process). */
  private readonly known = new Map<string, RelayNatsCredentials & { fingerprint: string }>();

  constructor(options: { vault: VaultClient; mount: string; signer: AccountSigner }) {
    this.vault = options.vault;
    this.mount = options.mount;
    this.signer = options.signer;
  }

  async ensure(namespace: string, site: string, integration: string): Promise<RelayNatsCredentials> {
    const id = `${namespace}/${integration}`;
    const path = relayNatsCredsPath(namespace, site, integration);
    const fingerprint = credsFingerprint(this.signer, namespace, integration);
    const cached = this.known.get(id);
    if (cached && cached.path === path && cached.fingerprint === fingerprint) return { path, version: cached.version };
    const stored = await this.vault.kvRead(this.mount, path);
    if (stored?.data['creds'] && stored.data['fingerprint'] === fingerprint) {
      this.known.set(id, { path, version: stored.version, fingerprint });
      return { path, version: stored.version };
    }
    const { creds, publicKey } = await mintRelayCreds(this.signer, namespace, integration);
    // cas: a concurrent operator (leader change) that wrote first wins; the next reconcile reads its version.
    const written = await this.vault.kvWrite(this.mount, path, { creds, fingerprint, user: publicKey }, stored?.version ?? 0);
    this.known.set(id, { path, version: written.version, fingerprint });
    return { path, version: written.version };
  }

  forget(namespace: string, integration: string): void {
    this.known.delete(`${namespace}/${integration}`);
  }
}
