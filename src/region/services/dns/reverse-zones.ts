// Reverse zones for the subnets metalflow knows, pure. A zone sits on an octet (IPv4) or nibble
// (IPv6) boundary: a subnet is split into the zones of the next boundary at or below its size
// (10.0.0.0/22 → four /24 zones, at most 128), and a subnet smaller than a /24 (or an IPv6 /124)
// gets the zone of its containing /24. We never claim more than the subnet, except in that last case:
// the /24 then holds only the PTRs of addresses inside metalflow's subnets (RFC 2317 delegation of
// a part of a /24 is the upstream operator's business, as with MAAS's rdns_mode "Enabled").
import net from 'node:net';

export interface ReverseZone {
  /** e.g. 1.168.192.in-addr.arpa */
  name: string;
  /** The labels of an address's reverse name below this zone come from its first `bits` bits. */
  family: 4 | 6;
  bits: number;
  /** The zone's network prefix, as octets (IPv4) or nibbles (IPv6). */
  prefix: number[];
}

/** An address as its digits: 4 octets, or 32 nibbles. */
export function digitsOf(ip: string): { family: 4 | 6; digits: number[] } {
  const family = net.isIP(ip);
  if (family === 4) return { family, digits: ip.split('.').map(Number) };
  if (family !== 6) throw new Error(`Not an IP address: ${ip}`);
  let text = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, -v4[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return {
    family,
    digits: groups.flatMap((g) =>
      g
        .padStart(4, '0')
        .split('')
        .map((n) => parseInt(n, 16)),
    ),
  };
}

const digitBits = (family: 4 | 6) => (family === 4 ? 8 : 4);
const suffix = (family: 4 | 6) => (family === 4 ? 'in-addr.arpa' : 'ip6.arpa');

/** The reverse name of an address, absolute without the final dot. */
export function reverseName(ip: string): string {
  const { family, digits } = digitsOf(ip);
  return [...digits.map((d) => d.toString(family === 4 ? 10 : 16)).reverse(), suffix(family)].join('.');
}

function zoneOf(family: 4 | 6, digits: number[], bits: number): ReverseZone {
  const prefix = digits.slice(0, bits / digitBits(family));
  const labels = prefix.map((d) => d.toString(family === 4 ? 10 : 16)).reverse();
  return { name: [...labels, suffix(family)].join('.'), family, bits, prefix };
}

/** The reverse zones of one subnet (CIDR as PostgreSQL prints it). */
export function reverseZonesOf(cidr: string): ReverseZone[] {
  const [address = '', len = ''] = cidr.split('/');
  const { family, digits } = digitsOf(address);
  const per = digitBits(family);
  const total = family === 4 ? 32 : 128;
  const prefixLen = len === '' ? total : Number(len);
  // The smallest zone: a /24 for IPv4, a /124 for IPv6; the largest: one digit (a /8 or a /4).
  const boundary = Math.max(per, Math.min(total - per, Math.ceil(prefixLen / per) * per));
  if (prefixLen >= boundary) return [zoneOf(family, digits, boundary)];
  const zones: ReverseZone[] = [];
  const count = 2 ** (boundary - prefixLen);
  const last = boundary / per - 1; // the digit that varies between the zones
  for (let i = 0; i < count; i++) {
    const d = [...digits];
    d[last] = (d[last]! & ~(count - 1)) + i;
    zones.push(zoneOf(family, d, boundary));
  }
  return zones;
}

/** Whether the address lies in the zone. */
export function inZone(zone: ReverseZone, ip: string): boolean {
  const { family, digits } = digitsOf(ip);
  return family === zone.family && zone.prefix.every((d, i) => digits[i] === d);
}

/** Whether the address lies in the subnet (CIDR). */
export function inSubnet(cidr: string, ip: string): boolean {
  const [address = '', len = ''] = cidr.split('/');
  const a = digitsOf(address);
  const b = digitsOf(ip);
  if (a.family !== b.family) return false;
  const per = digitBits(a.family);
  let bits = len === '' ? a.digits.length * per : Number(len);
  for (let i = 0; bits > 0; i++, bits -= per) {
    const mask = bits >= per ? (1 << per) - 1 : ((1 << per) - 1) & ~((1 << (per - bits)) - 1);
    if ((a.digits[i]! & mask) !== (b.digits[i]! & mask)) return false;
  }
  return true;
}
