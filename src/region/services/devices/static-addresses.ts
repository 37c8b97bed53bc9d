// The region's one pool of static addresses: devices' links, machines' STATIC links and the
// AUTO addresses deploy claims (network/auto-addresses.ts) all pick and check here. Every check
// runs under the subnet's row lock, which reserving an IP address (network/reserved-ips.ts) takes
// too, so a free address is picked or checked once at a time per subnet; device_links.ip and
// interface_links.ip are UNIQUE besides, so a lost race cannot keep an address.
// An address is free when it is in the subnet and network/address-use.ts counts it as in use for
// nothing: the definition the subnet's statistics use too (not its network or broadcast address,
// gateway, a static route's gateway, a DNS server, MAAS's IPv6 reservations, an IP range, a
// reservation, a current DHCP lease, a rack's own address, another device's or machine's link).
import net from 'node:net';
import type { EntityManager } from 'typeorm';
import { ConflictError, ValidationError } from '../../errors';
import { ipField } from '../network/addresses';
import { addressUse, lowestFree, usesOf, type AddressUse } from '../network/address-use';
import { bigIntToIp, ipToBigInt } from '../network/ip-sets';

/** Locks the subnet row and reads its uses; the lock holds until the caller's transaction ends. */
async function lockedUse(
  tx: EntityManager,
  subnetId: number,
): Promise<{ cidr: string; gateway: string | null; use: AddressUse }> {
  const [row] = (await tx.query(
    `SELECT id, cidr::text AS cidr, host(gateway_ip) AS "gatewayIp", dns_servers AS "dnsServers" FROM subnets WHERE id = $1 FOR UPDATE`,
    [subnetId],
  )) as [{ id: number; cidr: string; gatewayIp: string | null; dnsServers: string[] }];
  return { cidr: row.cidr, gateway: row.gatewayIp, use: await addressUse(tx, row) };
}

/** The lowest free address of the subnet, or a 409 when none is left. */
export async function pickStaticAddress(tx: EntityManager, subnetId: number): Promise<string> {
  const picked = await pickFreeAddress(tx, subnetId);
  if (picked.ip === null)
    throw new ConflictError(
      `No free IP address is left on subnet ${picked.cidr}: every address is in an IP range, reserved or in use.`,
    );
  return picked.ip;
}

/** The lowest free address of the subnet (null: none), with the subnet's CIDR for messages. */
export async function pickFreeAddress(
  tx: EntityManager,
  subnetId: number,
): Promise<{ ip: string | null; cidr: string }> {
  const { cidr, use } = await lockedUse(tx, subnetId);
  const free = lowestFree(use);
  return { ip: free === null ? null : bigIntToIp(free, use.network.version), cidr };
}

/**
 * Checks a requested address (400 when it can never be used here, 409 when another holds it).
 * MAAS's reserved ::1-::ffff:ffff of an IPv6 /64 is kept only from automatic picks: an address
 * there may be asked for by name, as MAAS allows.
 */
export async function checkStaticAddress(tx: EntityManager, subnetId: number, requested: string): Promise<string> {
  const ip = ipField('ip_address', requested, true);
  const { cidr, gateway, use } = await lockedUse(tx, subnetId);
  const n = use.network;
  const v = net.isIP(ip) === n.version ? ipToBigInt(ip) : null;
  if (v === null || v < n.first || v > n.last)
    throw ValidationError.field('ip_address', `IP address ${ip} is not within subnet ${cidr}.`);
  const edge = n.version === 4 && n.prefix < 31 && (v === n.first || v === n.last);
  const isGateway = gateway !== null && net.isIP(gateway) === n.version && ipToBigInt(gateway) === v;
  if (edge || isGateway)
    throw ValidationError.field(
      'ip_address',
      `IP address ${ip} is the subnet's network, broadcast or gateway address.`,
    );
  const uses = usesOf(use, v);
  if (uses.range)
    throw ValidationError.field(
      'ip_address',
      `IP address ${ip} is inside an IP range of ${cidr} (the DHCP pool or a reserved range).`,
    );
  // MAAS's StaticIPAddressUnavailable wording, then which holder it is.
  if (uses.infrastructure.includes('dns-server'))
    throw new ConflictError(`The IP address ${ip} is already in use: it is a DNS server of subnet ${cidr}.`);
  if (uses.infrastructure.includes('gateway-ip'))
    throw new ConflictError(
      `The IP address ${ip} is already in use: it is the gateway of a static route from subnet ${cidr}.`,
    );
  if (uses.assigned) throw new ConflictError(`The IP address ${ip} is already in use.`);
  return ip;
}

/**
 * The address a new link holds: a STATIC one's is the one asked for (checked) or the subnet's next
 * free one; other modes hold none here (AUTO's is claimed at deploy, DHCP's is a lease).
 */
export async function linkAddress(
  tx: EntityManager,
  mode: string,
  subnetId: number | undefined,
  requested: string | undefined,
): Promise<string | null> {
  if (mode !== 'static') return null;
  return requested ? checkStaticAddress(tx, subnetId!, requested) : pickStaticAddress(tx, subnetId!);
}
