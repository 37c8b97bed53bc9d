// Reading the one BSON shape machine `details` sends: binary and null elements (see
// src/api/presenters/bson.ts).
import assert from 'node:assert/strict';

/** The one BSON shape details sends: binary and null elements (see presenters/bson.ts). */
export function decodeBson(buf: Buffer): Record<string, Buffer | null> {
  assert.equal(buf.readInt32LE(0), buf.length);
  const out: Record<string, Buffer | null> = {};
  let i = 4;
  while (buf[i] !== 0) {
    const type = buf[i]!;
    const end = buf.indexOf(0, i + 1);
    const name = buf.subarray(i + 1, end).toString('utf8');
    i = end + 1;
    if (type === 0x0a) out[name] = null;
    else {
      assert.equal(type, 0x05);
      const len = buf.readInt32LE(i);
      out[name] = buf.subarray(i + 5, i + 5 + len);
      i += 5 + len;
    }
  }
  return out;
}
