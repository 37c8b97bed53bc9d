// The nested objects of machine JSON (interfaces, block devices), with every key python-libmaas
// reads (it raises AttributeError on a missing one).
import type { BlockDevice, Interface } from '../../region/services';
import type { InterfaceLink } from '../../region/services/machine-lease-links';
import type { MachineNic, NicLink } from '../../region/services/machine-network/model';
import type { SubnetRow, VlanRow } from '../../region/services/network/rows';
import { presentVlan } from './network';

const API = '/MAAS/api/2.0';

/**
 * A link's subnet with its VLAN inside, carrying every key gomaasapi's subnet/VLAN schemas
 * require (Juju reads a link's space).
 */
function presentLinkSubnet(subnet: InterfaceLink['subnet'], v: InterfaceLink['vlan']): Record<string, unknown> {
  return {
    id: subnet.id,
    name: subnet.name,
    cidr: subnet.cidr,
    gateway_ip: subnet.gatewayIp,
    dns_servers: subnet.dnsServers,
    vlan: {
      id: v.id,
      vid: v.vid,
      name: v.name || (v.vid === 0 ? 'untagged' : String(v.vid)),
      fabric: v.fabricName,
      fabric_id: v.fabricId,
      mtu: v.mtu,
      dhcp_on: v.dhcpOn,
      primary_rack: v.primaryRack,
      secondary_rack: v.secondaryRack,
      space: v.space ?? 'undefined',
      resource_uri: `${API}/vlans/${v.id}/`,
    },
    space: v.space ?? 'undefined',
    resource_uri: `${API}/subnets/${subnet.id}/`,
  };
}

/** A DHCP lease as MAAS's interface link (an interface with no configured links); ids number them from 1. */
function presentLeaseLink(l: InterfaceLink, index: number): Record<string, unknown> {
  return { id: index + 1, mode: 'dhcp', ip_address: l.ip, subnet: presentLinkSubnet(l.subnet, l.vlan) };
}

function asLeaseShape(s: SubnetRow, v: VlanRow): { subnet: InterfaceLink['subnet']; vlan: InterfaceLink['vlan'] } {
  return {
    subnet: { id: s.id, name: s.name, cidr: s.cidr, gatewayIp: s.gatewayIp, dnsServers: s.dnsServers },
    vlan: {
      id: v.id,
      vid: v.vid,
      name: v.name,
      mtu: v.mtu,
      dhcpOn: v.dhcpOn,
      fabricId: v.fabricId,
      fabricName: v.fabricName,
      space: v.spaceName,
      primaryRack: v.primaryRack,
      secondaryRack: v.secondaryRack,
    },
  };
}

/**
 * A configured link as MAAS's get_links shows it: AUTO without an address yet has no
 * `ip_address`; a DHCP link shows the address the interface's lease on that subnet holds.
 */
function presentNicLink(l: NicLink, leases: InterfaceLink[]): Record<string, unknown> {
  const out: Record<string, unknown> = { id: l.id, mode: l.mode };
  const ip = l.mode === 'dhcp' ? leases.find((x) => x.subnet.id === l.subnet?.id)?.ip : l.ip;
  if (ip) out.ip_address = ip;
  if (l.subnet && l.subnetVlan) {
    const shaped = asLeaseShape(l.subnet, l.subnetVlan);
    out.subnet = presentLinkSubnet(shaped.subnet, shaped.vlan);
  }
  return out;
}

/** The addresses a machine shows (MAAS's ip_addresses): its links', else what DHCP leased it. */
export function interfaceAddresses(leases: InterfaceLink[] = [], nic?: MachineNic): string[] {
  if (!nic?.links.length) return leases.map((l) => l.ip);
  return nic.links.flatMap((l) => {
    const ip = l.mode === 'dhcp' ? leases.find((x) => x.subnet.id === l.subnet?.id)?.ip : l.ip;
    return ip ? [ip] : [];
  });
}

/**
 * MAAS's interface JSON. `nic` is the interface in the network model; an interface with no
 * configured link shows what DHCP leased its MAC as DHCP links (machines commissioned before the
 * model existed), and every lease shows in `discovered`.
 */
export function presentInterface(
  systemId: string,
  i: Interface,
  leases: InterfaceLink[] = [],
  nic?: MachineNic,
): Record<string, unknown> {
  return {
    id: i.id,
    system_id: systemId,
    name: i.name,
    type: i.type,
    mac_address: i.macAddress,
    enabled: i.enabled,
    link_speed: i.linkSpeed,
    interface_speed: nic?.interfaceSpeed ?? i.linkSpeed,
    link_connected: nic?.linkConnected ?? true,
    effective_mtu: nic?.effectiveMtu ?? 1500,
    params: nic?.params ?? {},
    tags: nic?.tags ?? [],
    links: nic?.links.length ? nic.links.map((l) => presentNicLink(l, leases)) : leases.map(presentLeaseLink),
    discovered: leases.map((l) => ({ ip_address: l.ip, subnet: presentLinkSubnet(l.subnet, l.vlan) })),
    parents: nic?.parents ?? [],
    children: nic?.children ?? [],
    vlan: nic?.vlan ? presentVlan(nic.vlan) : null,
    product: null,
    vendor: null,
    firmware_version: null,
    numa_node: 0,
    sriov_max_vf: 0,
    resource_uri: `/MAAS/api/2.0/nodes/${systemId}/interfaces/${i.id}/`,
  };
}

export function presentBlockDevice(systemId: string, d: BlockDevice, index: number): Record<string, unknown> {
  const id = index + 1;
  return {
    id,
    system_id: systemId,
    name: d.name,
    path: d.path,
    id_path: null,
    size: d.size,
    block_size: 512,
    serial: d.serial,
    model: d.model,
    type: 'physical',
    tags: [],
    available_size: d.size,
    used_size: 0,
    used_for: 'Unused',
    filesystem: null,
    uuid: null,
    partition_table_type: null,
    partitions: [],
    storage_pool: null,
    numa_node: 0,
    resource_uri: `/MAAS/api/2.0/nodes/${systemId}/blockdevices/${id}/`,
  };
}

/** MAAS's status fields of results we do not run yet: "None" (-1), so clients see no result. */
export const NO_TEST_RESULTS: Readonly<Record<string, unknown>> = Object.fromEntries(
  ['testing', 'cpu_test', 'memory_test', 'network_test', 'storage_test', 'other_test', 'interface_test'].flatMap(
    (k) => [
      [`${k}_status`, -1],
      [`${k}_status_name`, 'None'],
    ],
  ),
);
