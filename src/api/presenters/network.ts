// MAAS's JSON for fabrics, VLANs, subnets, IP ranges and reserved IP addresses.
import type { FabricRow, IpRangeRow, ReservedIpRow, SubnetRow, VlanRow } from '../../region/services/network/rows';

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
    space: 'undefined',
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
    space: 'undefined',
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
