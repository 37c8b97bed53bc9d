// Watches a multipart body while it streams in, so a body with too many parts or one oversized
// part is refused (413) at the byte that crosses the cap, not after the whole body was buffered.
// It only finds delimiters (the same rule as multipart.ts: `--boundary` at the start of a line);
// parsing the parts stays with parseMultipart once the body is complete.
import { payloadTooLarge } from './errors';

export interface MultipartCaps {
  /** Parts (fields and files) one body may hold. */
  parts: number;
  /** Bytes one part may take on the wire, headers and transfer encoding included. */
  partWireBytes: number;
}

export class MultipartGuard {
  private readonly delimiter: Buffer;
  /** The stream's last bytes, so a delimiter split across chunks is still found. Starts as a
   *  virtual LF: a delimiter at the very start of the body counts as at the start of a line. */
  private carry = Buffer.from('\n');
  /** Stream offset of the end of what has been seen (the virtual LF is at offset -1). */
  private seen = 0;
  private delimiters = 0;
  private lastDelimiterEnd = 0;

  constructor(
    boundary: string,
    private readonly caps: MultipartCaps,
  ) {
    this.delimiter = Buffer.from(`\n--${boundary}`, 'latin1');
  }

  /** Throws a 413 ApiError once the body so far breaks a cap. */
  push(chunk: Buffer): void {
    const window = Buffer.concat([this.carry, chunk]);
    const windowStart = this.seen - this.carry.length;
    // A match lies at least partly in `chunk`: the carry is shorter than a delimiter.
    for (let i = window.indexOf(this.delimiter); i >= 0; i = window.indexOf(this.delimiter, i + 1)) {
      this.delimiters++;
      // The first delimiter opens part 1; each later one closes a part (the last closes the body).
      if (this.delimiters - 1 > this.caps.parts) {
        throw payloadTooLarge(`Request body too large: a multipart body may have at most ${this.caps.parts} parts.`);
      }
      this.lastDelimiterEnd = windowStart + i + this.delimiter.length;
    }
    this.seen += chunk.length;
    // A copy: a view would pin the whole chunk in memory.
    this.carry = Buffer.from(window.subarray(Math.max(0, window.length - (this.delimiter.length - 1))));
    if (this.seen - this.lastDelimiterEnd > this.caps.partWireBytes) {
      throw payloadTooLarge(
        `Request body too large: one multipart part may take at most ${this.caps.partWireBytes} bytes.`,
      );
    }
  }
}
