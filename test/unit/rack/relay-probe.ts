// A fake DHCP relay agent beside the real server: it sends client messages the way a relay does
// (giaddr set, from its own UDP port) and hands back the server's replies by transaction id.
// Tests drive the server through it over real UDP (test-only: it lives beside the tests that use it).
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import { formatIp, parseIp, type Ip } from '../../../src/rack/dhcp/ipv4';
import { ipList, MSG, OPT, u8, type DhcpOptions, type MessageType } from '../../../src/rack/dhcp/options';
import { BOOTREQUEST, decodePacket, encodePacket, type DhcpPacket } from '../../../src/rack/dhcp/packet';

export interface ClientMessage {
  type: MessageType;
  mac: string;
  xid?: number;
  ciaddr?: string;
  requestedIp?: string;
  serverId?: string;
  flags?: number;
  /** Defaults to the probe's giaddr; '0.0.0.0' sends it as if unrelayed. */
  giaddr?: string;
  /** More options (they win over the ones above). */
  options?: Array<[number, Buffer]>;
}

export function clientMessage(m: ClientMessage, defaultGiaddr: Ip): DhcpPacket {
  const chaddr = Buffer.alloc(16);
  const macBytes = Buffer.from(m.mac.replace(/[:-]/g, ''), 'hex');
  macBytes.copy(chaddr);
  const options: DhcpOptions = new Map([[OPT.messageType, u8(m.type)]]);
  if (m.requestedIp) options.set(OPT.requestedIp, ipList([ip(m.requestedIp)]));
  if (m.serverId) options.set(OPT.serverId, ipList([ip(m.serverId)]));
  for (const [code, value] of m.options ?? []) options.set(code, value);
  return {
    op: BOOTREQUEST,
    htype: 1,
    hlen: macBytes.length,
    hops: 1,
    xid: m.xid ?? crypto.randomBytes(4).readUInt32BE(0),
    secs: 0,
    flags: m.flags ?? 0,
    ciaddr: m.ciaddr ? ip(m.ciaddr) : 0,
    yiaddr: 0,
    siaddr: 0,
    giaddr: m.giaddr === undefined ? defaultGiaddr : ip(m.giaddr),
    chaddr,
    sname: '',
    file: '',
    options,
  };
}

const ip = (s: string): Ip => {
  const n = parseIp(s);
  if (n === undefined) throw new Error(`not an IPv4 address: ${s}`);
  return n;
};

export interface RelayProbeOptions {
  /** The server's address and port (settable later: a test may start the server second). */
  server?: { address: string; port: number };
  /** Our relay address (giaddr); replies come back to it, so it must be ours. */
  giaddr?: string;
  /** Our UDP port (0: any). Relays on different addresses may share one, as real ones share 67. */
  port?: number;
}

export class RelayProbe {
  /** Every reply received, in order (decoded; undecodable ones are counted in `garbled`). */
  readonly replies: DhcpPacket[] = [];
  garbled = 0;
  private readonly waiting = new Map<number, (p: DhcpPacket) => void>();

  server: { address: string; port: number };

  private constructor(
    private readonly sock: dgram.Socket,
    o: RelayProbeOptions,
    private readonly giaddr: Ip,
  ) {
    this.server = o.server ?? { address: '127.0.0.1', port: 67 };
    sock.on('message', (buf) => {
      let p: DhcpPacket;
      try {
        p = decodePacket(buf);
      } catch {
        this.garbled += 1;
        return;
      }
      this.replies.push(p);
      this.waiting.get(p.xid)?.(p);
    });
  }

  static async open(o: RelayProbeOptions): Promise<RelayProbe> {
    const giaddr = o.giaddr ?? '127.0.0.1';
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(o.port ?? 0, giaddr, () => resolve());
    });
    return new RelayProbe(sock, o, ip(giaddr));
  }

  /** Where the server must send relay replies (its `relayPort`). */
  get port(): number {
    return this.sock.address().port;
  }

  /** Sends `m` and waits for the reply with its xid; undefined if none comes within `timeoutMs`. */
  async exchange(m: ClientMessage, timeoutMs = 1_000): Promise<DhcpPacket | undefined> {
    const packet = clientMessage(m, this.giaddr);
    const reply = new Promise<DhcpPacket | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(packet.xid);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(packet.xid, (p) => {
        clearTimeout(timer);
        this.waiting.delete(packet.xid);
        resolve(p);
      });
    });
    await this.sendRaw(encodePacket(packet));
    return reply;
  }

  /** DISCOVER → OFFER → REQUEST → ACK; returns both replies (the ACK may be a NAK or missing). */
  async dora(mac: string, extra: Array<[number, Buffer]> = []): Promise<{ offer?: DhcpPacket; ack?: DhcpPacket }> {
    const offer = await this.exchange({ type: MSG.discover, mac, options: extra });
    if (!offer) return {};
    const serverId = offer.options.get(OPT.serverId);
    const ack = await this.exchange({
      type: MSG.request,
      mac,
      requestedIp: formatIp(offer.yiaddr),
      serverId: serverId?.length === 4 ? formatIp(serverId.readUInt32BE(0)) : undefined,
      options: extra,
    });
    return { offer, ack };
  }

  sendRaw(buf: Buffer): Promise<void> {
    return new Promise((resolve, reject) =>
      this.sock.send(buf, this.server.port, this.server.address, (err) => (err ? reject(err) : resolve())),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.sock.close(() => resolve()));
  }
}
