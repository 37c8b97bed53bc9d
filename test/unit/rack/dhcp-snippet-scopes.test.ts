// Snippets in the DHCP server's replies (scope-options.ts through the responder): global beneath
// what the subnet generates, the subnet's above it, a node's on top for its MACs only; a snippet's
// boot file never replaces ours for a netbooting client; lease times honoured.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DhcpConfig, DhcpSubnetConfig } from '../../../src/contracts/rack-api';
import { parseDhcpSnippet } from '../../../src/contracts/dhcp-snippets';
import { formatIp, parseIp } from '../../../src/rack/dhcp/ipv4';
import { LeaseTable } from '../../../src/rack/dhcp/lease-table';
import { MSG, OPT, optText, text, type DhcpOptions } from '../../../src/rack/dhcp/options';
import type { DhcpPacket } from '../../../src/rack/dhcp/packet';
import { Responder } from '../../../src/rack/dhcp/responder';
import { compileSubnets } from '../../../src/rack/dhcp/subnets';
import { clientMessage } from './relay-probe';

const HOST_MAC = 'aa:00:00:00:00:01';
const OTHER_MAC = 'aa:00:00:00:00:02';

function subnet(over: Partial<DhcpSubnetConfig> = {}): DhcpSubnetConfig {
  return {
    subnetId: 1,
    cidr: '10.0.0.0/24',
    gatewayIp: '10.0.0.254',
    dnsServers: ['10.0.0.53'],
    ntpServers: [],
    domain: 'maas',
    dynamicRanges: [{ start: '10.0.0.100', end: '10.0.0.200' }],
    reservedRanges: [],
    fixed: [],
    leaseSeconds: 600,
    ...over,
  };
}

function offer(config: DhcpConfig, mac: string, options: Array<[number, Buffer]> = []): DhcpPacket {
  const responder = new Responder(new LeaseTable(), { httpPort: 5248 });
  responder.setSubnets(compileSubnets(config, [parseIp('10.0.0.1')!], new Map(), () => undefined));
  const out = responder.respond(clientMessage({ type: MSG.discover, mac, options }, 0), Date.now());
  assert.ok(out.reply, out.note);
  return out.reply;
}

const ips = (opts: DhcpOptions, code: number): string[] => {
  const v = opts.get(code);
  return v ? Array.from({ length: v.length / 4 }, (_, k) => formatIp(v.readUInt32BE(k * 4))) : [];
};
const layer = (value: string) => parseDhcpSnippet(value);

describe('DHCP snippets in replies', () => {
  it('sends the derived options: gateway, DNS, domain + search, NTP, MTU, classless routes with the default route', () => {
    const reply = offer(
      {
        subnets: [
          subnet({
            ntpServers: ['10.0.0.123'],
            mtu: 9000,
            domainSearch: ['maas'],
            staticRoutes: [{ destination: '192.168.0.0/16', gateway: '10.0.0.2' }],
          }),
        ],
      },
      OTHER_MAC,
    );
    assert.deepEqual(ips(reply.options, OPT.router), ['10.0.0.254']);
    assert.deepEqual(ips(reply.options, OPT.dnsServers), ['10.0.0.53']);
    assert.deepEqual(ips(reply.options, OPT.ntpServers), ['10.0.0.123']);
    assert.equal(optText(reply.options, OPT.domainName), 'maas');
    assert.equal(reply.options.get(26)?.readUInt16BE(0), 9000);
    assert.equal(reply.options.get(119)?.toString('hex'), '046d61617300');
    assert.equal(reply.options.get(121)?.toString('hex'), '10c0a80a000002' + '000a0000fe');
  });

  it('applies global beneath the generated options, the subnet above them, the host on top for its MACs', () => {
    const config: DhcpConfig = {
      subnets: [subnet({ snippets: layer('option ntp-servers 10.0.0.2; option log-servers 10.0.0.7;') })],
      globalSnippets: layer(
        'option domain-name-servers 9.9.9.9; option ntp-servers 10.0.0.1; option time-servers 10.0.0.4;',
      ),
      hostSnippets: [
        { mac: HOST_MAC.toUpperCase(), snippets: layer('option ntp-servers 10.0.0.3; option interface-mtu 1400;') },
      ],
    };
    const other = offer(config, OTHER_MAC);
    assert.deepEqual(ips(other.options, OPT.dnsServers), ['10.0.0.53'], 'the subnet’s DNS servers are more specific');
    assert.deepEqual(ips(other.options, 4), ['10.0.0.4'], 'a global option nothing else sets');
    assert.deepEqual(ips(other.options, OPT.ntpServers), ['10.0.0.2'], 'the subnet snippet wins over global');
    assert.deepEqual(ips(other.options, 7), ['10.0.0.7']);
    assert.equal(other.options.get(26), undefined);
    const host = offer(config, HOST_MAC);
    assert.deepEqual(ips(host.options, OPT.ntpServers), ['10.0.0.3'], 'the host snippet wins');
    assert.equal(host.options.get(26)?.readUInt16BE(0), 1400);
    assert.deepEqual(ips(host.options, 7), ['10.0.0.7'], 'the subnet’s snippet still applies to the host');
  });

  it('a snippet boot file reaches a plain client, never a netbooting one', () => {
    const config: DhcpConfig = {
      subnets: [
        subnet({ snippets: layer('next-server 10.0.0.9; filename "other.0"; option bootfile-name "other.0";') }),
      ],
    };
    const plain = offer(config, OTHER_MAC);
    assert.equal(formatIp(plain.siaddr), '10.0.0.9');
    assert.equal(plain.file, 'other.0');
    const pxe = offer(config, OTHER_MAC, [[OPT.vendorClass, text('PXEClient:Arch:00000:UNDI:002001')]]);
    assert.equal(formatIp(pxe.siaddr), '10.0.0.1');
    assert.notEqual(pxe.file, 'other.0');
    assert.equal(optText(pxe.options, OPT.bootfileName), pxe.file);
  });

  it('honours default-lease-time and max-lease-time, host over subnet over global', () => {
    const lease = (p: DhcpPacket) => p.options.get(OPT.leaseTime)?.readUInt32BE(0);
    const config: DhcpConfig = {
      subnets: [subnet({ snippets: layer('default-lease-time 7200;') })],
      globalSnippets: layer('max-lease-time 3600;'),
      hostSnippets: [{ mac: HOST_MAC, snippets: layer('default-lease-time 120;') }],
    };
    assert.equal(lease(offer(config, OTHER_MAC)), 3600, 'the default capped by the global max');
    assert.equal(lease(offer(config, HOST_MAC)), 120);
    assert.equal(lease(offer({ subnets: [subnet()] }, OTHER_MAC)), 600, 'none: the region’s lease time');
  });
});
