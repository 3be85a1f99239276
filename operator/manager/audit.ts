// Wires Vault's audit entries to the key-access notifier: the socket listener (every replica, as
// Vault's connection may reach any), and the catch-up from Vault's file audit log (the leader only,
// so that one process keeps the position). Both feed one queue, so that entries are judged in the
// order they arrive and each access is reported once (key-access-notifier.ts).
import { KeyAccessNotifier } from '../controller/oceansite/key-access-notifier.ts';
import { type AuditDropReason, startAuditListener } from '../internal/vault/audit-listener.ts';
import { startAuditLogTail } from '../internal/vault/audit-log-tail.ts';
import { type AuditEntry, mayTouchKey } from '../internal/vault/key-access.ts';
import type { Wiring } from './wiring.ts';

export interface AuditIntake {
  notifier: KeyAccessNotifier;
  /** Judges `entry` after every entry queued before it; resolves once it is handled. */
  enqueue(entry: AuditEntry): Promise<void>;
  dropped(source: 'socket' | 'file', reason: AuditDropReason): void;
  /** Resolves once every entry queued so far is handled. */
  idle(): Promise<void>;
}

export function auditEnabled(w: Wiring): boolean {
  return w.config.audit.listenAddress !== '' || w.config.audit.logFile !== undefined;
}

/** The notifier and its queue; the operator's own token accessor is looked up once (a VAULT_TOKEN keeps it). */
export async function auditIntake(w: Wiring): Promise<AuditIntake> {
  const { kube, sites, metrics, mailer, logger, vault, config } = w;
  const self = await vault.request<{ data?: { accessor?: string } }>('GET', '/auth/token/lookup-self').catch(() => undefined);
  const notifier = new KeyAccessNotifier({
    kube,
    sites,
    metrics,
    mailer,
    logger,
    operator: {
      accessor: self?.data?.accessor,
      ownAccessors: vault.ownAccessors,
      role: config.vault.role,
      authMount: config.vault.authMount,
      syncAuthMount: config.vaultSyncAuthMount,
      syncRole: config.vaultSyncRole,
    },
    sekKvMount: config.sekKvMount,
  });
  let tail: Promise<void> = Promise.resolve();
  return {
    notifier,
    enqueue: (entry) => {
      // Most entries touch no key: judged at once, never queued.
      if (!mayTouchKey(entry)) return Promise.resolve();
      tail = tail
        .then(() => notifier.handle(entry))
        .then(
          () => undefined,
          (error: unknown) => {
            logger.warn('key access not reported', { error: (error as Error).message });
          },
        );
      return tail;
    },
    dropped: (source, reason) => metrics.auditDropped.inc({ source, reason }),
    idle: () => tail,
  };
}

/** The socket listener; returns its close, which waits for the entries it queued. */
export async function startAuditSocket(w: Wiring, intake: AuditIntake): Promise<() => Promise<void>> {
  const { audit } = w.config;
  const listener = await startAuditListener(
    {
      address: audit.listenAddress,
      peers: audit.allowedPeers,
      socketMode: audit.socketMode,
      maxLineBytes: audit.maxLineBytes,
    },
    { entry: (entry) => void intake.enqueue(entry), dropped: (reason) => intake.dropped('socket', reason) },
    w.logger,
  );
  w.logger.info('receiving Vault audit entries', {
    at: listener.where,
    ...(audit.listenAddress.startsWith('unix:') ? {} : { allowedPeers: audit.allowedPeers.entries.join(',') }),
  });
  return async () => {
    await listener.close();
    await intake.idle();
  };
}

/** The catch-up from Vault's file audit log (logs once the backlog is handled); returns its stop. */
export async function startAuditCatchUp(w: Wiring, intake: AuditIntake): Promise<() => Promise<void>> {
  const { audit } = w.config;
  if (!audit.logFile || !audit.stateFile) return async () => undefined;
  const tail = await startAuditLogTail(
    { file: audit.logFile, stateFile: audit.stateFile, maxLineBytes: audit.maxLineBytes },
    {
      entry: (entry) => intake.enqueue(entry),
      dropped: (reason) => intake.dropped('file', reason),
      reportedIds: () => intake.notifier.reportedIds(),
      restoreReported: (ids) => intake.notifier.restoreReported(ids),
    },
    w.logger,
  );
  void tail.caughtUp.then(() => w.logger.info('caught up with the Vault audit log', { file: audit.logFile }));
  return tail.stop;
}
