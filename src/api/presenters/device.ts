// MAAS's device JSON (DeviceHandler's fields) and its interfaces, with every key gomaasapi's
// device_2_0 and interface_2_0 schemas require (they refuse a reply missing one).
import type { DeviceInterface, DeviceLink, DeviceView } from '../../region/services/devices/rows';
import { presentNodeDomain } from './domain';
import { presentSubnet, presentVlan } from './network';
import { presentZone } from './zone';

const API = '/MAAS/api/2.0';
/** MAAS's NODE_TYPE.DEVICE. */
const NODE_TYPE_DEVICE = 1;

function presentLink(l: DeviceLink): Record<string, unknown> {
  return {
    id: l.id,
    mode: l.mode,
    ...(l.ip === null ? {} : { ip_address: l.ip }),
    ...(l.subnet === null ? {} : { subnet: presentSubnet(l.subnet, l.subnetVlan ?? undefined) }),
  };
}

export function presentDeviceInterface(systemId: string, i: DeviceInterface): Record<string, unknown> {
  return {
    id: i.id,
    system_id: systemId,
    name: i.name,
    type: 'physical',
    mac_address: i.macAddress,
    enabled: i.enabled,
    vlan: i.vlan ? presentVlan(i.vlan) : null,
    links: i.links.map(presentLink),
    effective_mtu: i.vlan?.mtu ?? 1500,
    params: {},
    tags: [],
    discovered: [],
    parents: [],
    children: [],
    link_connected: true,
    link_speed: 0,
    interface_speed: 0,
    product: null,
    vendor: null,
    firmware_version: null,
    resource_uri: `${API}/nodes/${systemId}/interfaces/${i.id}/`,
  };
}

export function presentDevice(v: DeviceView): Record<string, unknown> {
  const d = v.device;
  return {
    system_id: d.systemId,
    hostname: d.hostname,
    description: d.description,
    domain: presentNodeDomain(d.domain.name, d.domain),
    fqdn: `${d.hostname}.${d.domain.name}`,
    owner: d.owner,
    owner_data: d.workloadAnnotations,
    workload_annotations: d.workloadAnnotations,
    parent: d.parent,
    tag_names: [],
    address_ttl: null,
    ip_addresses: v.interfaces.flatMap((i) => i.links.flatMap((l) => (l.ip === null ? [] : [l.ip]))),
    interface_set: v.interfaces.map((i) => presentDeviceInterface(d.systemId, i)),
    zone: presentZone(d.zone),
    // Devices belong to no resource pool.
    pool: null,
    node_type: NODE_TYPE_DEVICE,
    node_type_name: 'Device',
    resource_uri: `${API}/devices/${d.systemId}/`,
  };
}
