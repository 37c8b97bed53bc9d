// The region's DHCP config made ready for the packet path: addresses as numbers, what may be
// handed out to whom, our own address per subnet, and which subnet a request belongs to.
import type { DhcpConfig, DhcpSubnetConfig } from '../../contracts/rack-api';
import type { DhcpSnippetLayer } from '../../contracts/dhcp-snippets';
import { type Cidr, inCidr, type Ip, maskOf, parseCidr, parseIp, requireIp } from './ipv4';
import { compileScopes, type SubnetScopes } from './scope-options';

export interface IpRange {
  start: Ip;
  end: Ip;
}

export interface ServedSubnet {
  config: DhcpSubnetConfig;
  cidr: Cidr;
  mask: Ip;
  gateway: Ip | undefined;
  dnsServers: Ip[];
  ntpServers: Ip[];
  /** Our address as this subnet's clients reach it: option 54, siaddr, boot URLs. */
  serverIp: Ip;
  /** serverIp is inside the subnet: its clients reach us without a relay. */
  attached: boolean;
  /** Dynamic ranges clipped to the subnet, in order. */
  dynamic: IpRange[];
  poolSize: number;
  reserved: IpRange[];
  fixedByMac: Map<string, { ip: Ip; hostname: string }>;
  fixedOwner: Map<Ip, string>;
  /** This host's addresses (never handed out). */
  ownIps: Set<Ip>;
  /** The options and snippet settings of its replies, worked out once (scope-options.ts). */
  scopes: SubnetScopes;
}

/** The snippets beyond the subnet's own: global, and per node MAC. */
export interface SnippetScopes {
  global?: DhcpSnippetLayer;
  hosts?: ReadonlyArray<{ mac: string; snippets: DhcpSnippetLayer }>;
}

export const normaliseMac = (mac: string): string => mac.trim().toLowerCase().replace(/-/g, ':');

/**
 * One subnet; `routeSource` is our address toward it when none of ours is inside it (a relayed
 * subnet). Throws on a config it cannot serve safely (bad CIDR, no address of ours).
 */
export function compileSubnet(
  config: DhcpSubnetConfig,
  localIps: readonly Ip[],
  routeSource: Ip | undefined,
  warn: (line: string) => void,
  snippets: SnippetScopes = {},
): ServedSubnet {
  const cidr = parseCidr(config.cidr);
  const inside = localIps.find((ip) => inCidr(cidr, ip));
  const serverIp = inside ?? routeSource;
  if (serverIp === undefined) throw new Error(`subnet ${config.cidr}: no address of this host reaches it`);
  const clip = (r: { start: string; end: string }, what: string): IpRange | undefined => {
    const start = Math.max(requireIp(r.start, what), cidr.network);
    const end = Math.min(requireIp(r.end, what), cidr.broadcast);
    return start <= end ? { start, end } : undefined;
  };
  const dynamic = config.dynamicRanges
    .map((r) => clip(r, 'dynamic range'))
    .filter((r) => r !== undefined)
    .sort((a, b) => a.start - b.start);
  const gateway = config.gatewayIp ? requireIp(config.gatewayIp, 'gateway') : undefined;
  const dnsServers = config.dnsServers.map((s) => parseIp(s)).filter((ip) => ip !== undefined);
  const ntpServers = config.ntpServers.map((s) => parseIp(s)).filter((ip) => ip !== undefined);
  const subnet: ServedSubnet = {
    config,
    cidr,
    mask: maskOf(cidr.prefix),
    gateway,
    dnsServers,
    ntpServers,
    serverIp,
    attached: inside !== undefined,
    dynamic,
    poolSize: dynamic.reduce((n, r) => n + r.end - r.start + 1, 0),
    reserved: config.reservedRanges.map((r) => clip(r, 'reserved range')).filter((r) => r !== undefined),
    fixedByMac: new Map(),
    fixedOwner: new Map(),
    ownIps: new Set([...localIps, serverIp]),
    scopes: compileScopes(
      config,
      { gateway, dnsServers, ntpServers },
      snippets.global,
      snippets.hosts ?? [],
      normaliseMac,
    ),
  };
  for (const f of config.fixed) {
    const ip = parseIp(f.ip);
    const mac = normaliseMac(f.mac);
    if (
      ip === undefined ||
      !inCidr(cidr, ip) ||
      isUnusable(subnet, ip) ||
      inRanges(subnet.reserved, ip) ||
      subnet.fixedOwner.has(ip)
    ) {
      warn(
        `subnet ${config.cidr}: fixed address ${f.ip} for ${f.mac} cannot be handed out (outside the subnet, reserved, ours or taken); skipped`,
      );
      continue;
    }
    subnet.fixedByMac.set(mac, { ip, hostname: f.hostname });
    subnet.fixedOwner.set(ip, mac);
  }
  return subnet;
}

/** Every subnet that can be served; one broken subnet is logged and left out, not fatal. */
export function compileSubnets(
  config: DhcpConfig,
  localIps: readonly Ip[],
  routeSources: ReadonlyMap<number, Ip>,
  warn: (line: string) => void,
): ServedSubnet[] {
  const out: ServedSubnet[] = [];
  for (const s of config.subnets) {
    try {
      out.push(
        compileSubnet(s, localIps, routeSources.get(s.subnetId), warn, {
          global: config.globalSnippets,
          hosts: config.hostSnippets,
        }),
      );
    } catch (err) {
      warn(`subnet ${s.cidr} is not served: ${(err as Error).message}`);
    }
  }
  return out;
}

/** Addresses no client gets, fixed or not: network, broadcast, the gateway, ours. */
function isUnusable(s: ServedSubnet, ip: Ip): boolean {
  const edges = s.cidr.prefix < 31 && (ip === s.cidr.network || ip === s.cidr.broadcast);
  return edges || ip === s.gateway || s.ownIps.has(ip);
}

const inRanges = (ranges: readonly IpRange[], ip: Ip): boolean => ranges.some((r) => ip >= r.start && ip <= r.end);

/** May `ip` be handed out from the pool (to a client without a fixed address)? */
export function isPoolAddress(s: ServedSubnet, ip: Ip): boolean {
  return inRanges(s.dynamic, ip) && !inRanges(s.reserved, ip) && !isUnusable(s, ip) && !s.fixedOwner.has(ip);
}

/** May `mac` hold `ip` in this subnet: its own fixed address, or (without one) a pool address. */
export function mayHold(s: ServedSubnet, mac: string, ip: Ip): boolean {
  const fixed = s.fixedByMac.get(mac);
  return fixed ? fixed.ip === ip : isPoolAddress(s, ip);
}

export interface SubnetHint {
  giaddr: Ip;
  ciaddr: Ip;
  requestedIp: Ip | undefined;
}

/**
 * The subnet a request comes from. Relayed: the one holding giaddr. Direct: the one holding ciaddr
 * (a client with an address may unicast from a routed subnet), else the attached subnet holding
 * the requested address (INIT-REBOOT is broadcast, so the client is on an attached segment), else
 * the only attached one. Node's dgram cannot tell on which interface a broadcast arrived (no
 * IP_PKTINFO), so with several attached subnets and no hint the first is a guess (`guessed` lets
 * the caller say so once).
 */
export function selectSubnet(
  subnets: readonly ServedSubnet[],
  hint: SubnetHint,
): { subnet: ServedSubnet | undefined; guessed: boolean } {
  if (hint.giaddr !== 0) return { subnet: subnets.find((s) => inCidr(s.cidr, hint.giaddr)), guessed: false };
  const byCiaddr = hint.ciaddr ? subnets.find((s) => inCidr(s.cidr, hint.ciaddr)) : undefined;
  if (byCiaddr) return { subnet: byCiaddr, guessed: false };
  const attached = subnets.filter((s) => s.attached);
  const byRequested =
    hint.requestedIp === undefined ? undefined : attached.find((s) => inCidr(s.cidr, hint.requestedIp!));
  if (byRequested) return { subnet: byRequested, guessed: false };
  return { subnet: attached[0], guessed: attached.length > 1 };
}
