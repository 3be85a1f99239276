import type { JsMsg } from '@nats-io/jetstream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { eFormNoteMessage } from '../../../test/simulators/ocean.ts';
import { realClock } from '../../runtime/scaled-clock.ts';
import { SITTING_WINDOW_MS, SittingCombiner, type SittingMember } from './combine.ts';
import { parseOceanMessage } from './messages.ts';

const patient = { emrId: '17', firstName: 'Ada', lastName: 'Lovelace-Sim', birthDate: '1980-02-03' };

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-12-01T12:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

function member(id: string, receivedAt: Date): SittingMember & { working: number } {
  const m = {
    working: 0,
    key: `ocean-${id}`,
    receivedAt,
    message: parseOceanMessage(JSON.parse(JSON.stringify(eFormNoteMessage(id, patient, id, { sessionId: 's-1' })))),
    msg: {} as JsMsg,
  };
  m.msg = { working: () => m.working++ } as unknown as JsMsg;
  return m;
}

describe('the sitting combiner', () => {
  it('files the forms added within the window together, once, when the window closes, keeping them alive meanwhile', async () => {
    const clock = realClock;
    const filed: string[][] = [];
    const combiner = new SittingCombiner(clock, async (members) => {
      filed.push(members.map((m) => m.key));
    });
    const first = member('a', clock.now());
    combiner.add('17/s-1', first);
    await vi.advanceTimersByTimeAsync(SITTING_WINDOW_MS / 2);
    combiner.add('17/s-1', member('b', clock.now()));
    expect(filed).toEqual([]);
    expect(first.working).toBeGreaterThan(0);
    await vi.advanceTimersByTimeAsync(SITTING_WINDOW_MS / 2);
    expect(filed).toEqual([['ocean-a', 'ocean-b']]);
    // A form of the same session after the window opens a sitting of its own.
    combiner.add('17/s-1', member('c', clock.now()));
    await vi.advanceTimersByTimeAsync(SITTING_WINDOW_MS);
    expect(filed).toEqual([['ocean-a', 'ocean-b'], ['ocean-c']]);
  });
  it('files nothing once stopped (the held forms are redelivered to the next relay)', async () => {
    const clock = realClock;
    const filed: unknown[] = [];
    const combiner = new SittingCombiner(clock, async (members) => {
      filed.push(members);
    });
    combiner.add('17/s-1', member('a', clock.now()));
    combiner.stop();
    await vi.advanceTimersByTimeAsync(2 * SITTING_WINDOW_MS);
    expect(filed).toEqual([]);
  });
});
