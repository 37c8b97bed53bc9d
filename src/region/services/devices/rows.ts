// Devices as the services read them (camelCase), and the one way a device is loaded: the device
// rows of a listing, then their interfaces, links, VLANs and subnets in one query each, whatever
// the number of devices.
import type { EntityManager } from 'typeorm';
import { domainRecordCountSql, type DomainRow } from '../domains';
import { SUBNET_SELECT, VLAN_SELECT, type SubnetRow, type VlanRow } from '../network/rows';

export interface DeviceRow {
  id: number;
  systemId: string;
  hostname: string;
  description: string;
  /** The device's DNS domain (devices.domain names it), with its node count. */
  domain: DomainRow;
  ownerId: number | null;
  /** The parent machine's owner when the device has a parent, else ownerId: who the device belongs to. */
  effectiveOwnerId: number | null;
  owner: string | null;
  parent: string | null;
  agentName: string;
  workloadAnnotations: Record<string, string>;
  zone: { id: number; name: string; description: string };
}

export type LinkMode = 'static' | 'dhcp' | 'link_up';

export interface DeviceLink {
  id: number;
  mode: LinkMode;
  ip: string | null;
  subnet: SubnetRow | null;
  /** The subnet's VLAN (a link presents its subnet with the VLAN inside). */
  subnetVlan: VlanRow | null;
}

export interface DeviceInterface {
  id: number;
  name: string;
  macAddress: string;
  enabled: boolean;
  vlan: VlanRow | null;
  links: DeviceLink[];
}

export interface DeviceView {
  device: DeviceRow;
  interfaces: DeviceInterface[];
}

/** The effective owner: Juju's containers belong to whoever holds their machine. */
export const EFFECTIVE_OWNER_SQL = `CASE WHEN d.parent_id IS NULL THEN d.owner_id ELSE pm.owner_id END`;

export const DEVICE_FROM = `
    FROM devices d
    LEFT JOIN machines pm ON pm.id = d.parent_id
    LEFT JOIN users u ON u.id = ${EFFECTIVE_OWNER_SQL}
    LEFT JOIN zones z ON z.id = COALESCE(d.zone_id, (SELECT id FROM zones WHERE name = 'default'))
    JOIN domains dom ON dom.name = d.domain`;

export const DEVICE_SELECT = `
  SELECT d.id, d.system_id AS "systemId", d.hostname, d.description, d.owner_id AS "ownerId",
         json_build_object('id', dom.id, 'name', dom.name, 'authoritative', dom.authoritative, 'ttl', dom.ttl,
           'isDefault', dom.is_default, 'resourceRecordCount', ${domainRecordCountSql('dom.name')}) AS domain,
         ${EFFECTIVE_OWNER_SQL} AS "effectiveOwnerId", u.username AS owner, pm.system_id AS parent,
         d.agent_name AS "agentName", d.workload_annotations AS "workloadAnnotations",
         json_build_object('id', z.id, 'name', z.name, 'description', z.description) AS zone
  ${DEVICE_FROM}`;

interface InterfaceRow {
  id: number;
  deviceId: number;
  name: string;
  macAddress: string;
  enabled: boolean;
  vlanId: number | null;
}
interface LinkRow {
  id: number;
  interfaceId: number;
  mode: LinkMode;
  ip: string | null;
  subnetId: number | null;
}

/** The views of these devices, in the given order: three more queries, whatever their number. */
export async function loadDeviceViews(m: EntityManager, devices: DeviceRow[]): Promise<DeviceView[]> {
  if (devices.length === 0) return [];
  const ifaces: InterfaceRow[] = await m.query(
    `SELECT id, device_id AS "deviceId", name, mac_address::text AS "macAddress", enabled, vlan_id AS "vlanId"
       FROM device_interfaces WHERE device_id = ANY($1::int[]) ORDER BY id`,
    [devices.map((d) => d.id)],
  );
  const links: LinkRow[] = ifaces.length
    ? await m.query(
        `SELECT id, interface_id AS "interfaceId", mode, host(ip) AS ip, subnet_id AS "subnetId"
           FROM device_links WHERE interface_id = ANY($1::int[]) ORDER BY id`,
        [ifaces.map((i) => i.id)],
      )
    : [];
  const subnetIds = [...new Set(links.flatMap((l) => (l.subnetId === null ? [] : [l.subnetId])))];
  const subnets: SubnetRow[] = subnetIds.length
    ? await m.query(`${SUBNET_SELECT} WHERE s.id = ANY($1::int[])`, [subnetIds])
    : [];
  const vlanIds = [
    ...new Set([...ifaces.flatMap((i) => (i.vlanId === null ? [] : [i.vlanId])), ...subnets.map((s) => s.vlanId)]),
  ];
  const vlans: VlanRow[] = vlanIds.length ? await m.query(`${VLAN_SELECT} WHERE v.id = ANY($1::int[])`, [vlanIds]) : [];
  const vlanById = new Map(vlans.map((v) => [v.id, v]));
  const subnetById = new Map(subnets.map((s) => [s.id, s]));
  const toLink = (l: LinkRow): DeviceLink => {
    const subnet = l.subnetId === null ? null : (subnetById.get(l.subnetId) ?? null);
    return {
      id: l.id,
      mode: l.mode,
      ip: l.ip,
      subnet,
      subnetVlan: subnet ? (vlanById.get(subnet.vlanId) ?? null) : null,
    };
  };
  return devices.map((device) => ({
    device,
    interfaces: ifaces
      .filter((i) => i.deviceId === device.id)
      .map((i) => ({
        id: i.id,
        name: i.name,
        macAddress: i.macAddress,
        enabled: i.enabled,
        vlan: i.vlanId === null ? null : (vlanById.get(i.vlanId) ?? null),
        links: links.filter((l) => l.interfaceId === i.id).map(toLink),
      })),
  }));
}
