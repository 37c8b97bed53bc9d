// JSON.parse and JSON.stringify recurse: a body like [[[[…]]]] 50,000 deep overflows the stack
// (a RangeError, i.e. a 500) and costs time in proportion to its depth. Counting brackets outside
// strings is linear, needs no stack, and refuses such a body before anything parses it.
import { badRequest } from './errors';

/** Nesting deeper than this is refused: MAAS's own payloads nest a handful of levels at most. */
export const DEFAULT_JSON_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPENERS = new Set([0x5b, 0x7b]); // [ {
const CLOSERS = new Set([0x5d, 0x7d]); // ] }

/** The deepest nesting of arrays/objects in `raw` (UTF-8 JSON text), stopping once it passes `limit`. */
export function jsonDepth(raw: Uint8Array, limit = Infinity): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (OPENERS.has(byte)) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (CLOSERS.has(byte)) depth--;
  }
  return deepest;
}

/** JSON.parse, after refusing (400) text nested deeper than `maxDepth` or that does not parse. */
export function parseJson(raw: Buffer, maxDepth = DEFAULT_JSON_DEPTH, what = 'JSON body'): unknown {
  if (jsonDepth(raw, maxDepth) > maxDepth) {
    throw badRequest(`Invalid ${what}: nested more than ${maxDepth} levels deep.`);
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw badRequest(`Invalid ${what}: ${(err as Error).message}`);
  }
}
