// Combine Progress Notes (seed 004): the eForms a patient completes in one sitting (the same Ocean
// session id) become one progress note. The relay holds each such form un-acknowledged (telling
// JetStream it is still working on it) from the first form of the sitting until SITTING_WINDOW_MS
// (relay clock) after that form was received; then the group is filed together (delivery.ts) and
// acknowledged. A form of the same session received after the window starts a new sitting.
// After a relay restart the un-acknowledged forms come back together after the ack wait; their
// window has passed, so they are gathered for SITTING_GRACE_MS (real time) before they are filed.
// The combined note's idempotency key is a hash of the forms' own keys: a sitting filed again with the
// same forms is recognised. Known limit: when the combined note fails, each form is retried on its own
// schedule (counted from its own receipt), so retries that land apart file separate notes.
import { createHash } from 'node:crypto';
import type { JsMsg } from '@nats-io/jetstream';
import type { RelayClock } from '../../runtime/scaled-clock.ts';
import type { OceanMessage } from './messages.ts';

/** How long after the first form of a sitting later forms still join its note (relay clock). */
export const SITTING_WINDOW_MS = 10 * 60_000;
/** Real time a sitting whose window has already passed (redelivered forms) waits for its other forms. */
export const SITTING_GRACE_MS = 1000;
/** How often held forms are reported as in progress to JetStream (well under the ack wait, ≥ 5 s). */
const KEEP_ALIVE_MS = 2000;

export interface SittingMember {
  msg: JsMsg;
  message: OceanMessage;
  /** The member's own EMR idempotency key. */
  key: string;
  receivedAt: Date;
}

interface Sitting {
  members: SittingMember[];
  timer: NodeJS.Timeout;
  keepAlive: NodeJS.Timeout;
}

/** Pure: the EMR idempotency key of a combined note: the same for the same forms in any order. */
export function combinedKeyOf(memberKeys: readonly string[]): string {
  return `ocean-${createHash('sha256')
    .update([...memberKeys].sort().join('\n'))
    .digest('hex')
    .slice(0, 40)}`;
}

/** Pure: real milliseconds until the sitting that `first` opened is filed. */
export function sittingDelayMs(first: Date, now: Date, clock: Pick<RelayClock, 'realMs'>): number {
  const left = first.getTime() + SITTING_WINDOW_MS - now.getTime();
  return Math.max(SITTING_GRACE_MS, left > 0 ? clock.realMs(left) : 0);
}

export class SittingCombiner {
  private readonly sittings = new Map<string, Sitting>();
  private readonly clock: RelayClock;
  private readonly file: (members: SittingMember[]) => Promise<void>;
  constructor(clock: RelayClock, file: (members: SittingMember[]) => Promise<void>) {
    this.clock = clock;
    this.file = file;
  }

  /** Holds `member` in its sitting; the sitting is filed when its window closes. */
  add(sitting: string, member: SittingMember): void {
    const open = this.sittings.get(sitting);
    if (open) {
      open.members.push(member);
      return;
    }
    const members = [member];
    const timer = setTimeout(() => this.close(sitting), sittingDelayMs(member.receivedAt, this.clock.now(), this.clock));
    const keepAlive = setInterval(() => {
      for (const m of members) m.msg.working();
    }, KEEP_ALIVE_MS);
    this.sittings.set(sitting, { members, timer, keepAlive });
  }

  private close(key: string): void {
    const sitting = this.sittings.get(key);
    if (!sitting) return;
    this.sittings.delete(key);
    clearInterval(sitting.keepAlive);
    void this.file(sitting.members);
  }

  /** Forgets the open sittings (their forms, never acknowledged, are redelivered to the next relay). */
  stop(): void {
    for (const s of this.sittings.values()) {
      clearTimeout(s.timer);
      clearInterval(s.keepAlive);
    }
    this.sittings.clear();
  }
}
