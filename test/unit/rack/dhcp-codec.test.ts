import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIp } from '../../../src/rack/dhcp/ipv4';
import { MalformedPacketError } from '../../../src/rack/dhcp/malformed';
import { MSG, OPT, optClientArchs, optText, optUserClasses } from '../../../src/rack/dhcp/options';
import { decodePacket, encodePacket, macOf, messageTypeOf } from '../../../src/rack/dhcp/packet';

/** A BOOTREQUEST header written byte by byte (independent of the encoder under test). */
function header(o: { mac: string; xid: number; giaddr?: number[]; flags?: number; hops?: number }): Buffer {
  const h = Buffer.alloc(240);
  h[0] = 1;
  h[1] = 1;
  h[2] = 6;
  h[3] = o.hops ?? 0;
  h.writeUInt32BE(o.xid, 4);
  h.writeUInt16BE(o.flags ?? 0, 10);
  Buffer.from(o.giaddr ?? [0, 0, 0, 0]).copy(h, 24);
  Buffer.from(o.mac.replace(/:/g, ''), 'hex').copy(h, 28);
  h.writeUInt32BE(0x63825363, 236);
  return h;
}
const tlv = (code: number, bytes: number[] | Buffer | string): Buffer => {
  const v = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
  return Buffer.concat([Buffer.from([code, v.length]), v]);
};

/** What iPXE 1.21 sends when it DHCPs (captured shape): PXE options, user class, its 175 features. */
const IPXE_DISCOVER = Buffer.concat([
  header({ mac: '52:54:00:12:34:56', xid: 0x1c2d3e4f, flags: 0x8000 }),
  tlv(53, [1]),
  tlv(57, [0x05, 0xdc]),
  tlv(93, [0x00, 0x07]),
  tlv(94, [1, 3, 10]),
  tlv(60, 'PXEClient:Arch:00007:UNDI:003010'),
  tlv(77, 'iPXE'),
  tlv(55, [1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67, 119, 128, 129, 130, 131, 132, 133, 134, 135, 175, 203]),
  tlv(
    175,
    [0xb1, 0x05, 0x01, 0x80, 0x86, 0x10, 0x0e, 0xeb, 0x03, 0x01, 0x15, 0x00, 0x17, 0x01, 0x01, 0x15, 0x01, 0x01],
  ),
  tlv(61, [1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56]),
  tlv(97, [0, ...Array.from({ length: 16 }, (_, i) => i)]),
  Buffer.from([0, 0, 0]), // PAD between options: the npm `dhcp` codec desynchronises here
  tlv(12, 'node-7'),
  Buffer.from([255]),
]);

/** What perfdhcp sends: relayed (giaddr, hops 1), its default parameter list, padding to 300 bytes. */
const PERFDHCP_DISCOVER = Buffer.concat([
  header({ mac: '00:0c:01:02:03:04', xid: 0x00000123, giaddr: [10, 78, 0, 2], hops: 1 }),
  tlv(53, [1]),
  tlv(55, [1, 28, 2, 3, 15, 6, 12]),
  tlv(82, [1, 4, 0x65, 0x74, 0x68, 0x30, 2, 6, 0, 0x0c, 1, 2, 3, 4]),
  Buffer.from([255]),
  Buffer.alloc(30),
]);

describe('DHCP packet codec', () => {
  it('reads an iPXE DISCOVER: PXE options, user class, option 175, PAD between options', () => {
    const p = decodePacket(IPXE_DISCOVER);
    assert.equal(macOf(p), '52:54:00:12:34:56');
    assert.equal(p.xid, 0x1c2d3e4f);
    assert.equal(p.flags, 0x8000);
    assert.equal(messageTypeOf(p), MSG.discover);
    assert.deepEqual(optClientArchs(p.options), [7]);
    assert.equal(optText(p.options, OPT.vendorClass), 'PXEClient:Arch:00007:UNDI:003010');
    assert.deepEqual(optUserClasses(p.options), ['iPXE']);
    assert.equal(p.options.get(OPT.ipxe)?.length, 18);
    assert.deepEqual([...p.options.get(OPT.clientNdi)!], [1, 3, 10]);
    assert.equal(p.options.get(OPT.clientUuid)?.length, 17);
    assert.equal(optText(p.options, OPT.hostname), 'node-7', 'the option after the PADs is read in step');
  });

  it('reads a perfdhcp-style relayed DISCOVER with option 82 and trailing padding', () => {
    const p = decodePacket(PERFDHCP_DISCOVER);
    assert.equal(formatIp(p.giaddr), '10.78.0.2');
    assert.equal(p.hops, 1);
    assert.equal(messageTypeOf(p), MSG.discover);
    assert.deepEqual(
      [...p.options.get(OPT.relayAgentInfo)!],
      [1, 4, 0x65, 0x74, 0x68, 0x30, 2, 6, 0, 0x0c, 1, 2, 3, 4],
    );
  });

  it('round-trips a packet: header fields, names, options byte for byte', () => {
    const p = decodePacket(IPXE_DISCOVER);
    p.sname = 'rack-1';
    p.file = 'undionly.kpxe';
    p.yiaddr = 0x0a4d0005;
    const again = decodePacket(encodePacket(p));
    assert.deepEqual(again, p);
  });

  it('writes the message type first, option 82 last and END, and pads to 300 bytes', () => {
    const p = decodePacket(PERFDHCP_DISCOVER);
    p.options = new Map([
      [OPT.relayAgentInfo, Buffer.from([1, 1, 9])],
      [OPT.hostname, Buffer.from('x')],
      [OPT.messageType, Buffer.from([2])],
    ]);
    const wire = encodePacket(p);
    assert.equal(wire.length, 300);
    assert.deepEqual([...wire.subarray(240, 240 + 3 + 3 + 5 + 1)], [53, 1, 2, 12, 1, 0x78, 82, 3, 1, 1, 9, 255]);
  });

  it('splits values over 255 bytes into several options and joins them back (RFC 3396)', () => {
    const p = decodePacket(PERFDHCP_DISCOVER);
    const long = Buffer.from(Array.from({ length: 600 }, (_, i) => i % 251));
    p.options.set(OPT.vendorClass, long);
    const wire = encodePacket(p);
    assert.ok(wire.length > 600 + 240);
    assert.deepEqual(decodePacket(wire).options.get(OPT.vendorClass), long);
  });

  it('reads user class both as RFC 3004 length-prefixed classes and as plain text', () => {
    const withClasses = (v: Buffer) => new Map([[OPT.userClass, v]]);
    assert.deepEqual(optUserClasses(withClasses(Buffer.from('\x04iPXE\x03foo', 'latin1'))), ['iPXE', 'foo']);
    assert.deepEqual(optUserClasses(withClasses(Buffer.from('iPXE'))), ['iPXE']);
    assert.deepEqual(
      optUserClasses(withClasses(Buffer.from('\x09iPXE', 'latin1'))),
      ['\x09iPXE'],
      'a length past the end means plain text',
    );
  });

  it('accepts options that run to the end of the packet without END', () => {
    const noEnd = Buffer.concat([header({ mac: '02:00:00:00:00:01', xid: 1 }), tlv(53, [3]), tlv(50, [10, 0, 0, 9])]);
    const p = decodePacket(noEnd);
    assert.equal(messageTypeOf(p), MSG.request);
    assert.deepEqual([...p.options.get(OPT.requestedIp)!], [10, 0, 0, 9]);
  });

  it('throws MalformedPacketError (only) for broken packets', () => {
    const base = header({ mac: '02:00:00:00:00:01', xid: 1 });
    const cases: Array<[string, Buffer]> = [
      ['too short', base.subarray(0, 239)],
      ['no magic cookie', Buffer.concat([base.subarray(0, 236), Buffer.from([1, 2, 3, 4])])],
      ['bad op', Buffer.concat([Buffer.from([7]), base.subarray(1)])],
      ['hlen over 16', Buffer.concat([base.subarray(0, 2), Buffer.from([17]), base.subarray(3)])],
      ['option without a length byte', Buffer.concat([base, Buffer.from([53])])],
      ['option longer than the packet', Buffer.concat([base, Buffer.from([60, 40, 65, 66])])],
    ];
    for (const [what, buf] of cases) {
      assert.throws(() => decodePacket(buf), MalformedPacketError, what);
    }
  });

  it('leaves the BOOTP file field empty when the name does not fit (option 67 carries it)', () => {
    const p = decodePacket(PERFDHCP_DISCOVER);
    p.file = `http://10.0.0.1:5248/${'x'.repeat(120)}`;
    assert.equal(decodePacket(encodePacket(p)).file, '');
  });
});
