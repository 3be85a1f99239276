// The typed failure of a call to a remote service (an EMR, or Ocean through the same HTTP
// plumbing). Callers map its reason to a condition reason without parsing messages. Each service
// has its subclass and reason vocabulary (EmrError here, OceanError in internal/ocean), so a run's
// errorReason says which side failed.
export type EmrErrorReason =
  | 'InvalidCredentials' // the EMR rejected the credentials
  | 'Expired' // the credential (token, activation code) is past its expiry
  | 'Deauthorized' // access was revoked; a person must authorize again
  | 'EmrUnreachable' // connection failure, timeout or 5xx
  | 'RateLimited' // 429; retry after `retryAfterMs`
  | 'NotFound' // the record does not exist
  | 'DocumentTooLarge' // 413: the EMR refuses a document (or note) this large; sending it again cannot help
  | 'InvalidResponse'; // the EMR answered something that does not follow its API

/**
 * Why the egress sandbox (egress-agent.ts, capped-body.ts) stopped a call, on top of the service's
 * reason: a condition reason of its own, so that a hostile or misconfigured endpoint says so.
 */
export type EgressReason =
  | 'ResponseTooLarge' // the body passed the response size cap (EGRESS_MAX_RESPONSE_BYTES)
  | 'EndpointNotAllowed' // the host is, or resolves to, an address the operator does not allow (EGRESS_ALLOW_CIDRS)
  | 'EndpointTimeout'; // no connection or no complete answer within the deadlines

/** A remote service's failure: its reason, and how long the service asked us to wait (Retry-After). */
export class RemoteError<Reason extends string = string> extends Error {
  readonly reason: Reason;
  readonly retryAfterMs: number | undefined;
  /** Set when the egress sandbox stopped the call; the reason to show instead of `reason`. */
  readonly egress: EgressReason | undefined;
  constructor(reason: Reason, message: string, retryAfterMs?: number, egress?: EgressReason) {
    super(message);
    this.name = new.target.name;
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
    this.egress = egress;
  }
}

export class EmrError extends RemoteError<EmrErrorReason> {}
