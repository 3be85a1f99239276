// The relay's clock. Production uses the real clock. Tests that must show hours of retry schedule in
// a minute give the relay (a child process) a time scale and an origin: simulated now =
// origin + (real now − origin) × scale, so every process started with the same two values, including
// a relay restarted after a crash, agrees on the simulated time. Delays handed to NATS (a nak's
// redelivery delay) are real time: simulated delay ÷ scale.
import type { Clock } from './clock.ts';

export interface RelayClock extends Clock {
  /** Simulated milliseconds per real millisecond (1 in production). */
  readonly scale: number;
  /** A simulated duration as real milliseconds. */
  realMs(simulatedMs: number): number;
}

export function scaledClock(originMs: number, scale: number, realNow: () => number = Date.now): RelayClock {
  return {
    scale,
    now: () => new Date(originMs + (realNow() - originMs) * scale),
    realMs: (ms) => Math.max(0, Math.round(ms / scale)),
  };
}

export const realClock: RelayClock = scaledClock(0, 1);
