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

/** CLOUDCONNECT_RELAY_TIME_SCALE (> 0) and CLOUDCONNECT_RELAY_TIME_ORIGIN (ISO 8601); both or neither. */
export function clockFromEnv(env: NodeJS.ProcessEnv): RelayClock {
  const scaleText = env.CLOUDCONNECT_RELAY_TIME_SCALE;
  const originText = env.CLOUDCONNECT_RELAY_TIME_ORIGIN;
  if (!scaleText && !originText) return realClock;
  const scale = Number(scaleText);
  const origin = Date.parse(originText ?? '');
  if (!Number.isFinite(scale) || scale <= 0 || scale > 1_000_000)
    throw new Error('CLOUDCONNECT_RELAY_TIME_SCALE must be a number above 0 (simulated ms per real ms)');
  if (Number.isNaN(origin))
    throw new Error('CLOUDCONNECT_RELAY_TIME_ORIGIN must be an ISO 8601 time when CLOUDCONNECT_RELAY_TIME_SCALE is set');
  return scaledClock(origin, scale);
}
