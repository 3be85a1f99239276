// Reads the webhook key record from Vault with the relay's own login (the sync role, or
// VAULT_TOKEN outside a pod), the login the SEK is read with. One VaultClient, so the login is
// reused until its lease is mostly spent instead of repeated at every refresh.
import { type WorkerConfig, WorkerError } from '../../internal/sitepod/pod-env.ts';
import { VaultClient, VaultPermissionError } from '../../internal/vault/client.ts';
import { WEBHOOK_KEY_FIELDS } from './api-key.ts';
import type { WebhookKeySource } from './api-key-store.ts';

export function vaultWebhookKeySource(config: WorkerConfig, path: string): WebhookKeySource {
  const { vault, sek } = config;
  const client = new VaultClient({
    address: vault.address,
    ...(vault.token ? { token: vault.token } : {}),
    ...(vault.role ? { role: vault.role } : {}),
    authMount: vault.authMount,
    serviceAccountTokenFile: vault.serviceAccountTokenFile,
  });
  return async () => {
    try {
      // Only the keys and the salt are secrets; the times stay readable in logs.
      const out = await client.kvRead(sek.mount, path, undefined, {
        secretFields: [WEBHOOK_KEY_FIELDS.current, WEBHOOK_KEY_FIELDS.previous, WEBHOOK_KEY_FIELDS.idSalt],
      });
      if (!out) throw new WorkerError('WebhookKeyUnavailable', `no webhook key at ${sek.mount}/${path}`);
      return out.data;
    } catch (error) {
      if (error instanceof WorkerError) throw error;
      if (error instanceof VaultPermissionError)
        throw new WorkerError('WebhookKeyUnavailable', `Vault denied reading the webhook key at ${sek.mount}/${path}`);
      throw new WorkerError('WebhookKeyUnavailable', `cannot read the webhook key at ${sek.mount}/${path}: ${(error as Error).message}`);
    }
  };
}
