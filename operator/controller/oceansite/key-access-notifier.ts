// Turns audited accesses to an SEK into an Event on the OceanSite, a metric and an e-mail to the
// Clinical Administrator. The key itself is never part of any of them. Each access is reported once
// although it may arrive twice (Vault's socket device and the catch-up from its file log) or reach two
// replicas: by its request id in this process, and across processes by the Event's name, which is
// derived from the request id and created only if absent.
import { createHash } from 'node:crypto';
import { type OceanSite, OceanSiteSpec } from '../../api/v1alpha1/index.ts';
import type { Kube } from '../../internal/kube/kube.ts';
import { type Mailer, siteRecipients } from '../../internal/notify/mailer.ts';
import { keyLocation, keyOwnerOfPath, siteServiceAccount } from '../../internal/sek/identity.ts';
import {
  type AuditEntry,
  classifyAuditEntry,
  type KeyAccess,
  type KeyOperation,
  mayTouchKey,
  type OperatorIdentity,
  type SiteKeyRef,
} from '../../internal/vault/key-access.ts';
import { withDefaults } from '../../runtime/defaults.ts';
import type { SupervisedInformer } from '../../runtime/informer.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { OperatorMetrics } from '../../runtime/metrics.ts';

/** How each operation reads in "There was a … of the Shared Encryption Key". */
const OPERATION_WORDS: Record<KeyOperation, string> = {
  read: 'read',
  write: 'write of a new version',
  patch: 'patch (a new version)',
  delete: 'soft delete (undoable)',
  undelete: 'undelete',
  destroy: 'destroy (permanent)',
  'metadata update': 'change of the version settings (metadata)',
  'metadata delete': 'permanent deletion of every version and the metadata',
};

/** Request ids of the accesses reported by this process that it remembers (the catch-up's state file keeps them). */
const REPORTED_KEPT = 2048;

/**
 * The identity as a line of an e-mail may show it. Vault's own names are letters, digits and dashes;
 * anything else came from whoever wrote the entry and is neither trusted nor shown as written.
 */
export function shownIdentity(text: string): string {
  // No colon: a scheme ("https:") would make a link of the rest in most mail readers.
  const safe = text.replace(/[^A-Za-z0-9 ._@/()-]/g, '?');
  return safe.length > 160 ? `${safe.slice(0, 160)}…` : safe;
}

/** The time of the entry when it is one (RFC 3339 in UTC, as Vault writes it). */
function shownTime(text: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(text) ? text : 'an unknown time';
}

/** The Event name of one audited request: the same for every replica and every time it is seen. */
export function keyAccessEventName(site: string, requestId: string): string {
  return `${site}.key-access.${createHash('sha256').update(requestId).digest('hex').slice(0, 20)}`;
}

export class KeyAccessNotifier {
  private readonly reported = new Set<string>();
  private readonly deps: {
    kube: Kube;
    sites: SupervisedInformer<OceanSite>;
    metrics: OperatorMetrics;
    mailer: Mailer;
    logger: Logger;
    /** The operator's own Vault identity: its reads of a key are not reported. */
    operator: OperatorIdentity;
    /** The KV version 2 mount of every site's SEK (SEK_KV_MOUNT). */
    sekKvMount: string;
  };

  constructor(deps: KeyAccessNotifier['deps']) {
    this.deps = deps;
  }

  /**
   * The one site whose key the entry's path could name (keyOwnerOfPath), as a key reference: never a
   * spec field's place, so a site cannot claim another clinic's key accesses. Looked up by name, not
   * by trying every site: with an entry per key read, trying each of n sites was O(n²) over a fleet's
   * first reconciles. classifyAuditEntry still checks the whole path.
   */
  candidateSites(entry: AuditEntry): SiteKeyRef[] {
    const owner = keyOwnerOfPath(entry.request?.path ?? '');
    const site = owner && this.deps.sites.get(owner.name, owner.namespace);
    if (!site) return [];
    const namespace = site.metadata.namespace ?? '';
    return [
      {
        namespace,
        name: site.metadata.name,
        location: keyLocation(namespace, site.metadata.name, this.deps.sekKvMount),
        serviceAccount: siteServiceAccount(site.metadata.name),
      },
    ];
  }

  /** The request ids reported so far, oldest first (the audit log catch-up saves them). */
  reportedIds(): string[] {
    return [...this.reported];
  }

  /** Request ids a previous run reported: not reported again. */
  restoreReported(ids: readonly string[]): void {
    for (const id of ids) this.remember(id);
  }

  /** Reports the access in `entry`, if it is one, once; returns it when this call reported it. */
  async handle(entry: AuditEntry): Promise<KeyAccess | undefined> {
    if (!mayTouchKey(entry)) return undefined;
    const access = classifyAuditEntry(entry, this.candidateSites(entry), this.deps.operator);
    if (!access) return undefined;
    const site = this.deps.sites.get(access.site, access.namespace);
    if (!site) return undefined;
    const requestId = entry.request?.id;
    if (requestId !== undefined && this.reported.has(requestId)) return undefined;
    if (requestId !== undefined) this.remember(requestId);
    const what = `${OPERATION_WORDS[access.operation]}${access.denied ? ' (denied)' : ''} of the Shared Encryption Key by ${shownIdentity(access.accessor)} at ${shownTime(access.time)}`;
    const recorded = await this.deps.kube.event(site, 'Warning', 'KeyAccessed', what, {
      ...(requestId === undefined ? {} : { name: keyAccessEventName(site.metadata.name, requestId) }),
    });
    // Another replica, or this one before a restart, reported it already.
    if (recorded === 'exists') return undefined;
    this.deps.metrics.sekAccessTotal.inc({ namespace: access.namespace, site: access.site, accessor_type: access.accessorType });
    this.deps.logger.warn('SEK accessed', {
      site: `${access.namespace}/${access.site}`,
      accessor: shownIdentity(access.accessor),
      operation: access.operation,
      time: access.time,
    });
    const spec = withDefaults<OceanSiteSpec>(OceanSiteSpec, site.spec);
    const to = siteRecipients(spec, 'keyAccess');
    if (to.length > 0) {
      await this.deps.mailer.send({
        to,
        subject: `Ocean site ${spec.siteNumber}: the Shared Encryption Key was accessed`,
        text: [
          `This is Cloud Connect for Ocean site ${spec.siteNumber}${spec.displayName ? ` (${spec.displayName})` : ''}.`,
          '',
          `There was a ${what}.`,
          '',
          'Every access to your site Shared Encryption Key is audited and reported to you.',
          'If you did not expect it, contact your platform team.',
        ].join('\n'),
      });
    }
    return access;
  }

  private remember(requestId: string): void {
    this.reported.add(requestId);
    for (const oldest of this.reported) {
      if (this.reported.size <= REPORTED_KEPT) break;
      this.reported.delete(oldest);
    }
  }
}
