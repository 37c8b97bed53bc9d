// Loads a machine's network model (migration 0018: interfaces with VLANs, parameters and parents;
// links with mode, subnet and address; the default gateway links) for deploy-network-config.ts,
// in a constant number of queries. The racks' addresses are read from what each rack reported
// at registration (racks.interfaces): MAAS gives its racks' addresses in a subnet as resolvers.
import net from 'node:net';
import type { EntityManager } from 'typeorm';
import type { LinkMode, MachineNetworkModel, NetworkInterface, NetworkSubnet } from './deploy-network-config';

interface InterfaceRow {
  id: number;
  name: string;
  type: NetworkInterface['type'];
  mac: string;
  enabled: boolean;
  is_boot: boolean;
  params: Record<string, unknown>;
  vid: number | null;
  mtu: number | null;
  parent_ids: number[];
}

interface LinkRow {
  id: number;
  interface_id: number;
  mode: LinkMode;
  ip: string | null;
  subnet_id: number | null;
  cidr: string | null;
  gateway_ip: string | null;
  dns_servers: string[] | null;
}

export async function loadMachineNetwork(db: EntityManager, machineId: number): Promise<MachineNetworkModel> {
  const [machine] = (await db.query(`SELECT domain, gateway_link_ipv4, gateway_link_ipv6 FROM machines WHERE id = $1`, [
    machineId,
  ])) as Array<{ domain: string; gateway_link_ipv4: number | null; gateway_link_ipv6: number | null }>;
  if (!machine) throw new Error(`machine ${machineId} vanished`);
  const interfaces = (await db.query(
    `SELECT i.id, i.name, i.type, i.mac_address::text AS mac, i.enabled, i.is_boot, i.params, v.vid, v.mtu,
            COALESCE(array_agg(p.parent_id ORDER BY p.parent_id) FILTER (WHERE p.parent_id IS NOT NULL), '{}') AS parent_ids
       FROM interfaces i
       LEFT JOIN vlans v ON v.id = i.vlan_id
       LEFT JOIN interface_parents p ON p.child_id = i.id
      WHERE i.machine_id = $1
      GROUP BY i.id, v.id
      ORDER BY i.id`,
    [machineId],
  )) as InterfaceRow[];
  const links = (await db.query(
    `SELECT l.id, l.interface_id, l.mode, host(l.ip) AS ip, s.id AS subnet_id, s.cidr::text AS cidr,
            host(s.gateway_ip) AS gateway_ip, s.dns_servers
       FROM interface_links l
       JOIN interfaces i ON i.id = l.interface_id
       LEFT JOIN subnets s ON s.id = l.subnet_id
      WHERE i.machine_id = $1
      ORDER BY l.id`,
    [machineId],
  )) as LinkRow[];
  const subnetIds = [...new Set(links.map((l) => l.subnet_id).filter((id): id is number => id !== null))];
  const routes = (await db.query(
    `SELECT r.source_id, d.cidr::text AS destination, host(r.gateway_ip) AS gateway_ip, r.metric
       FROM static_routes r JOIN subnets d ON d.id = r.destination_id
      WHERE r.source_id = ANY($1::int[])
      ORDER BY r.id`,
    [subnetIds],
  )) as Array<{ source_id: number; destination: string; gateway_ip: string; metric: number }>;

  const racks = (await db.query(`SELECT interfaces FROM racks ORDER BY id`)) as Array<{
    interfaces: Array<{ addresses?: unknown }>;
  }>;
  const rackAddresses = racks.flatMap((r) =>
    (Array.isArray(r.interfaces) ? r.interfaces : []).flatMap((i) => (Array.isArray(i.addresses) ? i.addresses : [])),
  );
  const subnetOf = (l: LinkRow): NetworkSubnet | null =>
    l.subnet_id === null
      ? null
      : {
          id: l.subnet_id,
          cidr: l.cidr!,
          gatewayIp: l.gateway_ip,
          dnsServers: l.dns_servers ?? [],
          rackAddresses: addressesIn(rackAddresses, l.cidr!),
        };
  return {
    domain: machine.domain,
    gatewayLinkIpv4: machine.gateway_link_ipv4,
    gatewayLinkIpv6: machine.gateway_link_ipv6,
    interfaces: interfaces.map((i) => ({
      id: i.id,
      name: i.name,
      type: i.type,
      mac: i.mac,
      enabled: i.enabled,
      isBoot: i.is_boot,
      params: i.params ?? {},
      vlan: i.vid === null ? null : { vid: i.vid, mtu: i.mtu ?? 1500 },
      parentIds: i.parent_ids,
      links: links
        .filter((l) => l.interface_id === i.id)
        .map((l) => ({ id: l.id, mode: l.mode, ip: l.ip, subnet: subnetOf(l) })),
    })),
    routes: routes.map((r) => ({
      sourceSubnetId: r.source_id,
      destination: r.destination,
      gatewayIp: r.gateway_ip,
      metric: r.metric,
    })),
  };
}

/** The addresses (`10.0.0.1/24` as racks report them) that lie inside `cidr`, without prefixes. */
function addressesIn(addresses: unknown[], cidr: string): string[] {
  const [network, bits] = cidr.split('/') as [string, string];
  const family = net.isIPv6(network) ? 'ipv6' : 'ipv4';
  const block = new net.BlockList();
  block.addSubnet(network, Number(bits), family);
  const hosts = addresses
    .filter((a): a is string => typeof a === 'string')
    .map((a) => a.split('/')[0]!)
    .filter((ip) => net.isIP(ip) === (family === 'ipv6' ? 6 : 4) && block.check(ip, family));
  return [...new Set(hosts)].sort();
}
