// The DNS server's files from a DnsSnapshot, pure: one forward zone per authoritative domain, the
// reverse zones of the known subnets (reverse-zones.ts), and named.conf (listen address, rndc
// control channel, forwarders from upstream_dns, non-authoritative domains forwarded upstream). The
// zone texts are BIND's master-file format, as MAAS writes them (maasserver/dns/zonegenerator.py):
// every record with its TTL, the SOA with the serial the caller gives.
import net from 'node:net';
import type { DnsSnapshot, SnapshotRecord } from './zone-snapshot';
import { inSubnet, inZone, reverseName, reverseZonesOf, type ReverseZone } from './reverse-zones';

export interface ZoneFile {
  /** The zone's name (no final dot). */
  zone: string;
  /** File name inside the zones directory. */
  file: string;
  text: string;
}

export interface NameServer {
  /** The label of the NS record's target in the default domain (the region's hostname, as MAAS). */
  host: string;
  /** Its address when no node answers for that name (the listen address, or loopback). */
  address: string;
}

export interface RenderedZones {
  zones: ZoneFile[];
  /** Records left out, and why (a zone with them would not load: named would serve none of it). */
  skipped: string[];
}

const NAME = /^(@|\*|[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?(\.[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?)*)$/i;
/** rrdata for anything but TXT: words of printable characters with no zone-file syntax. */
const PLAIN_RDATA = /^[\x21-\x7e]+( [\x21-\x7e]+)*$/;
const ZONE_SYNTAX = /[;()"\\]/;
/**
 * MAAS checks SSHFP loosely ('<algorithm> <fptype> <fingerprint>'); named wants a hex fingerprint,
 * of the digest's length for SHA-1 (1) and SHA-256 (2).
 */
const SSHFP = /^\d{1,3} (\d{1,3}) ([0-9a-f]+)$/i;
const SSHFP_HEX_LENGTH: Record<string, number> = { '1': 40, '2': 64 };
const sshfpOk = (data: string) => {
  const m = SSHFP.exec(data);
  return m !== null && (SSHFP_HEX_LENGTH[m[1]!] ?? m[2]!.length) === m[2]!.length && m[2]!.length % 2 === 0;
};
/** Already quoted strings of printable ASCII (what a zone file takes as is). */
const QUOTED_TXT = /^("([\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*" *)+$/;

/**
 * Quoted strings named takes: each at most 255 bytes once unescaped, and every \DDD escape a byte
 * (one string over 255 or a `\999` makes named refuse the whole zone).
 */
function quotedTxtOk(rrdata: string): boolean {
  if (!QUOTED_TXT.test(rrdata)) return false;
  for (const [, body] of rrdata.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    let length = 0;
    for (let i = 0; i < body!.length; i++, length++) {
      if (body![i] !== '\\') continue;
      const decimal = /^\d{3}/.exec(body!.slice(i + 1));
      if (decimal && Number(decimal[0]) > 255) return false;
      i += decimal ? 3 : 1;
    }
    if (length > 255) return false;
  }
  return true;
}

/**
 * A TXT record's strings: as given when they are quoted strings named takes, else the whole text
 * quoted (its quotes and backslashes escaped) in 255-byte pieces.
 */
function txtData(rrdata: string): string {
  if (quotedTxtOk(rrdata.trim())) return rrdata.trim();
  const bytes = Buffer.from(rrdata, 'utf8');
  const pieces: string[] = [];
  for (let i = 0; i < bytes.length; i += 255) {
    let piece = '';
    for (const b of bytes.subarray(i, i + 255))
      piece +=
        b === 0x22 || b === 0x5c
          ? `\\${String.fromCharCode(b)}`
          : b < 0x20 || b > 0x7e
            ? `\\${String(b).padStart(3, '0')}`
            : String.fromCharCode(b);
    pieces.push(`"${piece}"`);
  }
  return pieces.join(' ');
}

/** The record's data as a zone file takes it, or why it cannot be written. */
function rdata(r: SnapshotRecord): string | { skip: string } {
  if (r.rrtype === 'TXT') return txtData(r.rrdata);
  const plain = r.rrdata.trim().replace(/[ \t]+/g, ' ');
  if (!PLAIN_RDATA.test(plain) || ZONE_SYNTAX.test(plain)) return { skip: 'characters a zone file cannot hold' };
  if (r.rrtype === 'SSHFP' && !sshfpOk(plain)) return { skip: 'not <algorithm> <fptype> <hex fingerprint>' };
  return plain;
}

const line = (name: string, ttl: number, rrtype: string, data: string) => `${name}\t${ttl}\tIN\t${rrtype}\t${data}`;

function header(zone: string, ttl: number, serial: number, nsFqdn: string): string[] {
  return [
    `; ${zone}: written by metalflow from its database; changes here are overwritten.`,
    `$ORIGIN ${zone}.`,
    `$TTL ${ttl}`,
    // MAAS's SOA timers: refresh 600, retry 1800, expire 604800, minimum the domain's TTL.
    line('@', ttl, 'SOA', `${nsFqdn}. nobody.example.com. ( ${serial} 600 1800 604800 ${ttl} )`),
    line('@', ttl, 'NS', `${nsFqdn}.`),
  ];
}

/** Records by name; a name with a CNAME keeps only its CNAME (named refuses a zone mixing them). */
function forwardLines(records: SnapshotRecord[], skipped: string[]): string[] {
  const cnames = new Set(records.filter((r) => r.rrtype === 'CNAME').map((r) => r.name));
  const out: string[] = [];
  const seen = new Set<string>();
  for (const r of records) {
    const where = `${r.rrtype} ${r.name}.${r.domain}`;
    if (!NAME.test(r.name)) {
      skipped.push(`${where}: not a DNS name`);
      continue;
    }
    if (cnames.has(r.name) && r.rrtype !== 'CNAME') {
      skipped.push(`${where}: the name has a CNAME`);
      continue;
    }
    const data = rdata(r);
    if (typeof data !== 'string') {
      skipped.push(`${where}: ${data.skip}`);
      continue;
    }
    const text = line(r.name, r.ttl, r.rrtype, data);
    if (!seen.has(text)) out.push(text);
    seen.add(text);
  }
  return out;
}

const fileOf = (zone: string) => `db.${zone}`;

export function renderZones(s: DnsSnapshot, serial: number, ns: NameServer): RenderedZones {
  const skipped: string[] = [];
  const defaultDomain = s.domains.find((d) => d.isDefault);
  const nsFqdn = defaultDomain ? `${ns.host}.${defaultDomain.name}` : ns.host;
  const zones: ZoneFile[] = [];
  for (const domain of s.domains.filter((d) => d.authoritative)) {
    const records = [...s.addresses, ...s.records].filter((r) => r.domain === domain.name);
    // The NS target needs an address in its own zone: the region's, unless a node already gives one.
    if (domain.isDefault && !records.some((r) => r.name === ns.host))
      records.push({
        domain: domain.name,
        name: ns.host,
        rrtype: net.isIPv6(ns.address) ? 'AAAA' : 'A',
        rrdata: ns.address,
        ttl: domain.ttl,
      });
    const text = [...header(domain.name, domain.ttl, serial, nsFqdn), ...forwardLines(records, skipped)];
    zones.push({ zone: domain.name, file: fileOf(domain.name), text: `${text.join('\n')}\n` });
  }
  zones.push(...reverse(s, serial, nsFqdn));
  return { zones, skipped };
}

/** PTRs for the addresses inside known subnets, in the reverse zones of those subnets. */
function reverse(s: DnsSnapshot, serial: number, nsFqdn: string): ZoneFile[] {
  const ttl = s.domains.find((d) => d.isDefault)?.ttl ?? 30;
  const zones = new Map(s.subnets.flatMap(reverseZonesOf).map((z) => [z.name, z]));
  const ptrs = new Map<string, Set<string>>([...zones.keys()].map((name) => [name, new Set<string>()]));
  for (const a of s.addresses) {
    if (!NAME.test(a.name) || a.name === '*' || !s.subnets.some((cidr) => inSubnet(cidr, a.rrdata))) continue;
    // The most specific zone holding the address: named answers a PTR from it (10.0.5.0/24's
    // zone inside 10.0.0.0/16's), so that is where the record has to be.
    const zone = [...zones.values()]
      .filter((z) => inZone(z, a.rrdata))
      .reduce<ReverseZone | undefined>((best, z) => (best && best.bits >= z.bits ? best : z), undefined);
    const target = a.name === '@' ? a.domain : `${a.name}.${a.domain}`;
    if (zone) ptrs.get(zone.name)!.add(line(`${reverseName(a.rrdata)}.`, a.ttl, 'PTR', `${target}.`));
  }
  return [...zones.keys()].sort().map((name) => ({
    zone: name,
    file: fileOf(name),
    text: `${[...header(name, ttl, serial, nsFqdn), ...[...ptrs.get(name)!].sort()].join('\n')}\n`,
  }));
}

export interface NamedConfOptions {
  /** Where named keeps its state (managed keys, session key); zone files are in `zones/` below it. */
  dir: string;
  listen: { host: string; port: number };
  rndc: { port: number; secret: string };
  /** The port upstream_dns servers answer on (53; tests run their upstream elsewhere). */
  upstreamPort?: number;
}

/** A forwarders list; upstream_dns holds only IP addresses (config-items checks them). */
const forwarders = (ips: string[], port = 53) =>
  `forwarders { ${ips.map((ip) => (port === 53 ? `${ip};` : `${ip} port ${port};`)).join(' ')} };`;

export function renderNamedConf(s: DnsSnapshot, zones: ZoneFile[], o: NamedConfOptions): string {
  const host = o.listen.host;
  // '0.0.0.0' is every IPv4 address, '::' every address of both families.
  const v4 = host === '0.0.0.0' || host === '::' ? 'any;' : net.isIPv6(host) ? 'none;' : `${host};`;
  const v6 = host === '::' ? 'any;' : net.isIPv6(host) ? `${host};` : 'none;';
  const forwarded = s.upstreamDns.length
    ? s.domains
        .filter((d) => !d.authoritative)
        .map((d) => `zone "${d.name}" { type forward; forward only; ${forwarders(s.upstreamDns, o.upstreamPort)} };`)
    : [];
  return `// Written by metalflow at every change; edits are overwritten.
acl "trusted" { localhost; localnets; ${s.subnets.map((c) => `${c};`).join(' ')} };
key "rndc-key" { algorithm hmac-sha256; secret "${o.rndc.secret}"; };
controls { inet 127.0.0.1 port ${o.rndc.port} allow { 127.0.0.1; } keys { "rndc-key"; }; };
options {
  directory "${o.dir}";
  pid-file "${o.dir}/named.pid";
  session-keyfile "${o.dir}/session.key";
  managed-keys-directory "${o.dir}";
  listen-on port ${o.listen.port} { ${v4} };
  listen-on-v6 port ${o.listen.port} { ${v6} };
  recursion yes;
  allow-query { any; };
  allow-recursion { trusted; };
  allow-query-cache { trusted; };
  allow-transfer { none; };
  ${s.upstreamDns.length ? forwarders(s.upstreamDns, o.upstreamPort) : '// no upstream_dns: recursion from the root servers'}
  dnssec-validation ${s.dnssecValidation};
};
${[...zones.map((z) => `zone "${z.zone}" { type primary; file "zones/${z.file}"; };`), ...forwarded].join('\n')}
`;
}
