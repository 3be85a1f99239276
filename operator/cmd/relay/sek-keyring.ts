// The SEK versions the relay uses: the current one encrypts at intake (its KV version goes into the
// KEY_VERSION_HEADER); delivery decrypts with the version a message names, read from Vault on
// demand (a message stored before a rotation still decrypts). Keys live in private, non-enumerable
// fields and are registered with the log redactor as they are read.

import type { VersionedSek, VersionedSekSource } from '../../internal/sek/key-rotation.ts';
import { redactor } from '../../runtime/redact.ts';

export class SekKeyring {
  private readonly source: VersionedSekSource;
  private readonly byVersion = new Map<number, Promise<string>>();
  private currentSek: Promise<VersionedSek> | undefined;

  constructor(source: VersionedSekSource) {
    this.source = source;
    // Keys are not enumerable: an inspected or spread keyring shows none of them.
    for (const field of ['byVersion', 'currentSek']) Object.defineProperty(this, field, { enumerable: false });
  }

  /** The current SEK (read once; the operator restarts the relay when the SEK rotates). */
  current(): Promise<VersionedSek> {
    if (!this.currentSek) {
      const read = this.source().then((sek) => {
        redactor.register(sek.value);
        this.byVersion.set(sek.version, Promise.resolve(sek.value));
        return sek;
      });
      // A failed read is not cached: the next message tries again.
      read.catch(() => {
        if (this.currentSek === read) this.currentSek = undefined;
      });
      this.currentSek = read;
    }
    return this.currentSek;
  }

  /** The SEK of one KV version. */
  version(version: number): Promise<string> {
    let entry = this.byVersion.get(version);
    if (!entry) {
      entry = this.source(version).then((sek) => {
        redactor.register(sek.value);
        return sek.value;
      });
      entry.catch(() => this.byVersion.delete(version));
      this.byVersion.set(version, entry);
    }
    return entry;
  }

  toJSON(): Record<string, never> {
    return {};
  }
}
