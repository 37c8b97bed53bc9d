// The nested objects of machine JSON (interfaces, block devices), with every key python-libmaas
// reads (it raises AttributeError on a missing one).
import type { BlockDevice, Interface } from '../../region/services';
import type { InterfaceLink } from '../../region/services/machine-queries';

const API = '/MAAS/api/2.0';

/**
 * A DHCP lease as MAAS's interface link; ids number the interface's links from 1. The subnet and
 * its VLAN carry every key gomaasapi's subnet/VLAN schemas require (Juju reads a link's space).
 */
function presentLink(l: InterfaceLink, index: number): Record<string, unknown> {
  const v = l.vlan;
  return {
    id: index + 1,
    mode: 'dhcp',
    ip_address: l.ip,
    subnet: {
      id: l.subnet.id,
      name: l.subnet.name,
      cidr: l.subnet.cidr,
      gateway_ip: l.subnet.gatewayIp,
      dns_servers: l.subnet.dnsServers,
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
      resource_uri: `${API}/subnets/${l.subnet.id}/`,
    },
  };
}

export function presentInterface(systemId: string, i: Interface, links: InterfaceLink[] = []): Record<string, unknown> {
  return {
    id: i.id,
    system_id: systemId,
    name: i.name,
    type: i.type,
    mac_address: i.macAddress,
    enabled: i.enabled,
    link_speed: i.linkSpeed,
    interface_speed: i.linkSpeed,
    link_connected: true,
    effective_mtu: 1500,
    params: {},
    tags: [],
    links: links.map(presentLink),
    discovered: [],
    parents: [],
    children: [],
    vlan: null,
    product: null,
    vendor: null,
    firmware_version: null,
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
