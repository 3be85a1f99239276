// Pure: what the webhook decides from a request's head alone, before a byte of its body is read.
// In this order, so that the cheapest check that needs no secret comes first and nobody without
// the key learns anything about the limits or ties up a slot:
//   route (404/405: POST /ocean/webhook, and POST /ocean/fhir_bundles with an eReferral endpoint) → API key (401) → content type (415) → Content-Length (413) → in-flight cap (503 + Retry-After)
// The body's size is checked again while it streams (a chunked body has no Content-Length).
import type { IncomingHttpHeaders } from 'node:http';
import { matchWebhookKey, type WebhookKeys } from './api-key.ts';

const WEBHOOK_PATH = '/ocean/webhook';
/** Ocean's eReferral integration posts its FHIR bundles to a Request URL ending in `/fhir_bundles` (seed 001). */
export const FHIR_BUNDLES_PATH = '/ocean/fhir_bundles';
/** The header Ocean's integration registration names by default (seed 001). */
export const DEFAULT_API_KEY_HEADER = 'Referral-Integration-API-Key';
/** Media types of an EMR-bound message: our JSON, or Ocean's FHIR JSON. */
const ACCEPTED_TYPES = ['application/json', 'application/fhir+json'];

export interface WebhookLimits {
  /** Header carrying the API key (case-insensitive, as every HTTP header). */
  apiKeyHeader: string;
  /** Largest body read (the NATS server's max_payload lowers it: a larger message can never be stored). */
  maxBodyBytes: number;
  /** Webhook requests being read or stored at once; one more is answered 503. */
  maxInFlight: number;
  /** Retry-After of that 503, in seconds. */
  retryAfterSeconds: number;
  /** The integration has an eReferral endpoint (spec.eReferral): POST /ocean/fhir_bundles is served too. */
  fhirBundles?: boolean;
}

export type RefusalResult = 'not_found' | 'unauthorized' | 'unsupported_media_type' | 'too_large' | 'overloaded';

export interface Refusal {
  status: number;
  result: RefusalResult;
  message: string;
  headers?: Record<string, string>;
}

export interface RequestHead {
  method: string | undefined;
  path: string;
  headers: IncomingHttpHeaders;
}

/** The body limit in force: the configured one, lowered to the queue's max_payload when known. */
export function bodyLimit(limits: WebhookLimits, maxPayload: number | undefined): { bytes: number; queue: boolean } {
  if (maxPayload !== undefined && maxPayload < limits.maxBodyBytes) return { bytes: maxPayload, queue: true };
  return { bytes: limits.maxBodyBytes, queue: false };
}

export function tooLarge(bytes: number | undefined, limit: { bytes: number; queue: boolean }): Refusal {
  const what = bytes === undefined ? 'the body' : `the body (${bytes} bytes)`;
  const message = limit.queue
    ? `${what} exceeds the queue's max_payload (${limit.bytes} bytes)`
    : `${what} is larger than ${limit.bytes} bytes`;
  return { status: 413, result: 'too_large', message };
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  // A repeated key header is refused rather than guessed at.
  return typeof v === 'string' ? v : undefined;
}

function mediaTypeOf(headers: IncomingHttpHeaders): string {
  return (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Undefined when the request may be read; otherwise the answer. */
export function checkRequestHead(
  head: RequestHead,
  state: { keys: WebhookKeys; now: Date; inFlight: number; maxPayload: number | undefined },
  limits: WebhookLimits,
): Refusal | undefined {
  const routed = head.path === WEBHOOK_PATH || (limits.fhirBundles === true && head.path === FHIR_BUNDLES_PATH);
  if (!routed) return { status: 404, result: 'not_found', message: `no route ${head.path}` };
  if (head.method !== 'POST')
    return { status: 405, result: 'not_found', message: `${head.method ?? ''} is not allowed`, headers: { allow: 'POST' } };
  if (!matchWebhookKey(headerValue(head.headers, limits.apiKeyHeader), state.keys, state.now))
    return { status: 401, result: 'unauthorized', message: `the API key in header ${limits.apiKeyHeader} is missing or not valid` };
  if (!ACCEPTED_TYPES.includes(mediaTypeOf(head.headers)))
    return { status: 415, result: 'unsupported_media_type', message: `the content type must be ${ACCEPTED_TYPES.join(' or ')}` };
  const limit = bodyLimit(limits, state.maxPayload);
  const declared = head.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit.bytes) return tooLarge(Number(declared), limit);
  if (state.inFlight >= limits.maxInFlight)
    return {
      status: 503,
      result: 'overloaded',
      message: 'too many webhook requests in flight; retry later',
      headers: { 'retry-after': String(limits.retryAfterSeconds) },
    };
  return undefined;
}
