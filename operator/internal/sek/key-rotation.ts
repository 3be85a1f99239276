// A worker that runs while its site's SEK is rotated switches to the new key between batches.
// The operator raises the pod annotation `cloudconnect.dev/sek-version`, which the container sees as
// a file (downward API, CLOUDCONNECT_SEK_VERSION_FILE); before each batch the worker reads that file
// and, when it names a newer version than the key in use, reads that version from Vault. Envelopes
// carry the key's fingerprint (`kid`) so the receiver knows which version encrypted each batch.
import { readFile } from 'node:fs/promises';
import { type BatchContext, type BatchEncryptor, type Envelope, SekEncryptor } from './crypto.ts';
import { fingerprint } from './identity.ts';

export interface VersionedSek {
  value: string;
  version: number;
}

/** Reads the SEK: the current version, or the one asked for. */
export type VersionedSekSource = (version?: number) => Promise<VersionedSek>;

export interface RotatingEncryptorOptions {
  initial: VersionedSek;
  siteNumber: string;
  /** The downward-API file holding the version the operator last announced; absent outside a pod. */
  versionFile?: string;
  source: VersionedSekSource;
  onRotate?: (from: number, to: number, fingerprint: string) => void;
  /** A newer version was announced but could not be read; the current key stays in use. */
  onRefreshFailed?: (version: number, error: unknown) => void;
  /** Registers a newly read key with the log redactor. */
  onKey?: (value: string) => void;
}

/** Pure: the version a version file announces, or undefined for a missing, empty or garbled file. */
export function announcedVersion(text: string | undefined): number | undefined {
  const value = Number((text ?? '').trim());
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

export class RotatingEncryptor implements BatchEncryptor {
  readonly siteNumber: string;
  private encryptor: SekEncryptor;
  private kid: string;
  private keyVersion: number;
  private readonly options: RotatingEncryptorOptions;

  constructor(options: RotatingEncryptorOptions) {
    this.options = options;
    // The options hold the first SEK: not enumerable, so an inspected or spread encryptor shows nothing of it.
    Object.defineProperty(this, 'options', { enumerable: false });
    this.siteNumber = options.siteNumber;
    this.encryptor = new SekEncryptor(options.initial.value, options.siteNumber);
    this.kid = fingerprint(options.initial.value);
    this.keyVersion = options.initial.version;
  }

  /** The KV version of the key in use. */
  get version(): number {
    return this.keyVersion;
  }

  /** Switches to a newer announced version, if any. Never throws: a failed read keeps the current key. */
  async refresh(): Promise<void> {
    const { versionFile } = this.options;
    if (!versionFile) return;
    const announced = announcedVersion(await readFile(versionFile, 'utf8').catch(() => undefined));
    if (announced === undefined || announced <= this.keyVersion) return;
    try {
      const next = await this.options.source(announced);
      this.options.onKey?.(next.value);
      const previous = this.keyVersion;
      this.encryptor = new SekEncryptor(next.value, this.siteNumber);
      this.kid = fingerprint(next.value);
      this.keyVersion = next.version;
      this.options.onRotate?.(previous, next.version, this.kid);
    } catch (error) {
      this.options.onRefreshFailed?.(announced, error);
    }
  }

  encryptBatch(context: BatchContext, records: readonly unknown[]): Envelope {
    return { ...this.encryptor.encryptBatch(context, records), kid: this.kid };
  }

  toJSON(): Record<string, string | number> {
    return { siteNumber: this.siteNumber, version: this.keyVersion };
  }
}
