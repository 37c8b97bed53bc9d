// Rows of the networking tables as the services read them (camelCase; addresses as text).
export interface FabricRow {
  id: number;
  name: string;
  description: string;
}
export interface VlanRow {
  id: number;
  fabricId: number;
  fabricName: string;
  vid: number;
  name: string;
  description: string;
  mtu: number;
  dhcpOn: boolean;
  primaryRack: string | null;
  secondaryRack: string | null;
  /** The VLAN's space; null is MAAS's "undefined" space. */
  spaceId: number | null;
  spaceName: string | null;
}
export interface SpaceRow {
  id: number;
  name: string;
  description: string;
}
export interface StaticRouteRow {
  id: number;
  sourceId: number;
  destinationId: number;
  gatewayIp: string;
  metric: number;
}
export interface SubnetRow {
  id: number;
  name: string;
  cidr: string;
  vlanId: number;
  gatewayIp: string | null;
  dnsServers: string[];
  managed: boolean;
  description: string;
}
export type IpRangeType = 'dynamic' | 'reserved';
export interface IpRangeRow {
  id: number;
  subnetId: number;
  type: IpRangeType;
  startIp: string;
  endIp: string;
  comment: string;
  userId: number | null;
  username: string | null;
}
export interface ReservedIpRow {
  id: number;
  subnetId: number;
  ip: string;
  macAddress: string | null;
  hostname: string;
  comment: string;
  userId: number | null;
}

export const VLAN_SELECT = `
  SELECT v.id, v.fabric_id AS "fabricId", f.name AS "fabricName", v.vid, v.name, v.description, v.mtu,
         v.dhcp_on AS "dhcpOn", pr.system_id AS "primaryRack", sr.system_id AS "secondaryRack",
         v.space_id AS "spaceId", sp.name AS "spaceName"
    FROM vlans v JOIN fabrics f ON f.id = v.fabric_id
    LEFT JOIN racks pr ON pr.id = v.primary_rack_id LEFT JOIN racks sr ON sr.id = v.secondary_rack_id
    LEFT JOIN spaces sp ON sp.id = v.space_id`;

export const SUBNET_SELECT = `
  SELECT s.id, s.name, s.cidr::text AS cidr, s.vlan_id AS "vlanId", host(s.gateway_ip) AS "gatewayIp",
         s.dns_servers AS "dnsServers", s.managed, s.description
    FROM subnets s`;

export const IP_RANGE_SELECT = `
  SELECT r.id, r.subnet_id AS "subnetId", r.type, host(r.start_ip) AS "startIp", host(r.end_ip) AS "endIp",
         r.comment, r.user_id AS "userId", u.username
    FROM ip_ranges r LEFT JOIN users u ON u.id = r.user_id`;

export const RESERVED_IP_SELECT = `
  SELECT r.id, r.subnet_id AS "subnetId", host(r.ip) AS ip, r.mac_address::text AS "macAddress", r.hostname,
         r.comment, r.user_id AS "userId"
    FROM reserved_ips r`;

export const STATIC_ROUTE_SELECT = `
  SELECT r.id, r.source_id AS "sourceId", r.destination_id AS "destinationId", host(r.gateway_ip) AS "gatewayIp", r.metric
    FROM static_routes r`;
