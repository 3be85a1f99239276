// The service limits every simulator shares (the fidelity table in README.md), checked before any
// route and after the control API:
//   - a request budget per window (`rateLimit`): past it, 429 with `Retry-After` = the seconds left
//     in the window (a window opens with the first call after the last one ended), counted on the simulator's clock (`now`), so a test that injects a clock never
//     waits on the wall; the budget is per simulator (all clients), as an API gateway's per-key limit;
//   - a maximum document size (`maxDocumentBytes`): a document post whose body is larger answers 413.
// Each refusal has the body the real front end sends (Accuro sits behind Azure API Management; FHIR
// servers explain with an OperationOutcome, issue types `throttled` and `too-long`); OSCAR's and
// TELUS's are our design. Switches: the start option `limits` or `sim.state.limits` at run time.
import type { Reply, SimState } from './common.ts';

export interface Limits {
  /**
   * At most `requests` API calls per `windowSeconds` (fixed windows on the simulator's clock). On by
   * default (DEFAULT_RATE_LIMIT, the strict behaviour: every real front end throttles); `false` is the
   * leniency a volume test opts into, and says why (README "Fidelity").
   */
  rateLimit?: { requests: number; windowSeconds: number } | false;
  /** The largest document post (request body, bytes) the EMR takes; default DEFAULT_MAX_DOCUMENT_BYTES; 0 turns it off. */
  maxDocumentBytes?: number;
}

/**
 * 500 calls per 10 s per simulator, on unless a test opts out. No EMR publishes its number
 * (Accuro's gateway is Azure API Management, whose rate-limit-by-key QHR configures privately), so
 * the figure is ours: short-windowed so a refused client waits seconds, and above what the suites'
 * ordinary traffic reaches (measured: at most 250–299 calls in a 10 s window, the worker's sync tests
 * sharing one simulator; every integration test file under 100 but the exactly-once volume test), so
 * that a 429 in a test means a client that hammered, or a test that set a smaller budget to model one.
 */
export const DEFAULT_RATE_LIMIT = { requests: 500, windowSeconds: 10 } as const;

/** 20 MiB: no EMR here publishes its limit; the relay refuses attachments past 8 MiB encrypted before any EMR sees them. */
const DEFAULT_MAX_DOCUMENT_BYTES = 20 * 1024 * 1024;

/** The budget's bookkeeping, per simulator. */
export class LimitCounter {
  windowStart = 0;
  used = 0;
  /** Requests refused with 429 by the budget (tests assert the client did not hammer). */
  refused = 0;
  /** Document posts refused with 413. */
  tooLarge = 0;
}

type Kind = 'throttled' | 'too-long';

/** The refusal as each service sends it. */
function refusal(name: string, kind: Kind, status: number, seconds: number, limit: number): Reply {
  const message =
    kind === 'throttled'
      ? `Rate limit is exceeded. Try again in ${seconds} seconds.`
      : `Request entity too large: the limit is ${limit} bytes.`;
  const headers: Record<string, string> = kind === 'throttled' ? { 'retry-after': String(seconds) } : {};
  if (name === 'fhir')
    return {
      status,
      headers,
      contentType: 'application/fhir+json',
      json: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: kind, diagnostics: message }] },
    };
  if (name === 'accuro') return { status, headers, json: { statusCode: status, message } };
  return { status, headers, json: { error: kind === 'throttled' ? 'rate_limited' : 'document_too_large', message } };
}

const isDocumentPost = (method: string, path: string) => method === 'POST' && /document/i.test(path);

/** The limits' answer to an API call, or undefined when the call is within them. */
export function applyLimits(state: SimState, method: string, path: string, bodyBytes: number): Reply | undefined {
  const { rateLimit = DEFAULT_RATE_LIMIT, maxDocumentBytes = DEFAULT_MAX_DOCUMENT_BYTES } = state.limits;
  const counter = state.limitCounter;
  if (rateLimit) {
    const now = state.now().getTime();
    const windowMs = rateLimit.windowSeconds * 1000;
    // A window opens with the first call after the previous one ended.
    if (counter.used === 0 || now >= counter.windowStart + windowMs) {
      counter.windowStart = now;
      counter.used = 0;
    }
    if (counter.used >= rateLimit.requests) {
      counter.refused++;
      const seconds = Math.max(1, Math.ceil((counter.windowStart + windowMs - now) / 1000));
      return refusal(state.name, 'throttled', 429, seconds, rateLimit.requests);
    }
    counter.used++;
  }
  if (maxDocumentBytes > 0 && isDocumentPost(method, path) && bodyBytes > maxDocumentBytes) {
    counter.tooLarge++;
    return refusal(state.name, 'too-long', 413, 0, maxDocumentBytes);
  }
  return undefined;
}
