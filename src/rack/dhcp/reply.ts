// Building the server's answers: OFFER/ACK with the subnet's options and the boot file, NAK, and
// where each goes (RFC 2131 §4.1).
import { type BootFile } from './boot-file';
import { formatIp, type Ip } from './ipv4';
import { IPXE_NO_PXEDHCP, ipList, MSG, OPT, text, u32, u8, type DhcpOptions } from './options';
import { BOOTREPLY, BROADCAST_FLAG, type DhcpPacket } from './packet';
import type { CompiledScope } from './scope-options';
import type { ServedSubnet } from './subnets';

export interface Grant {
  /** 0 for INFORM (the client has its address already). */
  yiaddr: Ip;
  /** Absent for INFORM: no lease is given. */
  leaseSeconds?: number;
  hostname?: string;
  boot?: BootFile;
  /** The client's node snippets (scope-options.ts), on top of the subnet's options. */
  host?: CompiledScope;
}

export function offerOrAck(
  req: DhcpPacket,
  type: typeof MSG.offer | typeof MSG.ack,
  subnet: ServedSubnet,
  g: Grant,
): DhcpPacket {
  const opts: DhcpOptions = new Map();
  opts.set(OPT.messageType, u8(type));
  opts.set(OPT.serverId, ipList([subnet.serverIp]));
  if (g.leaseSeconds !== undefined) {
    opts.set(OPT.leaseTime, u32(g.leaseSeconds));
    opts.set(OPT.renewalTime, u32(Math.floor(g.leaseSeconds / 2)));
    opts.set(OPT.rebindingTime, u32(Math.floor((g.leaseSeconds * 7) / 8)));
  }
  opts.set(OPT.subnetMask, ipList([subnet.mask]));
  // Precomputed per subnet: global snippets, the generated options, the subnet's snippets.
  for (const [code, value] of subnet.scopes.base.options) opts.set(code, value);
  if (g.hostname) opts.set(OPT.hostname, text(g.hostname));
  if (g.host) for (const [code, value] of g.host.options) opts.set(code, value);
  const scope = g.host ?? subnet.scopes.base;
  let siaddr: Ip;
  let file: string;
  if (g.boot) {
    // Our boot file wins over any snippet's for a client we netboot (BOOT_FILE_CODES).
    opts.set(OPT.tftpServer, text(formatIp(subnet.serverIp)));
    opts.set(OPT.bootfileName, text(g.boot.filename));
    if (g.boot.vendorClass) opts.set(OPT.vendorClass, text(g.boot.vendorClass));
    if (g.boot.ipxeNoPxeDhcp) opts.set(OPT.ipxe, IPXE_NO_PXEDHCP);
    siaddr = subnet.serverIp;
    file = g.boot.filename;
  } else {
    siaddr = scope.nextServer ?? 0;
    file = scope.filename ?? '';
  }
  echoRelayInfo(req, opts);
  return {
    ...replyHeader(req),
    ciaddr: type === MSG.ack ? req.ciaddr : 0,
    yiaddr: g.yiaddr,
    siaddr,
    file,
    options: opts,
  };
}

export function nak(req: DhcpPacket, subnet: ServedSubnet, message: string): DhcpPacket {
  const opts: DhcpOptions = new Map([
    [OPT.messageType, u8(MSG.nak)],
    [OPT.serverId, ipList([subnet.serverIp])],
    [OPT.message, text(message)],
  ]);
  echoRelayInfo(req, opts);
  // §4.3.2: through a relay, a NAK carries the broadcast bit (the client may have no address).
  return { ...replyHeader(req), flags: req.giaddr ? req.flags | BROADCAST_FLAG : req.flags, options: opts };
}

/** RFC 3046 §2.2: the relay agent information comes back exactly as the relay sent it. */
function echoRelayInfo(req: DhcpPacket, opts: DhcpOptions): void {
  const info = req.options.get(OPT.relayAgentInfo);
  if (info) opts.set(OPT.relayAgentInfo, info);
}

function replyHeader(req: DhcpPacket): DhcpPacket {
  return {
    op: BOOTREPLY,
    htype: req.htype,
    hlen: req.hlen,
    hops: 0,
    xid: req.xid,
    secs: 0,
    flags: req.flags,
    ciaddr: 0,
    yiaddr: 0,
    siaddr: 0,
    giaddr: req.giaddr,
    chaddr: req.chaddr,
    sname: '',
    file: '',
    options: new Map(),
  };
}

export interface Destination {
  address: string;
  port: number;
}

export interface ReplyPorts {
  /** Where relays listen (67). */
  relay: number;
  /** Where clients listen (68). */
  client: number;
}

/**
 * Relayed: to the relay. Otherwise a NAK is broadcast; a client that has an address (ciaddr) and
 * did not ask for broadcast gets unicast; everyone else gets a broadcast (Node cannot send to a
 * not-yet-configured client's MAC the way a raw socket would).
 */
export function destinationOf(req: DhcpPacket, reply: DhcpPacket, ports: ReplyPorts): Destination {
  if (req.giaddr !== 0) return { address: formatIp(req.giaddr), port: ports.relay };
  const isNak = reply.options.get(OPT.messageType)?.[0] === MSG.nak;
  if (!isNak && req.ciaddr !== 0 && (req.flags & BROADCAST_FLAG) === 0)
    return { address: formatIp(req.ciaddr), port: ports.client };
  return { address: '255.255.255.255', port: ports.client };
}
