// The key step: the SEK is in Vault (imported once from a Secret, or verified there), a rotation is
// recorded (Event, log) and the site's running workers are told the new version. Between rechecks
// the remembered key is used and Vault is not asked. On deletion, deletionPolicy Delete destroys it.
import type { OceanSite, OceanSiteSpec, OceanSiteStatus } from '../../api/v1alpha1/index.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import { fingerprint, type KeyLocation } from '../../internal/sek/identity.ts';
import type { KvMetadata, VaultClient } from '../../internal/vault/client.ts';
import type { ObjectKey } from '../../runtime/controller.ts';
import { TerminalError, TransientError } from '../../runtime/errors.ts';
import type { Logger } from '../../runtime/logger.ts';
import { hasLiveVersion, KeyImport } from './key-import.ts';
import { type KeyState, keyStateAt } from './key-state.ts';
import { tellRunningWorkers } from './key-version-notice.ts';

type KnownKey = OceanSiteStatus['encryptionKey'];
type ImportRef = NonNullable<NonNullable<OceanSiteSpec['encryptionKey']>['importFrom']>['secretRef'];

/** What was remembered of the last key check. */
export interface KeyCheckMemory {
  key: KeyState | undefined;
  checkedAt: number;
  generation: number | undefined;
  requestedAt: string | undefined;
}

export interface KeyCheckInput {
  memory: KeyCheckMemory | undefined;
  generation: number | undefined;
  requestedAt: string | undefined;
  recheckMs: number;
}

/** Fresh: the remembered key stands and no step reads Vault; otherwise the key is read again. */
export type KeyCheck = { fresh: true; key: KeyState; checkedAt: number } | { fresh: false };

/** Pure: the remembered key is fresh for the same generation and request until the recheck interval has passed. */
export function decideKeyCheck(input: KeyCheckInput, now: Date): KeyCheck {
  const memory = input.memory;
  if (
    memory?.key !== undefined &&
    memory.generation === input.generation &&
    memory.requestedAt === input.requestedAt &&
    now.getTime() - memory.checkedAt < input.recheckMs
  ) {
    return { fresh: true, key: memory.key, checkedAt: memory.checkedAt };
  }
  return { fresh: false };
}

/** Pure: the key as status knows it, when Vault's current version is the one status has fingerprinted at the same place. */
export function knownKey(known: KnownKey, meta: KvMetadata, location: KeyLocation): KeyState | undefined {
  if (known?.version !== meta.currentVersion || !known.fingerprint || known.path !== location.path || known.mount !== location.mount) {
    return undefined;
  }
  return keyStateAt(location, meta.currentVersion, known.fingerprint, known.storedAt ?? meta.createdTime[meta.currentVersion] ?? '');
}

/** Pure: the rotation to record when the key read replaces the version status knew at the same path. */
export function rotationOf(known: KnownKey, key: KeyState): { from: number; to: number } | undefined {
  if (known?.version === undefined || known.version === key.version || known.path !== key.path) return undefined;
  return { from: known.version, to: key.version };
}

/** Pure: the running workers are told when the key read has another version than status records. */
export function mustTellWorkers(knownVersion: number | undefined, version: number): boolean {
  return knownVersion !== undefined && version !== knownVersion;
}

export interface KeyStepDeps {
  kube: Kube;
  vault: VaultClient;
  logger: Logger;
}

export interface KeyStepInput {
  key: ObjectKey;
  site: OceanSite;
  spec: OceanSiteSpec;
  location: KeyLocation;
  previous: OceanSiteStatus;
}

export class KeyStep {
  private readonly deps: KeyStepDeps;
  private readonly importer: KeyImport;

  constructor(deps: KeyStepDeps) {
    this.deps = deps;
    this.importer = new KeyImport(deps);
  }

  /** The key in use: the remembered one when the check is fresh, else the one in Vault. */
  async reconcile(input: KeyStepInput, check: KeyCheck): Promise<KeyState> {
    if (check.fresh) return check.key;
    const state = await this.ensure(input.site, input.spec, input.location, input.previous);
    if (mustTellWorkers(input.previous.encryptionKey?.version, state.version)) {
      // Before the status records the new version, so a failure here is retried with the rotation.
      const { namespace, name } = input.key;
      const told = await tellRunningWorkers(this.deps.kube.core, namespace, name, state.version);
      if (told > 0)
        this.deps.logger.info('running workers told to use the rotated SEK', {
          site: `${namespace}/${name}`,
          version: state.version,
          pods: told,
        });
    }
    return state;
  }

  /** Deletion: deletionPolicy Delete destroys every version of the key; Retain keeps it. */
  async finalize(site: OceanSite, spec: OceanSiteSpec, location: KeyLocation): Promise<void> {
    if (spec.encryptionKey?.deletionPolicy !== 'Delete') return;
    await this.deps.vault.kvDestroyAll(location.mount, location.path);
    this.deps.logger.info('SEK destroyed in Vault (deletionPolicy Delete)', {
      site: `${site.metadata.namespace ?? ''}/${site.metadata.name}`,
    });
  }

  /** Imports the SEK from the one-time Secret, or verifies the key already in Vault. */
  private async ensure(site: OceanSite, spec: OceanSiteSpec, location: KeyLocation, previous: OceanSiteStatus): Promise<KeyState> {
    if (!(await this.deps.vault.kvV2MountExists(location.mount))) {
      throw new TerminalError(
        'UnknownVaultMount',
        `the operator's SEK_KV_MOUNT ${JSON.stringify(location.mount)} is not a KV version 2 mount in Vault`,
      );
    }
    const importRef = spec.encryptionKey?.importFrom?.secretRef;
    if (importRef) {
      const namespace = site.metadata.namespace ?? '';
      const imported = await this.importer.run(site, namespace, importRef.name, importRef.key ?? 'sek', location);
      if (imported) return imported;
    }
    return this.verify(site, location, previous.encryptionKey, importRef);
  }

  /** The key already in Vault: known from status when the version did not move, else read and fingerprinted. */
  private async verify(site: OceanSite, location: KeyLocation, known: KnownKey, importRef: ImportRef | undefined): Promise<KeyState> {
    const meta = await this.deps.vault.kvMetadata(location.mount, location.path);
    if (!hasLiveVersion(meta)) {
      const why = importRef ? `the import Secret ${importRef.name} does not exist and ` : '';
      throw new TransientError('KeyNotFound', `${why}no SEK is stored in Vault at ${location.mount}/${location.path}`);
    }
    return knownKey(known, meta, location) ?? (await this.readNew(site, location, known));
  }

  /** A version we have not fingerprinted yet: the first sight of the key, or a rotation. */
  private async readNew(site: OceanSite, location: KeyLocation, known: KnownKey): Promise<KeyState> {
    const current = await this.deps.vault.kvRead(location.mount, location.path);
    const value = current?.data.sek;
    if (!current || value === undefined)
      throw new TerminalError('KeyFieldMissing', `the Vault secret at ${location.mount}/${location.path} has no "sek" field`);
    const state = keyStateAt(location, current.version, fingerprint(value), current.createdTime);
    const rotation = rotationOf(known, state);
    if (rotation) {
      const { from, to } = rotation;
      await this.deps.kube.event(site, 'Normal', 'KeyRotated', `SEK rotated: version ${from} → ${to} (fingerprint ${state.fingerprint})`);
      this.deps.logger.info('SEK rotated', {
        site: `${site.metadata.namespace ?? ''}/${site.metadata.name}`,
        from,
        to,
        fingerprint: state.fingerprint,
      });
    }
    return state;
  }
}
