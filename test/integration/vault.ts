// Direct Vault HTTP calls for tests (what a sync pod or an administrator would do).
import { inject } from 'vitest';

export interface VaultJson {
  data?: { data?: Record<string, string>; metadata?: { version: number }; current_version?: number; [key: string]: unknown };
  auth?: { client_token: string };
  errors?: string[];
}

export async function vaultRequest(
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; json: VaultJson | undefined }> {
  const cluster = inject('cluster');
  const res = await fetch(`${cluster.vaultAddr}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': token ?? cluster.vaultToken, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as VaultJson) : undefined };
}
