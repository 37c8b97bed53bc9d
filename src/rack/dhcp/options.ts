// DHCP options (RFC 2132 and friends): the raw code → bytes map a packet carries, how it is read
// from and written to the wire, and small typed readers and writers for the values the server uses.
// Values stay raw so that what the server does not interpret (option 82) is echoed byte for byte.
import { type Ip, ipBytes } from './ipv4';
import { MalformedPacketError } from './malformed';

export const OPT = {
  pad: 0,
  subnetMask: 1,
  router: 3,
  dnsServers: 6,
  hostname: 12,
  domainName: 15,
  ntpServers: 42,
  requestedIp: 50,
  leaseTime: 51,
  overload: 52,
  messageType: 53,
  serverId: 54,
  parameterList: 55,
  message: 56,
  maxMessageSize: 57,
  renewalTime: 58,
  rebindingTime: 59,
  vendorClass: 60,
  clientId: 61,
  tftpServer: 66,
  bootfileName: 67,
  userClass: 77,
  relayAgentInfo: 82,
  clientArch: 93,
  clientNdi: 94,
  clientUuid: 97,
  ipxe: 175,
  end: 255,
} as const;

export const MSG = { discover: 1, offer: 2, request: 3, decline: 4, ack: 5, nak: 6, release: 7, inform: 8 } as const;
export type MessageType = (typeof MSG)[keyof typeof MSG];
export const MSG_NAME: Record<number, string> = Object.fromEntries(
  Object.entries(MSG).map(([name, code]) => [code, name.toUpperCase()]),
);

/** Option code → value. A code seen several times is one value (RFC 3396 concatenation). */
export type DhcpOptions = Map<number, Buffer>;

/** Reads the options area `buf[start, end)`; PAD is skipped, END stops, a cut-off option throws. */
export function decodeOptions(buf: Buffer, start: number, end: number): DhcpOptions {
  const opts: DhcpOptions = new Map();
  let i = start;
  while (i < end) {
    const code = buf[i]!;
    if (code === OPT.end) return opts;
    if (code === OPT.pad) {
      i += 1;
      continue;
    }
    if (i + 1 >= end) throw new MalformedPacketError(`option ${code} has no length byte`);
    const len = buf[i + 1]!;
    if (i + 2 + len > end) throw new MalformedPacketError(`option ${code} claims ${len} bytes, ${end - i - 2} left`);
    const value = buf.subarray(i + 2, i + 2 + len);
    const before = opts.get(code);
    opts.set(code, before ? Buffer.concat([before, value]) : Buffer.from(value));
    i += 2 + len;
  }
  // No END: clients that fill the packet to the last byte exist; what was read is complete.
  return opts;
}

/**
 * The options area, END included: message type first (some clients look only there), relay agent
 * information last (RFC 3046 §2.1), values longer than 255 bytes split (RFC 3396).
 */
export function encodeOptions(opts: DhcpOptions): Buffer {
  const codes = [...opts.keys()].sort((a, b) => rank(a) - rank(b));
  const parts: Buffer[] = [];
  for (const code of codes) {
    if (code === OPT.pad || code === OPT.end) continue;
    const value = opts.get(code)!;
    for (let at = 0; at === 0 || at < value.length; at += 255) {
      const chunk = value.subarray(at, at + 255);
      parts.push(Buffer.from([code, chunk.length]), chunk);
    }
  }
  parts.push(Buffer.from([OPT.end]));
  return Buffer.concat(parts);
}

const rank = (code: number): number => (code === OPT.messageType ? -1 : code === OPT.relayAgentInfo ? 256 : 0);

// Readers: a value of the wrong size reads as absent (a client bug must not change our answer).

export function optU8(opts: DhcpOptions, code: number): number | undefined {
  const v = opts.get(code);
  return v?.length === 1 ? v[0] : undefined;
}

export function optIp(opts: DhcpOptions, code: number): Ip | undefined {
  const v = opts.get(code);
  return v?.length === 4 ? v.readUInt32BE(0) : undefined;
}

export function optText(opts: DhcpOptions, code: number): string | undefined {
  const v = opts.get(code);
  // Some clients count a trailing NUL in the length.
  return v && v.length > 0 ? v.toString('latin1').replace(/\0+$/, '') : undefined;
}

/** Option 93: the client's architecture types (RFC 4578), 16 bits each. */
export function optClientArchs(opts: DhcpOptions): number[] {
  const v = opts.get(OPT.clientArch);
  if (!v || v.length === 0 || v.length % 2 !== 0) return [];
  return Array.from({ length: v.length / 2 }, (_, k) => v.readUInt16BE(k * 2));
}

/**
 * Option 77: RFC 3004 says a list of length-prefixed classes, but iPXE and many ROMs send the bare
 * text ("iPXE"). A value that does not split exactly into length-prefixed pieces is one plain class.
 */
export function optUserClasses(opts: DhcpOptions): string[] {
  const v = opts.get(OPT.userClass);
  if (!v || v.length === 0) return [];
  const classes: string[] = [];
  for (let i = 0; i < v.length;) {
    const len = v[i]!;
    if (len === 0 || i + 1 + len > v.length) return [v.toString('latin1')];
    classes.push(v.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += 1 + len;
  }
  return classes;
}

// Writers.

export const u8 = (n: number): Buffer => Buffer.from([n & 255]);

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export const ipList = (ips: readonly Ip[]): Buffer => Buffer.concat(ips.map(ipBytes));

export const text = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Option 175 with iPXE's `no-pxedhcp` (176) = 1: iPXE then skips its ~3 s wait for ProxyDHCP. */
export const IPXE_NO_PXEDHCP = Buffer.from([176, 1, 1]);
