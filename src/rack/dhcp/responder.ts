// The DHCP server's decisions (RFC 2131 §4.3): what each client message does to the lease table
// and what, if anything, goes back. No I/O and no clock of its own, so every rule is testable
// without a socket; the server makes the changes durable before it sends the reply.
import type { DhcpLeaseEvent } from '../../contracts/rack-api';
import { chooseBootFile, clientFirmware, type ClientFirmware } from './boot-file';
import { Allocator } from './allocator';
import { formatIp, inCidr, type Ip } from './ipv4';
import type { Lease, LeaseTable } from './lease-table';
import { MSG, MSG_NAME, OPT, optIp, optText } from './options';
import { BOOTREQUEST, macOf, messageTypeOf, type DhcpPacket } from './packet';
import { nak, offerOrAck } from './reply';
import type { CompiledScope } from './scope-options';
import { selectSubnet, type ServedSubnet } from './subnets';

export interface ResponderOptions {
  httpPort: number;
  /** How long an OFFER holds its address for the client (RFC 2131 leaves it to the server). */
  offerHoldMs?: number;
  /** How long a DECLINEd address is kept from everyone. */
  declineQuarantineMs?: number;
  /** PXE firmware gets at most this: a machine that netboots once should not hold an address for a day. */
  pxeLeaseSeconds?: number;
}

export interface Outcome {
  reply?: DhcpPacket;
  /** Lease states to make durable before the reply is sent. */
  changes: Lease[];
  events: DhcpLeaseEvent[];
  /** Why nothing or a NAK was sent, or something worth a log line; undefined for routine answers. */
  note?: string;
  /** The subnet was picked without a hint among several attached ones. */
  guessedSubnet?: boolean;
}

const RELAY_HOP_LIMIT = 16;
const DEFAULT_LEASE_SECONDS = 3600;

export class Responder {
  private subnets: readonly ServedSubnet[] = [];
  private directRefusal: string | undefined;
  private readonly allocator: Allocator;
  private readonly offerHoldMs: number;
  private readonly quarantineMs: number;
  private readonly pxeLeaseSeconds: number;

  constructor(
    private readonly table: LeaseTable,
    private readonly o: ResponderOptions,
  ) {
    this.allocator = new Allocator(table);
    this.offerHoldMs = o.offerHoldMs ?? 60_000;
    this.quarantineMs = o.declineQuarantineMs ?? 10 * 60_000;
    this.pxeLeaseSeconds = o.pxeLeaseSeconds ?? 600;
  }

  /**
   * `directRefusal`: why requests that were neither relayed nor sent from an address (DISCOVER,
   * REQUEST while selecting, INIT-REBOOT) must not be answered, or undefined when they may be.
   */
  setSubnets(subnets: readonly ServedSubnet[], directRefusal?: string): void {
    this.subnets = subnets;
    this.directRefusal = directRefusal;
  }

  respond(req: DhcpPacket, now: number): Outcome {
    const type = messageTypeOf(req);
    if (req.op !== BOOTREQUEST) return ignore('not a BOOTREQUEST');
    if (type === undefined) return ignore('no DHCP message type (BOOTP is not served)');
    // Only Ethernet clients: a MAC of another length would reach the region as an invalid address.
    if (req.htype !== 1 || req.hlen !== 6)
      return ignore(`hardware type ${req.htype}/length ${req.hlen} is not Ethernet`);
    if (req.giaddr === 0 && req.ciaddr === 0 && this.directRefusal) return ignore(this.directRefusal);
    if (req.hops > RELAY_HOP_LIMIT) return ignore(`relayed ${req.hops} times`);
    const requested = optIp(req.options, OPT.requestedIp);
    const { subnet, guessed } = selectSubnet(this.subnets, {
      giaddr: req.giaddr,
      ciaddr: req.ciaddr,
      requestedIp: requested,
    });
    if (!subnet)
      return ignore(`${MSG_NAME[type] ?? type} from ${macOf(req)}: no served subnet (giaddr ${formatIp(req.giaddr)})`);
    const c: Context = { req, subnet, mac: macOf(req), requested, now, firmware: clientFirmware(req.options) };
    const out = this.dispatch(type, c);
    return guessed ? { ...out, guessedSubnet: true } : out;
  }

  private dispatch(type: number, c: Context): Outcome {
    switch (type) {
      case MSG.discover:
        return this.discover(c);
      case MSG.request:
        return this.request(c);
      case MSG.decline:
        return this.decline(c);
      case MSG.release:
        return this.release(c);
      case MSG.inform:
        return {
          reply: offerOrAck(c.req, MSG.ack, c.subnet, { yiaddr: 0, boot: this.bootFile(c), host: this.hostScope(c) }),
          changes: [],
          events: [],
        };
      default:
        return ignore(`message type ${MSG_NAME[type] ?? type} is not for a server`);
    }
  }

  private discover(c: Context): Outcome {
    const ip = this.allocator.choose(c.subnet, c.mac, c.requested, c.now);
    if (ip === undefined)
      return ignore(`DISCOVER from ${c.mac}: no free address in ${c.subnet.config.cidr} (pool exhausted)`);
    const held = this.table.get(ip);
    // An OFFER to a client that already holds the address must not shorten its lease.
    if (!(held?.mac === c.mac && held.state === 'bound' && held.expiresAt > c.now)) {
      this.table.set({
        ip,
        mac: c.mac,
        hostname: this.hostnameOf(c, ip),
        state: 'offered',
        expiresAt: c.now + this.offerHoldMs,
      });
    }
    const reply = offerOrAck(c.req, MSG.offer, c.subnet, {
      yiaddr: ip,
      leaseSeconds: this.leaseSeconds(c),
      hostname: this.fixedHostname(c, ip),
      boot: this.bootFile(c),
      host: this.hostScope(c),
    });
    return { reply, changes: [], events: [] };
  }

  private request(c: Context): Outcome {
    const serverId = optIp(c.req.options, OPT.serverId);
    if (serverId !== undefined) {
      // SELECTING: the client names the server it chose.
      if (!c.subnet.ownIps.has(serverId)) {
        this.forgetOffer(c.mac, c.now);
        return ignore(`REQUEST from ${c.mac} is for server ${formatIp(serverId)}`);
      }
      const ip = c.requested ?? c.req.ciaddr;
      if (!ip) return ignore(`REQUEST from ${c.mac} names us but no address`);
      return this.bindOrNak(c, ip);
    }
    // INIT-REBOOT (requested address) or RENEWING/REBINDING (ciaddr).
    const ip = c.req.ciaddr || c.requested;
    if (ip === undefined) return ignore(`REQUEST from ${c.mac} without server id, requested address or ciaddr`);
    if (!inCidr(c.subnet.cidr, ip)) return this.refuse(c, `${formatIp(ip)} is not on ${c.subnet.config.cidr}`);
    return this.bindOrNak(c, ip);
  }

  /**
   * ACK when `ip` is the client's to have: its fixed address, or a pool address nobody else holds.
   * An address we have no record of is granted too (after a lost journal the client keeps its
   * address instead of the whole segment renumbering).
   */
  private bindOrNak(c: Context, ip: Ip): Outcome {
    if (!inCidr(c.subnet.cidr, ip) || !this.allocator.mayHave(c.subnet, c.mac, ip, c.now)) {
      return this.refuse(c, `${formatIp(ip)} is not available to ${c.mac}`);
    }
    const leaseSeconds = this.leaseSeconds(c);
    const lease: Lease = {
      ip,
      mac: c.mac,
      hostname: this.hostnameOf(c, ip),
      state: 'bound',
      expiresAt: c.now + leaseSeconds * 1000,
    };
    const changes: Lease[] = [];
    const events: DhcpLeaseEvent[] = [];
    // Moving to another address gives the old one back (one binding per client and subnet).
    const old = this.table.latestOf(c.mac, (a) => a !== ip && inCidr(c.subnet.cidr, a));
    if (old?.state === 'bound') {
      const freed: Lease = { ...old, state: 'released', expiresAt: c.now };
      this.table.set(freed);
      changes.push(freed);
      events.push(leaseEvent('release', freed, c.now));
    }
    this.table.set(lease);
    changes.push(lease);
    events.push(leaseEvent('commit', lease, lease.expiresAt));
    const reply = offerOrAck(c.req, MSG.ack, c.subnet, {
      yiaddr: ip,
      leaseSeconds,
      hostname: this.fixedHostname(c, ip),
      boot: this.bootFile(c),
      host: this.hostScope(c),
    });
    return { reply, changes, events };
  }

  private refuse(c: Context, why: string): Outcome {
    return { reply: nak(c.req, c.subnet, why), changes: [], events: [], note: `NAK to ${c.mac}: ${why}` };
  }

  private decline(c: Context): Outcome {
    const serverId = optIp(c.req.options, OPT.serverId);
    if (serverId !== undefined && !c.subnet.ownIps.has(serverId))
      return ignore(`DECLINE from ${c.mac} is for server ${formatIp(serverId)}`);
    const ip = c.requested;
    const lease = ip === undefined ? undefined : this.table.get(ip);
    // Only the address's own client can take it out of use; others could empty the pool.
    if (!lease || lease.mac !== c.mac || (lease.state !== 'bound' && lease.state !== 'offered')) {
      return ignore(`DECLINE from ${c.mac} for ${ip === undefined ? 'no address' : formatIp(ip)} it does not hold`);
    }
    const quarantined: Lease = {
      ip: lease.ip,
      mac: '',
      hostname: '',
      state: 'declined',
      expiresAt: c.now + this.quarantineMs,
    };
    this.table.set(quarantined);
    const events = lease.state === 'bound' ? [leaseEvent('release', lease, c.now)] : [];
    return {
      changes: [quarantined],
      events,
      note: `DECLINE from ${c.mac}: ${formatIp(lease.ip)} is in use by someone else; quarantined`,
    };
  }

  private release(c: Context): Outcome {
    const serverId = optIp(c.req.options, OPT.serverId);
    if (serverId !== undefined && !c.subnet.ownIps.has(serverId))
      return ignore(`RELEASE from ${c.mac} is for server ${formatIp(serverId)}`);
    const lease = this.table.get(c.req.ciaddr);
    if (!lease || lease.mac !== c.mac || lease.state !== 'bound')
      return ignore(`RELEASE from ${c.mac} for ${formatIp(c.req.ciaddr)} it does not hold`);
    const released: Lease = { ...lease, state: 'released', expiresAt: c.now };
    this.table.set(released);
    return { changes: [released], events: [leaseEvent('release', released, c.now)] };
  }

  /** The client chose another server: the address we offered is free again. */
  private forgetOffer(mac: string, now: number): void {
    const offered = this.table.latestOf(mac, () => true);
    if (offered?.state === 'offered') this.table.set({ ...offered, state: 'released', expiresAt: now });
  }

  private leaseSeconds(c: Context): number {
    const scope = this.hostScope(c) ?? c.subnet.scopes.base;
    const fromConfig = c.subnet.config.leaseSeconds > 0 ? c.subnet.config.leaseSeconds : DEFAULT_LEASE_SECONDS;
    // Snippets' default-lease-time, capped by their max-lease-time (every client gets the default).
    const configured = Math.min(scope.defaultLeaseSeconds ?? fromConfig, scope.maxLeaseSeconds ?? Infinity);
    return c.firmware.pxe ? Math.min(configured, this.pxeLeaseSeconds) : configured;
  }

  private hostScope(c: Context): CompiledScope | undefined {
    return c.subnet.scopes.hosts.get(c.mac);
  }

  private bootFile(c: Context) {
    return chooseBootFile(c.firmware, { ip: formatIp(c.subnet.serverIp), httpPort: this.o.httpPort });
  }

  private fixedHostname(c: Context, ip: Ip): string | undefined {
    const fixed = c.subnet.fixedByMac.get(c.mac);
    return fixed?.ip === ip && fixed.hostname ? fixed.hostname : undefined;
  }

  private hostnameOf(c: Context, ip: Ip): string {
    return this.fixedHostname(c, ip) ?? optText(c.req.options, OPT.hostname) ?? '';
  }
}

interface Context {
  req: DhcpPacket;
  subnet: ServedSubnet;
  mac: string;
  requested: Ip | undefined;
  now: number;
  firmware: ClientFirmware;
}

const ignore = (note: string): Outcome => ({ changes: [], events: [], note });

export function leaseEvent(action: DhcpLeaseEvent['action'], lease: Lease, at: number): DhcpLeaseEvent {
  return { action, ip: formatIp(lease.ip), mac: lease.mac, hostname: lease.hostname, at: new Date(at).toISOString() };
}
