// GET machines/ sends each machine's JSON kept from an earlier listing while its version holds
// (issue 17). The reply must stay byte for byte what the presenter makes of the machines as they
// are now: compared with the presenter's own output (the listing as it was before the cache) on
// machines with every feature, once cold, once from the cache, and again after each input of a
// machine's JSON changes (the version must move with it, or the cache would serve stale JSON).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { presentMachine } from '../../src/api/presenters/machine';
import { MachineListingEncoder, PresentedMachineCache } from '../../src/api/presenters/machine-listing-cache';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { UserEntity } from '../../src/region/db/entities';
import { startApi, type ApiClient } from '../helpers/api';
import { macAddress } from '../helpers/factories';
import { giveDisk, startTestRegion, type TestRegion } from '../helpers/region';

type Json = Record<string, unknown>;

describe('machines read: kept JSON is the presenter JSON', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let alice: string;
  const ids: string[] = [];
  const userIds = { admin: 0, alice: 0 };
  const q = (sql: string, params: unknown[] = []) => region.services.db.query(sql, params);

  before(async () => {
    region = await startTestRegion({});
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    alice = await api.keyFor('alice');
    for (const who of ['admin', 'alice'] as const)
      userIds[who] = (await q(`SELECT id FROM users WHERE username = $1`, [who]))[0].id as number;
    for (const hostname of ['lc-rich', 'lc-bond', 'lc-plain', 'lc-alice']) {
      const r = await api.call('POST', '/MAAS/api/2.0/machines/', {
        key: admin,
        form: {
          hostname,
          architecture: 'amd64/generic',
          mac_addresses: macAddress(),
          power_type: 'manual',
          commission: 'false',
        },
      });
      assert.equal(r.status, 200, r.text);
      ids.push((r.body as Json).system_id as string);
    }
    const [rich, bond, , aliceOwn] = ids as [string, string, string, string];
    await giveDisk(region.services, rich);
    await giveDisk(region.services, bond, { layout: false });
    await q(`INSERT INTO zones (name, description) VALUES ('lc-zone', 'a zone') ON CONFLICT DO NOTHING`);
    await q(`INSERT INTO resource_pools (name, description) VALUES ('lc-pool', 'a pool') ON CONFLICT DO NOTHING`);
    await q(`INSERT INTO tags (name) VALUES ('lc-gpu'), ('lc-ssd') ON CONFLICT DO NOTHING`);
    await q(`INSERT INTO spaces (name) VALUES ('lc-space')`);
    await q(`INSERT INTO fabrics (name) VALUES ('lc-fabric')`);
    await q(
      `INSERT INTO vlans (fabric_id, vid, name, mtu, space_id) SELECT f.id, 42, 'lc-vlan', 9000, s.id
         FROM fabrics f, spaces s WHERE f.name = 'lc-fabric' AND s.name = 'lc-space'`,
    );
    await q(
      `INSERT INTO subnets (name, cidr, vlan_id, gateway_ip, dns_servers)
         SELECT 'lc-net', '10.99.0.0/24', id, '10.99.0.1', '{192.0.2.53}' FROM vlans WHERE name = 'lc-vlan'`,
    );
    await q(
      `UPDATE machines SET status = $2, owner_id = (SELECT id FROM users WHERE username = 'admin'),
              zone_id = (SELECT id FROM zones WHERE name = 'lc-zone'), pool_id = (SELECT id FROM resource_pools WHERE name = 'lc-pool'),
              workload_annotations = '{"juju-model": "m1"}', workflow_id = 'machine:' || system_id, workflow_type = 'DeployWorkflow',
              description = 'quote " backslash \\ newline
 done', cpu_count = 8, memory = 16384
        WHERE system_id = $1`,
      [rich, S.DEPLOYED],
    );
    await q(
      `UPDATE machines SET status = $2, owner_id = (SELECT id FROM users WHERE username = 'alice') WHERE system_id = $1`,
      [aliceOwn, S.ALLOCATED],
    );
    await q(`UPDATE machines SET status = $2 WHERE system_id = $1`, [bond, S.BROKEN]);
    await q(
      `INSERT INTO machine_tags (machine_id, tag_id) SELECT m.id, t.id FROM machines m, tags t
        WHERE m.system_id = $1 AND t.name IN ('lc-gpu', 'lc-ssd')`,
      [rich],
    );
    // rich: its boot NIC statically on lc-net, a lease on it too. bond: two NICs under bond0, a VLAN on it.
    await q(
      `UPDATE interfaces SET vlan_id = (SELECT id FROM vlans WHERE name = 'lc-vlan') WHERE machine_id = (SELECT id FROM machines WHERE system_id = $1)`,
      [rich],
    );
    await q(
      `INSERT INTO interface_links (interface_id, mode, subnet_id, ip)
         SELECT i.id, 'static', s.id, '10.99.0.10' FROM interfaces i, subnets s, machines m
          WHERE m.system_id = $1 AND i.machine_id = m.id AND s.name = 'lc-net'`,
      [rich],
    );
    await q(
      `INSERT INTO dhcp_leases (ip, mac_address, subnet_id)
         SELECT '10.99.0.77', i.mac_address, s.id FROM interfaces i, subnets s, machines m
          WHERE m.system_id = $1 AND i.machine_id = m.id AND s.name = 'lc-net'`,
      [rich],
    );
    const bondId = (await q(`SELECT id FROM machines WHERE system_id = $1`, [bond]))[0].id as number;
    await q(
      `INSERT INTO interfaces (machine_id, name, type, mac_address, enabled, link_speed, is_boot, params)
       VALUES ($1, 'eth1', 'physical', $2, true, 1000, false, '{}'),
              ($1, 'bond0', 'bond', $2, true, 0, false, '{"bond_mode": "active-backup", "mtu": 1500}'),
              ($1, 'bond0.42', 'vlan', $2, true, 0, false, '{}')`,
      [bondId, macAddress()],
    );
    await q(
      `INSERT INTO interface_parents (child_id, parent_id)
         SELECT b.id, p.id FROM interfaces b, interfaces p
          WHERE b.machine_id = $1 AND p.machine_id = $1 AND b.name = 'bond0' AND p.type = 'physical'
         UNION ALL
         SELECT v.id, b.id FROM interfaces v, interfaces b
          WHERE v.machine_id = $1 AND b.machine_id = $1 AND v.name = 'bond0.42' AND b.name = 'bond0'`,
      [bondId],
    );
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  /** The listing as the presenter makes it, whole: what GET machines/ answered before the cache. */
  const reference = async (who: 'admin' | 'alice') => {
    // By id: a change renames alice.
    const user = await region.services.db.getRepository(UserEntity).findOneByOrFail({ id: userIds[who] });
    const views = await region.services.queries.list({ kind: 'user', user });
    const options = {
      temporalUiUrl: user.isSuperuser ? 'http://127.0.0.1:8233' : null,
      temporalNamespace: region.namespace,
    };
    return `[${views.map((v) => JSON.stringify(presentMachine(v, options))).join(',')}]`;
  };
  const listed = async (key: string) => {
    const r = await api.call('GET', '/MAAS/api/2.0/machines/', { key });
    assert.equal(r.status, 200, r.text);
    return r.text;
  };
  const sameAsPresenter = async (why: string) => {
    for (const [who, key] of [
      ['admin', admin],
      ['alice', alice],
    ] as const) {
      const want = await reference(who);
      assert.equal(await listed(key), want, `${who}, ${why} (first listing)`);
      assert.equal(await listed(key), want, `${who}, ${why} (listed again)`);
    }
  };

  it('answers byte for byte what the presenter makes, cold and from the cache', async () => {
    await sameAsPresenter('as set up');
    const body = JSON.parse(await listed(admin)) as Json[];
    const rich = body.find((m) => m.system_id === ids[0])!;
    // The set-up did give the machine what the comparison is meant to cover.
    assert.deepEqual(rich.tag_names, ['lc-gpu', 'lc-ssd']);
    assert.ok((rich.blockdevice_set as unknown[]).length > 0);
    assert.match(JSON.stringify(rich.interface_set), /10\.99\.0\.10/);
    assert.ok(rich.current_workflow);
  });

  it('shows every change to what a machine JSON is made of at the next listing', async () => {
    const [rich, bond, plain] = ids as [string, string, string];
    const changes: Array<[string, () => Promise<unknown>]> = [
      ['machine row', () => q(`UPDATE machines SET power_state = 'on' WHERE system_id = $1`, [plain])],
      ['tag renamed', () => q(`UPDATE tags SET name = 'lc-gpu2' WHERE name = 'lc-gpu'`)],
      [
        'tag removed',
        () =>
          q(
            `DELETE FROM machine_tags WHERE machine_id = (SELECT id FROM machines WHERE system_id = $1) AND tag_id = (SELECT id FROM tags WHERE name = 'lc-ssd')`,
            [rich],
          ),
      ],
      ['zone described', () => q(`UPDATE zones SET description = 'changed' WHERE name = 'lc-zone'`)],
      ['pool renamed', () => q(`UPDATE resource_pools SET name = 'lc-pool2' WHERE name = 'lc-pool'`)],
      ['owner renamed', () => q(`UPDATE users SET username = 'alice2' WHERE username = 'alice'`)],
      ['VLAN MTU', () => q(`UPDATE vlans SET mtu = 1600 WHERE name = 'lc-vlan'`)],
      ['space renamed', () => q(`UPDATE spaces SET name = 'lc-space2' WHERE name = 'lc-space'`)],
      ['fabric renamed', () => q(`UPDATE fabrics SET name = 'lc-fabric2' WHERE name = 'lc-fabric'`)],
      ['subnet gateway', () => q(`UPDATE subnets SET gateway_ip = '10.99.0.254' WHERE name = 'lc-net'`)],
      ['lease gone', () => q(`DELETE FROM dhcp_leases WHERE ip = '10.99.0.77'`)],
      ['link address', () => q(`UPDATE interface_links SET ip = '10.99.0.11' WHERE ip = '10.99.0.10'`)],
      [
        'interface renamed',
        () =>
          q(
            `UPDATE interfaces SET name = 'bond1' WHERE name = 'bond0' AND machine_id = (SELECT id FROM machines WHERE system_id = $1)`,
            [bond],
          ),
      ],
      [
        'parent removed',
        () =>
          q(
            `DELETE FROM interface_parents WHERE child_id = (SELECT id FROM interfaces WHERE name = 'bond1' AND machine_id = (SELECT id FROM machines WHERE system_id = $1)) AND parent_id = (SELECT min(id) FROM interfaces WHERE machine_id = (SELECT id FROM machines WHERE system_id = $1))`,
            [bond],
          ),
      ],
      [
        'partition resized',
        () =>
          q(`UPDATE storage_partitions SET size = size - 1048576 WHERE id = (SELECT max(id) FROM storage_partitions)`),
      ],
      [
        'filesystem label',
        () =>
          q(`UPDATE storage_filesystems SET label = 'lc-label' WHERE id = (SELECT max(id) FROM storage_filesystems)`),
      ],
      [
        'disk tagged',
        () =>
          q(
            `UPDATE storage_block_devices SET tags = '{lc-disk}' WHERE machine_id = (SELECT id FROM machines WHERE system_id = $1)`,
            [bond],
          ),
      ],
      [
        'a machine joins the domain',
        () =>
          api.call('POST', '/MAAS/api/2.0/machines/', {
            key: admin,
            form: {
              hostname: 'lc-new',
              architecture: 'amd64/generic',
              mac_addresses: macAddress(),
              power_type: 'manual',
              commission: 'false',
            },
          }),
      ],
      ['rack renamed', () => q(`UPDATE racks SET name = name || '-2'`)],
    ];
    for (const [what, change] of changes) {
      await change();
      await sameAsPresenter(what);
    }
  });

  it('lists filtered and as a user exactly what the presenter shows them', async () => {
    const r = await api.call('GET', '/MAAS/api/2.0/machines/?hostname=lc-plain&hostname=lc-rich', { key: admin });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual((JSON.parse(r.text) as Json[]).map((m) => m.hostname).sort(), ['lc-plain', 'lc-rich']);
    const mine = JSON.parse(await listed(alice)) as Json[];
    assert.ok(
      mine.every((m) => m.owner === null || m.owner === 'alice2'),
      'alice sees no one else’s machine',
    );
  });

  // A listing reads its machines' ids once, then each chunk's views: a machine deleted in between
  // has neither kept JSON nor a view, and the reply (already 200) was cut off when it came up.
  // Driven chunk by chunk (one machine each), the delete lands exactly between two chunks.
  it('leaves out a machine deleted after the listing began, the rest still sent', async () => {
    const hostnames = ['lc-race-a', 'lc-race-b', 'lc-race-c'];
    const made: string[] = [];
    for (const hostname of hostnames) {
      const r = await api.call('POST', '/MAAS/api/2.0/machines/', {
        key: admin,
        form: {
          hostname,
          architecture: 'amd64/generic',
          mac_addresses: macAddress(),
          power_type: 'manual',
          commission: 'false',
        },
      });
      assert.equal(r.status, 200, r.text);
      made.push((r.body as Json).system_id as string);
    }
    const user = await region.services.db.getRepository(UserEntity).findOneByOrFail({ id: userIds.admin });
    // A cache of its own: cold, so every machine needs its view.
    const encoder = new MachineListingEncoder(new PresentedMachineCache(), {
      temporalUiUrl: null,
      temporalNamespace: region.namespace,
    });
    const sent: string[] = [];
    let chunks = 0;
    for await (const chunk of region.services.queries.versionedChunks(
      { kind: 'user', user },
      { hostname: hostnames },
      { size: 1, known: encoder.known },
    )) {
      for (const m of chunk.machines)
        sent.push(
          (JSON.parse(Buffer.concat(encoder.encode(m, chunk.views.get(m.id), chunk.domains)).toString()) as Json)
            .hostname as string,
        );
      if (++chunks === 1) {
        const r = await api.call('DELETE', `/MAAS/api/2.0/machines/${made[1]}/`, { key: admin });
        assert.equal(r.status, 204, r.text);
      }
    }
    assert.equal(chunks, 3, 'the deleted machine was listed when the listing began');
    assert.deepEqual(sent, ['lc-race-a', 'lc-race-c']);
    assert.deepEqual(
      (JSON.parse(await listed(admin)) as Json[]).map((m) => m.hostname).filter((h) => String(h).startsWith('lc-race')),
      ['lc-race-a', 'lc-race-c'],
    );
  });
});
