// OceanSite reconciler. Order: load → deletion (finalizer) → add finalizer → validate → SEK in
// Vault (import or verify, rotation) → per-site identity (ServiceAccount, Vault policy and role) →
// support access → status, written only when it changed.
import { RbacAuthorizationV1Api, type V1RoleBinding } from '@kubernetes/client-node';
import {
  type EmrIntegration,
  OCEAN_SITE,
  type OceanSite,
  OceanSiteSpec,
  type OceanSiteStatus,
  REQUESTED_AT_ANNOTATION,
  SITE_FINALIZER,
} from '../../api/v1alpha1/index.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import {
  decideSupportAccess,
  fingerprint,
  type KeyLocation,
  keyLocation,
  SYNC_AUDIENCE,
  sekReadPolicy,
  siteIdentity,
  supportBindingName,
  supportGroup,
  supportRoleName,
} from '../../internal/sek/identity.ts';
import { type VaultClient, VaultUnavailableError } from '../../internal/vault/client.ts';
import type { Clock } from '../../runtime/clock.ts';
import { type Condition, type ConditionInput, setConditions, summarizeReady } from '../../runtime/conditions.ts';
import type { ObjectKey, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import { withDefaults } from '../../runtime/defaults.ts';
import { parseDuration } from '../../runtime/duration.ts';
import { ignoreStatus, safeMessage, statusCodeOf, TerminalError, TransientError } from '../../runtime/errors.ts';
import type { SupervisedInformer } from '../../runtime/informer.ts';
import type { Logger } from '../../runtime/logger.ts';
import { redactor } from '../../runtime/redact.ts';
import { isKnownTimeZone } from '../../runtime/time-zone.ts';
import { tellRunningWorkers } from './key-version-notice.ts';

export interface OceanSiteDeps {
  kube: Kube;
  vault: VaultClient;
  clock: Clock;
  logger: Logger;
  sites: SupervisedInformer<OceanSite>;
  integrations: SupervisedInformer<EmrIntegration>;
  vaultAuthMount: string;
}

interface KeyState {
  mount: string;
  path: string;
  version: number;
  fingerprint: string;
  storedAt: string;
}

/** What the operator remembers between reconciles so that an idle site costs no API or Vault call. */
interface SiteMemory {
  checkedAt: number;
  generation: number | undefined;
  requestedAt: string | undefined;
  key: KeyState | undefined;
  identityApplied: string | undefined;
  /** Support access as last applied, and when the next grant expires. */
  supportApplied: string | undefined;
  supportNextExpiry: number | undefined;
}

export class OceanSiteReconciler implements Reconciler {
  private readonly deps: OceanSiteDeps;
  private readonly rbac: RbacAuthorizationV1Api;
  private readonly memory = new Map<string, SiteMemory>();

  constructor(deps: OceanSiteDeps) {
    this.deps = deps;
    this.rbac = deps.kube.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  }

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const site = this.deps.sites.get(key.name, key.namespace);
    const memKey = `${key.namespace}/${key.name}`;
    if (!site) {
      this.memory.delete(memKey);
      return {};
    }
    const spec = withDefaults<OceanSiteSpec>(OceanSiteSpec, site.spec);
    const location = keyLocation(spec, key.namespace, key.name);
    if (site.metadata.deletionTimestamp) {
      await this.finalize(site, spec, location);
      this.memory.delete(memKey);
      return {};
    }
    if (!site.metadata.finalizers?.includes(SITE_FINALIZER)) {
      await this.patchFinalizers(site, [...(site.metadata.finalizers ?? []), SITE_FINALIZER]);
    }

    const now = this.deps.clock.now();
    const previous = site.status ?? {};
    const integrations = this.deps.integrations.list(key.namespace).filter((i) => i.spec.siteRef.name === key.name).length;
    const conditions: ConditionInput[] = [];
    let encryptionKey = previous.encryptionKey;
    let requeueAfterMs: number | undefined;
    let retryError: Error | undefined;
    const memory = this.memory.get(memKey);
    const recheckMs = parseDuration(spec.encryptionKey?.recheckInterval ?? '10m');

    try {
      this.validate(spec);
      const requestedAt = site.metadata.annotations?.[REQUESTED_AT_ANNOTATION];
      const fresh =
        memory?.key !== undefined &&
        memory.generation === site.metadata.generation &&
        memory.requestedAt === requestedAt &&
        now.getTime() - memory.checkedAt < recheckMs;
      const keyState = fresh ? memory.key! : await this.ensureKey(site, spec, location, previous);
      const knownVersion = previous.encryptionKey?.version;
      if (!fresh && knownVersion !== undefined && keyState.version !== knownVersion) {
        // Before the status records the new version, so a failure here is retried with the rotation.
        const told = await tellRunningWorkers(this.deps.kube.core, key.namespace, key.name, keyState.version);
        if (told > 0)
          this.deps.logger.info('running workers told to use the rotated SEK', { site: memKey, version: keyState.version, pods: told });
      }
      const identity = siteIdentity(key.namespace, key.name);
      const identityHash = `${location.mount}/${location.path}|${this.deps.vaultAuthMount}`;
      if (memory?.identityApplied !== identityHash) {
        await this.ensureIdentity(site, location);
      } else if (!fresh && !(await this.identityIntact(site, location))) {
        // Someone removed or changed the policy or role in Vault: put it back (reads only when intact).
        await this.ensureIdentity(site, location);
      }
      encryptionKey = { ...keyState };
      conditions.push({
        type: 'KeyStored',
        status: 'True',
        reason: 'Stored',
        message: `SEK version ${keyState.version} is in Vault at ${location.mount}/${location.path}`,
      });
      // Support access is applied when it changed or a grant expired, not on every reconcile.
      const supportHash = JSON.stringify(spec.supportSites ?? []);
      const supportDue =
        !fresh ||
        memory?.supportApplied !== supportHash ||
        (memory.supportNextExpiry !== undefined && now.getTime() >= memory.supportNextExpiry);
      const support = supportDue ? await this.ensureSupportAccess(site, spec, now) : decideSupportAccess(spec.supportSites, now);
      this.memory.set(memKey, {
        checkedAt: fresh ? memory!.checkedAt : now.getTime(),
        generation: site.metadata.generation,
        requestedAt,
        key: keyState,
        identityApplied: identityHash,
        supportApplied: supportHash,
        supportNextExpiry: support.nextExpiry?.getTime(),
      });
      if (support.nextExpiry) requeueAfterMs = Math.max(1000, support.nextExpiry.getTime() - now.getTime());
      requeueAfterMs = Math.min(requeueAfterMs ?? recheckMs, recheckMs);
      const status: OceanSiteStatus = {
        ...previous,
        observedGeneration: site.metadata.generation,
        encryptionKey,
        serviceAccountName: identity.serviceAccount,
        integrations,
        supportAccess: support.active.map((s) => ({ name: s.name, ...(s.expiresAt ? { expiresAt: s.expiresAt } : {}), active: true })),
        ...(requestedAt ? { lastHandledRequestedAt: requestedAt } : {}),
      };
      if (status.supportAccess?.length === 0) delete status.supportAccess;
      conditions.push(
        summarizeReady(conditions, undefined, { reason: 'Succeeded', message: 'SEK stored in Vault; site identity in place' }),
      );
      status.conditions = setConditions(previous.conditions, conditions, site.metadata.generation, this.deps.clock);
      await this.deps.kube.applyStatus(OCEAN_SITE, site, status);
      return { requeueAfterMs };
    } catch (error) {
      if (error instanceof TerminalError) {
        const stalled: ConditionInput = { type: 'Stalled', status: 'True', reason: error.reason, message: error.message };
        conditions.push(
          stalled,
          { type: 'KeyStored', status: 'False', reason: error.reason, message: error.message },
          summarizeReady([], stalled, { reason: '', message: '' }),
        );
      } else if (error instanceof VaultUnavailableError) {
        conditions.push({ type: 'KeyStored', status: 'Unknown', reason: 'VaultUnavailable', message: error.message });
        conditions.push(summarizeReady(conditions, undefined, { reason: '', message: '' }));
        retryError = error;
      } else if (error instanceof TransientError) {
        conditions.push({ type: 'KeyStored', status: 'False', reason: error.reason, message: error.message });
        conditions.push(summarizeReady(conditions, undefined, { reason: '', message: '' }));
        retryError = error;
      } else if (statusCodeOf(error) === 403) {
        // The operator's own RBAC lacks a verb (e.g. support-site RoleBindings): say so on the site, retry with backoff.
        const message = `the API server refused an operator request; check the operator's RBAC: ${safeMessage(error)}`;
        conditions.push({ type: 'Ready', status: 'False', reason: 'PermissionDenied', message });
        retryError = new TransientError('PermissionDenied', message);
      } else {
        throw error;
      }
      const status: OceanSiteStatus = {
        ...previous,
        observedGeneration: site.metadata.generation,
        integrations,
        conditions: setConditions(previous.conditions, conditions, site.metadata.generation, this.deps.clock),
      };
      await this.deps.kube.applyStatus(OCEAN_SITE, site, status);
      if (retryError) throw retryError;
      throw error;
    }
  }

  private validate(spec: OceanSiteSpec): void {
    if (!isKnownTimeZone(spec.timeZone ?? 'UTC')) {
      throw new TerminalError('InvalidTimeZone', `spec.timeZone ${JSON.stringify(spec.timeZone)} is not a known IANA time zone`);
    }
  }

  /** Imports the SEK from the one-time Secret, or verifies the key already in Vault; notices rotation. */
  private async ensureKey(site: OceanSite, spec: OceanSiteSpec, location: KeyLocation, previous: OceanSiteStatus): Promise<KeyState> {
    const { vault, kube } = this.deps;
    const namespace = site.metadata.namespace ?? '';
    if (!(await vault.kvV2MountExists(location.mount))) {
      throw new TerminalError(
        'UnknownVaultMount',
        `spec.encryptionKey.vault.mount ${JSON.stringify(location.mount)} is not a KV version 2 mount in Vault`,
      );
    }
    const importRef = spec.encryptionKey?.importFrom?.secretRef;
    if (importRef) {
      const imported = await this.importFromSecret(site, namespace, importRef.name, importRef.key ?? 'sek', location);
      if (imported) return imported;
    }
    const meta = await vault.kvMetadata(location.mount, location.path);
    if (!meta || meta.currentVersion === 0 || meta.destroyed[meta.currentVersion]) {
      const why = importRef ? `the import Secret ${importRef.name} does not exist and ` : '';
      throw new TransientError('KeyNotFound', `${why}no SEK is stored in Vault at ${location.mount}/${location.path}`);
    }
    const known = previous.encryptionKey;
    if (known?.version === meta.currentVersion && known.fingerprint && known.path === location.path && known.mount === location.mount) {
      return {
        mount: location.mount,
        path: location.path,
        version: meta.currentVersion,
        fingerprint: known.fingerprint,
        storedAt: known.storedAt ?? meta.createdTime[meta.currentVersion] ?? '',
      };
    }
    // A version we have not fingerprinted yet: the first sight of the key, or a rotation.
    const current = await vault.kvRead(location.mount, location.path);
    const value = current?.data.sek;
    if (!current || value === undefined)
      throw new TerminalError('KeyFieldMissing', `the Vault secret at ${location.mount}/${location.path} has no "sek" field`);
    const state = {
      mount: location.mount,
      path: location.path,
      version: current.version,
      fingerprint: fingerprint(value),
      storedAt: current.createdTime,
    };
    if (known?.version !== undefined && known.version !== current.version && known.path === location.path) {
      await kube.event(
        site,
        'Normal',
        'KeyRotated',
        `SEK rotated: version ${known.version} → ${current.version} (fingerprint ${state.fingerprint})`,
      );
      this.deps.logger.info('SEK rotated', {
        site: `${namespace}/${site.metadata.name}`,
        from: known.version,
        to: current.version,
        fingerprint: state.fingerprint,
      });
    }
    return state;
  }

  private async importFromSecret(
    site: OceanSite,
    namespace: string,
    secretName: string,
    field: string,
    location: KeyLocation,
  ): Promise<KeyState | undefined> {
    const { vault, kube } = this.deps;
    let secret;
    try {
      secret = await kube.core.readNamespacedSecret({ name: secretName, namespace });
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw error;
    }
    const encoded = secret.data?.[field];
    if (encoded === undefined || encoded === '') {
      throw new TerminalError(
        'ImportSecretKeyMissing',
        `Secret ${secretName} has no data field ${JSON.stringify(field)} (spec.encryptionKey.importFrom.secretRef.key)`,
      );
    }
    const sek = Buffer.from(encoded, 'base64').toString('utf8');
    redactor.register(sek);
    redactor.register(encoded);
    const fp = fingerprint(sek);
    const meta = await vault.kvMetadata(location.mount, location.path);
    let state: KeyState | undefined;
    if (meta && meta.currentVersion > 0 && !meta.destroyed[meta.currentVersion]) {
      const current = await vault.kvRead(location.mount, location.path);
      if (current?.data.sek !== undefined && fingerprint(current.data.sek) === fp) {
        // Already imported (a previous reconcile stopped before deleting the Secret): no new version.
        state = { mount: location.mount, path: location.path, version: current.version, fingerprint: fp, storedAt: current.createdTime };
      }
    }
    if (!state) {
      const written = await vault.kvWrite(location.mount, location.path, { sek }, meta ? meta.currentVersion : 0);
      state = { mount: location.mount, path: location.path, version: written.version, fingerprint: fp, storedAt: written.createdTime };
      const rotated = meta && meta.currentVersion > 0;
      await kube.event(
        site,
        'Normal',
        rotated ? 'KeyRotated' : 'KeyImported',
        `SEK imported from Secret ${secretName} into Vault as version ${written.version} (fingerprint ${fp}); the Secret is deleted`,
      );
    }
    // Delete exactly the Secret we read (uid precondition), so a newer one is never lost.
    await kube.core
      .deleteNamespacedSecret({ name: secretName, namespace, body: { preconditions: { uid: secret.metadata?.uid } } })
      .catch(ignoreStatus(404));
    this.deps.logger.info('SEK imported into Vault', {
      site: `${namespace}/${site.metadata.name}`,
      version: state.version,
      fingerprint: fp,
    });
    return state;
  }

  /** ServiceAccount for the site's sync pods, a Vault policy reading only this SEK, and a kubernetes-auth role binding them. */
  private async ensureIdentity(site: OceanSite, location: KeyLocation): Promise<void> {
    const namespace = site.metadata.namespace ?? '';
    const identity = siteIdentity(namespace, site.metadata.name);
    await this.deps.kube.core
      .createNamespacedServiceAccount({
        namespace,
        body: {
          metadata: {
            name: identity.serviceAccount,
            namespace,
            labels: { 'app.kubernetes.io/managed-by': 'cloudconnect-operator', 'cloudconnect.dev/site': site.metadata.name },
            ownerReferences: [ownerRef(site)],
          },
          automountServiceAccountToken: false,
        },
      })
      .catch(ignoreStatus(409));
    await this.deps.vault.putPolicy(identity.vaultPolicy, sekReadPolicy(location));
    await this.deps.vault.putKubernetesRole(this.deps.vaultAuthMount, identity.vaultRole, {
      serviceAccount: identity.serviceAccount,
      namespace,
      audience: SYNC_AUDIENCE,
      policies: [identity.vaultPolicy],
      ttl: '15m',
    });
  }

  private async identityIntact(site: OceanSite, location: KeyLocation): Promise<boolean> {
    const identity = siteIdentity(site.metadata.namespace ?? '', site.metadata.name);
    const policy = await this.deps.vault.getPolicy(identity.vaultPolicy);
    const role = await this.deps.vault.getKubernetesRole(this.deps.vaultAuthMount, identity.vaultRole);
    return policy === sekReadPolicy(location) && role !== undefined;
  }

  private async ensureSupportAccess(site: OceanSite, spec: OceanSiteSpec, now: Date) {
    const namespace = site.metadata.namespace ?? '';
    const decision = decideSupportAccess(spec.supportSites, now);
    const roleName = supportRoleName(site.metadata.name);
    const existing = (
      await this.rbac.listNamespacedRoleBinding({ namespace, labelSelector: `cloudconnect.dev/support-of=${site.metadata.name}` })
    ).items;
    if (decision.active.length > 0) {
      await this.applyRbac('roles', namespace, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: {
          name: roleName,
          namespace,
          labels: { 'app.kubernetes.io/managed-by': 'cloudconnect-operator' },
          ownerReferences: [ownerRef(site)],
        },
        // Edit rights on the cloudconnect kinds only: no Secrets, no Vault policy (seed 003).
        rules: [
          {
            apiGroups: ['cloudconnect.dev'],
            resources: ['oceansites', 'emrintegrations', 'syncschedules'],
            verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
          },
          {
            apiGroups: ['cloudconnect.dev'],
            resources: ['oceansites/status', 'emrintegrations/status', 'syncschedules/status'],
            verbs: ['get'],
          },
        ],
      });
    }
    const wanted = new Set(decision.active.map((s) => supportBindingName(site.metadata.name, s.name)));
    for (const s of decision.active) {
      const name = supportBindingName(site.metadata.name, s.name);
      if (existing.some((b) => b.metadata?.name === name)) continue;
      const binding: V1RoleBinding = {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: {
          name,
          namespace,
          labels: { 'app.kubernetes.io/managed-by': 'cloudconnect-operator', 'cloudconnect.dev/support-of': site.metadata.name },
          annotations: s.expiresAt ? { 'cloudconnect.dev/expires-at': s.expiresAt } : {},
          ownerReferences: [ownerRef(site)],
        },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: supportGroup(s.name) }],
      };
      await this.applyRbac('rolebindings', namespace, binding);
      await this.deps.kube.event(
        site,
        'Normal',
        'SupportAccessGranted',
        `Support site ${s.name} may edit this namespace's cloudconnect resources${s.expiresAt ? ` until ${s.expiresAt}` : ''}`,
      );
    }
    for (const b of existing) {
      const name = b.metadata?.name ?? '';
      if (wanted.has(name)) continue;
      await this.rbac.deleteNamespacedRoleBinding({ name, namespace }).catch(ignoreStatus(404));
      const expired = decision.expired.find((e) => supportBindingName(site.metadata.name, e.name) === name);
      await this.deps.kube.event(
        site,
        'Normal',
        expired ? 'SupportAccessExpired' : 'SupportAccessRemoved',
        expired
          ? `Support access of ${expired.name} expired at ${expired.expiresAt} and was removed`
          : `Support access binding ${name} removed`,
      );
    }
    if (decision.active.length === 0) {
      await this.rbac.deleteNamespacedRole({ name: roleName, namespace }).catch(ignoreStatus(404));
    }
    return decision;
  }

  private async applyRbac(resource: 'roles' | 'rolebindings', namespace: string, body: object): Promise<void> {
    const name = (body as { metadata: { name: string } }).metadata.name;
    try {
      if (resource === 'roles') await this.rbac.createNamespacedRole({ namespace, body: body as never });
      else await this.rbac.createNamespacedRoleBinding({ namespace, body: body as never });
    } catch (error) {
      if (statusCodeOf(error) !== 409) throw error;
      if (resource === 'roles') await this.rbac.replaceNamespacedRole({ name, namespace, body: body as never });
    }
  }

  private async finalize(site: OceanSite, spec: OceanSiteSpec, location: KeyLocation): Promise<void> {
    if (!site.metadata.finalizers?.includes(SITE_FINALIZER)) return;
    const namespace = site.metadata.namespace ?? '';
    const identity = siteIdentity(namespace, site.metadata.name);
    await this.deps.vault.deleteKubernetesRole(this.deps.vaultAuthMount, identity.vaultRole);
    await this.deps.vault.deletePolicy(identity.vaultPolicy);
    await this.deps.kube.core.deleteNamespacedServiceAccount({ name: identity.serviceAccount, namespace }).catch(ignoreStatus(404));
    if (spec.encryptionKey?.deletionPolicy === 'Delete') {
      await this.deps.vault.kvDestroyAll(location.mount, location.path);
      this.deps.logger.info('SEK destroyed in Vault (deletionPolicy Delete)', { site: `${namespace}/${site.metadata.name}` });
    }
    await this.patchFinalizers(
      site,
      (site.metadata.finalizers ?? []).filter((f) => f !== SITE_FINALIZER),
    );
  }

  private async patchFinalizers(site: OceanSite, finalizers: string[]): Promise<void> {
    try {
      await this.deps.kube.patchMetadata(OCEAN_SITE, site, { finalizers });
    } catch (error) {
      throw new TransientError('FinalizerUpdateFailed', `could not update finalizers: ${safeMessage(error)}`);
    }
  }
}

function ownerRef(site: OceanSite) {
  return {
    apiVersion: site.apiVersion,
    kind: 'OceanSite',
    name: site.metadata.name,
    uid: site.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: false,
  };
}
