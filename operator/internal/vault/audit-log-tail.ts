// Catches up with Vault's file audit device: what happened while the operator was down (or while
// Vault's socket device could not reach it) is read from the log, from the position saved in a
// state file, once the operator runs again. The file is read as it grows, in order; the position is
// saved only after every entry before it was handled, so an entry is handled at least once, and the
// notifier's de-duplication (request id) makes it reported once. The state file also keeps the
// request ids already reported, so a restart does not report them again.
//
// No saved position (a first start): the catch-up starts at the end of the log, so history is never
// reported as new. A log that was rotated (another inode) or truncated is read from its start; what
// was written to the old file after the saved position is not read (see SECURITY.md).
import { open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../runtime/logger.ts';
import { BoundedLineSplitter } from './audit-lines.ts';
import { parseAuditLine } from './audit-listener.ts';
import type { AuditEntry } from './key-access.ts';

export interface AuditTailState {
  /** The log file's identity, so that a rotated log is noticed. */
  dev: number;
  ino: number;
  /** Bytes of the log already handled (always at the end of a line, or inside a dropped one). */
  offset: number;
  /** The offset is inside a line that was too long and is being skipped. */
  dropping: boolean;
  /** Request ids already reported, newest last. */
  reported: string[];
}

export interface AuditLogTailOptions {
  file: string;
  stateFile: string;
  maxLineBytes: number;
  pollMs?: number;
  /** Bytes read per step (the catch-up after a long outage goes in steps of this size). */
  stepBytes?: number;
}

export interface AuditLogTailHooks {
  /** Awaited in log order; a rejection is logged and the entry counts as handled. */
  entry(entry: AuditEntry): Promise<void>;
  dropped(reason: 'oversized' | 'unreadable'): void;
  /** The request ids reported so far, to save; and those saved by the previous run, at start. */
  reportedIds(): string[];
  restoreReported(ids: readonly string[]): void;
}

export interface AuditLogTail {
  /** Resolves once the first catch-up (the backlog since the saved position) was handled. */
  caughtUp: Promise<void>;
  stop(): Promise<void>;
}

/** Throws when the saved state cannot be read or a first one cannot be written (AUDIT_STATE_FILE). */
export async function startAuditLogTail(options: AuditLogTailOptions, hooks: AuditLogTailHooks, logger: Logger): Promise<AuditLogTail> {
  let state = await loadState(options, hooks, logger);
  const controller = new AbortController();
  let markCaughtUp: () => void = () => undefined;
  const caughtUp = new Promise<void>((resolve) => {
    markCaughtUp = resolve;
  });
  const loop = (async () => {
    for (let first = true; !controller.signal.aborted; first = false) {
      try {
        state = await catchUp(options, state, hooks, logger, controller.signal);
      } catch (error) {
        logger.warn('cannot read the Vault audit log', { file: options.file, error: (error as Error).message });
      }
      if (first) markCaughtUp();
      await sleep(options.pollMs ?? 1000, undefined, { signal: controller.signal }).catch(() => undefined);
    }
  })();
  return {
    caughtUp,
    stop: async () => {
      controller.abort();
      await loop;
    },
  };
}

/** The saved state, checked against the file as it is now; a first start begins at the end of the log. */
async function loadState(options: AuditLogTailOptions, hooks: AuditLogTailHooks, logger: Logger): Promise<AuditTailState | undefined> {
  const text = await readFile(options.stateFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  const saved = text === undefined ? undefined : (JSON.parse(text) as AuditTailState);
  if (saved) {
    hooks.restoreReported(saved.reported ?? []);
    logger.info('catching up with the Vault audit log', { file: options.file, offset: saved.offset });
    return saved;
  }
  const now = await stat(options.file).catch(() => undefined);
  logger.info('no saved position in the Vault audit log: starting at its end', { file: options.file });
  if (!now) return undefined;
  const fresh = { dev: now.dev, ino: now.ino, offset: now.size, dropping: false, reported: [] };
  // Saved at once: a read after this moment and before the next start must be caught up.
  await saveState(options.stateFile, fresh);
  return fresh;
}

/** Reads and handles everything after the saved position; returns the new state (saved). */
async function catchUp(
  options: AuditLogTailOptions,
  state: AuditTailState | undefined,
  hooks: AuditLogTailHooks,
  logger: Logger,
  signal: AbortSignal,
): Promise<AuditTailState | undefined> {
  const now = await stat(options.file).catch(() => undefined);
  if (!now) return state;
  let current = resumeFrom(state, now, options.file, logger);
  // A step holds a whole line at least, so that every step but one ending in an unfinished line advances.
  const stepBytes = Math.max(options.stepBytes ?? 1 << 20, 2 * options.maxLineBytes);
  while (current.offset < now.size && !signal.aborted) {
    const next = await step(options, current, Math.min(now.size, current.offset + stepBytes), hooks, signal);
    const advanced = next.offset !== current.offset || next.dropping !== current.dropping;
    current = next;
    if (!advanced) break;
    await saveState(options.stateFile, { ...current, reported: hooks.reportedIds() });
  }
  if (state === undefined || current.offset !== state.offset || current.ino !== state.ino) {
    await saveState(options.stateFile, { ...current, reported: hooks.reportedIds() });
  }
  return current;
}

/** Where to read from: the saved offset, or the start of a rotated or truncated log. */
function resumeFrom(state: AuditTailState | undefined, now: { dev: number; ino: number; size: number }, file: string, logger: Logger) {
  if (state && state.dev === now.dev && state.ino === now.ino && state.offset <= now.size) return state;
  if (state) logger.warn('the Vault audit log was rotated or truncated: reading the new one from its start', { file });
  return { dev: now.dev, ino: now.ino, offset: 0, dropping: false, reported: state?.reported ?? [] };
}

/**
 * Handles the complete lines in [offset, end); the offset stops before an unfinished last line. Stopped
 * half-way (shutdown), it keeps the old offset: the next start handles the step again, and what was
 * reported already is known by its request id (the Event's name).
 */
async function step(
  options: AuditLogTailOptions,
  state: AuditTailState,
  end: number,
  hooks: AuditLogTailHooks,
  signal: AbortSignal,
): Promise<AuditTailState> {
  const splitter = new BoundedLineSplitter(options.maxLineBytes, { skipping: state.dropping });
  const handle = await open(options.file, 'r');
  const entries: AuditEntry[] = [];
  try {
    const buffer = Buffer.alloc(64 * 1024);
    for (let at = state.offset; at < end; ) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - at), at);
      if (bytesRead === 0) break;
      at += bytesRead;
      const { lines, oversized } = splitter.push(buffer.subarray(0, bytesRead));
      for (let i = 0; i < oversized; i++) hooks.dropped('oversized');
      for (const line of lines) {
        const entry = parseAuditLine(line);
        if (entry) entries.push(entry);
        else hooks.dropped('unreadable');
      }
    }
  } finally {
    await handle.close();
  }
  for (const entry of entries) {
    if (signal.aborted) return state;
    await hooks.entry(entry).catch(() => undefined);
  }
  // An unfinished line is read again next time, whole.
  return { ...state, offset: end - splitter.held, dropping: splitter.droppingLine };
}

async function saveState(file: string, state: AuditTailState): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, JSON.stringify(state), { mode: 0o600 });
  await rename(tmp, file);
}
