// Allocation by network over real HTTP on real PostgreSQL: subnets, not_subnets, fabrics,
// not_fabrics, vlans, not_vlans. A machine is attached to a subnet when one of its interfaces' MACs
// holds a DHCP lease or a reserved IP there; its fabrics and VLANs are those of its subnets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { startApi, type ApiClient } from '../helpers/api';
import { startTestRegion, type TestRegion } from '../helpers/region';

type Json = Record<string, unknown>;

describe('MAAS API: allocation by subnets, fabrics and VLANs (real HTTP, PostgreSQL)', () => {
  let region: TestRegion;
  let api: ApiClient;
  let alice: string;
  const ids: Record<string, number> = {};
  const sys: Record<string, string> = {};

  const db = () => region.services.db;
  const one = async (sql: string, params: unknown[]) =>
    Number(((await db().query(sql, params)) as Array<{ id: number }>)[0]!.id);
  const allocate = (form: Record<string, string | string[]>) =>
    api.call('POST', '/MAAS/api/2.0/machines/op-allocate', { key: alice, form });

  before(async () => {
    region = await startTestRegion({});
    api = await startApi(region);
    alice = await api.keyFor('alice');
    await db().query(`DELETE FROM machines`);
    // fabric-a: untagged VLAN, 10.1.0.0/24 (net-a); fabric-b: VID 20, 10.2.0.0/24 (net-b) and fd00:2::/64.
    ids.fabricA = await one(`INSERT INTO fabrics (name) VALUES ('fabric-a') RETURNING id`, []);
    ids.fabricB = await one(`INSERT INTO fabrics (name) VALUES ('fabric-b') RETURNING id`, []);
    ids.vlanA = await one(`INSERT INTO vlans (fabric_id, vid, name) VALUES ($1, 0, 'untagged') RETURNING id`, [
      ids.fabricA,
    ]);
    ids.vlanB = await one(`INSERT INTO vlans (fabric_id, vid, name) VALUES ($1, 20, 'b-vlan20') RETURNING id`, [
      ids.fabricB,
    ]);
    ids.netA = await one(`INSERT INTO subnets (name, cidr, vlan_id) VALUES ('net-a', '10.1.0.0/24', $1) RETURNING id`, [
      ids.vlanA,
    ]);
    ids.netB = await one(`INSERT INTO subnets (name, cidr, vlan_id) VALUES ('net-b', '10.2.0.0/24', $1) RETURNING id`, [
      ids.vlanB,
    ]);
    ids.netB6 = await one(
      `INSERT INTO subnets (name, cidr, vlan_id) VALUES ('net-b6', 'fd00:2::/64', $1) RETURNING id`,
      [ids.vlanB],
    );
    // Cheapest first: none (1 CPU) < a (2) < b (3) < reserved (4) < both (8).
    const machines: Array<[string, number]> = [
      ['none', 1],
      ['a', 2],
      ['b', 3],
      ['reserved', 4],
      ['both', 8],
    ];
    for (const [i, [name, cpu]] of machines.entries()) {
      const rows: Array<{ id: number; system_id: string }> = await db().query(
        `INSERT INTO machines (system_id, hostname, status, architecture, cpu_count, cpu_speed, memory, block_devices, zone_id, pool_id, commissioning_passed)
         VALUES ($1, $2, $3, 'amd64/generic', $4, 2000, 1024, '[]'::jsonb, (SELECT id FROM zones WHERE name = 'default'), (SELECT id FROM resource_pools WHERE name = 'default'), true)
         RETURNING id, system_id`,
        [`net${i}`, `net-${name}`, S.READY, cpu],
      );
      sys[name] = rows[0]!.system_id;
      for (const n of [0, 1]) {
        await db().query(`INSERT INTO interfaces (machine_id, name, mac_address) VALUES ($1, $2, $3::macaddr)`, [
          rows[0]!.id,
          `eth${n}`,
          `52:54:00:00:0${i}:0${n}`,
        ]);
      }
    }
    const lease = (ip: string, mac: string, subnet: number) =>
      db().query(`INSERT INTO dhcp_leases (ip, mac_address, subnet_id) VALUES ($1::inet, $2::macaddr, $3)`, [
        ip,
        mac,
        subnet,
      ]);
    await lease('10.1.0.10', '52:54:00:00:01:00', ids.netA);
    await lease('10.2.0.10', '52:54:00:00:02:00', ids.netB);
    await lease('fd00:2::10', '52:54:00:00:02:01', ids.netB6);
    await db().query(
      `INSERT INTO reserved_ips (subnet_id, ip, mac_address) VALUES ($1, '10.2.0.30', '52:54:00:00:03:01')`,
      [ids.netB],
    );
    await lease('10.1.0.40', '52:54:00:00:04:00', ids.netA);
    await lease('10.2.0.40', '52:54:00:00:04:01', ids.netB);
    // A lease for a MAC no machine has, and one without a subnet, attach nothing.
    await lease('10.1.0.99', '52:54:00:99:99:99', ids.netA);
    await db().query(`INSERT INTO dhcp_leases (ip, mac_address) VALUES ('192.168.9.9', '52:54:00:00:00:00')`);
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const picks = async (form: Record<string, string | string[]>): Promise<string | number> => {
    const r = await allocate({ ...form, dry_run: 'true' });
    if (r.status !== 200) return r.status;
    assert.deepEqual((r.body as Json).constraints_by_type, {}, 'MAAS lists only storage and interfaces labels');
    const name = Object.entries(sys).find(([, id]) => id === (r.body as Json).system_id)?.[0];
    return name ?? String((r.body as Json).system_id);
  };

  it('picks only machines attached as asked, by every specifier form; a dry run allocates nothing', async () => {
    const cases: Array<[Record<string, string | string[]>, string | number]> = [
      [{}, 'none'],
      [{ subnets: 'net-a' }, 'a'],
      [{ subnets: 'name:net-a' }, 'a'],
      [{ subnets: 'cidr:10.1.0.0/24' }, 'a'],
      [{ subnets: '10.1.0.0/24' }, 'a'],
      [{ subnets: String(ids.netA) }, 'a'],
      [{ subnets: `id:${ids.netA}` }, 'a'],
      [{ subnets: 'ip:10.1.0.77' }, 'a'],
      [{ subnets: 'fd00:2::/64' }, 'b'],
      [{ subnets: 'net-b' }, 'b'],
      [{ subnets: 'net-b', cpu_count: '4' }, 'reserved'],
      [{ subnets: ['net-a', 'net-b'] }, 'both'],
      [{ subnets: 'net-a,net-b' }, 'both'],
      // A specifier naming several subnets needs them all (MAAS): net-b and net-b6, which only b has.
      [{ subnets: 'vid:20' }, 'b'],
      [{ subnets: 'vid:20', cpu_count: '4' }, 409],
      [{ not_subnets: 'net-a' }, 'none'],
      [{ subnets: 'net-b', not_subnets: 'net-a' }, 'b'],
      [{ subnets: 'net-b', not_subnets: 'fd00:2::/64' }, 'reserved'],
      [{ fabrics: 'fabric-b' }, 'b'],
      [{ fabrics: String(ids.fabricA) }, 'a'],
      [{ fabrics: 'fabric-a,fabric-b' }, 'a'],
      [{ fabrics: 'fabric-a', not_fabrics: 'fabric-b' }, 'a'],
      [{ fabrics: 'fabric-a', not_fabrics: 'fabric-b', cpu_count: '3' }, 409],
      [{ not_fabrics: 'fabric-a,fabric-b' }, 'none'],
      [{ vlans: 'vid:20' }, 'b'],
      [{ vlans: 'name:b-vlan20' }, 'b'],
      [{ vlans: String(ids.vlanA) }, 'a'],
      [{ vlans: `fabric:fabric-b`, cpu_count: '3' }, 'b'],
      [{ not_vlans: 'vid:20', cpu_count: '2' }, 'a'],
      [{ not_vlans: `id:${ids.vlanA}`, subnets: 'net-b', cpu_count: '4' }, 'reserved'],
    ];
    for (const [form, want] of cases) assert.equal(await picks(form), want, JSON.stringify(form));

    const none = await allocate({ subnets: 'net-a', not_fabrics: 'fabric-a' });
    assert.equal(none.status, 409);
    assert.match(
      none.text,
      /No available machine matches constraints: .* \(resolved to "not_fabrics=fabric-a subnets=net-a"\)$/,
    );
    const statuses: Array<{ status: number }> = await db().query(
      `SELECT status FROM machines WHERE system_id = ANY($1::text[])`,
      [Object.values(sys)],
    );
    assert.deepEqual(
      statuses.map((s) => s.status),
      Object.values(sys).map(() => S.READY),
      'dry runs allocate nothing',
    );

    const got = await allocate({ subnets: 'net-b', cpu_count: '4' });
    assert.equal(got.status, 200, got.text);
    assert.equal((got.body as Json).system_id, sys.reserved);
    assert.equal((got.body as Json).status, S.ALLOCATED);
    assert.equal(await picks({ subnets: 'net-b', cpu_count: '4' }), 'both', 'the allocated machine is taken');
  });

  it('shows each DHCP lease as a link of the interface with its MAC, with subnet, VLAN and fabric; reserved IPs are not links', async () => {
    const r = await api.call('GET', `/MAAS/api/2.0/machines/${sys.both}/`, { key: alice });
    assert.equal(r.status, 200, r.text);
    const body = r.body as Json;
    assert.deepEqual(body.ip_addresses, ['10.1.0.40', '10.2.0.40']);
    const [eth0, eth1] = body.interface_set as Json[];
    const [link] = eth1!.links as Json[];
    assert.deepEqual(eth0!.links, [
      {
        id: 1,
        mode: 'dhcp',
        ip_address: '10.1.0.40',
        subnet: {
          id: ids.netA,
          name: 'net-a',
          cidr: '10.1.0.0/24',
          gateway_ip: null,
          dns_servers: [],
          space: 'undefined',
          resource_uri: `/MAAS/api/2.0/subnets/${ids.netA}/`,
          vlan: {
            id: ids.vlanA,
            vid: 0,
            name: 'untagged',
            fabric: 'fabric-a',
            fabric_id: ids.fabricA,
            mtu: 1500,
            dhcp_on: false,
            primary_rack: null,
            secondary_rack: null,
            space: 'undefined',
            resource_uri: `/MAAS/api/2.0/vlans/${ids.vlanA}/`,
          },
        },
      },
    ]);
    assert.equal(((link!.subnet as Json).vlan as Json).vid, 20);
    const list = (await api.call('GET', '/MAAS/api/2.0/machines/', { key: alice })).body as Json[];
    const reserved = list.find((m) => m.system_id === sys.reserved)!;
    assert.deepEqual(reserved.ip_addresses, []);
    assert.deepEqual(
      (reserved.interface_set as Json[]).map((i) => i.links),
      [[], []],
    );
    const b = list.find((m) => m.system_id === sys.b)!;
    assert.deepEqual(b.ip_addresses, ['10.2.0.10', 'fd00:2::10']);
  });

  it('answers 400 naming the field for a specifier that matches nothing or does not parse', async () => {
    for (const [form, field] of [
      [{ subnets: 'name:nope' }, 'subnets'],
      [{ subnets: 'nope' }, 'subnets'],
      [{ subnets: '99999' }, 'subnets'],
      [{ subnets: 'cidr:10.9.0.0/24' }, 'subnets'],
      [{ subnets: 'cidr:10.1.0/99' }, 'subnets'],
      [{ subnets: 'colour:red' }, 'subnets'],
      [{ subnets: 'space:default' }, 'subnets'],
      [{ not_subnets: 'net-z' }, 'not_subnets'],
      [{ fabrics: 'fabric-z' }, 'fabrics'],
      [{ not_fabrics: '424242' }, 'not_fabrics'],
      [{ vlans: 'vid:999' }, 'vlans'],
      [{ vlans: 'vid:x' }, 'vlans'],
      [{ not_vlans: 'name:nope' }, 'not_vlans'],
      [{ subnets: 'net-a', fabrics: 'fabric-z' }, 'fabrics'],
    ] as Array<[Record<string, string>, string]>) {
      const r = await allocate(form);
      assert.equal(r.status, 400, `${JSON.stringify(form)} → ${r.text}`);
      assert.match(r.text, new RegExp(field), JSON.stringify(form));
    }
  });
});
