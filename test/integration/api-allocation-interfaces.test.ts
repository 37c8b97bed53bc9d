// Allocation by MAAS's per-interface constraints (`interfaces=label:key=value,…;…`, as Juju sends
// `interfaces=0:space=<id>`) and by spaces/not_spaces, over real HTTP on PostgreSQL. An interface
// is on the subnets where its MAC holds a DHCP lease or a reserved IP, and on their VLANs, fabrics
// and spaces; constraints_by_type.interfaces names the interfaces each label matched.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { machineResources } from '../../src/api/resources/machines';
import { PRESENT, startResourceApi, type ResourceApi } from '../helpers/resource-api';

type Json = Record<string, unknown>;

describe('MAAS API: allocation by interfaces= and spaces (real HTTP, PostgreSQL)', () => {
  let api: ResourceApi;
  let alice: string;
  const ids: Record<string, number> = {};
  const sys: Record<string, string> = {};
  const ifaces: Record<string, number> = {};

  const db = () => api.services.db;
  const one = async (sql: string, params: unknown[]) =>
    Number(((await db().query(sql, params)) as Array<{ id: number }>)[0]!.id);
  const allocate = (form: Record<string, string | string[]>) =>
    api.call('POST', '/MAAS/api/2.0/machines/op-allocate', { key: alice, form });

  before(async () => {
    api = await startResourceApi((services) => machineResources(services, PRESENT));
    alice = (await api.user('alice')).key;
    // Space dmz: fabric-d's VID 10 with 10.10.0.0/24; space storage: fabric-s untagged, 10.20.0.0/24;
    // 10.30.0.0/24 on fabric-0's untagged VLAN is in no space ("undefined").
    ids.dmz = await one(`INSERT INTO spaces (name) VALUES ('dmz') RETURNING id`, []);
    ids.storage = await one(`INSERT INTO spaces (name) VALUES ('storage') RETURNING id`, []);
    await one(`INSERT INTO spaces (name) VALUES ('empty') RETURNING id`, []);
    ids.fabricD = await one(`INSERT INTO fabrics (name) VALUES ('fabric-d') RETURNING id`, []);
    ids.fabricS = await one(`INSERT INTO fabrics (name) VALUES ('fabric-s') RETURNING id`, []);
    const vlan = (fabric: number, vid: number, space: number | null) =>
      one(`INSERT INTO vlans (fabric_id, vid, space_id) VALUES ($1, $2, $3) RETURNING id`, [fabric, vid, space]);
    const subnet = (cidr: string, vlanId: number) =>
      one(`INSERT INTO subnets (name, cidr, vlan_id) VALUES ($1, $2::cidr, $3) RETURNING id`, [cidr, cidr, vlanId]);
    ids.netD = await subnet('10.10.0.0/24', await vlan(ids.fabricD, 10, ids.dmz));
    ids.netS = await subnet('10.20.0.0/24', await vlan(ids.fabricS, 0, ids.storage));
    ids.netU = await subnet('10.30.0.0/24', await one(`SELECT id FROM vlans WHERE fabric_id = 0 AND vid = 0`, []));
    // Cheapest first: bare (1 CPU, no addresses) < dmz (2: eth0 in dmz) < both (4: eth0 dmz, eth1 storage)
    // < plain (8: eth0 on the undefined space, by a reserved IP).
    const machines: Array<[string, number, Array<[string, number] | null>]> = [
      ['bare', 1, [null, null]],
      ['dmz', 2, [['10.10.0.2', ids.netD], null]],
      [
        'both',
        4,
        [
          ['10.10.0.4', ids.netD],
          ['10.20.0.4', ids.netS],
        ],
      ],
      ['plain', 8, [['10.30.0.8', ids.netU], null]],
    ];
    for (const [i, [name, cpu, addrs]] of machines.entries()) {
      const m: Array<{ id: number; system_id: string }> = await db().query(
        `INSERT INTO machines (system_id, hostname, status, architecture, cpu_count, cpu_speed, memory, block_devices, zone_id, pool_id, commissioning_passed)
         VALUES ($1, $2, $3, 'amd64/generic', $4, 2000, 1024, '[]'::jsonb, (SELECT id FROM zones WHERE name = 'default'), (SELECT id FROM resource_pools WHERE name = 'default'), true)
         RETURNING id, system_id`,
        [`ifc${i}`, `ifc-${name}`, S.READY, cpu],
      );
      sys[name] = m[0]!.system_id;
      for (const [n, addr] of addrs.entries()) {
        const mac = `52:54:00:10:0${i}:0${n}`;
        ifaces[`${name}.eth${n}`] = await one(
          `INSERT INTO interfaces (machine_id, name, mac_address) VALUES ($1, $2, $3::macaddr) RETURNING id`,
          [m[0]!.id, `eth${n}`, mac],
        );
        if (!addr) continue;
        if (name === 'plain')
          await db().query(`INSERT INTO reserved_ips (subnet_id, ip, mac_address) VALUES ($1, $2::inet, $3::macaddr)`, [
            addr[1],
            addr[0],
            mac,
          ]);
        else
          await db().query(`INSERT INTO dhcp_leases (ip, mac_address, subnet_id) VALUES ($1::inet, $2::macaddr, $3)`, [
            addr[0],
            mac,
            addr[1],
          ]);
      }
    }
  });
  after(async () => api?.close());

  const picks = async (form: Record<string, string | string[]>): Promise<string | number> => {
    const r = await allocate({ ...form, dry_run: 'true' });
    if (r.status !== 200) return r.status;
    const name = Object.entries(sys).find(([, id]) => id === (r.body as Json).system_id)?.[0];
    return name ?? String((r.body as Json).system_id);
  };

  it("matches each label's networking keys on one interface, by id or name, as Juju sends them", async () => {
    const cases: Array<[Record<string, string | string[]>, string | number]> = [
      [{}, 'bare'],
      [{ interfaces: `0:space=${ids.dmz}` }, 'dmz'],
      [{ interfaces: '0:space=dmz' }, 'dmz'],
      [{ interfaces: `0:space=${ids.dmz};1:space=${ids.storage}` }, 'both'],
      [{ interfaces: 'space=storage' }, 'both'],
      [{ interfaces: '0:space=dmz,space=storage' }, 'dmz'],
      [{ interfaces: '0:space=undefined' }, 'plain'],
      [{ interfaces: '0:space=empty' }, 409],
      [{ interfaces: '0:not_space=dmz' }, 'bare'],
      [{ interfaces: '0:space=dmz;1:not_space=dmz,mode=dhcp' }, 'both'],
      [{ interfaces: '0:fabric=fabric-d' }, 'dmz'],
      [{ interfaces: `0:fabric=${ids.fabricS}` }, 'both'],
      [{ interfaces: '0:not_fabric=fabric-d,mode=dhcp' }, 'both'],
      [{ interfaces: '0:subnet=10.20.0.0/24' }, 'both'],
      [{ interfaces: '0:subnet_cidr=10.30.0.0/24' }, 'plain'],
      [{ interfaces: `0:not_subnet=${ids.netD},mode=dhcp` }, 'both'],
      [{ interfaces: '0:vid=10' }, 'dmz'],
      [{ interfaces: '0:vid=0,mode=dhcp' }, 'both'],
      [{ interfaces: '0:not_vid=10,mode=dhcp' }, 'both'],
      [{ interfaces: '0:ip=10.10.0.4' }, 'both'],
      [{ interfaces: '0:mode=link_up' }, 'bare'],
      [{ interfaces: '0:mode=static' }, 409],
      [{ interfaces: '0:tag=sriov' }, 409],
      [{ interfaces: '0:not_tag=sriov,space=dmz' }, 'dmz'],
      [{ interfaces: '0:space=dmz,name=eth1' }, 409],
    ];
    for (const [form, expected] of cases) assert.equal(await picks(form), expected, JSON.stringify(form));
  });

  it('spaces= needs every space given, not_spaces= none of them', async () => {
    const cases: Array<[Record<string, string | string[]>, string | number]> = [
      [{ spaces: 'dmz' }, 'dmz'],
      [{ spaces: String(ids.storage) }, 'both'],
      [{ spaces: ['dmz', 'storage'] }, 'both'],
      [{ spaces: 'undefined' }, 'plain'],
      [{ not_spaces: 'dmz', cpu_count: '2' }, 'plain'],
      [{ spaces: 'dmz', not_spaces: 'storage' }, 'dmz'],
      [{ spaces: 'empty' }, 409],
    ];
    for (const [form, expected] of cases) assert.equal(await picks(form), expected, JSON.stringify(form));
  });

  it('answers constraints_by_type.interfaces (label → interface ids) and the bound interface shows its space', async () => {
    const r = await allocate({ interfaces: `web:space=${ids.dmz};db:space=storage` });
    assert.equal(r.status, 200, r.text);
    const body = r.body as Json;
    assert.equal(body.system_id, sys.both);
    assert.deepEqual(body.constraints_by_type, {
      interfaces: { web: [ifaces['both.eth0']], db: [ifaces['both.eth1']] },
    });
    const eth1 = (body.interface_set as Json[]).find((i) => i.id === ifaces['both.eth1'])!;
    const link = (eth1.links as Json[])[0]!;
    assert.equal((link.subnet as Json).space, 'storage');
    assert.equal(((link.subnet as Json).vlan as Json).space, 'storage');
    // gomaasapi's subnet and VLAN schemas refuse a link without these keys.
    for (const key of ['gateway_ip', 'dns_servers', 'resource_uri', 'id', 'name', 'cidr'])
      assert.ok(key in (link.subnet as Json), key);
    for (const key of ['primary_rack', 'secondary_rack', 'fabric', 'vid', 'mtu', 'dhcp_on'])
      assert.ok(key in ((link.subnet as Json).vlan as Json), key);
    assert.equal(
      (await api.services.db.query(`SELECT status FROM machines WHERE system_id = $1`, [sys.both]))[0].status,
      S.ALLOCATED,
    );
  });

  it('a space, fabric or subnet that does not exist is a 400 naming it, and nothing is allocated', async () => {
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ interfaces: '0:space=nowhere' }, 'interfaces', /Label '0': No matching spaces found for 'nowhere'/],
      [{ interfaces: '0:not_space=999' }, 'interfaces', /No matching spaces found for '999'/],
      [{ interfaces: 'a:fabric=nofabric' }, 'interfaces', /Label 'a': No matching fabrics found for 'nofabric'/],
      [{ interfaces: '0:subnet=10.99.0.0/24' }, 'interfaces', /No matching subnets found/],
      [{ interfaces: '0:vid=5000' }, 'interfaces', /vid must be a VID/],
      [{ interfaces: '0:ip=10.1' }, 'interfaces', /is not an IP address/],
      [{ interfaces: '0:mode=bogus' }, 'interfaces', /unknown mode 'bogus'/],
      [{ spaces: 'nowhere' }, 'spaces', /No matching spaces found for 'nowhere'/],
      [{ not_spaces: 'nowhere' }, 'not_spaces', /No matching spaces found for 'nowhere'/],
    ];
    const allocated = async () =>
      Number((await api.services.db.query(`SELECT count(*) AS n FROM machines WHERE status = $1`, [S.ALLOCATED]))[0].n);
    const before = await allocated();
    for (const [form, field, message] of cases) {
      const r = await allocate(form);
      assert.equal(r.status, 400, `${JSON.stringify(form)}: ${r.text}`);
      assert.match(((r.body as Json)[field] as string[]).join(' '), message, JSON.stringify(form));
    }
    assert.equal(await allocated(), before);
  });
});
