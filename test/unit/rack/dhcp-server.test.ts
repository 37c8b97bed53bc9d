// The DHCP server over real UDP on 127.0.0.1, driven through a fake relay agent (giaddr 127.0.0.1,
// replies to the relay's own port), with an in-memory journal unless durability is the point.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { DhcpConfig, DhcpLeaseEvent, DhcpSubnetConfig } from '../../../src/contracts/rack-api';
import { formatIp } from '../../../src/rack/dhcp/ipv4';
import { MalformedPacketError } from '../../../src/rack/dhcp/malformed';
import { MemoryLeaseJournal, openLeaseJournal, type LeaseJournal } from '../../../src/rack/dhcp/lease-store';
import type { Lease } from '../../../src/rack/dhcp/lease-table';
import { MSG, OPT, optIp, optText, optU8 } from '../../../src/rack/dhcp/options';
import { BROADCAST_FLAG, decodePacket, encodePacket, type DhcpPacket } from '../../../src/rack/dhcp/packet';
import { macAddress } from '../../helpers/factories';
import { clientMessage, RelayProbe } from './relay-probe';
import { DhcpServer } from '../../../src/rack/dhcp/server';

const SERVER_IP = '127.0.0.1';
const FIXED_MAC = 'aa:00:00:00:00:50';
const FIXED_IN_POOL_MAC = 'aa:00:00:00:00:0c';
/** Pool: .0-.12 and .250-.255 less network .0, ours .1, reserved .5-.6, fixed .12, gateway .254, broadcast .255. */
const POOL = ['2', '3', '4', '7', '8', '9', '10', '11', '250', '251', '252', '253'].map((x) => `127.0.0.${x}`);

function subnet(over: Partial<DhcpSubnetConfig> = {}): DhcpSubnetConfig {
  return {
    subnetId: 1,
    cidr: '127.0.0.0/24',
    gatewayIp: '127.0.0.254',
    dnsServers: ['127.0.0.53'],
    ntpServers: ['127.0.0.123'],
    domain: 'maas',
    dynamicRanges: [
      { start: '127.0.0.0', end: '127.0.0.12' },
      { start: '127.0.0.250', end: '127.0.0.255' },
    ],
    reservedRanges: [{ start: '127.0.0.5', end: '127.0.0.6' }],
    fixed: [
      { mac: FIXED_MAC, ip: '127.0.0.50', hostname: 'fixed-one' },
      { mac: FIXED_IN_POOL_MAC, ip: '127.0.0.12', hostname: '' },
    ],
    leaseSeconds: 3600,
    ...over,
  };
}
/** A pool of exactly the addresses given. */
const tinyPool = (...ips: string[]): Partial<DhcpSubnetConfig> => ({
  dynamicRanges: ips.map((a) => ({ start: a, end: a })),
});

interface Harness {
  server: DhcpServer;
  relay: RelayProbe;
  events: DhcpLeaseEvent[];
  log: string[];
  clock: { now: number };
  stop(): Promise<void>;
}

async function start(
  o: { config?: DhcpConfig; journal?: LeaseJournal; leases?: Lease[]; subnetOver?: Partial<DhcpSubnetConfig> } = {},
): Promise<Harness> {
  const events: DhcpLeaseEvent[] = [];
  const log: string[] = [];
  const clock = { now: Date.now() };
  const relay = await RelayProbe.open({});
  const server = new DhcpServer({
    port: 0,
    httpPort: 5248,
    relayPort: relay.port,
    journal: o.journal ?? new MemoryLeaseJournal(),
    leases: o.leases,
    onLeaseEvent: (e) => events.push(e),
    localAddresses: () => [SERVER_IP],
    routeSource: async () => SERVER_IP,
    log: (l) => log.push(l),
    now: () => clock.now,
  });
  await server.apply(o.config ?? { subnets: [subnet(o.subnetOver)] });
  relay.server = { address: SERVER_IP, port: server.port! };
  return { server, relay, events, log, clock, stop: async () => (await relay.close(), await server.close()) };
}

const newMac = () => macAddress('02:00:00');
const arch = (n: number): [number, Buffer] => [OPT.clientArch, Buffer.from([n >> 8, n & 255])];
const leaseSecondsOf = (p: DhcpPacket | undefined) => p?.options.get(OPT.leaseTime)?.readUInt32BE(0);
const typeOf = (p: DhcpPacket | undefined) => (p ? optU8(p.options, OPT.messageType) : undefined);
const ipOf = (p: DhcpPacket | undefined) => (p ? formatIp(p.yiaddr) : undefined);
const QUIET_MS = 300;

describe('DHCP server over UDP (relay mode)', () => {
  const harnesses: Harness[] = [];
  const open = async (o: Parameters<typeof start>[0] = {}) => {
    const h = await start(o);
    harnesses.push(h);
    return h;
  };
  after(async () => {
    for (const h of harnesses) await h.stop();
  });

  it('completes DORA through a relay with the subnet options and journals the lease before the ACK', async () => {
    const journal = new MemoryLeaseJournal();
    const { relay, events } = await open({ journal });
    const mac = newMac();
    const { offer, ack } = await relay.dora(mac, [[OPT.hostname, Buffer.from('web-1')]]);
    assert.equal(typeOf(offer), MSG.offer);
    assert.ok(POOL.includes(ipOf(offer)!), `offered ${ipOf(offer)}`);
    assert.equal(formatIp(optIp(offer!.options, OPT.serverId)!), SERVER_IP);
    assert.equal(formatIp(optIp(offer!.options, OPT.subnetMask)!), '255.255.255.0');
    assert.equal(formatIp(optIp(offer!.options, OPT.router)!), '127.0.0.254');
    assert.equal(formatIp(optIp(offer!.options, OPT.dnsServers)!), '127.0.0.53');
    assert.equal(formatIp(optIp(offer!.options, OPT.ntpServers)!), '127.0.0.123');
    assert.equal(optText(offer!.options, OPT.domainName), 'maas');
    assert.equal(leaseSecondsOf(offer), 3600);
    assert.equal(offer!.options.get(OPT.renewalTime)?.readUInt32BE(0), 1800);
    assert.equal(offer!.options.get(OPT.rebindingTime)?.readUInt32BE(0), 3150);
    assert.equal(formatIp(offer!.giaddr), SERVER_IP);
    assert.equal(typeOf(ack), MSG.ack);
    assert.equal(ipOf(ack), ipOf(offer));
    assert.deepEqual(
      journal.appended.map((l) => [formatIp(l.ip), l.mac, l.hostname, l.state]),
      [[ipOf(ack), mac, 'web-1', 'bound']],
    );
    assert.deepEqual(
      events.map((e) => [e.action, e.ip, e.mac, e.hostname]),
      [['commit', ipOf(ack), mac, 'web-1']],
    );
    assert.ok(Date.parse(events[0]!.at) > Date.now() + 3500_000, 'a commit says when the lease ends');
  });

  it('echoes option 82 verbatim and last in OFFER, ACK and NAK', async () => {
    const { relay } = await open();
    const info = Buffer.from([1, 6, 0, 4, 0, 1, 0, 7, 2, 8, 0, 6, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 9, 0]);
    const mac = newMac();
    const { offer, ack } = await relay.dora(mac, [[OPT.relayAgentInfo, info]]);
    for (const p of [offer, ack]) {
      assert.deepEqual(p?.options.get(OPT.relayAgentInfo), info);
      assert.equal([...p!.options.keys()].at(-1), OPT.relayAgentInfo);
    }
    const nak = await relay.exchange({
      type: MSG.request,
      mac,
      requestedIp: '10.1.2.3',
      options: [[OPT.relayAgentInfo, info]],
    });
    assert.equal(typeOf(nak), MSG.nak);
    assert.deepEqual(nak?.options.get(OPT.relayAgentInfo), info);
  });

  it('ignores a REQUEST meant for another server and frees the address it had offered', async () => {
    const { relay } = await open({ subnetOver: tinyPool('127.0.0.9') });
    const a = newMac();
    const offer = await relay.exchange({ type: MSG.discover, mac: a });
    assert.equal(ipOf(offer), '127.0.0.9');
    const b = newMac();
    assert.equal(
      await relay.exchange({ type: MSG.discover, mac: b }, QUIET_MS),
      undefined,
      'the only address is held by the offer',
    );
    assert.equal(
      await relay.exchange({ type: MSG.request, mac: a, serverId: '10.9.9.9', requestedIp: '127.0.0.9' }, QUIET_MS),
      undefined,
    );
    assert.equal(ipOf(await relay.exchange({ type: MSG.discover, mac: b })), '127.0.0.9');
  });

  it("NAKs INIT-REBOOT and SELECTING requests for addresses that are not the client's", async () => {
    const { relay } = await open();
    const owner = newMac();
    const { ack } = await relay.dora(owner);
    const other = newMac();
    const cases: Array<[string, Parameters<RelayProbe['exchange']>[0]]> = [
      ['another network', { type: MSG.request, mac: other, requestedIp: '10.1.2.3' }],
      ['leased to someone else', { type: MSG.request, mac: other, requestedIp: ipOf(ack)! }],
      [
        "selecting someone else's address",
        { type: MSG.request, mac: other, requestedIp: ipOf(ack)!, serverId: SERVER_IP },
      ],
      ['reserved', { type: MSG.request, mac: other, requestedIp: '127.0.0.5' }],
      ['the gateway', { type: MSG.request, mac: other, requestedIp: '127.0.0.254' }],
      ["someone's fixed address", { type: MSG.request, mac: other, requestedIp: '127.0.0.12' }],
      ['outside the dynamic ranges', { type: MSG.request, mac: other, requestedIp: '127.0.0.100' }],
      ['a fixed client asking for a pool address', { type: MSG.request, mac: FIXED_MAC, requestedIp: '127.0.0.3' }],
      ['renewing an address it does not hold', { type: MSG.request, mac: other, ciaddr: ipOf(ack)! }],
    ];
    for (const [what, m] of cases) {
      const reply = await relay.exchange(m);
      assert.equal(typeOf(reply), MSG.nak, what);
      assert.equal(reply!.yiaddr, 0, what);
      assert.ok(reply!.flags & BROADCAST_FLAG, `${what}: a relayed NAK asks for broadcast`);
    }
  });

  it("ACKs INIT-REBOOT and RENEWING for the client's own address, extending the lease", async () => {
    const { relay, clock, server } = await open();
    const mac = newMac();
    const { ack } = await relay.dora(mac);
    clock.now += 1000_000;
    const reboot = await relay.exchange({ type: MSG.request, mac, requestedIp: ipOf(ack)! });
    assert.equal(typeOf(reboot), MSG.ack);
    const renew = await relay.exchange({ type: MSG.request, mac, ciaddr: ipOf(ack)! });
    assert.equal(typeOf(renew), MSG.ack);
    assert.equal(formatIp(renew!.ciaddr), ipOf(ack));
    const lease = server.leases().find((l) => formatIp(l.ip) === ipOf(ack));
    assert.equal(lease?.expiresAt, clock.now + 3600_000);
  });

  it("leasedTo: the MAC's bound address only (an offer, a release or an expiry is not a lease)", async () => {
    const { relay, server, clock } = await open({ subnetOver: tinyPool('127.0.0.9', '127.0.0.10') });
    const a = newMac();
    assert.deepEqual(server.leasedTo(a), []);
    await relay.exchange({ type: MSG.discover, mac: a });
    assert.deepEqual(server.leasedTo(a), [], 'offered, not leased');
    const { ack } = await relay.dora(a);
    assert.deepEqual(server.leasedTo(a), [ipOf(ack)]);
    assert.deepEqual(server.leasedTo(newMac()), []);
    clock.now += 3600_000 + 1;
    assert.deepEqual(server.leasedTo(a), [], 'expired');
  });

  it('RELEASE frees the address at once and reports it; nothing is sent back', async () => {
    const { relay, events } = await open({ subnetOver: tinyPool('127.0.0.9') });
    const a = newMac();
    await relay.dora(a);
    const before = relay.replies.length;
    await relay.sendRaw(
      encodePacket(clientMessage({ type: MSG.release, mac: a, ciaddr: '127.0.0.9', serverId: SERVER_IP }, 0x7f000001)),
    );
    const b = newMac();
    assert.equal(ipOf((await relay.dora(b)).ack), '127.0.0.9');
    assert.equal(relay.replies.length, before + 2, 'only the OFFER and ACK for b');
    assert.deepEqual(
      events.map((e) => [e.action, e.mac]),
      [
        ['commit', a],
        ['release', a],
        ['commit', b],
      ],
    );
  });

  it('DECLINE quarantines the address; a DECLINE for an address the client does not hold changes nothing', async () => {
    const { relay, server } = await open({ subnetOver: tinyPool('127.0.0.9', '127.0.0.10') });
    const a = newMac();
    const first = ipOf((await relay.dora(a)).ack)!;
    await relay.sendRaw(
      encodePacket(clientMessage({ type: MSG.decline, mac: a, requestedIp: first, serverId: SERVER_IP }, 0x7f000001)),
    );
    const b = newMac();
    const second = ipOf((await relay.dora(b)).ack)!;
    assert.notEqual(second, first);
    const c = newMac();
    await relay.sendRaw(encodePacket(clientMessage({ type: MSG.decline, mac: c, requestedIp: second }, 0x7f000001)));
    assert.equal(
      await relay.exchange({ type: MSG.discover, mac: c }, QUIET_MS),
      undefined,
      'one address quarantined, the other leased',
    );
    assert.equal(server.leases().find((l) => formatIp(l.ip) === second)?.mac, b, 'b keeps its lease');
    const renewed = await relay.exchange({ type: MSG.request, mac: a, requestedIp: first });
    assert.equal(typeOf(renewed), MSG.nak, 'not even the decliner gets a quarantined address back');
  });

  it('answers INFORM with options but no address or lease', async () => {
    const { relay } = await open();
    const reply = await relay.exchange({ type: MSG.inform, mac: newMac(), ciaddr: '127.0.0.200' });
    assert.equal(typeOf(reply), MSG.ack);
    assert.equal(reply!.yiaddr, 0);
    assert.equal(formatIp(reply!.ciaddr), '127.0.0.200');
    assert.equal(leaseSecondsOf(reply), undefined);
    assert.equal(formatIp(optIp(reply!.options, OPT.router)!), '127.0.0.254');
  });

  it('gives fixed addresses to their MAC only, with its hostname', async () => {
    const { relay } = await open();
    const fixed = await relay.dora(FIXED_MAC);
    assert.equal(ipOf(fixed.ack), '127.0.0.50');
    assert.equal(optText(fixed.ack!.options, OPT.hostname), 'fixed-one');
    const other = await relay.exchange({ type: MSG.discover, mac: newMac(), requestedIp: '127.0.0.50' });
    assert.ok(POOL.includes(ipOf(other)!), `a stranger asking for the fixed address got ${ipOf(other)}`);
  });

  it('hands out exactly the pool, then stays silent (and keeps serving) when it is exhausted', async () => {
    const { relay, log } = await open();
    const got: string[] = [];
    for (let k = 0; k < POOL.length; k++) got.push(ipOf((await relay.dora(newMac())).ack)!);
    assert.deepEqual(got.sort(), [...POOL].sort());
    assert.equal(await relay.exchange({ type: MSG.discover, mac: newMac() }, QUIET_MS), undefined);
    assert.ok(
      log.some((l) => l.includes('pool exhausted')),
      log.join('\n'),
    );
    assert.equal(ipOf((await relay.dora(FIXED_MAC)).ack), '127.0.0.50', 'a fixed client is still served');
  });

  it('gives PXE firmware a short lease and other clients the configured one', async () => {
    const { relay } = await open();
    assert.equal(leaseSecondsOf(await relay.exchange({ type: MSG.discover, mac: newMac(), options: [arch(0)] })), 600);
    assert.equal(
      leaseSecondsOf(
        await relay.exchange({
          type: MSG.discover,
          mac: newMac(),
          options: [[OPT.vendorClass, Buffer.from('PXEClient')]],
        }),
      ),
      600,
    );
    assert.equal(leaseSecondsOf(await relay.exchange({ type: MSG.discover, mac: newMac() })), 3600);
  });

  it('sets next server, file and options 66/67 per architecture, 175 for iPXE, nothing for non-PXE', async () => {
    const { relay } = await open();
    const bios = await relay.exchange({
      type: MSG.discover,
      mac: newMac(),
      options: [arch(0), [OPT.vendorClass, Buffer.from('PXEClient:Arch:00000')]],
    });
    assert.equal(bios!.file, 'undionly.kpxe');
    assert.equal(formatIp(bios!.siaddr), SERVER_IP);
    assert.equal(optText(bios!.options, OPT.tftpServer), SERVER_IP);
    assert.equal(optText(bios!.options, OPT.bootfileName), 'undionly.kpxe');
    assert.equal(bios!.options.get(OPT.ipxe), undefined);
    const efi = await relay.exchange({ type: MSG.discover, mac: newMac(), options: [arch(7)] });
    assert.equal(efi!.file, 'ipxe.efi');
    const ipxe = await relay.exchange({
      type: MSG.discover,
      mac: newMac(),
      options: [arch(7), [OPT.userClass, Buffer.from('iPXE')]],
    });
    assert.equal(ipxe!.file, 'http://127.0.0.1:5248/ipxe/boot.ipxe');
    assert.deepEqual([...ipxe!.options.get(OPT.ipxe)!], [176, 1, 1]);
    const http = await relay.exchange({
      type: MSG.discover,
      mac: newMac(),
      options: [arch(16), [OPT.vendorClass, Buffer.from('HTTPClient:Arch:00016')]],
    });
    assert.equal(optText(http!.options, OPT.bootfileName), 'http://127.0.0.1:5248/ipxe.efi');
    assert.equal(optText(http!.options, OPT.vendorClass), 'HTTPClient');
    const plain = await relay.exchange({ type: MSG.discover, mac: newMac() });
    assert.equal(plain!.file, '');
    assert.equal(plain!.siaddr, 0);
    assert.equal(plain!.options.get(OPT.bootfileName), undefined);
  });

  it('answers a relay for a routed subnet from that subnet, and no relay for a subnet it does not serve', async () => {
    const config = {
      subnets: [
        subnet(),
        subnet({
          subnetId: 2,
          cidr: '127.1.0.0/24',
          gatewayIp: '127.1.0.1',
          fixed: [],
          reservedRanges: [],
          ...tinyPool('127.1.0.20'),
        }),
      ],
    };
    const { server, relay } = await open({ config });
    // Relays on other addresses, on the port the server sends relay replies to (as real ones share 67).
    const target = { address: SERVER_IP, port: server.port! };
    const routed = await RelayProbe.open({ server: target, giaddr: '127.1.0.1', port: relay.port });
    const stranger = await RelayProbe.open({ server: target, giaddr: '127.2.0.1', port: relay.port });
    try {
      const offer = await routed.exchange({ type: MSG.discover, mac: newMac() });
      assert.equal(ipOf(offer), '127.1.0.20');
      assert.equal(formatIp(optIp(offer!.options, OPT.serverId)!), SERVER_IP, 'our address toward the routed subnet');
      assert.equal(formatIp(optIp(offer!.options, OPT.subnetMask)!), '255.255.255.0');
      assert.equal(await stranger.exchange({ type: MSG.discover, mac: newMac() }, QUIET_MS), undefined);
      assert.equal(relay.replies.length + stranger.replies.length, 0);
    } finally {
      await routed.close();
      await stranger.close();
    }
  });

  it('sends no ACK until the lease is durable, and none at all when the journal fails', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: LeaseJournal & { fail: boolean } = {
      fail: false,
      append: async () => {
        await gate;
        if (slow.fail) throw new Error('disk full');
      },
      close: async () => undefined,
    };
    const { relay, log, server } = await open({ journal: slow });
    const mac = newMac();
    const offer = await relay.exchange({ type: MSG.discover, mac });
    const ack = relay.exchange({ type: MSG.request, mac, requestedIp: ipOf(offer)!, serverId: SERVER_IP }, 2_000);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(relay.replies.length, 1, 'only the OFFER so far');
    release();
    assert.equal(typeOf(await ack), MSG.ack);
    slow.fail = true;
    assert.equal(await relay.exchange({ type: MSG.request, mac, ciaddr: ipOf(offer)! }, QUIET_MS), undefined);
    assert.ok(log.some((l) => l.includes('disk full')));
    assert.equal(server.journalFailure, 'disk full', 'the service reports it as degraded');
    slow.fail = false;
    assert.equal(typeOf(await relay.exchange({ type: MSG.request, mac, ciaddr: ipOf(offer)! })), MSG.ack);
    assert.equal(server.journalFailure, undefined);
  });

  it('expires leases in a sweep, reports them, and hands the address to others', async () => {
    const { relay, server, clock, events } = await open({ subnetOver: tinyPool('127.0.0.9') });
    const a = newMac();
    await relay.dora(a);
    clock.now += 3600_000 + 1;
    await server.sweep();
    assert.deepEqual(
      events.map((e) => [e.action, e.mac, e.ip]),
      [
        ['commit', a, '127.0.0.9'],
        ['expiry', a, '127.0.0.9'],
      ],
    );
    assert.equal(ipOf((await relay.dora(newMac())).ack), '127.0.0.9');
  });
});

describe('DHCP leases survive a restart', () => {
  it('gives the same client the same address and never offers a leased address to another', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-dhcp-'));
    try {
      const first = await openLeaseJournal(dir);
      const before = await start({
        journal: first.journal,
        subnetOver: tinyPool('127.0.0.9', '127.0.0.10', '127.0.0.11'),
      });
      const a = newMac();
      const b = newMac();
      const ipA = ipOf((await before.relay.dora(a)).ack);
      const ipB = ipOf((await before.relay.dora(b)).ack);
      await before.stop();
      await first.journal.close();

      const second = await openLeaseJournal(dir);
      assert.deepEqual(
        second.leases.map((l) => [formatIp(l.ip), l.mac, l.state]).sort(),
        [
          [ipA, a, 'bound'],
          [ipB, b, 'bound'],
        ].sort(),
      );
      const after = await start({
        journal: second.journal,
        leases: second.leases,
        subnetOver: tinyPool('127.0.0.9', '127.0.0.10', '127.0.0.11'),
      });
      try {
        assert.equal(ipOf(await after.relay.exchange({ type: MSG.discover, mac: a })), ipA);
        const c = newMac();
        const ipC = ipOf((await after.relay.dora(c)).ack);
        assert.ok(ipC !== ipA && ipC !== ipB, `c got ${ipC}`);
        assert.equal(
          await after.relay.exchange({ type: MSG.discover, mac: newMac() }, QUIET_MS),
          undefined,
          'all three leased',
        );
        assert.equal(
          typeOf(await after.relay.exchange({ type: MSG.request, mac: newMac(), requestedIp: ipB! })),
          MSG.nak,
        );
      } finally {
        await after.stop();
        await second.journal.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('DHCP server under garbage', () => {
  it('drops thousands of random and mutated packets without crashing, then still completes DORA', async () => {
    const h = await start();
    try {
      const seed = [
        encodePacket(
          clientMessage(
            { type: MSG.discover, mac: newMac(), options: [arch(0), [OPT.userClass, Buffer.from('iPXE')]] },
            0x7f000001,
          ),
        ),
        encodePacket(
          clientMessage(
            { type: MSG.request, mac: newMac(), requestedIp: '127.0.0.3', serverId: SERVER_IP },
            0x7f000001,
          ),
        ),
        encodePacket(clientMessage({ type: MSG.release, mac: newMac(), ciaddr: '127.0.0.3' }, 0x7f000001)),
        encodePacket(
          clientMessage(
            {
              type: MSG.inform,
              mac: newMac(),
              ciaddr: '127.0.0.3',
              options: [[OPT.relayAgentInfo, Buffer.from([1, 2, 3])]],
            },
            0x7f000001,
          ),
        ),
      ];
      const raw = dgram.createSocket('udp4');
      const send = (buf: Buffer) =>
        new Promise<void>((resolve) => raw.send(buf, h.server.port!, SERVER_IP, () => resolve()));
      const rnd = (n: number) => crypto.randomInt(n);
      let sent = 0;
      for (let k = 0; k < 4000; k++) {
        let buf: Buffer;
        if (k % 4 === 0) buf = crypto.randomBytes(rnd(600));
        else {
          buf = Buffer.from(seed[k % seed.length]!);
          for (let m = 0, n = 1 + rnd(8); m < n; m++) buf[rnd(buf.length)] = rnd(256);
          if (k % 3 === 0) buf = buf.subarray(0, rnd(buf.length));
          if (k % 5 === 0) buf[240] = rnd(2) ? 0 : 255;
        }
        await send(buf);
        sent += 1;
        // Let the server breathe now and then, as a real network would (the socket buffer is finite).
        if (k % 200 === 0) await new Promise((r) => setImmediate(r));
      }
      raw.close();
      await new Promise((r) => setTimeout(r, 200));
      const stats = h.server.stats();
      assert.ok(stats.malformed > 500, `malformed ${stats.malformed} of ${sent}`);
      const { ack } = await h.relay.dora(newMac());
      assert.equal(typeOf(ack), MSG.ack, 'still serving after the garbage');
      assert.ok(h.log.length < 200, `logging is rate limited (${h.log.length} lines)`);
    } finally {
      await h.stop();
    }
  });

  it('decodes or rejects (with MalformedPacketError) every mutation of real packets in process', async () => {
    const base = encodePacket(
      clientMessage(
        {
          type: MSG.discover,
          mac: '52:54:00:12:34:56',
          options: [arch(7), [OPT.vendorClass, Buffer.from('PXEClient')], [OPT.relayAgentInfo, Buffer.from([1, 1, 1])]],
        },
        0x7f000001,
      ),
    );
    let decoded = 0;
    for (let k = 0; k < 20_000; k++) {
      const buf = Buffer.from(base.subarray(0, 240 + crypto.randomInt(base.length - 239)));
      for (let m = 0, n = 1 + crypto.randomInt(6); m < n; m++)
        buf[crypto.randomInt(buf.length)] = crypto.randomInt(256);
      try {
        decodePacket(buf);
        decoded += 1;
      } catch (err) {
        assert.ok(err instanceof MalformedPacketError, `unexpected ${(err as Error).stack}`);
      }
    }
    assert.ok(decoded > 1000, `some mutations still decode (${decoded})`);
  });
});
