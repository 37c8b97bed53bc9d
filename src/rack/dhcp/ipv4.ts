// IPv4 addresses as unsigned 32-bit numbers: the DHCP server compares, ranges and scans them in
// hot paths, where strings would mean a parse per packet.

export type Ip = number;

/** `10.0.0.5` → 0x0a000005, or undefined when the text is not a dotted quad. */
export function parseIp(text: string): Ip | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

export function requireIp(text: string, what: string): Ip {
  const ip = parseIp(text);
  if (ip === undefined) throw new Error(`${what}: "${text}" is not an IPv4 address`);
  return ip;
}

export function formatIp(ip: Ip): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

export function readIp(buf: Buffer, offset: number): Ip {
  return buf.readUInt32BE(offset);
}

export function ipBytes(ip: Ip): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(ip >>> 0);
  return b;
}

export interface Cidr {
  network: Ip;
  prefix: number;
  /** The all-ones host part (for /31 and /32 the same as the highest address, not special). */
  broadcast: Ip;
}

export function parseCidr(text: string): Cidr {
  const [addr, bits, extra] = text.split('/');
  const ip = parseIp(addr ?? '');
  const prefix = Number(bits);
  if (ip === undefined || extra !== undefined || !/^\d{1,2}$/.test(bits ?? '') || prefix > 32) {
    throw new Error(`"${text}" is not an IPv4 network in CIDR notation`);
  }
  const mask = maskOf(prefix);
  const network = (ip & mask) >>> 0;
  return { network, prefix, broadcast: (network | ~mask) >>> 0 };
}

export function maskOf(prefix: number): Ip {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function inCidr(cidr: Cidr, ip: Ip): boolean {
  return ip >= cidr.network && ip <= cidr.broadcast;
}
