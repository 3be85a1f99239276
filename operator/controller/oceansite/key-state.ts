// What the key step knows of the SEK in Vault: where it is, which version, its fingerprint. Never the key.
export interface KeyState {
  mount: string;
  path: string;
  version: number;
  fingerprint: string;
  storedAt: string;
}
