// The deployed OS's network configuration, rendered from MAAS's network model as MAAS gives it to
// curtin, which writes it for cloud-init (preseed_network.py's compose_curtin_network_config):
// network config **version 1**. MAAS 3.x composes v1 for every deploy (v2 only for its own netplan
// previews), and cloud-init renders v1 into netplan/networkd/ENI alike, so v1 is what the
// clients' tooling and MAAS's users expect to find in /etc/cloud/cloud.cfg.d/50-curtin-networking.cfg.
// Pure: the model comes in loaded (machine-network-config.ts), the config goes out as data.
import net from 'node:net';

export type LinkMode = 'auto' | 'static' | 'dhcp' | 'link_up';

export interface NetworkSubnet {
  id: number;
  cidr: string;
  gatewayIp: string | null;
  dnsServers: string[];
  /** The rack controllers' own addresses in this subnet: MAAS gives its racks as resolvers. */
  rackAddresses: string[];
}

export interface NetworkLink {
  id: number;
  mode: LinkMode;
  /** NULL for DHCP and LINK_UP, and for an AUTO link whose address is not picked yet. */
  ip: string | null;
  subnet: NetworkSubnet | null;
}

export interface NetworkInterface {
  id: number;
  name: string;
  type: 'physical' | 'bond' | 'bridge' | 'vlan';
  mac: string;
  enabled: boolean;
  isBoot: boolean;
  /** MAAS's per-type parameters: bond_mode, bond_miimon, bridge_stp, mtu, … */
  params: Record<string, unknown>;
  vlan: { vid: number; mtu: number } | null;
  parentIds: number[];
  links: NetworkLink[];
}

export interface NetworkStaticRoute {
  sourceSubnetId: number;
  destination: string;
  gatewayIp: string;
  metric: number;
}

export interface MachineNetworkModel {
  domain: string;
  interfaces: NetworkInterface[];
  routes: NetworkStaticRoute[];
  gatewayLinkIpv4: number | null;
  gatewayLinkIpv6: number | null;
}

type Entry = Record<string, unknown>;
export interface NetworkConfigV1 {
  network: { version: 1; config: Entry[] };
}

const DEFAULT_MTU = 1500;

export function renderNetworkConfig(model: MachineNetworkModel): NetworkConfigV1 {
  const enabled = parentsFirst(model.interfaces.filter((i) => i.enabled));
  const anyLinks = enabled.some((i) => i.links.length > 0);
  // Until a machine's links are configured (issue 14's interfaces API), it keeps what it booted
  // with: DHCP on its boot interface, as the installer wrote before the model existed.
  const fallbackBoot = anyLinks ? undefined : (enabled.find((i) => i.isBoot) ?? enabled.find(isPhysical));
  const gateways = defaultGateways(model, enabled);
  const search = [model.domain];
  const config: Entry[] = enabled.map((iface) => {
    const subnets = iface === fallbackBoot ? [{ type: 'dhcp4' }] : subnetEntries(iface, model, gateways, search);
    return { ...interfaceEntry(iface, enabled), ...(subnets.length ? { subnets } : {}) };
  });
  const staticSomewhere = config.some((e) =>
    ((e.subnets as Entry[] | undefined) ?? []).some((s) => s.type === 'static'),
  );
  // MAAS (LP:1847537): a machine on DHCP and manual links only gets its resolvers from DHCP.
  const resolvers = defaultResolvers(enabled, gateways);
  if (staticSomewhere && resolvers.length) config.push({ type: 'nameserver', address: resolvers, search });
  return { network: { version: 1, config } };
}

function isPhysical(i: NetworkInterface): boolean {
  return i.type === 'physical';
}

/** Bonds, bridges and VLANs after their parents, as cloud-init creates them in order. */
function parentsFirst(interfaces: NetworkInterface[]): NetworkInterface[] {
  const byId = new Map(interfaces.map((i) => [i.id, i]));
  const out: NetworkInterface[] = [];
  const seen = new Set<number>();
  const visit = (i: NetworkInterface) => {
    if (seen.has(i.id)) return;
    seen.add(i.id);
    for (const p of i.parentIds) {
      const parent = byId.get(p);
      if (parent) visit(parent);
    }
    out.push(i);
  };
  for (const i of [...interfaces].sort((a, b) => a.id - b.id)) visit(i);
  return out;
}

function interfaceEntry(iface: NetworkInterface, all: NetworkInterface[]): Entry {
  const parents = all.filter((p) => iface.parentIds.includes(p.id)).sort((a, b) => a.name.localeCompare(b.name));
  // MAAS's _get_initial_params: the interface's own parameters, bond_*/bridge_* aside.
  const initial = Object.fromEntries(
    Object.entries(iface.params)
      .filter(([k]) => !k.startsWith('bond_') && !k.startsWith('bridge_') && k !== 'mtu')
      .map(([k, v]) => [k, paramValue(v)]),
  );
  const base: Entry = { ...initial, mtu: effectiveMtu(iface, all), id: iface.name, name: iface.name };
  switch (iface.type) {
    case 'physical':
      return { ...base, type: 'physical', mac_address: iface.mac };
    case 'bond':
      return {
        ...base,
        type: 'bond',
        mac_address: iface.mac,
        bond_interfaces: parents.map((p) => p.name),
        params: bondParams(iface.params),
      };
    case 'bridge':
      return {
        ...base,
        type: 'bridge',
        mac_address: iface.mac,
        bridge_interfaces: parents.map((p) => p.name),
        params: bridgeParams(iface.params),
      };
    case 'vlan':
      return { ...base, type: 'vlan', vlan_link: parents[0]?.name ?? '', vlan_id: iface.vlan?.vid ?? 0 };
  }
}

/** v1 wants 1/0 for booleans (MAAS's _get_param_value). */
function paramValue(v: unknown): unknown {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

/** MAAS's _get_bond_params: bond_x_y → bond-x-y, minus the options the mode ignores. */
function bondParams(params: Record<string, unknown>): Entry {
  const out: Entry = Object.fromEntries(
    Object.entries(params)
      .filter(([k]) => k.startsWith('bond_'))
      .map(([k, v]) => [k.replaceAll('_', '-'), paramValue(v)]),
  );
  const mode = out['bond-mode'];
  if (mode !== undefined) {
    if (mode !== '802.3ad') delete out['bond-lacp-rate'];
    if (mode !== 'active-backup') {
      delete out['bond-num-grat-arp'];
      delete out['bond-num-unsol-na'];
    }
  }
  return out;
}

function bridgeParams(params: Record<string, unknown>): Entry {
  return Object.fromEntries(
    Object.entries(params)
      .filter(([k]) => k.startsWith('bridge_') && k !== 'bridge_type')
      .map(([k, v]) => [k, paramValue(v)]),
  );
}

/** MAAS's get_effective_mtu: its own (params.mtu, else its VLAN's), at least any child's. */
function effectiveMtu(iface: NetworkInterface, all: NetworkInterface[]): number {
  const own = Number(iface.params.mtu) || iface.vlan?.mtu || DEFAULT_MTU;
  const children = all.filter((c) => c.parentIds.includes(iface.id));
  return Math.max(own, ...children.map((c) => effectiveMtu(c, all)));
}

interface Gateways {
  4?: NetworkLink;
  6?: NetworkLink;
}

const familyOf = (cidr: string): 4 | 6 => (net.isIPv6(cidr.split('/')[0] ?? '') ? 6 : 4);
const hasAddress = (l: NetworkLink) => (l.mode === 'static' || l.mode === 'auto') && l.ip !== null;

/**
 * The link per family whose subnet's gateway is the default route: the machine's chosen one
 * (set_default_gateway), else MAAS's choice — the first addressed link on a subnet with a gateway,
 * the boot interface's first, then in link order.
 */
function defaultGateways(model: MachineNetworkModel, interfaces: NetworkInterface[]): Gateways {
  const links = interfaces
    .slice()
    .sort((a, b) => Number(b.isBoot) - Number(a.isBoot))
    .flatMap((i) => i.links.slice().sort((a, b) => a.id - b.id))
    .filter((l) => hasAddress(l) && l.subnet?.gatewayIp);
  const pick = (family: 4 | 6, chosen: number | null) => {
    const ofFamily = links.filter((l) => familyOf(l.subnet!.cidr) === family);
    return ofFamily.find((l) => l.id === chosen) ?? ofFamily[0];
  };
  const out: Gateways = {};
  const v4 = pick(4, model.gatewayLinkIpv4);
  const v6 = pick(6, model.gatewayLinkIpv6);
  if (v4) out[4] = v4;
  if (v6) out[6] = v6;
  return out;
}

/** MAAS's _generate_addresses for v1: static entries, then DHCP, or `manual` for none. */
function subnetEntries(iface: NetworkInterface, model: MachineNetworkModel, gw: Gateways, search: string[]): Entry[] {
  const out: Entry[] = [];
  for (const link of iface.links.slice().sort((a, b) => a.id - b.id)) {
    // An AUTO link gets its address at deploy (IPAM); one still without is left out, as MAAS does.
    if (!hasAddress(link) || !link.subnet) continue;
    const s = link.subnet;
    const entry: Entry = { type: 'static', address: `${link.ip!}/${s.cidr.split('/')[1]!}` };
    if (gw[familyOf(s.cidr)] === link) entry.gateway = s.gatewayIp;
    const dns = unique([...s.rackAddresses, ...s.dnsServers]);
    if (dns.length) Object.assign(entry, { dns_nameservers: dns, dns_search: search });
    const routes = model.routes
      .filter((r) => r.sourceSubnetId === s.id)
      .map((r) => ({ destination: r.destination, gateway: r.gatewayIp, metric: r.metric }));
    if (routes.length) entry.routes = routes;
    out.push(entry);
  }
  const dhcp = new Set(
    iface.links.filter((l) => l.mode === 'dhcp').map((l) => (l.subnet ? familyOf(l.subnet.cidr) : 0)),
  );
  const v4 = dhcp.has(4) || dhcp.has(0);
  const v6 = dhcp.has(6) || dhcp.has(0);
  if (v4 || v6) out.push({ type: v4 && v6 ? 'dhcp' : v4 ? 'dhcp4' : 'dhcp6' });
  if (!out.length) out.push({ type: 'manual' });
  return out;
}

/**
 * The machine-wide resolvers (MAAS's default DNS servers): the racks' addresses on the subnet of
 * the default gateway's link, else on the boot interface's, where the rack answers as MAAS's
 * region does.
 */
function defaultResolvers(interfaces: NetworkInterface[], gw: Gateways): string[] {
  const boot = interfaces.find((i) => i.isBoot);
  const subnets = [gw[4]?.subnet, gw[6]?.subnet, ...(boot?.links.map((l) => l.subnet) ?? [])].filter(
    (s): s is NetworkSubnet => !!s,
  );
  return unique(subnets.flatMap((s) => s.rackAddresses));
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
