// BOOTP/DHCP messages (RFC 2131 §2): the fixed 236-byte header, the magic cookie, the options.
// Decoding checks every length it relies on and throws only MalformedPacketError.
import { type Ip } from './ipv4';
import { MalformedPacketError } from './malformed';
import { decodeOptions, encodeOptions, optU8, OPT, type DhcpOptions } from './options';

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const BROADCAST_FLAG = 0x8000;
const MAGIC_COOKIE = 0x63825363;
const HEADER = 236;
const OPTIONS_AT = HEADER + 4;
/** RFC 1542 §2.1: some relays and old clients drop BOOTP messages shorter than this. */
const MIN_REPLY = 300;

export interface DhcpPacket {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: Ip;
  yiaddr: Ip;
  siaddr: Ip;
  giaddr: Ip;
  /** All 16 bytes as received; the hardware address is the first `hlen`. */
  chaddr: Buffer;
  sname: string;
  file: string;
  options: DhcpOptions;
}

export function decodePacket(buf: Buffer): DhcpPacket {
  if (buf.length < OPTIONS_AT)
    throw new MalformedPacketError(`${buf.length} bytes is shorter than a DHCP message (${OPTIONS_AT})`);
  const op = buf[0]!;
  if (op !== BOOTREQUEST && op !== BOOTREPLY)
    throw new MalformedPacketError(`op ${op} is neither BOOTREQUEST nor BOOTREPLY`);
  const hlen = buf[2]!;
  if (hlen > 16) throw new MalformedPacketError(`hardware address length ${hlen} exceeds 16`);
  if (buf.readUInt32BE(HEADER) !== MAGIC_COOKIE)
    throw new MalformedPacketError('no DHCP magic cookie (plain BOOTP is not served)');
  // Option 52 (overload) would put more options into sname/file; no PXE client does, so those
  // fields are read as the names they normally are and the overload is ignored.
  return {
    op,
    htype: buf[1]!,
    hlen,
    hops: buf[3]!,
    xid: buf.readUInt32BE(4),
    secs: buf.readUInt16BE(8),
    flags: buf.readUInt16BE(10),
    ciaddr: buf.readUInt32BE(12),
    yiaddr: buf.readUInt32BE(16),
    siaddr: buf.readUInt32BE(20),
    giaddr: buf.readUInt32BE(24),
    chaddr: Buffer.from(buf.subarray(28, 44)),
    sname: cString(buf, 44, 64),
    file: cString(buf, 108, 128),
    options: decodeOptions(buf, OPTIONS_AT, buf.length),
  };
}

export function encodePacket(p: DhcpPacket): Buffer {
  const head = Buffer.alloc(OPTIONS_AT);
  head[0] = p.op;
  head[1] = p.htype;
  head[2] = p.hlen;
  head[3] = p.hops;
  head.writeUInt32BE(p.xid >>> 0, 4);
  head.writeUInt16BE(p.secs & 0xffff, 8);
  head.writeUInt16BE(p.flags & 0xffff, 10);
  head.writeUInt32BE(p.ciaddr >>> 0, 12);
  head.writeUInt32BE(p.yiaddr >>> 0, 16);
  head.writeUInt32BE(p.siaddr >>> 0, 20);
  head.writeUInt32BE(p.giaddr >>> 0, 24);
  p.chaddr.copy(head, 28, 0, 16);
  writeCString(head, 44, 64, p.sname);
  writeCString(head, 108, 128, p.file);
  head.writeUInt32BE(MAGIC_COOKIE, HEADER);
  const out = Buffer.concat([head, encodeOptions(p.options)]);
  return out.length >= MIN_REPLY ? out : Buffer.concat([out, Buffer.alloc(MIN_REPLY - out.length)]);
}

/** The client's hardware address as `aa:bb:cc:dd:ee:ff` (lower case, `hlen` bytes). */
export function macOf(p: DhcpPacket): string {
  let s = '';
  for (let i = 0; i < p.hlen; i++) s += (i ? ':' : '') + p.chaddr[i]!.toString(16).padStart(2, '0');
  return s;
}

export function messageTypeOf(p: DhcpPacket): number | undefined {
  return optU8(p.options, OPT.messageType);
}

function cString(buf: Buffer, at: number, size: number): string {
  const field = buf.subarray(at, at + size);
  const nul = field.indexOf(0);
  return field.subarray(0, nul === -1 ? size : nul).toString('latin1');
}

/** A name that does not fit (with its NUL) is left out: option 66/67 carry it then. */
function writeCString(buf: Buffer, at: number, size: number, value: string): void {
  const bytes = Buffer.from(value, 'latin1');
  if (bytes.length < size) bytes.copy(buf, at);
}
