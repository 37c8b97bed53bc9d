// MAAS's rack controller JSON: a node of type 2 with its service_set. A rack that has not sent a
// heartbeat for a while is shown with every service dead, saying since when: the region cannot
// know more than that, and showing the last report as current would hide an outage.
import type { Rack, RegionController } from '../../region/services';
import { FAILOVER_AFTER_S } from '../../region/services/network/rack-dhcp';

const RACK_CONTROLLER = 2;

export function presentRack(r: Rack, now = new Date()): Record<string, unknown> {
  const silentFor = Math.round((now.getTime() - r.lastSeen.getTime()) / 1000);
  const silent = silentFor > FAILOVER_AFTER_S;
  const services = Object.entries(r.services ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, s]) => ({
      name,
      status: silent ? 'dead' : s.status,
      status_info: silent
        ? `rack controller not heard from for ${silentFor} s (last: ${s.status}${s.message ? `, ${s.message}` : ''})`
        : s.message,
    }));
  return {
    system_id: r.systemId,
    hostname: r.name,
    fqdn: `${r.name}.maas`,
    node_type: RACK_CONTROLLER,
    node_type_name: 'Rack controller',
    version: r.version,
    last_seen: r.lastSeen.toISOString(),
    service_set: services,
    interface_set: (r.interfaces as Array<{ name: string; mac: string; addresses: string[] }>).map((i) => ({
      name: i.name,
      mac_address: i.mac,
      links: (i.addresses ?? []).map((a) => ({ mode: 'static', ip_address: a.split('/')[0], subnet: { cidr: a } })),
    })),
    resource_uri: `/MAAS/api/2.0/rackcontrollers/${r.systemId}/`,
  };
}

/** MAAS's node types: 3 region controller, 4 region and rack controller. */
export const presentRegion = (r: RegionController): Record<string, unknown> => ({
  system_id: r.systemId,
  hostname: r.hostname,
  fqdn: `${r.hostname}.maas`,
  node_type: r.alsoRack ? 4 : 3,
  node_type_name: r.alsoRack ? 'Region and rack controller' : 'Region controller',
  resource_uri: `/MAAS/api/2.0/regioncontrollers/${r.systemId}/`,
});
