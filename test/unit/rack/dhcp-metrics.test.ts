// What the DHCP server tells the rack's metrics (onPacket): each packet received by message type
// (undecodable ones as MALFORMED), each reply sent by its type, through a real DORA over UDP.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { describe, it } from 'node:test';
import { MemoryLeaseJournal } from '../../../src/rack/dhcp/lease-store';
import { DhcpServer } from '../../../src/rack/dhcp/server';
import { macAddress } from '../../helpers/factories';
import { RelayProbe } from './relay-probe';

describe('DHCP packet counts', () => {
  it('DISCOVER/OFFER/REQUEST/ACK and a malformed packet, by direction and type', async () => {
    const seen: string[] = [];
    const relay = await RelayProbe.open({});
    const server = new DhcpServer({
      port: 0,
      httpPort: 5248,
      relayPort: relay.port,
      journal: new MemoryLeaseJournal(),
      localAddresses: () => ['127.0.0.1'],
      routeSource: async () => '127.0.0.1',
      log: () => undefined,
      onPacket: (direction, type) => seen.push(`${direction} ${type}`),
    });
    try {
      await server.apply({
        subnets: [
          {
            subnetId: 1,
            cidr: '127.0.0.0/24',
            gatewayIp: '127.0.0.254',
            dnsServers: [],
            ntpServers: [],
            domain: 'maas',
            dynamicRanges: [{ start: '127.0.0.10', end: '127.0.0.20' }],
            reservedRanges: [],
            fixed: [],
            leaseSeconds: 3600,
          },
        ],
      });
      relay.server = { address: '127.0.0.1', port: server.port! };
      const { ack } = await relay.dora(macAddress('02:00:00'));
      assert.ok(ack);
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((resolve) =>
        sock.send(Buffer.from('not dhcp'), server.port!, '127.0.0.1', () => resolve()),
      );
      sock.close();
      for (let i = 0; i < 100 && !seen.includes('received MALFORMED'); i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(seen, ['received DISCOVER', 'sent OFFER', 'received REQUEST', 'sent ACK', 'received MALFORMED']);
    } finally {
      await relay.close();
      await server.close();
    }
  });
});
