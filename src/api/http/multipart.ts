// A multipart/form-data parser over a fully buffered body (the body reader enforces the size
// limit first). Written here rather than taken from formidable/busboy because MAAS clients need
// two things those do not give: the `maas` CLI and MAAS's own scripts send every part with
// `Content-Transfer-Encoding: base64` (Python's MIMEApplication), which Django decodes; and
// binary parts without a filename (the CLI's `name@=path` sends raw bytes that way) must stay
// bytes instead of being decoded as text.
import { badRequest } from './errors';

export interface MultipartPart {
  name: string;
  filename?: string;
  /** The part's Content-Type without parameters, lower-case; undefined when the part has none. */
  contentType?: string;
  /** The content after undoing Content-Transfer-Encoding (base64, quoted-printable). */
  data: Buffer;
}

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;

/** The boundary parameter of a multipart Content-Type header, or undefined. */
export function boundaryOf(contentType: string): string | undefined {
  return parseHeaderValue(contentType).params.boundary || undefined;
}

export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  let at = findDelimiter(body, delimiter, 0);
  if (at < 0) throw badRequest('Malformed multipart body: the boundary never appears.');
  const parts: MultipartPart[] = [];
  for (;;) {
    const afterDelimiter = at + delimiter.length;
    if (body[afterDelimiter] === DASH && body[afterDelimiter + 1] === DASH) return parts; // closing delimiter
    const lineEnd = body.indexOf(LF, afterDelimiter); // skips transport padding after the delimiter
    if (lineEnd < 0) throw badRequest('Malformed multipart body: it ends inside a boundary line.');
    const start = lineEnd + 1;
    const next = findDelimiter(body, delimiter, start);
    if (next < 0) throw badRequest('Malformed multipart body: the closing boundary is missing.');
    let end = next - 1; // the line break before a delimiter belongs to the delimiter
    if (end > start && body[end - 1] === CR) end--;
    const part = parsePart(body.subarray(start, Math.max(start, end)));
    if (part) parts.push(part);
    at = next;
  }
}

/** A delimiter counts only at the start of the body or of a line. */
function findDelimiter(body: Buffer, delimiter: Buffer, from: number): number {
  for (let i = body.indexOf(delimiter, from); i >= 0; i = body.indexOf(delimiter, i + 1)) {
    if (i === 0 || body[i - 1] === LF) return i;
  }
  return -1;
}

function parsePart(raw: Buffer): MultipartPart | undefined {
  const { headerText, content } = splitHeaders(raw);
  const headers = parseHeaderLines(headerText);
  const disposition = parseHeaderValue(headers.get('content-disposition') ?? '');
  const name = disposition.params.name;
  if (disposition.value !== 'form-data' || name === undefined) return undefined; // not a form field
  const type = headers.get('content-type');
  return {
    name,
    filename: disposition.params.filename,
    contentType: type === undefined ? undefined : parseHeaderValue(type).value,
    data: decodeTransfer(content, (headers.get('content-transfer-encoding') ?? '').trim().toLowerCase()),
  };
}

function splitHeaders(raw: Buffer): { headerText: string; content: Buffer } {
  if (raw[0] === LF) return { headerText: '', content: raw.subarray(1) };
  if (raw[0] === CR && raw[1] === LF) return { headerText: '', content: raw.subarray(2) };
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf))
    return { headerText: raw.subarray(0, crlf).toString('utf8'), content: raw.subarray(crlf + 4) };
  if (lf >= 0) return { headerText: raw.subarray(0, lf).toString('utf8'), content: raw.subarray(lf + 2) };
  return { headerText: raw.toString('utf8'), content: Buffer.alloc(0) };
}

function parseHeaderLines(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && last !== undefined) {
      headers.set(last, `${headers.get(last) ?? ''} ${line.trim()}`); // folded continuation (RFC 5322)
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    headers.set(last, line.slice(colon + 1).trim());
  }
  return headers;
}

/** `form-data; name="x"; filename*=utf-8''a%20b` → value and parameters (RFC 2231 `*` values decoded). */
export function parseHeaderValue(header: string): { value: string; params: Record<string, string> } {
  // No prototype: a parameter named `constructor` or `__proto__` is a parameter like any other.
  const params = Object.create(null) as Record<string, string>;
  const pieces = splitUnquoted(header, ';');
  const value = (pieces.shift() ?? '').trim().toLowerCase();
  for (const piece of pieces) {
    const eq = piece.indexOf('=');
    if (eq < 0) continue;
    let key = piece.slice(0, eq).trim().toLowerCase();
    let val = piece.slice(eq + 1).trim();
    if (val.startsWith('"') && val.endsWith('"') && val.length >= 2) val = val.slice(1, -1).replace(/\\(.)/g, '$1');
    if (key.endsWith('*')) {
      key = key.slice(0, -1);
      val = decodeExtended(val);
    } else if (Object.hasOwn(params, key)) continue; // an extended (key*) value wins over the plain one
    params[key] = val;
  }
  return { value, params };
}

function splitUnquoted(text: string, separator: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? '';
    if (ch === '\\' && quoted) {
      current += ch + (text[i + 1] ?? '');
      i++;
    } else if (ch === '"') {
      quoted = !quoted;
      current += ch;
    } else if (ch === separator && !quoted) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out;
}

function decodeExtended(value: string): string {
  const match = /^([^']*)'[^']*'(.*)$/.exec(value);
  if (!match) return value;
  const charset = (match[1] ?? '').toLowerCase();
  const bytes = Buffer.from(
    (match[2] ?? '').replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    'latin1',
  );
  return bytes.toString(charset === 'iso-8859-1' || charset === 'latin1' ? 'latin1' : 'utf8');
}

function decodeTransfer(content: Buffer, encoding: string): Buffer {
  if (encoding === 'base64') return Buffer.from(content.toString('latin1'), 'base64');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(content.toString('latin1'));
  return Buffer.from(content); // copy: parts must not pin the whole request buffer
}

function decodeQuotedPrintable(text: string): Buffer {
  const unfolded = text.replace(/=\r?\n/g, ''); // soft line breaks
  return Buffer.from(
    unfolded.replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    'latin1',
  );
}
