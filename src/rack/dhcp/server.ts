// The rack's DHCP server: one UDP socket on 0.0.0.0:67, the responder's decisions, leases made
// durable before their ACK leaves, expiry sweeps. It serves while the config has subnets and
// closes its socket when it has none. Nothing a packet contains can throw out of the handler.
import dgram from 'node:dgram';
import type { DhcpConfig, DhcpLeaseEvent } from '../../contracts/rack-api';
import { formatIp, parseCidr, parseIp, type Ip } from './ipv4';
import { LeaseTable, type Lease } from './lease-table';
import type { LeaseJournal } from './lease-store';
import { hostAddresses, kernelRouteSource, type LocalAddresses, type RouteSource } from './local-addresses';
import { MalformedPacketError } from './malformed';
import { MSG_NAME } from './options';
import { decodePacket, encodePacket, messageTypeOf, type DhcpPacket } from './packet';
import { rateLimitedLog } from './rate-limited-log';
import { destinationOf, type ReplyPorts } from './reply';
import { leaseEvent, Responder, type ResponderOptions } from './responder';
import { compileSubnets, type ServedSubnet } from './subnets';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;

/**
 * Node's dgram cannot tell on which interface a broadcast arrived (no IP_PKTINFO, no
 * SO_BINDTODEVICE), so a rack that also has networks DHCP does not serve (a management LAN, say)
 * would answer clients there with addresses of a served subnet and NAK their renewals: a rogue
 * DHCP server. Unless told otherwise, it then serves only relayed requests and renewals.
 */
export function directRefusal(subnets: readonly ServedSubnet[], localIps: readonly number[]): string | undefined {
  const foreign = localIps.filter(
    (ip) => ip >>> 24 !== 127 && !subnets.some((s) => s.attached && ip >= s.cidr.network && ip <= s.cidr.broadcast),
  );
  if (!foreign.length || !subnets.some((s) => s.attached)) return undefined;
  return `broadcast requests are not answered: this host is also on networks DHCP does not serve (${foreign.map(formatIp).join(', ')}) and cannot tell where a broadcast came from; use a DHCP relay, or set METALFLOW_DHCP_BROADCASTS=all if every such network may be answered`;
}

export interface DhcpServerOptions extends ResponderOptions {
  /** Answer unrelayed broadcasts even when this host has networks DHCP does not serve. */
  answerBroadcastsOnEveryNetwork?: boolean;
  /** Where to listen (67); 0 picks a free port (tests). */
  port: number;
  /** Where replies to relays go (67); tests point it at their own socket. */
  relayPort?: number;
  clientPort?: number;
  journal: LeaseJournal;
  /** Leases the journal held at startup. */
  leases?: Iterable<Lease>;
  onLeaseEvent?: (event: DhcpLeaseEvent) => void;
  localAddresses?: LocalAddresses;
  routeSource?: RouteSource;
  log: (line: string) => void;
  now?: () => number;
  sweepEveryMs?: number;
  /** Each packet received (its message type; `malformed` when undecodable) and each reply sent (metrics). */
  onPacket?: (direction: 'received' | 'sent', type: string) => void;
}

/** A DHCP message type's name (DISCOVER…INFORM); `OTHER` for anything else, so labels stay a bounded set. */
export function messageTypeName(p: DhcpPacket): string {
  return MSG_NAME[messageTypeOf(p) ?? 0] ?? 'OTHER';
}

export interface DhcpServerStats {
  received: number;
  malformed: number;
  replies: number;
  /** Replies withheld because their lease could not be made durable. */
  unjournaled: number;
}

export class DhcpServer {
  private readonly table = new LeaseTable();
  private readonly responder: Responder;
  private readonly now: () => number;
  private readonly ports: ReplyPorts;
  private readonly complain: (line: string) => void;
  private subnets: ServedSubnet[] = [];
  private socket: dgram.Socket | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private guessNoted = false;
  private journalError: string | undefined;
  private readonly counters: DhcpServerStats = { received: 0, malformed: 0, replies: 0, unjournaled: 0 };

  constructor(private readonly o: DhcpServerOptions) {
    for (const l of o.leases ?? []) this.table.set(l);
    this.responder = new Responder(this.table, o);
    this.now = o.now ?? Date.now;
    this.ports = { relay: o.relayPort ?? DHCP_SERVER_PORT, client: o.clientPort ?? DHCP_CLIENT_PORT };
    this.complain = rateLimitedLog(o.log, 20, 60_000);
  }

  /**
   * Serves `config` from now on: binds the socket when there is a subnet to serve (rejecting with
   * the bind error, e.g. EADDRINUSE), closes it when there is none.
   */
  async apply(config: DhcpConfig): Promise<void> {
    this.subnets = await this.compile(config);
    this.directRefusal = this.o.answerBroadcastsOnEveryNetwork
      ? undefined
      : directRefusal(this.subnets, this.localIps());
    this.responder.setSubnets(this.subnets, this.directRefusal);
    this.guessNoted = false;
    if (this.subnets.length && !this.socket) await this.listen();
    else if (!this.subnets.length && this.socket) await this.close();
  }

  get listening(): boolean {
    return this.socket !== undefined;
  }

  /** The bound port (useful with port 0). */
  get port(): number | undefined {
    return this.socket?.address().port;
  }

  /** Why broadcast requests are not answered (this host has networks DHCP does not serve), if so. */
  directRefusal: string | undefined;

  private localIps(): number[] {
    return (this.o.localAddresses ?? hostAddresses)()
      .map((a) => parseIp(a))
      .filter((ip) => ip !== undefined);
  }

  get servedSubnets(): readonly ServedSubnet[] {
    return this.subnets;
  }

  stats(): DhcpServerStats {
    return { ...this.counters };
  }

  /** Why the last lease write failed, until one succeeds again (replies wait for it meanwhile). */
  get journalFailure(): string | undefined {
    return this.journalError;
  }

  /** The addresses this server has leased to `mac` (colon form, lower case) right now. */
  leasedTo(mac: string): string[] {
    return this.table.boundTo(mac, this.now()).map(formatIp);
  }

  leases(): Lease[] {
    return [...this.table.all()].map((l) => ({ ...l }));
  }

  /** Stops listening and sweeping (the journal belongs to the caller). */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    const sock = this.socket;
    this.socket = undefined;
    if (sock) await new Promise<void>((resolve) => sock.close(() => resolve()));
  }

  /** Marks bound leases past their end as expired and reports them. */
  async sweep(): Promise<void> {
    const now = this.now();
    this.table.lapse(now);
    const expired = this.table.expiredBindings(now).map((l): Lease => ({ ...l, state: 'expired' }));
    if (!expired.length) return;
    for (const l of expired) this.table.set(l);
    try {
      await this.o.journal.append(expired);
      this.journalError = undefined;
    } catch (err) {
      this.journalError = (err as Error).message;
      this.complain(`dhcp: lease expiry not journaled: ${(err as Error).message}`);
    }
    for (const l of expired) this.o.onLeaseEvent?.(leaseEvent('expiry', l, now));
  }

  private async compile(config: DhcpConfig): Promise<ServedSubnet[]> {
    const localIps = this.localIps();
    const routeSources = new Map<number, Ip>();
    for (const s of config.subnets) {
      // A relayed subnet: our address is the one the kernel would send from toward it.
      let cidr;
      try {
        cidr = parseCidr(s.cidr);
      } catch {
        continue; // compileSubnets says why
      }
      if (localIps.some((ip) => ip >= cidr.network && ip <= cidr.broadcast)) continue;
      const toward = s.gatewayIp ?? formatIp(cidr.network + 1);
      const source = await (this.o.routeSource ?? kernelRouteSource)(toward);
      const ip = source === undefined ? undefined : parseIp(source);
      if (ip !== undefined) routeSources.set(s.subnetId, ip);
    }
    return compileSubnets(config, localIps, routeSources, (line) => this.o.log(`dhcp: ${line}`));
  }

  private async listen(): Promise<void> {
    const sock = dgram.createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(this.o.port, '0.0.0.0', () => {
        sock.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      sock.close();
      throw err;
    });
    sock.setBroadcast(true);
    try {
      // Room for bursts (a rack full of machines powered on at once); the kernel caps it.
      sock.setRecvBufferSize(4 << 20);
    } catch {
      // the default buffer then
    }
    sock.on('error', (err) => this.complain(`dhcp socket: ${err.message}`));
    sock.on('message', (buf) => this.onMessage(buf));
    this.socket = sock;
    this.sweeper = setInterval(
      () =>
        void this.sweep().catch((err: unknown) => this.complain(`dhcp: lease sweep failed: ${(err as Error).message}`)),
      this.o.sweepEveryMs ?? 10_000,
    );
    this.sweeper.unref();
  }

  private onMessage(buf: Buffer): void {
    this.counters.received += 1;
    let req: DhcpPacket;
    try {
      req = decodePacket(buf);
    } catch (err) {
      this.counters.malformed += 1;
      this.o.onPacket?.('received', 'MALFORMED');
      const why =
        err instanceof MalformedPacketError ? err.message : `decoder bug: ${(err as Error).stack ?? String(err)}`;
      this.complain(`dhcp: dropped a malformed packet (${buf.length} bytes): ${why}`);
      return;
    }
    this.o.onPacket?.('received', messageTypeName(req));
    try {
      this.handle(req);
    } catch (err) {
      this.complain(`dhcp: dropped a packet that could not be handled: ${(err as Error).stack ?? String(err)}`);
    }
  }

  private handle(req: DhcpPacket): void {
    const out = this.responder.respond(req, this.now());
    if (out.note) this.complain(`dhcp: ${out.note}`);
    if (out.guessedSubnet && !this.guessNoted) {
      this.guessNoted = true;
      this.o.log(
        'dhcp: several directly attached subnets and a request without a hint: answering from the first (the receiving interface is unknown to Node)',
      );
    }
    const finish = () => {
      if (out.reply) this.send(req, out.reply);
      try {
        for (const e of out.events) this.o.onLeaseEvent?.(e);
      } catch (err) {
        // A listener's bug must not become an unhandled rejection (the rack process would exit).
        this.complain(`dhcp: lease event listener failed: ${(err as Error).message}`);
      }
    };
    if (!out.changes.length) return finish();
    this.o.journal.append(out.changes).then(
      () => {
        this.journalError = undefined;
        finish();
      },
      (err: unknown) => {
        this.counters.unjournaled += 1;
        this.journalError = (err as Error).message;
        this.complain(`dhcp: lease not journaled, reply withheld: ${(err as Error).message}`);
      },
    );
  }

  private send(req: DhcpPacket, reply: DhcpPacket): void {
    const sock = this.socket;
    if (!sock) return;
    const to = destinationOf(req, reply, this.ports);
    try {
      sock.send(encodePacket(reply), to.port, to.address, (err) => {
        if (err) this.complain(`dhcp: reply to ${to.address}:${to.port} failed: ${err.message}`);
      });
      this.counters.replies += 1;
      this.o.onPacket?.('sent', messageTypeName(reply));
    } catch (err) {
      this.complain(`dhcp: reply to ${to.address}:${to.port} failed: ${(err as Error).message}`);
    }
  }
}
