// Part of the key step: the one-time import of the SEK from a Secret into Vault. Only a Secret of
// type cloudconnect.dev/sek-import is imported: the operator asks the API server for the Secret of
// that name and type, so the data of any other Secret never reaches it, and such a Secret is
// refused (Stalled, ImportSecretNotMarked) without being read, copied or changed. Only the Secret
// that was read is emptied afterwards (its data removed, annotated, owned by the site: the operator
// holds no right to delete Secrets), and an import retried after a crash writes no second version.
// An emptied import Secret counts as absent until someone puts a key in it again.
import { setHeaderOptions, type V1Secret } from '@kubernetes/client-node';
import { type OceanSite, SEK_IMPORT_SECRET_TYPE, SEK_IMPORTED_ANNOTATION } from '../../api/v1alpha1/index.ts';
import { type Kube, MERGE_PATCH } from '../../internal/kube/kube.ts';
import { controllerReference } from '../../internal/kube/owner.ts';
import { fingerprint, type KeyLocation } from '../../internal/sek/identity.ts';
import type { KvMetadata, VaultClient } from '../../internal/vault/client.ts';
import { ignoreStatus, statusCodeOf, TerminalError } from '../../runtime/errors.ts';
import type { Logger } from '../../runtime/logger.ts';
import { redactor } from '../../runtime/redact.ts';
import { type KeyState, keyStateAt } from './key-state.ts';

type KvVersion = Awaited<ReturnType<VaultClient['kvRead']>>;

/** The Stalled reason of an import Secret that is not of type cloudconnect.dev/sek-import. */
export const IMPORT_SECRET_NOT_MARKED = 'ImportSecretNotMarked';

/** Metadata only (no data, no type): how the operator learns that an unmarked Secret exists without reading it. */
const METADATA_ONLY = setHeaderOptions('Accept', 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1');

/** Pure: the field selector that finds the import Secret only when it is marked as one. */
export function markedImportSelector(secretName: string): string {
  return `metadata.name=${secretName},type=${SEK_IMPORT_SECRET_TYPE}`;
}

/** Pure: whether a Secret of this type may be imported (and then emptied). */
export function isMarkedImport(type: string | undefined): boolean {
  return type === SEK_IMPORT_SECRET_TYPE;
}

/** Pure: the stall of an import Secret that exists but is not marked as one. */
export function notMarkedError(secretName: string): TerminalError {
  return new TerminalError(
    IMPORT_SECRET_NOT_MARKED,
    `Secret ${secretName} (spec.encryptionKey.importFrom.secretRef.name) is not of type ${SEK_IMPORT_SECRET_TYPE}: ` +
      'only a Secret created for the import is read, copied into Vault and emptied; it was left untouched',
  );
}

/** Pure: the base64 value of the import Secret's field, or a stall when the field is missing or empty. */
export function importField(data: Record<string, string> | undefined, secretName: string, field: string): string | TerminalError {
  const encoded = data?.[field];
  if (encoded === undefined || encoded === '') {
    return new TerminalError(
      'ImportSecretKeyMissing',
      `Secret ${secretName} has no data field ${JSON.stringify(field)} (spec.encryptionKey.importFrom.secretRef.key)`,
    );
  }
  return encoded;
}

/** Pure: whether an import Secret was consumed already (annotated and emptied by the operator). */
export function consumed(secret: V1Secret): boolean {
  return secret.metadata?.annotations?.[SEK_IMPORTED_ANNOTATION] !== undefined && Object.keys(secret.data ?? {}).length === 0;
}

/**
 * Pure: the merge patch that empties exactly the Secret that was read (its uid and resourceVersion
 * are preconditions: a Secret replaced or changed since is left alone), records the import and makes
 * the site its owner, so the empty Secret is garbage-collected with the site.
 */
export function emptyingPatch(secret: V1Secret, site: OceanSite, at: Date): object {
  return {
    metadata: {
      uid: secret.metadata?.uid,
      resourceVersion: secret.metadata?.resourceVersion,
      annotations: { [SEK_IMPORTED_ANNOTATION]: at.toISOString() },
      ownerReferences: [controllerReference(site, 'OceanSite', false)],
    },
    data: null,
  };
}

/** Pure: whether Vault has a current version that is not destroyed. */
export function hasLiveVersion(meta: KvMetadata | undefined): meta is KvMetadata {
  return meta !== undefined && meta.currentVersion > 0 && !meta.destroyed[meta.currentVersion];
}

/** Pure: the key in Vault when its current version already is the imported key (a previous import stopped before deleting the Secret). */
export function alreadyImported(current: KvVersion, fp: string, location: KeyLocation): KeyState | undefined {
  if (current?.data.sek === undefined || fingerprint(current.data.sek) !== fp) return undefined;
  return keyStateAt(location, current.version, fp, current.createdTime);
}

/** Pure: the Event of a written import: a rotation when Vault had a version before, else the first import. */
export function importEvent(
  meta: KvMetadata | undefined,
  secretName: string,
  version: number,
  fp: string,
): { reason: 'KeyRotated' | 'KeyImported'; message: string } {
  const rotated = meta && meta.currentVersion > 0;
  return {
    reason: rotated ? 'KeyRotated' : 'KeyImported',
    message: `SEK imported from Secret ${secretName} into Vault as version ${version} (fingerprint ${fp}); the Secret's data is removed`,
  };
}

export interface KeyImportDeps {
  kube: Kube;
  vault: VaultClient;
  logger: Logger;
}

export class KeyImport {
  private readonly deps: KeyImportDeps;

  constructor(deps: KeyImportDeps) {
    this.deps = deps;
  }

  /** Imports the key of Secret `secretName` into Vault and empties the Secret; undefined when there is no such Secret (or it is consumed). */
  async run(site: OceanSite, namespace: string, secretName: string, field: string, location: KeyLocation): Promise<KeyState | undefined> {
    const { kube } = this.deps;
    const secret = await this.readSecret(secretName, namespace);
    if (!secret) return undefined;
    const encoded = importField(secret.data, secretName, field);
    if (encoded instanceof TerminalError) throw encoded;
    const sek = Buffer.from(encoded, 'base64').toString('utf8');
    redactor.register(sek);
    redactor.register(encoded);
    const fp = fingerprint(sek);
    const state = await this.store(site, secretName, sek, fp, location);
    // Empty exactly the Secret we read (uid and resourceVersion preconditions), so a newer key is never lost.
    await kube.core
      .patchNamespacedSecret({ name: secretName, namespace, body: emptyingPatch(secret, site, kube.clock.now()) }, MERGE_PATCH)
      .catch(ignoreStatus(404, 409));
    this.deps.logger.info('SEK imported into Vault', {
      site: `${namespace}/${site.metadata.name}`,
      version: state.version,
      fingerprint: fp,
    });
    return state;
  }

  /** The marked import Secret; undefined when there is no Secret of that name; a stall when it exists unmarked. */
  private async readSecret(name: string, namespace: string): Promise<V1Secret | undefined> {
    const { core } = this.deps.kube;
    const marked = await core.listNamespacedSecret({ namespace, fieldSelector: markedImportSelector(name) });
    const secret = marked.items.find((s) => s.metadata?.name === name && isMarkedImport(s.type));
    if (secret) return consumed(secret) ? undefined : secret;
    try {
      await core.readNamespacedSecret({ name, namespace }, METADATA_ONLY);
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw error;
    }
    throw notMarkedError(name);
  }

  /** Writes the key as a new version unless Vault's current version already is this key. */
  private async store(site: OceanSite, secretName: string, sek: string, fp: string, location: KeyLocation): Promise<KeyState> {
    const { vault, kube } = this.deps;
    const meta = await vault.kvMetadata(location.mount, location.path);
    if (hasLiveVersion(meta)) {
      const existing = alreadyImported(await vault.kvRead(location.mount, location.path), fp, location);
      if (existing) return existing;
    }
    const written = await vault.kvWrite(location.mount, location.path, { sek }, meta ? meta.currentVersion : 0);
    const event = importEvent(meta, secretName, written.version, fp);
    await kube.event(site, 'Normal', event.reason, event.message);
    return keyStateAt(location, written.version, fp, written.createdTime);
  }
}
