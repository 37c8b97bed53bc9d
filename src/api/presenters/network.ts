// MAAS's JSON for fabrics, VLANs, subnets, IP ranges and reserved IP addresses.
import type {
  FabricRow,
  IpRangeRow,
  ReservedIpRow,
  SpaceRow,
  StaticRouteRow,
  SubnetRow,
  VlanRow,
} from '../../region/services/network/rows';
import { UNDEFINED_SPACE, UNDEFINED_SPACE_ID } from '../../region/services/network/spaces';

const API = '/MAAS/api/2.0';

export function presentVlan(v: VlanRow): Record<string, unknown> {
  return {
    id: v.id,
    vid: v.vid,
    name: v.name || (v.vid === 0 ? 'untagged' : String(v.vid)),
    description: v.description,
    fabric: v.fabricName,
    fabric_id: v.fabricId,
    mtu: v.mtu,
    dhcp_on: v.dhcpOn,
    external_dhcp: null,
    relay_vlan: null,
    primary_rack: v.primaryRack,
    secondary_rack: v.secondaryRack,
    space: v.spaceName ?? UNDEFINED_SPACE,
    resource_uri: `${API}/vlans/${v.id}/`,
  };
}

export function presentFabric(f: FabricRow, vlans: VlanRow[]): Record<string, unknown> {
  return {
    id: f.id,
    name: f.name,
    description: f.description,
    class_type: null,
    vlans: vlans.filter((v) => v.fabricId === f.id).map(presentVlan),
    resource_uri: `${API}/fabrics/${f.id}/`,
  };
}

export function presentSubnet(s: SubnetRow, vlan: VlanRow | undefined): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    cidr: s.cidr,
    description: s.description,
    vlan: vlan ? presentVlan(vlan) : null,
    gateway_ip: s.gatewayIp,
    dns_servers: s.dnsServers,
    managed: s.managed,
    allow_dns: true,
    allow_proxy: true,
    active_discovery: false,
    rdns_mode: 2,
    space: vlan?.spaceName ?? UNDEFINED_SPACE,
    disabled_boot_architectures: [],
    resource_uri: `${API}/subnets/${s.id}/`,
  };
}

export function presentIpRange(r: IpRangeRow, subnet: Record<string, unknown> | null): Record<string, unknown> {
  return {
    id: r.id,
    type: r.type,
    start_ip: r.startIp,
    end_ip: r.endIp,
    comment: r.comment,
    subnet,
    user:
      r.username === null
        ? null
        : { username: r.username, resource_uri: `${API}/users/${encodeURIComponent(r.username)}/` },
    resource_uri: `${API}/ipranges/${r.id}/`,
  };
}

/** MAAS's IPADDRESS_TYPE.USER_RESERVED. */
const USER_RESERVED = 4;

export function presentReservedIp(r: ReservedIpRow, subnet: Record<string, unknown> | null): Record<string, unknown> {
  return {
    alloc_type: USER_RESERVED,
    alloc_type_name: 'User reserved',
    ip: r.ip,
    mac_address: r.macAddress,
    hostname: r.hostname,
    comment: r.comment,
    subnet,
    interface_set: [],
    resource_uri: `${API}/ipaddresses/`,
  };
}

/**
 * MAAS's space JSON (DISPLAYED_SPACE_FIELDS). `space` null is the undefined pseudo-space: the
 * VLANs in no space and their subnets, id -1, resource_uri by the name "undefined".
 */
export function presentSpace(space: SpaceRow | null, vlans: VlanRow[], subnets: SubnetRow[]): Record<string, unknown> {
  const id = space?.id ?? null;
  const mine = vlans.filter((v) => v.spaceId === id);
  const byId = new Map(mine.map((v) => [v.id, v]));
  return {
    id: space?.id ?? UNDEFINED_SPACE_ID,
    name: space?.name ?? UNDEFINED_SPACE,
    description: space?.description ?? '',
    vlans: mine.map(presentVlan),
    subnets: subnets.filter((s) => byId.has(s.vlanId)).map((s) => presentSubnet(s, byId.get(s.vlanId))),
    resource_uri: `${API}/spaces/${space ? space.id : UNDEFINED_SPACE}/`,
  };
}

/** MAAS's static route JSON: the source and destination subnets nested. */
export function presentStaticRoute(
  r: StaticRouteRow,
  subnet: (id: number) => Record<string, unknown> | null,
): Record<string, unknown> {
  return {
    id: r.id,
    source: subnet(r.sourceId),
    destination: subnet(r.destinationId),
    gateway_ip: r.gatewayIp,
    metric: r.metric,
    resource_uri: `${API}/static-routes/${r.id}/`,
  };
}
