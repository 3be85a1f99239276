// What the key step knows of the SEK in Vault: where it is, which version, its fingerprint. Never the key.
import type { KeyLocation } from '../../internal/sek/identity.ts';

export interface KeyState {
  mount: string;
  path: string;
  version: number;
  fingerprint: string;
  storedAt: string;
}

/** The key state of `version` at `location`. */
export function keyStateAt(location: KeyLocation, version: number, fingerprint: string, storedAt: string): KeyState {
  return { mount: location.mount, path: location.path, version, fingerprint, storedAt };
}
