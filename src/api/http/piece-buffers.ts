// The buffers a pre-encoded array reply (reply.ts, boundedPieces) copies its pieces into, used
// again once the response has flushed them. A 10,000-machine listing is ~240 pieces of 256 KiB:
// new ones for each listing were 60 MB of ArrayBuffers per listing, which count towards V8's
// limits and brought a major GC on nearly every listing once the heap was kept small (issue 17,
// bench/results/list-profile.md). Reused, a listing needs two or three.

/** What is read of the response: how much it still holds, its own buffer and its socket's. */
export interface FlushingResponse {
  readonly writableLength: number;
}

/** Pieces are made at least this much bigger than asked, so the next piece (a few KiB larger) fits. */
const SLACK = 16 * 1024;

export class PieceBuffers {
  private readonly free: Buffer[] = [];
  /**
   * Buffers of pieces handed out, oldest first, each with the count of piece bytes handed out up
   * to its end: the response writes pieces in order, so one is written once that many are.
   */
  private readonly handed: Array<{ buffer: Buffer; end: number }> = [];
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
   * A buffer for the next piece, of exactly `size` bytes. The caller must have handed every piece
   * it took before to the response's write() (boundedPieces does: the stream asks it for the next
   * piece only once the one before has gone to the response, see there). What the response still
   * holds is at most the last `writableLength` piece bytes handed out (it also counts the chunked
   * encoding's framing, which only makes this count smaller): the pieces before those are written.
   */
  take(size: number): Buffer {
    if (this.response) {
      const written = this.handedBytes - this.response.writableLength;
      while (this.handed.length > 0 && this.handed[0]!.end <= written) this.free.push(this.handed.shift()!.buffer);
    }
    const at = this.free.findIndex((b) => b.length >= size);
    const buffer = at >= 0 ? this.free.splice(at, 1)[0]! : Buffer.allocUnsafe(size + SLACK);
    this.handedBytes += size;
    this.handed.push({ buffer, end: this.handedBytes });
    return buffer.subarray(0, size);
  }

  /** How many buffers this reply made (tests). */
  get made(): number {
    return this.free.length + this.handed.length;
  }
}
