import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { DhcpConfig, DhcpLeaseReport, DhcpSubnetConfig } from '../../../src/contracts/rack-api';
import { formatIp } from '../../../src/rack/dhcp/ipv4';
import { LEASE_FILE } from '../../../src/rack/dhcp/lease-store';
import { MSG } from '../../../src/rack/dhcp/options';
import { RelayProbe } from './relay-probe';
import { startDhcpService, type DhcpService } from '../../../src/rack/dhcp/service';
import { RegionError } from '../../../src/rack/region-client';

const subnet = (range: [string, string]): DhcpSubnetConfig => ({
  subnetId: 7,
  cidr: '127.0.0.0/24',
  gatewayIp: null,
  dnsServers: [],
  ntpServers: [],
  domain: '',
  dynamicRanges: [{ start: range[0], end: range[1] }],
  reservedRanges: [],
  fixed: [],
  leaseSeconds: 600,
});

/** The region's two DHCP endpoints, scriptable. */
function fakeRegion() {
  const region = {
    config: { subnets: [] } as DhcpConfig,
    configFails: undefined as Error | undefined,
    reportFails: 0,
    reports: [] as DhcpLeaseReport[],
    rackIds: new Set<string>(),
    dhcpConfig: async (rack: string): Promise<DhcpConfig> => {
      region.rackIds.add(rack);
      if (region.configFails) throw region.configFails;
      return structuredClone(region.config);
    },
    reportLeases: async (rack: string, report: DhcpLeaseReport): Promise<void> => {
      region.rackIds.add(rack);
      if (region.reportFails > 0) {
        region.reportFails -= 1;
        throw new RegionError('Region answered 502', true, 502);
      }
      region.reports.push(report);
    },
  };
  return region;
}

const until = async (what: string, cond: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('DHCP service', () => {
  let dir: string;
  let relay: RelayProbe;
  let service: DhcpService | undefined;
  const log: string[] = [];
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-dhcp-svc-'));
    relay = await RelayProbe.open({});
    log.length = 0;
  });
  afterEach(async () => {
    await service?.stop();
    service = undefined;
    await relay.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const start = (region: ReturnType<typeof fakeRegion>, port = 0, localAddresses = () => ['127.0.0.1']) => {
    service = startDhcpService({
      region,
      rackSystemId: () => 'rack01',
      stateDir: dir,
      port,
      httpPort: 5248,
      log: (l) => log.push(l),
      pollEveryMs: 20,
      relayPort: relay.port,
      localAddresses,
      routeSource: async () => undefined,
      reportEveryMs: 10,
    });
    return service;
  };
  const target = (s: DhcpService) => (relay.server = { address: '127.0.0.1', port: s.server!.port! });

  it('is off without subnets, serves once the region enables one, swaps ranges live, and closes when none is left', async () => {
    const region = fakeRegion();
    const s = start(region);
    await s.firstPoll;
    assert.equal(s.status().status, 'off');
    assert.equal(s.server?.listening, false);

    region.config = { subnets: [subnet(['127.0.0.10', '127.0.0.19'])] };
    await until('running', () => s.status().status === 'running');
    assert.match(s.status().message, /127\.0\.0\.0\/24/);
    target(s);
    const first = await relay.dora('02:00:00:00:00:01');
    assert.equal(first.ack && formatIp(first.ack.yiaddr), '127.0.0.10');

    region.config = { subnets: [subnet(['127.0.0.30', '127.0.0.39'])] };
    await until('the new range', () => s.server!.servedSubnets[0]?.dynamic[0]?.start === 0x7f00001e);
    const second = await relay.dora('02:00:00:00:00:02');
    assert.equal(second.ack && formatIp(second.ack.yiaddr), '127.0.0.30');

    region.config = { subnets: [] };
    await until('off', () => s.status().status === 'off');
    assert.equal(s.server?.listening, false);
    assert.deepEqual([...region.rackIds], ['rack01']);
  });

  it('reports lease events to the region in order through failures, degraded meanwhile', async () => {
    const region = fakeRegion();
    region.config = { subnets: [subnet(['127.0.0.10', '127.0.0.19'])] };
    region.reportFails = 1_000;
    const s = start(region);
    await until('running', () => s.server?.listening === true);
    target(s);
    for (const mac of ['02:00:00:00:00:01', '02:00:00:00:00:02', '02:00:00:00:00:03']) await relay.dora(mac);
    await until('degraded', () => s.status().status === 'degraded');
    // The region never got the first lease table either: it goes first and covers the three.
    assert.match(s.status().message, /lease reports failing \(3 event\(s\) and the lease table queued\)/);
    region.reportFails = 0;
    await until('reported', () => region.reports.length > 0, 10_000);
    assert.equal(region.reports[0]!.replace, true);
    assert.deepEqual(
      region.reports
        .flatMap((r) => r.events)
        .map((e) => [e.action, e.mac])
        .sort(),
      [
        ['commit', '02:00:00:00:00:01'],
        ['commit', '02:00:00:00:00:02'],
        ['commit', '02:00:00:00:00:03'],
      ],
    );
    // From then on, events in order.
    for (const mac of ['02:00:00:00:00:04', '02:00:00:00:00:05']) await relay.dora(mac);
    await until('events after the table', () => region.reports.flatMap((r) => r.events).length === 5, 10_000);
    assert.deepEqual(
      region.reports
        .slice(1)
        .flatMap((r) => r.events)
        .map((e) => [e.action, e.mac]),
      [
        ['commit', '02:00:00:00:00:04'],
        ['commit', '02:00:00:00:00:05'],
      ],
    );
    assert.ok(region.reports.slice(1).every((r) => !r.replace));
    await until('running again', () => s.status().status === 'running');
  });

  it('keeps serving on the last config while the region is unreachable, and says so', async () => {
    const region = fakeRegion();
    region.config = { subnets: [subnet(['127.0.0.10', '127.0.0.19'])] };
    const s = start(region);
    await until('running', () => s.status().status === 'running');
    region.configFails = new RegionError('Region unreachable', true);
    await until('degraded', () => s.status().status === 'degraded');
    assert.match(s.status().message, /stale/);
    target(s);
    assert.equal((await relay.dora('02:00:00:00:00:09')).ack?.options.get(53)?.[0], MSG.ack);
  });

  it('is dead, saying why, when the port is taken, and serves once it is free', async () => {
    const squatter = dgram.createSocket('udp4');
    await new Promise<void>((r) => squatter.bind(0, '0.0.0.0', () => r()));
    const port = squatter.address().port;
    const region = fakeRegion();
    region.config = { subnets: [subnet(['127.0.0.10', '127.0.0.19'])] };
    const s = start(region, port);
    await s.firstPoll;
    assert.equal(s.status().status, 'dead');
    assert.match(s.status().message, new RegExp(`UDP port ${port}.*EADDRINUSE`));
    await new Promise<void>((r) => squatter.close(() => r()));
    await until('running', () => s.status().status === 'running');
    assert.equal(s.server?.port, port);
  });

  it('serves a subnet once this host gets an address in it, and is dead until then', async () => {
    const region = fakeRegion();
    region.config = { subnets: [subnet(['127.0.0.10', '127.0.0.19'])] };
    let addresses: string[] = [];
    const s = start(region, 0, () => addresses);
    await s.firstPoll;
    assert.equal(s.status().status, 'dead');
    assert.match(s.status().message, /none of the 1 configured subnet/);
    addresses = ['127.0.0.1'];
    await until('running', () => s.status().status === 'running');
  });

  it('keeps leases in the state dir across a stop and start', async () => {
    const region = fakeRegion();
    region.config = { subnets: [subnet(['127.0.0.10', '127.0.0.19'])] };
    let s = start(region);
    await until('running', () => s.server?.listening === true);
    target(s);
    await relay.dora('02:00:00:00:00:01');
    const { ack } = await relay.dora('02:00:00:00:00:02');
    await s.stop();
    service = undefined;
    assert.equal(fs.readFileSync(path.join(dir, LEASE_FILE), 'utf8').trim().split('\n').length, 2);

    // Whatever the first run had not reported yet is gone with it: the new run's first report is
    // the whole lease table, which replaces the region's view of this rack.
    region.reports.length = 0;
    s = start(region);
    await until('running', () => s.server?.listening === true);
    await until('the lease table', () => region.reports.length > 0);
    assert.equal(region.reports[0]!.replace, true);
    assert.deepEqual(region.reports[0]!.events.map((e) => `${e.action} ${e.mac}`).sort(), [
      'commit 02:00:00:00:00:01',
      'commit 02:00:00:00:00:02',
    ]);
    target(s);
    const again = await relay.exchange({ type: MSG.discover, mac: '02:00:00:00:00:02' });
    assert.equal(again && formatIp(again.yiaddr), formatIp(ack!.yiaddr));
  });
});
