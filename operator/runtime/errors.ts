// Typed errors. A TerminalError means the spec cannot work as written: the object is marked
// Stalled with the error's reason and is not retried until it changes (Flux's TerminalError).
import { redactor } from './redact.ts';

export class TerminalError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(redactor.string(message));
    this.name = 'TerminalError';
    this.reason = reason;
  }
}

/** A transient failure with a PascalCase reason for conditions; retried with backoff. */
export class TransientError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(redactor.string(message), options);
    this.name = 'TransientError';
    this.reason = reason;
  }
}

/** A message safe to put in a condition, an event or a log: redacted and short. */
export function safeMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return redactor.string(text).slice(0, 1024);
}

/** HTTP status of an error thrown by @kubernetes/client-node or fetch, when there is one. */
export function statusCodeOf(error: unknown): number | undefined {
  if (error && typeof error === 'object') {
    const e = error as { code?: unknown; statusCode?: unknown; response?: { statusCode?: unknown } };
    for (const c of [e.code, e.statusCode, e.response?.statusCode]) if (typeof c === 'number') return c;
  }
  return undefined;
}

/** A `.catch` handler that treats the given HTTP statuses as success (404 on delete, 409 on create). */
export function ignoreStatus(...codes: number[]): (error: unknown) => undefined {
  return (error: unknown) => {
    const code = statusCodeOf(error);
    if (code === undefined || !codes.includes(code)) throw error;
    return undefined;
  };
}
