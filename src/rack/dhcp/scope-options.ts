// The options a subnet's replies carry, worked out once per config instead of per reply: global
// snippets, then what the region generates for the subnet (gateway, DNS, domain, NTP, MTU, routes),
// then the subnet's snippets (ISC dhcpd's scoping: the more specific wins); a node's snippets are
// kept per MAC and go on top of those in its replies.
import type { DhcpSubnetConfig } from '../../contracts/rack-api';
import type { DhcpSnippetLayer } from '../../contracts/dhcp-snippets';
import { mergeDhcpSnippetLayers } from '../../contracts/dhcp-snippets';
import { type Cidr, type Ip, parseCidr, parseIp, requireIp } from './ipv4';
import { ipList, OPT, text, type DhcpOptions } from './options';

export const OPT_INTERFACE_MTU = 26;
export const OPT_DOMAIN_SEARCH = 119;
export const OPT_CLASSLESS_ROUTES = 121;

/** One scope's effect on a reply. */
export interface CompiledScope {
  options: DhcpOptions;
  /** Boot-file statements: applied only when the server gives no boot file of its own. */
  nextServer?: Ip;
  filename?: string;
  defaultLeaseSeconds?: number;
  maxLeaseSeconds?: number;
}

export interface SubnetScopes {
  /** Every reply on the subnet. */
  base: CompiledScope;
  /** A node's MACs: its snippets' options (on top of base) and the lease/boot settings in force for it. */
  hosts: Map<string, CompiledScope>;
}

export interface Generated {
  gateway: Ip | undefined;
  dnsServers: Ip[];
  ntpServers: Ip[];
}

export function compileScopes(
  config: DhcpSubnetConfig,
  generated: Generated,
  global: DhcpSnippetLayer | undefined,
  hosts: ReadonlyArray<{ mac: string; snippets: DhcpSnippetLayer }>,
  normaliseMac: (mac: string) => string,
): SubnetScopes {
  const options: DhcpOptions = new Map();
  putAll(options, global);
  for (const [code, value] of generatedOptions(config, generated)) options.set(code, value);
  putAll(options, config.snippets);
  const subnetLayers = [global, config.snippets].filter((l) => l !== undefined);
  const base = { ...settings(mergeDhcpSnippetLayers(subnetLayers)), options };
  const byMac = new Map<string, CompiledScope>();
  for (const h of hosts) {
    const own: DhcpOptions = new Map();
    putAll(own, h.snippets);
    byMac.set(normaliseMac(h.mac), {
      ...settings(mergeDhcpSnippetLayers([...subnetLayers, h.snippets])),
      options: own,
    });
  }
  return { base, hosts: byMac };
}

function putAll(into: DhcpOptions, layer: DhcpSnippetLayer | undefined): void {
  for (const o of layer?.options ?? []) into.set(o.code, Buffer.from(o.hex, 'hex'));
}

function settings(l: DhcpSnippetLayer): Omit<CompiledScope, 'options'> {
  return {
    nextServer: l.nextServer ? parseIp(l.nextServer) : undefined,
    filename: l.filename,
    defaultLeaseSeconds: l.defaultLeaseSeconds,
    maxLeaseSeconds: l.maxLeaseSeconds,
  };
}

function generatedOptions(config: DhcpSubnetConfig, g: Generated): DhcpOptions {
  const opts: DhcpOptions = new Map();
  if (g.gateway !== undefined) opts.set(OPT.router, ipList([g.gateway]));
  if (g.dnsServers.length) opts.set(OPT.dnsServers, ipList(g.dnsServers));
  if (config.domain) opts.set(OPT.domainName, text(config.domain));
  if (g.ntpServers.length) opts.set(OPT.ntpServers, ipList(g.ntpServers));
  if (config.mtu) {
    const mtu = Buffer.alloc(2);
    mtu.writeUInt16BE(config.mtu);
    opts.set(OPT_INTERFACE_MTU, mtu);
  }
  if (config.domainSearch?.length) opts.set(OPT_DOMAIN_SEARCH, domainList(config.domainSearch));
  if (config.staticRoutes?.length) {
    const routes = config.staticRoutes.map((r) => ({
      to: parseCidr(r.destination),
      via: requireIp(r.gateway, 'static route gateway'),
    }));
    // RFC 3442: a client that takes option 121 ignores option 3, so the default route goes in too.
    if (g.gateway !== undefined) routes.push({ to: parseCidr('0.0.0.0/0'), via: g.gateway });
    opts.set(OPT_CLASSLESS_ROUTES, Buffer.concat(routes.map((r) => classlessRoute(r.to, r.via))));
  }
  return opts;
}

/** RFC 3442: prefix length, the destination's significant octets, the router. */
function classlessRoute(to: Cidr, via: Ip): Buffer {
  const significant = Math.ceil(to.prefix / 8);
  const dest = ipList([to.network]).subarray(0, significant);
  return Buffer.concat([Buffer.from([to.prefix]), dest, ipList([via])]);
}

/** RFC 3397 (uncompressed RFC 1035 names). */
function domainList(names: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const name of names) {
    for (const label of name.replace(/\.$/, '').split('.').filter(Boolean))
      parts.push(Buffer.from([label.length]), Buffer.from(label, 'latin1'));
    parts.push(Buffer.from([0]));
  }
  return Buffer.concat(parts);
}
