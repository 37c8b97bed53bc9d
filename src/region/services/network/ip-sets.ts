// MAAS's MAASIPSet arithmetic (provisioningserver/utils/network.py), pure: a subnet's addresses in
// use as ranges with purposes (gateway-ip, dynamic, reserved, dns-server, assigned-ip, …), the
// gaps between them ("unused"), and IPRangeStatistics with its suggested gateway and dynamic range.
// Addresses are bigints so IPv6 works the same way as IPv4.
import net from 'node:net';

export interface PurposedRange {
  first: bigint;
  last: bigint;
  purposes: string[];
}

export interface Network {
  version: 4 | 6;
  /** The network's first and last addresses (network and broadcast for IPv4). */
  first: bigint;
  last: bigint;
  prefix: number;
}

export function ipToBigInt(ip: string): bigint {
  if (net.isIPv4(ip)) return ip.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
  if (!net.isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const expand = (gs: string[]) =>
    gs.flatMap((g) => {
      if (!g.includes('.')) return [g];
      const v4 = ipToBigInt(g);
      return [(v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16)];
    });
  const left = expand(groups(head));
  const right = expand(groups(tail));
  const all =
    tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function bigIntToIp(value: bigint, version: 4 | 6): string {
  if (version === 4) return [24n, 16n, 8n, 0n].map((s) => ((value >> s) & 0xffn).toString()).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  // RFC 5952: the longest run (of two or more) of zero groups becomes "::".
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.len && j - i >= 2) best = { at: i, len: j - i };
    i = j;
  }
  if (best.at < 0) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`;
}

export function parseNetwork(cidr: string): Network {
  const [addr = '', bits = ''] = cidr.split('/');
  const version = net.isIPv4(addr) ? 4 : 6;
  const width = version === 4 ? 32 : 128;
  const prefix = Number(bits);
  const size = 1n << BigInt(width - prefix);
  const first = (ipToBigInt(addr) / size) * size;
  return { version, first, last: first + size - 1n, prefix };
}

/** Sorted, overlapping ranges merged (purposes joined), adjacent ranges of the same purposes joined. */
export function condense(ranges: PurposedRange[]): PurposedRange[] {
  const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : Number(a.last - b.last)));
  const merged: PurposedRange[] = [];
  for (const r of sorted) {
    const prev = merged.at(-1);
    if (prev && r.first <= prev.last) {
      prev.last = r.last > prev.last ? r.last : prev.last;
      prev.purposes = [...new Set([...prev.purposes, ...r.purposes])].sort();
    } else merged.push({ first: r.first, last: r.last, purposes: [...new Set(r.purposes)].sort() });
  }
  const joined: PurposedRange[] = [];
  for (const r of merged) {
    const prev = joined.at(-1);
    if (prev && r.first === prev.last + 1n && prev.purposes.join() === r.purposes.join()) prev.last = r.last;
    else joined.push(r);
  }
  return joined;
}

/**
 * The gaps between the used ranges inside the network (MAASIPSet.get_unused_ranges): IPv4 leaves
 * out the network and broadcast addresses (but not on a /31 or /32), IPv6 the subnet-router
 * anycast address (but not on a /127 or /128).
 */
export function unusedRanges(used: PurposedRange[], n: Network, purpose = 'unused'): PurposedRange[] {
  const small = n.version === 4 ? n.prefix >= 31 : n.prefix >= 127;
  let start = small ? n.first : n.first + 1n;
  const end = n.version === 4 && !small ? n.last - 1n : n.last;
  const gaps: PurposedRange[] = [];
  for (const r of condense(used)) {
    if (r.first - 1n >= start) gaps.push({ first: start, last: r.first - 1n, purposes: [purpose] });
    if (r.last + 1n > start) start = r.last + 1n;
  }
  if (end >= start) gaps.push({ first: start, last: end, purposes: [purpose] });
  return gaps;
}

/** Every address of the network, in use or "unused" (MAASIPSet.get_full_range). */
export function fullRange(used: PurposedRange[], n: Network): PurposedRange[] {
  return condense([...used, ...unusedRanges(used, n)]);
}

export interface RangeStatistics {
  numAvailable: bigint;
  largestAvailable: bigint;
  numUnavailable: bigint;
  totalAddresses: bigint;
  firstAddress: bigint;
  lastAddress: bigint;
  ranges: PurposedRange[];
  suggestedGateway: bigint | null;
  suggestedDynamicRange: PurposedRange | null;
}

const size = (r: PurposedRange) => r.last - r.first + 1n;
const isUnused = (r: PurposedRange) => r.purposes.includes('unused');

/** MAAS's IPRangeStatistics over a full range. */
export function statistics(full: PurposedRange[], n: Network): RangeStatistics {
  let numAvailable = 0n;
  let numUnavailable = 0n;
  let largestAvailable = 0n;
  for (const r of full) {
    if (isUnused(r)) {
      numAvailable += size(r);
      if (size(r) > largestAvailable) largestAvailable = size(r);
    } else numUnavailable += size(r);
  }
  const stats: RangeStatistics = {
    numAvailable,
    largestAvailable,
    numUnavailable,
    totalAddresses: numAvailable + numUnavailable,
    firstAddress: full[0]?.first ?? n.first,
    lastAddress: full.at(-1)?.last ?? n.last,
    ranges: full,
    suggestedGateway: null,
    suggestedDynamicRange: null,
  };
  const has = (purpose: string) => full.some((r) => r.purposes.includes(purpose));
  if (!has('gateway-ip')) stats.suggestedGateway = suggestGateway(full, n, stats);
  if (!has('dynamic')) stats.suggestedDynamicRange = suggestDynamicRange(full, stats);
  return stats;
}

function suggestGateway(full: PurposedRange[], n: Network, s: RangeStatistics): bigint | null {
  // IPv6: the subnet-router anycast address (RFC 4291 2.6.1), MAAS's intent; its `first_address - 1`
  // leaves the network when the full range already starts at that address, so it is named directly.
  if (n.version === 6) return s.totalAddresses <= 2n ? null : n.first;
  const unusedAt = (ip: bigint) => full.some((r) => isUnused(r) && r.first <= ip && ip <= r.last);
  if (unusedAt(s.firstAddress)) return s.firstAddress;
  if (unusedAt(s.lastAddress)) return s.lastAddress;
  return full.find(isUnused)?.first ?? null;
}

function suggestDynamicRange(full: PurposedRange[], s: RangeStatistics): PurposedRange | null {
  // The largest unused block (the last of equals, as MAAS's >= keeps it).
  let largest: PurposedRange | null = null;
  for (const r of full) if (isUnused(r) && (largest === null || size(r) >= size(largest))) largest = r;
  if (largest === null) return null;
  if (s.suggestedGateway !== null && size(largest) === 1n) return null;
  let first = largest.first;
  let last = largest.last;
  const gateway = s.suggestedGateway;
  if (gateway !== null && first <= gateway && gateway <= last) {
    if (gateway === first) first += 1n;
    else last -= 1n;
  }
  const candidateSize = last - first + 1n;
  const oneFourth = s.totalAddresses >> 2n;
  const halfRemaining = s.numAvailable >> 1n;
  if (candidateSize > oneFourth) first = last - oneFourth;
  else if (candidateSize >= halfRemaining) first = last - halfRemaining + 1n;
  if (first >= last) return null;
  return { first, last, purposes: ['proposed-dynamic'] };
}
