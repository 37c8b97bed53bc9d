// IPAM: subnets/{id}/'s ip_addresses, statistics, reserved_ip_ranges and unreserved_ip_ranges in
// MAAS's shapes, counting machines' links, devices' links, reservations and leases, over real HTTP
// on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deviceResources } from '../../src/api/resources/devices';
import { ipAddressResources } from '../../src/api/resources/ipaddresses';
import { nodeInterfaceResources } from '../../src/api/resources/node-interfaces';
import { subnetResources } from '../../src/api/resources/subnets';
import { claimAutoAddresses } from '../../src/region/services/network/auto-addresses';
import { machineInput, macAddress } from '../helpers/factories';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api';

type Json = Record<string, unknown>;
const API = '/MAAS/api/2.0';

describe('MAAS API: subnet IPAM ops', () => {
  let api: ResourceApi;
  let admin: string;
  let alice: { id: number; key: string };
  let subnetId: number;
  let emptyId: number;
  let machine: string;
  let device: string;

  before(async () => {
    api = await startResourceApi((services) => [
      ...subnetResources({ services }),
      ...ipAddressResources({ services }),
      ...deviceResources({ services }),
      ...nodeInterfaceResources({ services }),
    ]);
    admin = (await api.user('admin', true)).key;
    alice = await api.user('alice');
    const s = api.services;
    // 10.88.0.0/24: .1 gateway, .2 DNS server, .5 reserved IP, .10 a machine's STATIC link, .11 its
    // AUTO link (deployed), .12 a device's link, .13 the machine's DHCP lease, .100-.150 dynamic,
    // .200-.209 a reserved range.
    const subnet = await s.subnets.create({ cidr: '10.88.0.0/24', gatewayIp: '10.88.0.1', dnsServers: ['10.88.0.2'] });
    subnetId = subnet.id;
    emptyId = (await s.subnets.create({ cidr: '10.89.0.0/24' })).id;
    await s.ipRanges.create({ type: 'dynamic', startIp: '10.88.0.100', endIp: '10.88.0.150' }, alice.id);
    await s.ipRanges.create({ type: 'reserved', startIp: '10.88.0.200', endIp: '10.88.0.209' }, alice.id);
    await s.reservedIps.reserve({ ip: '10.88.0.5' }, alice.id, true);
    const mac = macAddress();
    const m = await s.machines.create(machineInput({ hostname: 'ipam-host', macAddresses: [mac] }));
    machine = m.systemId;
    await s.db.query(`UPDATE machines SET owner_id = $2 WHERE system_id = $1`, [machine, alice.id]);
    await s.db.query(
      `INSERT INTO interface_links (interface_id, mode, subnet_id, ip)
       SELECT i.id, x.mode, $2, x.ip::inet FROM interfaces i JOIN machines m ON m.id = i.machine_id,
              (VALUES ('static', '10.88.0.10'), ('auto', '10.88.0.11')) AS x(mode, ip)
        WHERE m.system_id = $1`,
      [machine, subnetId],
    );
    await s.db.query(
      `INSERT INTO dhcp_leases (ip, mac_address, subnet_id, expires) VALUES ('10.88.0.13', $1, $2, now() + interval '1 hour'),
         ('10.88.0.14', $1, $2, now() - interval '1 hour')`,
      [mac, subnetId],
    );
    const d = await api.call('POST', `${API}/devices/`, {
      key: alice.key,
      form: { hostname: 'ipam-dev', mac_addresses: macAddress() },
    });
    assert.equal(d.status, 200, d.text);
    device = (d.body as Json).system_id as string;
    const iface = ((d.body as Json).interface_set as Json[])[0]!;
    const link = await api.call('POST', `${iface.resource_uri as string}?op=link_subnet`, {
      key: alice.key,
      form: { mode: 'STATIC', subnet: String(subnetId), ip_address: '10.88.0.12' },
    });
    assert.equal(link.status, 200, link.text);
  });
  after(async () => api?.close());

  const get = async (path: string, key = alice.key) => {
    const r = await api.call('GET', `${API}/subnets/${path}`, { key });
    assert.equal(r.status, 200, r.text);
    return r.body;
  };

  it('reserved_ip_ranges: every use with its purposes, adjacent addresses of one purpose joined', async () => {
    assert.deepEqual(await get(`${subnetId}/?op=reserved_ip_ranges`), [
      { start: '10.88.0.1', end: '10.88.0.1', num_addresses: 1, purpose: ['gateway-ip'] },
      { start: '10.88.0.2', end: '10.88.0.2', num_addresses: 1, purpose: ['dns-server'] },
      { start: '10.88.0.5', end: '10.88.0.5', num_addresses: 1, purpose: ['assigned-ip'] },
      { start: '10.88.0.10', end: '10.88.0.13', num_addresses: 4, purpose: ['assigned-ip'] },
      { start: '10.88.0.100', end: '10.88.0.150', num_addresses: 51, purpose: ['dynamic'] },
      { start: '10.88.0.200', end: '10.88.0.209', num_addresses: 10, purpose: ['reserved'] },
    ]);
    // By CIDR too, as every subnet URI.
    assert.equal(((await get('10.88.0.0%2F24/?op=reserved_ip_ranges')) as Json[]).length, 6);
  });

  it('unreserved_ip_ranges: the gaps, network and broadcast left out (an expired lease frees its address)', async () => {
    assert.deepEqual(await get(`${subnetId}/?op=unreserved_ip_ranges`), [
      { start: '10.88.0.3', end: '10.88.0.4', num_addresses: 2 },
      { start: '10.88.0.6', end: '10.88.0.9', num_addresses: 4 },
      { start: '10.88.0.14', end: '10.88.0.99', num_addresses: 86 },
      { start: '10.88.0.151', end: '10.88.0.199', num_addresses: 49 },
      { start: '10.88.0.210', end: '10.88.0.254', num_addresses: 45 },
    ]);
  });

  it("statistics: MAAS's figures, with ranges and suggestions on request", async () => {
    assert.deepEqual(await get(`${subnetId}/?op=statistics`), {
      num_available: 186,
      largest_available: 86,
      num_unavailable: 68,
      total_addresses: 254,
      usage: 68 / 254,
      usage_string: '27%',
      available_string: '73%',
      first_address: '10.88.0.1',
      last_address: '10.88.0.254',
      ip_version: 4,
    });
    const full = (await get(`${subnetId}/?op=statistics&include_ranges=1&include_suggestions=1`)) as Json;
    const ranges = full.ranges as Json[];
    assert.equal(ranges.length, 11);
    assert.deepEqual(ranges[2], { start: '10.88.0.3', end: '10.88.0.4', num_addresses: 2, purpose: ['unused'] });
    assert.equal(
      ranges.reduce((n, r) => n + (r.num_addresses as number), 0),
      254,
    );
    // A gateway and a dynamic range exist: nothing to suggest.
    assert.equal(full.suggested_gateway, null);
    assert.equal(full.suggested_dynamic_range, null);
    // An empty /24: MAAS suggests the first address as gateway and the top quarter as the pool.
    const empty = (await get(`${emptyId}/?op=statistics&include_suggestions=true`)) as Json;
    assert.equal(empty.suggested_gateway, '10.89.0.1');
    assert.deepEqual(empty.suggested_dynamic_range, {
      start: '10.89.0.191',
      end: '10.89.0.254',
      num_addresses: 64,
      purpose: ['proposed-dynamic'],
    });
    assert.equal(empty.usage_string, '0%');
  });

  it('ip_addresses: machines, devices, reservations and leases, with user and node summary', async () => {
    const all = (await get(`${subnetId}/?op=ip_addresses`)) as Json[];
    assert.deepEqual(
      all.map((a) => [a.ip, a.alloc_type, a.user ?? null]),
      [
        ['10.88.0.5', 4, 'alice'],
        ['10.88.0.10', 1, 'alice'],
        ['10.88.0.11', 0, 'alice'],
        ['10.88.0.12', 1, 'alice'],
        ['10.88.0.13', 6, null],
      ],
    );
    assert.match(all[0]!.created as string, /^\w{3}, \d{2} \w{3}\. \d{4} \d{2}:\d{2}:\d{2}$/);
    assert.equal(all[0]!.node_summary, undefined);
    assert.deepEqual(all[1]!.node_summary, {
      system_id: machine,
      node_type: 0,
      fqdn: 'ipam-host.maas',
      hostname: 'ipam-host',
      is_container: false,
      via: (all[1]!.node_summary as Json).via,
    });
    assert.equal(typeof (all[1]!.node_summary as Json).via, 'string');
    assert.equal((all[3]!.node_summary as Json).system_id, device);
    assert.equal((all[3]!.node_summary as Json).node_type, 1);
    assert.equal((all[4]!.node_summary as Json).system_id, machine, "a lease names the MAC's machine");

    const bare = (await get(`${subnetId}/?op=ip_addresses&with_username=0&with_summary=0`)) as Json[];
    assert.deepEqual(Object.keys(bare[1]!).sort(), ['alloc_type', 'created', 'ip', 'updated']);
    const deprecated = (await get(`${subnetId}/?op=ip_addresses&with_node_summary=0`)) as Json[];
    assert.equal(deprecated[1]!.node_summary, undefined);
    assert.equal(deprecated[1]!.user, undefined, "without the summary, only a reservation's user");
    assert.equal(deprecated[0]!.user, 'alice');
  });

  it("ip_addresses: a non-admin sees the node and owner only of nodes they can see (the listings' visibility)", async () => {
    const bob = await api.user('bob');
    const rows = (await get(`${subnetId}/?op=ip_addresses`, bob.key)) as Json[];
    // Every address is listed (the statistics count them anyway), alice's machine and device anonymously.
    assert.deepEqual(
      rows.map((a) => [a.ip, a.alloc_type, a.user ?? null, (a.node_summary as Json | undefined)?.system_id ?? null]),
      [
        ['10.88.0.5', 4, 'alice', null],
        ['10.88.0.10', 1, null, null],
        ['10.88.0.11', 0, null, null],
        ['10.88.0.12', 1, null, null],
        ['10.88.0.13', 6, null, null],
      ],
    );
    // The owner and an admin still see them.
    for (const key of [alice.key, admin]) {
      const seen = (await get(`${subnetId}/?op=ip_addresses`, key)) as Json[];
      assert.deepEqual(
        seen.map((a) => (a.node_summary as Json | undefined)?.system_id ?? null),
        [null, machine, machine, device, machine],
      );
      assert.equal(seen[1]!.user, 'alice');
    }
  });

  describe('the address pool and the statistics agree', () => {
    // 10.86.0.0/28: .1 gateway, .2 and .3 DNS servers, .4 a static route's gateway, .10-.14 dynamic.
    let pool: number;
    before(async () => {
      const s = api.services;
      pool = (
        await s.subnets.create({ cidr: '10.86.0.0/28', gatewayIp: '10.86.0.1', dnsServers: ['10.86.0.2', '10.86.0.3'] })
      ).id;
      const far = await s.subnets.create({ cidr: '10.85.0.0/24' });
      await s.staticRoutes.create({ source: String(pool), destination: String(far.id), gatewayIp: '10.86.0.4' });
      await s.ipRanges.create({ type: 'dynamic', startIp: '10.86.0.10', endIp: '10.86.0.14' }, alice.id);
    });

    const staticLink = async (ip?: string) => {
      const d = await api.call('POST', `${API}/devices/`, { key: alice.key, form: { mac_addresses: macAddress() } });
      assert.equal(d.status, 200, d.text);
      const iface = ((d.body as Json).interface_set as Json[])[0]!;
      return api.call('POST', `${iface.resource_uri as string}?op=link_subnet`, {
        key: alice.key,
        form: { mode: 'STATIC', subnet: String(pool), ...(ip ? { ip_address: ip } : {}) },
      });
    };

    it("refuses a STATIC address that is a DNS server or a static route's gateway (409, nothing written)", async () => {
      const dns = await staticLink('10.86.0.3');
      assert.deepEqual(
        [dns.status, dns.text],
        [409, 'The IP address 10.86.0.3 is already in use: it is a DNS server of subnet 10.86.0.0/28.'],
      );
      const router = await staticLink('10.86.0.4');
      assert.deepEqual(
        [router.status, router.text],
        [
          409,
          'The IP address 10.86.0.4 is already in use: it is the gateway of a static route from subnet 10.86.0.0/28.',
        ],
      );
      const held: unknown[] = await api.services.db.query(`SELECT 1 FROM device_links WHERE subnet_id = $1`, [pool]);
      assert.equal(held.length, 0);
    });

    it("a deploy's AUTO claim skips the DNS servers and the route gateway; claims run out exactly at num_available", async () => {
      const stats = (await get(`${pool}/?op=statistics`)) as Json;
      // .5-.9 (.0 and .15 are the network and broadcast addresses).
      assert.equal(stats.num_available, 5);
      const m = await api.services.machines.create(
        machineInput({ hostname: 'ipam-auto', macAddresses: [macAddress()] }),
      );
      await api.services.db.query(
        `INSERT INTO interface_links (interface_id, mode, subnet_id)
         SELECT i.id, 'auto', $2 FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE m.system_id = $1`,
        [m.systemId, pool],
      );
      const [{ id }] = (await api.services.db.query(`SELECT id FROM machines WHERE system_id = $1`, [m.systemId])) as [
        { id: number },
      ];
      await api.services.db.transaction((tx) => claimAutoAddresses(tx, id));
      const [auto] = (await api.services.db.query(
        `SELECT host(l.ip) AS ip FROM interface_links l JOIN interfaces i ON i.id = l.interface_id WHERE i.machine_id = $1`,
        [id],
      )) as [{ ip: string }];
      assert.equal(auto.ip, '10.86.0.5');
      // Then STATIC picks until the pool is empty: as many as the statistics said were free.
      const picked = [auto.ip];
      for (;;) {
        const r = await staticLink();
        if (r.status !== 200) {
          assert.equal(r.status, 409, r.text);
          break;
        }
        picked.push(((r.body as Json).links as Json[])[0]!.ip_address as string);
      }
      assert.deepEqual(picked, ['10.86.0.5', '10.86.0.6', '10.86.0.7', '10.86.0.8', '10.86.0.9']);
      assert.equal(picked.length, stats.num_available);
      assert.equal(((await get(`${pool}/?op=statistics`)) as Json).num_available, 0);
    });
  });

  it('refuses an unknown subnet (404) and a bad flag (400)', async () => {
    assert.equal((await api.call('GET', `${API}/subnets/9999/?op=statistics`, { key: admin })).status, 404);
    const bad = await api.call('GET', `${API}/subnets/${subnetId}/?op=statistics&include_ranges=maybe`, {
      key: admin,
    });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.text, /include_ranges/);
  });
});
