// A bearer token kept between calls and renewed before it expires: at 2/3 of its lifetime (the
// cert-manager rule the rest of the operator follows) or when less than a minute is left.
// Concurrent callers share one renewal.

export interface BearerToken {
  value: string;
  issuedAt: Date;
  expiresAt: Date;
  refreshToken?: string;
  /** When the client secret itself expires, when the token endpoint says so (RFC 7591's client_secret_expires_at). */
  clientNotAfter?: Date;
}

/** Obtains a token; `previous` is the token being replaced, for a refresh grant. */
export type TokenSource = (previous: BearerToken | undefined) => Promise<BearerToken>;

export class TokenCache {
  private readonly source: TokenSource;
  private readonly now: () => Date;
  private token: BearerToken | undefined;
  private pending: Promise<BearerToken> | undefined;

  constructor(source: TokenSource, now: () => Date) {
    this.source = source;
    this.now = now;
  }

  get current(): BearerToken | undefined {
    return this.token;
  }

  async get(): Promise<BearerToken> {
    if (this.token && !needsRenewal(this.token, this.now())) return this.token;
    return this.renew();
  }

  /** Forgets the token (the EMR said it is no longer valid) but keeps its refresh token. */
  invalidate(): void {
    if (this.token) this.token = { ...this.token, expiresAt: new Date(0) };
  }

  /** Drops everything, refresh token included. */
  clear(): void {
    this.token = undefined;
  }

  renew(): Promise<BearerToken> {
    this.pending ??= this.source(this.token)
      .then((token) => {
        this.token = token;
        return token;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }
}

export function needsRenewal(token: BearerToken, now: Date): boolean {
  const issued = token.issuedAt.getTime();
  const expires = token.expiresAt.getTime();
  const renewAt = Math.min(issued + ((expires - issued) * 2) / 3, expires - 60_000);
  return now.getTime() >= Math.max(renewAt, issued);
}
