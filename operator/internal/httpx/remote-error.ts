// The typed failure of a call to a remote service (an EMR, or Ocean through the same HTTP
// plumbing). Callers map its reason to a condition reason without parsing messages. The class keeps
// its historical name because the reason vocabulary started with the EMR adapters.
export type EmrErrorReason =
  | 'InvalidCredentials' // the EMR rejected the credentials
  | 'Expired' // the credential (token, activation code) is past its expiry
  | 'Deauthorized' // access was revoked; a person must authorize again
  | 'EmrUnreachable' // connection failure, timeout or 5xx
  | 'RateLimited' // 429; retry after `retryAfterMs`
  | 'NotFound' // the record does not exist
  | 'InvalidResponse'; // the EMR answered something that does not follow its API

export class EmrError extends Error {
  readonly reason: EmrErrorReason;
  readonly retryAfterMs: number | undefined;
  constructor(reason: EmrErrorReason, message: string, retryAfterMs?: number) {
    super(message);
    this.name = 'EmrError';
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
  }
}
