// Splits Vault's audit stream (JSON lines) into lines while holding at most `maxBytes` of an
// unfinished line: a longer line is dropped whole, its bytes discarded as they arrive up to its
// newline, and counted. So a peer that never sends a newline cannot grow the operator's memory.

export interface SplitLines {
  /** The complete lines, without their newline (empty lines left out). */
  lines: string[];
  /** Lines dropped for being longer than the limit (counted once, when the limit is passed). */
  oversized: number;
}

export class BoundedLineSplitter {
  private readonly maxBytes: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private skipping: boolean;

  /** `skipping`: start inside a line already counted as oversized (a tail resumed mid-line). */
  constructor(maxBytes: number, options: { skipping?: boolean } = {}) {
    this.maxBytes = maxBytes;
    this.skipping = options.skipping ?? false;
  }

  /** Bytes held for the unfinished line: never more than `maxBytes`. */
  get held(): number {
    return this.pendingBytes;
  }

  /** Whether the unfinished line is an oversized one being discarded. */
  get droppingLine(): boolean {
    return this.skipping;
  }

  push(chunk: Buffer): SplitLines {
    const out: SplitLines = { lines: [], oversized: 0 };
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.endLine(chunk.subarray(start, nl), out);
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (this.skipping || rest.length === 0) return out;
    if (this.pendingBytes + rest.length > this.maxBytes) {
      this.startSkipping(out);
    } else {
      // A copy: holding a slice would keep the whole chunk alive.
      this.pending.push(Buffer.from(rest));
      this.pendingBytes += rest.length;
    }
    return out;
  }

  private endLine(piece: Buffer, out: SplitLines): void {
    if (this.skipping) {
      this.skipping = false;
      return;
    }
    if (this.pendingBytes + piece.length > this.maxBytes) {
      out.oversized += 1;
      this.reset();
      return;
    }
    const line = (this.pending.length === 0 ? piece : Buffer.concat([...this.pending, piece])).toString('utf8');
    this.reset();
    if (line.trim() !== '') out.lines.push(line);
  }

  private startSkipping(out: SplitLines): void {
    out.oversized += 1;
    this.skipping = true;
    this.reset();
  }

  private reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }
}
