// At most N calls in flight; the rest wait their turn in order. For writes that must not crowd out
// the hot path (Events at a busy schedule tick), as client-go's event broadcaster writes one at a time.
export class Limiter {
  private readonly limit: number;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`a limiter needs a limit of at least 1 (got ${limit})`);
    this.limit = limit;
  }

  /** Calls waiting for a turn. */
  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.inFlight += 1;
    try {
      return await fn();
    } finally {
      // The turn passes straight to the next waiter (inFlight unchanged), or is given back.
      const next = this.waiting.shift();
      if (next) next();
      else this.inFlight -= 1;
    }
  }
}
