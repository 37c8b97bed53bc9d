// Property tests of the DHCP codec: whatever arrives on port 67, decoding either gives a packet or
// throws the codec's own MalformedPacketError (the socket handler drops those), and what the
// server encodes decodes back to the same packet. The responder, fed any packet that decodes,
// answers or ignores it without throwing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { DhcpConfig } from '../../../src/contracts/rack-api';
import { clientFirmware } from '../../../src/rack/dhcp/boot-file';
import { parseIp } from '../../../src/rack/dhcp/ipv4';
import { LeaseTable } from '../../../src/rack/dhcp/lease-table';
import { MalformedPacketError } from '../../../src/rack/dhcp/malformed';
import {
  decodeOptions,
  encodeOptions,
  optClientArchs,
  optIp,
  optText,
  optU8,
  optUserClasses,
  type DhcpOptions,
} from '../../../src/rack/dhcp/options';
import {
  BOOTREPLY,
  BOOTREQUEST,
  decodePacket,
  encodePacket,
  macOf,
  type DhcpPacket,
} from '../../../src/rack/dhcp/packet';
import { Responder } from '../../../src/rack/dhcp/responder';
import { compileSubnets } from '../../../src/rack/dhcp/subnets';

const RUNS = { numRuns: 300 };
const HEADER_AND_COOKIE = 240;
const COOKIE = Buffer.from([0x63, 0x82, 0x53, 0x63]);

/** Decodes, or returns the MalformedPacketError; any other throw fails the property. */
function decodeOrMalformed(bytes: Buffer): DhcpPacket | MalformedPacketError {
  try {
    return decodePacket(bytes);
  } catch (err) {
    if (err instanceof MalformedPacketError) return err;
    throw err;
  }
}

/** A plausible header (so decoding gets as far as the options) followed by arbitrary option bytes. */
const headerThenJunk = fc
  .record({
    op: fc.constantFrom(BOOTREQUEST, BOOTREPLY),
    htype: fc.integer({ min: 0, max: 255 }),
    hlen: fc.integer({ min: 0, max: 20 }),
    hops: fc.integer({ min: 0, max: 255 }),
    head: fc.uint8Array({ minLength: HEADER_AND_COOKIE - 4 - 4, maxLength: HEADER_AND_COOKIE - 4 - 4 }),
    options: fc.uint8Array({ maxLength: 600 }),
  })
  .map(({ op, htype, hlen, hops, head, options }) =>
    Buffer.concat([Buffer.from([op, htype, hlen, hops]), Buffer.from(head), COOKIE, Buffer.from(options)]),
  );

/** Options the server may encode: codes 1..254 (PAD and END are framing), any bytes. */
const options: fc.Arbitrary<DhcpOptions> = fc
  .uniqueArray(fc.tuple(fc.integer({ min: 1, max: 254 }), fc.uint8Array({ maxLength: 700 })), {
    selector: ([code]) => code,
    maxLength: 12,
  })
  .map((entries) => new Map(entries.map(([code, value]) => [code, Buffer.from(value)])));

/** A name that fits its field: latin1 without NUL, shorter than the field. */
const cName = (size: number) =>
  fc.array(fc.integer({ min: 1, max: 255 }), { maxLength: size - 1 }).map((codes) => String.fromCharCode(...codes));
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const packet: fc.Arbitrary<DhcpPacket> = fc.record({
  op: fc.constantFrom(BOOTREQUEST, BOOTREPLY),
  htype: fc.integer({ min: 0, max: 255 }),
  hlen: fc.integer({ min: 0, max: 16 }),
  hops: fc.integer({ min: 0, max: 255 }),
  xid: u32,
  secs: fc.integer({ min: 0, max: 0xffff }),
  flags: fc.integer({ min: 0, max: 0xffff }),
  ciaddr: u32,
  yiaddr: u32,
  siaddr: u32,
  giaddr: u32,
  chaddr: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a)),
  sname: cName(64),
  file: cName(128),
  options,
});

function readEverything(p: DhcpPacket): void {
  macOf(p);
  clientFirmware(p.options);
  optClientArchs(p.options);
  optUserClasses(p.options);
  for (const code of p.options.keys()) {
    optU8(p.options, code);
    optIp(p.options, code);
    optText(p.options, code);
  }
}

describe('DHCP codec (property)', () => {
  it('decoding arbitrary bytes gives a packet or a MalformedPacketError, nothing else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 700 }), headerThenJunk), (bytes) => {
        const out = decodeOrMalformed(Buffer.from(bytes));
        if (!(out instanceof MalformedPacketError)) readEverything(out);
      }),
      RUNS,
    );
  });

  it('decodeOptions reads any options area without reading past its end', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(400), (bytes, cut) => {
        const buf = Buffer.from(bytes);
        const end = Math.min(cut, buf.length);
        try {
          const opts = decodeOptions(buf, 0, end);
          for (const value of opts.values()) assert.ok(value.length <= end);
        } catch (err) {
          if (!(err instanceof MalformedPacketError)) throw err;
        }
      }),
      RUNS,
    );
  });

  it('encode → decode gives back the same packet', () => {
    fc.assert(
      fc.property(packet, (p) => {
        const back = decodePacket(encodePacket(p));
        assert.deepEqual(back, { ...p });
      }),
      RUNS,
    );
  });

  it('encodeOptions → decodeOptions round-trips, long values split and joined again (RFC 3396)', () => {
    fc.assert(
      fc.property(options, (opts) => {
        const wire = encodeOptions(opts);
        assert.deepEqual(decodeOptions(wire, 0, wire.length), opts);
      }),
      RUNS,
    );
  });

  it('the responder answers or ignores any packet that decodes, without throwing', () => {
    const config: DhcpConfig = {
      subnets: [
        {
          subnetId: 1,
          cidr: '10.77.0.0/24',
          gatewayIp: '10.77.0.254',
          dnsServers: [],
          ntpServers: [],
          domain: 'maas',
          dynamicRanges: [{ start: '10.77.0.100', end: '10.77.0.150' }],
          reservedRanges: [],
          fixed: [{ mac: '52:54:00:00:00:09', ip: '10.77.0.20', hostname: 'fixed' }],
          leaseSeconds: 600,
        },
      ],
    };
    const local = [parseIp('10.77.0.1')!];
    const responder = new Responder(new LeaseTable(), { httpPort: 5248 });
    responder.setSubnets(compileSubnets(config, local, new Map(), () => undefined));
    // Requests aimed at the served subnet, so the responder gets past its first checks.
    const request = packet.map((p): DhcpPacket => ({
      ...p,
      op: BOOTREQUEST,
      htype: 1,
      hlen: 6,
      hops: p.hops % 4,
      giaddr: local[0]!,
    }));
    const messageType = fc.integer({ min: 0, max: 10 });
    let now = Date.now();
    fc.assert(
      fc.property(request, messageType, (p, type) => {
        if (type > 0) p.options.set(53, Buffer.from([type]));
        const out = responder.respond(p, (now += 1000));
        if (out.reply) decodePacket(encodePacket(out.reply));
      }),
      RUNS,
    );
  });
});
