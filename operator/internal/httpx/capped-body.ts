// Reads a response body up to a byte cap, counting while it streams: an endpoint that answers with
// an endless (or merely huge) body costs at most `maxBytes` of memory, never the whole body first.
// A declared Content-Length over the cap is refused before a byte is read.

export class ResponseTooLargeError extends Error {
  readonly maxBytes: number;
  constructor(maxBytes: number) {
    super(`the response is larger than ${maxBytes} bytes`);
    this.name = 'ResponseTooLargeError';
    this.maxBytes = maxBytes;
  }
}

/** Pure: whether a declared Content-Length already says the body is over the cap. */
export function declaredTooLarge(contentLength: string | null, maxBytes: number): boolean {
  if (contentLength === null || !/^\d+$/.test(contentLength.trim())) return false;
  return Number(contentLength.trim()) > maxBytes;
}

/** Pure: the running total after a chunk, or undefined once it passes the cap. */
export function addWithinCap(received: number, chunkBytes: number, maxBytes: number): number | undefined {
  const total = received + chunkBytes;
  return total > maxBytes ? undefined : total;
}

/** The whole body as one Buffer, or ResponseTooLargeError as soon as it passes `maxBytes` (the stream is then cancelled). */
export async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number, contentLength: string | null): Promise<Buffer> {
  if (declaredTooLarge(contentLength, maxBytes)) {
    await body?.cancel().catch(() => undefined);
    throw new ResponseTooLargeError(maxBytes);
  }
  if (!body) return Buffer.alloc(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const total = addWithinCap(received, value.byteLength, maxBytes);
    if (total === undefined) {
      await reader.cancel().catch(() => undefined);
      throw new ResponseTooLargeError(maxBytes);
    }
    received = total;
    chunks.push(value);
  }
  return Buffer.concat(chunks, received);
}
