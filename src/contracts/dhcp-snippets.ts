// MAAS's DHCP snippets hold ISC dhcpd text; our DHCP server is not dhcpd, so a snippet's `value` is
// read here as the ISC statements that map onto what our server sends (DHCP options, next-server,
// filename, lease times) and anything else is refused with the statement and the reason. Pure and
// shared: the region validates with it at write and encodes with it for the racks, whose server
// only turns the bytes into buffers once per config (nothing is parsed per reply).
import { BOOT_FILE_CODES, OWNED_OPTION_CODES, STANDARD_OPTIONS } from './dhcp-option-names';

export { BOOT_FILE_CODES };

/** One scope's snippets, parsed and encoded: what the rack's DHCP server applies. */
export interface DhcpSnippetLayer {
  /** Option code → value bytes as hex; a later statement for the same code replaced an earlier one. */
  options: Array<{ code: number; hex: string }>;
  /** next-server: siaddr (see BOOT_FILE_CODES for when it applies). */
  nextServer?: string;
  /** filename: the reply's `file` field. */
  filename?: string;
  defaultLeaseSeconds?: number;
  /** Our server gives every client the default lease time, so this caps it. */
  maxLeaseSeconds?: number;
}

export class DhcpSnippetSyntaxError extends Error {}

/** What one snippet may encode at most: a DHCP reply must fit an Ethernet frame with the rest. */
export const MAX_SNIPPET_OPTION_BYTES = 512;

const LEASE_MAX = 2 ** 31 - 1;

interface Token {
  text: string;
  quoted: boolean;
  line: number;
}

/**
 * Parses and encodes a snippet's value; throws DhcpSnippetSyntaxError naming the statement (and
 * its line) and why it is refused.
 */
export function parseDhcpSnippet(value: string): DhcpSnippetLayer {
  const defs = new Map<string, { code: number; type: string }>();
  const options = new Map<number, string>();
  const layer: DhcpSnippetLayer = { options: [] };
  for (const stmt of statements(tokenize(value))) {
    const [head] = stmt;
    const where = `'${render(stmt)}' (line ${head!.line})`;
    const fail = (why: string): never => {
      throw new DhcpSnippetSyntaxError(`Statement ${where}: ${why}`);
    };
    const word = head!.quoted ? '' : head!.text.toLowerCase();
    const args = stmt.slice(1);
    if (word === 'option') option(args, defs, options, fail);
    else if (word === 'next-server') layer.nextServer = single(args, fail, (t) => ipv4(t, fail));
    else if (word === 'filename') layer.filename = single(args, fail, (t) => quotedText(t, fail));
    else if (word === 'default-lease-time') layer.defaultLeaseSeconds = single(args, fail, (t) => seconds(t, fail));
    else if (word === 'max-lease-time') layer.maxLeaseSeconds = single(args, fail, (t) => seconds(t, fail));
    else fail(unsupportedReason(word));
  }
  layer.options = [...options].map(([code, hex]) => ({ code, hex }));
  // Each option costs its value plus two bytes per 255-byte piece (RFC 3396).
  const bytes = layer.options.reduce(
    (n, o) => n + o.hex.length / 2 + 2 * Math.max(1, Math.ceil(o.hex.length / 510)),
    0,
  );
  if (bytes > MAX_SNIPPET_OPTION_BYTES)
    throw new DhcpSnippetSyntaxError(
      `The options encode to ${bytes} bytes; a snippet may add at most ${MAX_SNIPPET_OPTION_BYTES} (a DHCP reply must fit one Ethernet frame).`,
    );
  return layer;
}

/** Layers applied in order; a later layer's option or setting replaces an earlier one's. */
export function mergeDhcpSnippetLayers(layers: readonly DhcpSnippetLayer[]): DhcpSnippetLayer {
  const options = new Map<number, string>();
  const out: DhcpSnippetLayer = { options: [] };
  for (const l of layers) {
    for (const o of l.options) options.set(o.code, o.hex);
    if (l.nextServer !== undefined) out.nextServer = l.nextServer;
    if (l.filename !== undefined) out.filename = l.filename;
    if (l.defaultLeaseSeconds !== undefined) out.defaultLeaseSeconds = l.defaultLeaseSeconds;
    if (l.maxLeaseSeconds !== undefined) out.maxLeaseSeconds = l.maxLeaseSeconds;
  }
  out.options = [...options].map(([code, hex]) => ({ code, hex }));
  return out;
}

function unsupportedReason(word: string): string {
  if (['host', 'subnet', 'shared-network', 'group', 'pool', 'class', 'subclass'].includes(word))
    return 'declarations are not supported: a snippet’s scope is its node, subnet or global_snippet.';
  if (['if', 'elsif', 'else', 'switch', 'case'].includes(word))
    return 'conditionals are not supported: metalflow’s DHCP server evaluates no ISC expressions.';
  if (['allow', 'deny', 'ignore', 'match'].includes(word))
    return 'client access rules are not supported: metalflow’s DHCP server serves every client of a subnet with DHCP on.';
  if (word.startsWith('ddns') || word === 'update-static-leases')
    return 'dynamic DNS updates are not supported: the region’s DNS names machines itself.';
  return 'not supported: metalflow’s DHCP server applies only option, next-server, filename, default-lease-time and max-lease-time statements.';
}

function option(
  args: Token[],
  defs: Map<string, { code: number; type: string }>,
  options: Map<number, string>,
  fail: (why: string) => never,
): void {
  const name = args[0];
  if (!name || name.quoted) fail('an option statement needs an option name.');
  const key = name!.text.toLowerCase();
  if (key.includes('.')) fail('option spaces (space.name) are not supported.');
  if (args[1]?.text.toLowerCase() === 'code' && !args[1].quoted) {
    // option NAME code NNN = TYPE;
    const code = Number(args[2]?.text);
    if (!Number.isInteger(code) || code < 1 || code > 254 || !/^\d+$/.test(args[2]?.text ?? ''))
      fail('an option code is a number from 1 to 254.');
    if (args[3]?.text !== '=') fail("expected '=' and a type after the code.");
    const type = args
      .slice(4)
      .map((t) => t.text.toLowerCase())
      .join(' ');
    refuseOwned(code, fail);
    checkType(type, fail);
    defs.set(key, { code, type });
    return;
  }
  const def = defs.get(key) ?? STANDARD_OPTIONS.get(key);
  if (!def)
    fail(
      `unknown option '${name!.text}': use a standard option name or define it first with 'option ${name!.text} code NNN = TYPE;'.`,
    );
  refuseOwned(def!.code, fail);
  const bytes = encodeValue(def!.type, args.slice(1), fail);
  if (def!.code === 121) checkClasslessRoutes(bytes, fail);
  options.delete(def!.code); // a later statement replaces the earlier one, and its place
  options.set(def!.code, bytes.toString('hex'));
}

function refuseOwned(code: number, fail: (why: string) => never): void {
  const why = OWNED_OPTION_CODES.get(code);
  if (why) fail(`option ${code} cannot be set by a snippet: ${why}.`);
}

const SCALARS = [
  'ip-address',
  'unsigned integer 8',
  'unsigned integer 16',
  'unsigned integer 32',
  'signed integer 8',
  'signed integer 16',
  'signed integer 32',
  'integer 8',
  'integer 16',
  'integer 32',
  'boolean',
  'text',
  'string',
];

function checkType(type: string, fail: (why: string) => never): void {
  const scalar = type.startsWith('array of ') ? type.slice('array of '.length) : type;
  if (type === 'domain-list' || SCALARS.includes(scalar)) {
    if (type.startsWith('array of ') && (scalar === 'text' || scalar === 'string'))
      fail(`type '${type}' is not supported (an array of text cannot be delimited).`);
    return;
  }
  fail(
    `type '${type}' is not supported; use ip-address, (un)signed integer 8/16/32, boolean, text, string, domain-list, or an array of a fixed-size one.`,
  );
}

/** Splits the value at commas; an array takes one or more items, anything else exactly one. */
function encodeValue(type: string, tokens: Token[], fail: (why: string) => never): Buffer {
  if (!tokens.length) fail('the option has no value.');
  const items: Token[][] = [[]];
  for (const t of tokens) {
    if (t.text === ',' && !t.quoted) items.push([]);
    else items[items.length - 1]!.push(t);
  }
  if (items.some((i) => i.length !== 1)) fail('expected values separated by commas, one value each.');
  const values = items.map((i) => i[0]!);
  if (type === 'domain-list') return Buffer.concat(values.map((v) => domainName(v, fail)));
  const array = type.startsWith('array of ');
  const scalar = array ? type.slice('array of '.length) : type;
  if (!array && values.length > 1) fail(`option of type '${type}' takes one value, not ${values.length}.`);
  return Buffer.concat(values.map((v) => encodeScalar(scalar, v, fail)));
}

function encodeScalar(type: string, t: Token, fail: (why: string) => never): Buffer {
  if (type === 'ip-address') return Buffer.from(ipv4(t, fail).split('.').map(Number));
  if (type === 'boolean') {
    const b = { true: 1, on: 1, false: 0, off: 0 }[t.quoted ? '' : t.text.toLowerCase()];
    if (b === undefined) fail(`'${t.text}' is not a boolean (true, false, on, off).`);
    return Buffer.from([b!]);
  }
  if (type === 'text') return Buffer.from(quotedText(t, fail), 'utf8');
  if (type === 'string') {
    if (t.quoted) return Buffer.from(t.text, 'utf8');
    if (!/^[0-9a-f]{1,2}(:[0-9a-f]{1,2})*$/i.test(t.text))
      fail(`'${t.text}' is neither a quoted string nor colon-separated hex bytes.`);
    return Buffer.from(t.text.split(':').map((h) => parseInt(h, 16)));
  }
  const m = /^(unsigned |signed )?integer (8|16|32)$/.exec(type)!;
  const bits = Number(m[2]);
  const signed = m[1] !== 'unsigned ';
  const n = Number(t.text);
  const [lo, hi] = signed ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
  if (t.quoted || !/^-?\d+$/.test(t.text) || n < lo || n > hi)
    fail(`'${t.text}' is not a${signed ? ' signed' : 'n unsigned'} ${bits}-bit integer (${lo} to ${hi}).`);
  const b = Buffer.alloc(bits / 8);
  if (signed) b.writeIntBE(n, 0, bits / 8);
  else b.writeUIntBE(n, 0, bits / 8);
  return b;
}

/** RFC 1035 wire form, uncompressed (RFC 3397 allows either). */
function domainName(t: Token, fail: (why: string) => never): Buffer {
  const name = quotedText(t, fail).replace(/\.$/, '');
  const labels = name.split('.');
  if (!name || labels.some((l) => !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(l)) || name.length > 253)
    fail(`'${t.text}' is not a domain name.`);
  return Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);
}

/** RFC 3442: (prefix length, significant octets of the destination, 4-byte router) repeated. */
function checkClasslessRoutes(b: Buffer, fail: (why: string) => never): void {
  let i = 0;
  while (i < b.length) {
    const width = b[i]!;
    if (width > 32) fail(`classless static routes: prefix length ${width} at byte ${i} exceeds 32.`);
    i += 1 + Math.ceil(width / 8) + 4;
  }
  if (i !== b.length) fail('classless static routes: the bytes do not end on a whole route (RFC 3442 encoding).');
}

function ipv4(t: Token, fail: (why: string) => never): string {
  const parts = t.text.split('.');
  if (t.quoted || parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255))
    fail(`'${t.text}' is not an IPv4 address (host names are not resolved).`);
  return parts.map(Number).join('.');
}

function quotedText(t: Token, fail: (why: string) => never): string {
  if (!t.quoted) fail(`'${t.text}' must be a quoted string.`);
  return t.text;
}

function seconds(t: Token, fail: (why: string) => never): number {
  const n = Number(t.text);
  if (t.quoted || !/^\d+$/.test(t.text) || n < 1 || n > LEASE_MAX)
    fail(`'${t.text}' is not a number of seconds (1 to ${LEASE_MAX}).`);
  return n;
}

function single<T>(args: Token[], fail: (why: string) => never, read: (t: Token) => T): T {
  if (args.length !== 1) fail(`expected exactly one value, got ${args.length}.`);
  return read(args[0]!);
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === '\n') line++;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '#') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (ch === '"') {
      let text = '';
      const start = line;
      i++;
      for (;;) {
        if (i >= src.length) throw new DhcpSnippetSyntaxError(`Unterminated quoted string starting on line ${start}.`);
        const c = src[i]!;
        if (c === '"') break;
        if (c === '\n') line++;
        if (c === '\\' && i + 1 < src.length) {
          text += src[i + 1];
          i += 2;
        } else {
          text += c;
          i++;
        }
      }
      i++;
      out.push({ text, quoted: true, line: start });
    } else if (';,={}'.includes(ch)) {
      out.push({ text: ch, quoted: false, line });
      i++;
    } else {
      let text = '';
      while (i < src.length && !/\s/.test(src[i]!) && !';,={}"#'.includes(src[i]!)) text += src[i++];
      out.push({ text, quoted: false, line });
    }
  }
  return out;
}

function statements(tokens: Token[]): Token[][] {
  const out: Token[][] = [];
  let cur: Token[] = [];
  for (const t of tokens) {
    if (!t.quoted && (t.text === '{' || t.text === '}')) {
      const stmt = cur.length ? render(cur) : t.text;
      throw new DhcpSnippetSyntaxError(
        `Statement '${stmt} ${t.text}' (line ${t.line}): blocks are not supported: a snippet’s scope is its node, subnet or global_snippet, and it holds plain statements only.`,
      );
    }
    if (!t.quoted && t.text === ';') {
      if (cur.length) out.push(cur);
      cur = [];
    } else cur.push(t);
  }
  if (cur.length)
    throw new DhcpSnippetSyntaxError(`Statement '${render(cur)}' (line ${cur[0]!.line}) is not terminated by ';'.`);
  return out;
}

const render = (ts: Token[]): string => ts.map((t) => (t.quoted ? JSON.stringify(t.text) : t.text)).join(' ');
