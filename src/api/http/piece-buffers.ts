// The buffers a pre-encoded array reply (reply.ts, boundedPieces) copies its pieces into, used
// again once the response has flushed them. A 10,000-machine listing is ~240 pieces of 256 KiB:
// new ones for each listing were 60 MB of ArrayBuffers per listing, which count towards V8's
// limits and brought a major GC on nearly every listing once the heap was kept small (issue 17,
// bench/results/list-profile.md). Reused, a listing needs two or three.

/** What is read of the response: how much it still holds, its own buffer and its socket's. */
export interface FlushingResponse {
  readonly writableLength: number;
}

/** A piece this size or more gets this much more room, so the next piece (a few KiB larger) fits. */
const SLACK = 16 * 1024;
const SLACK_FROM = 64 * 1024;

/**
 * Safe only while the bytes go from the stream to the response as they are: a middleware that
 * wraps the body (compression) would hold pieces where writableLength does not count them.
 */
export class PieceBuffers {
  private readonly free: Buffer[] = [];
  /** Buffers of pieces handed out, oldest first, with where each piece starts and ends in the reply. */
  private readonly handed: Array<{ buffer: Buffer; start: number; end: number }> = [];
  private handedBytes = 0;
  private response: FlushingResponse | undefined;

  /**
   * The response the pieces go to. Until it is known nothing is used twice (a reply read in some
   * other way only costs new buffers).
   */
  writtenTo(response: FlushingResponse): void {
    this.response = response;
  }

  /**
   * A buffer for the next piece, of exactly `size` bytes.
   *
   * Pieces reach the response in order, and when take() runs every piece but the newest one
   * handed out has reached it: the stream (Readable.from, highWaterMark 1) holds at most one piece
   * the pipe has not written to the response, and may ask for the next before emitting that one.
   * So the response has been given the bytes up to where the newest piece starts, and holds
   * `writableLength` of them at most (it also counts headers and the chunked encoding's framing,
   * which only makes this more cautious): the pieces that end before that are written.
   */
  take(size: number): Buffer {
    const newest = this.handed[this.handed.length - 1];
    if (this.response && newest) {
      const written = newest.start - this.response.writableLength;
      while (this.handed.length > 1 && this.handed[0]!.end <= written) this.free.push(this.handed.shift()!.buffer);
    }
    const at = this.free.findIndex((b) => b.length >= size);
    const buffer = at >= 0 ? this.free.splice(at, 1)[0]! : Buffer.allocUnsafe(size >= SLACK_FROM ? size + SLACK : size);
    this.handed.push({ buffer, start: this.handedBytes, end: (this.handedBytes += size) });
    return buffer.subarray(0, size);
  }

  /** How many buffers this reply made (tests). */
  get made(): number {
    return this.free.length + this.handed.length;
  }
}
