// MAAS's JSON for a subnet's address usage: MAASIPRange.render_json, IPRangeStatistics.render_json
// and StaticIPAddress.render_json (the subnet ops ip_addresses, statistics, reserved_ip_ranges,
// unreserved_ip_ranges).
import { bigIntToIp, type PurposedRange, type RangeStatistics } from '../../region/services/network/ip-sets';
import type { SubnetAddress } from '../../region/services/network/subnet-usage';
import { maasEventTime } from './event';

/** Counts as numbers (an IPv6 /64 has more addresses than a double holds exactly, as in MAAS's JSON floats). */
const count = (n: bigint): number => Number(n);

export function presentRange(r: PurposedRange, version: 4 | 6, withPurpose = true): Record<string, unknown> {
  return {
    start: bigIntToIp(r.first, version),
    end: bigIntToIp(r.last, version),
    num_addresses: count(r.last - r.first + 1n),
    ...(withPurpose ? { purpose: [...r.purposes].sort() } : {}),
  };
}

/** Python's "{:.0%}": rounded half to even. */
function percent(fraction: number): string {
  const scaled = fraction * 100;
  const floor = Math.floor(scaled);
  const diff = scaled - floor;
  const rounded = diff > 0.5 || (diff === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
  return `${rounded}%`;
}

export function presentStatistics(
  s: RangeStatistics & { version: 4 | 6 },
  o: { includeRanges: boolean; includeSuggestions: boolean },
): Record<string, unknown> {
  const total = count(s.totalAddresses);
  const usage = total === 0 ? 0 : count(s.numUnavailable) / total;
  const available = total === 0 ? 0 : count(s.numAvailable) / total;
  const data: Record<string, unknown> = {
    num_available: count(s.numAvailable),
    largest_available: count(s.largestAvailable),
    num_unavailable: count(s.numUnavailable),
    total_addresses: total,
    usage,
    usage_string: percent(usage),
    available_string: percent(available),
    first_address: bigIntToIp(s.firstAddress, s.version),
    last_address: bigIntToIp(s.lastAddress, s.version),
    ip_version: s.version,
  };
  if (o.includeRanges) data.ranges = s.ranges.map((r) => presentRange(r, s.version));
  if (o.includeSuggestions) {
    data.suggested_gateway = s.suggestedGateway === null ? null : bigIntToIp(s.suggestedGateway, s.version);
    data.suggested_dynamic_range =
      s.suggestedDynamicRange === null ? null : presentRange(s.suggestedDynamicRange, s.version);
  }
  return data;
}

/** MAAS's IPADDRESS_TYPE.DISCOVERED: a lease's owner is not the address's user. */
const DISCOVERED = 6;

export function presentSubnetAddress(
  a: SubnetAddress,
  o: { withUsername: boolean; withSummary: boolean },
): Record<string, unknown> {
  const data: Record<string, unknown> = {
    ip: a.ip,
    alloc_type: a.allocType,
    created: maasEventTime(a.created),
    updated: maasEventTime(a.created),
  };
  // Without the node summary, the user is the reservation's; with it, the node's owner wins.
  if (o.withUsername && a.username !== null && (a.node === null || o.withSummary) && a.allocType !== DISCOVERED)
    data.user = a.username;
  if (o.withSummary && a.node !== null)
    data.node_summary = {
      system_id: a.node.systemId,
      node_type: a.node.nodeType,
      fqdn: `${a.node.hostname}.${a.node.domain}`,
      hostname: a.node.hostname,
      is_container: a.node.isContainer,
      via: a.node.via,
    };
  return data;
}

/** MAAS 3.6's reserved IP (api/reservedip.py DISPLAYED_RESERVEDIP_FIELDS): the subnet and its VLAN nested. */
export function presentReservedIpEntry(
  r: { id: number; ip: string; macAddress: string | null; comment: string },
  subnet: Record<string, unknown> | null,
): Record<string, unknown> {
  return {
    id: r.id,
    ip: r.ip,
    subnet,
    vlan: subnet?.vlan ?? null,
    mac_address: r.macAddress,
    comment: r.comment,
    resource_uri: `/MAAS/api/2.0/reservedips/${r.id}/`,
  };
}
