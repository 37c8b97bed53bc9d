// MAAS API networking (fabrics, VLANs, subnets, IP ranges, reserved IPs, rack controllers) over
// real HTTP on PostgreSQL, and what it makes of a rack's DHCP configuration.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fabricResources } from '../../src/api/resources/fabrics';
import { ipAddressResources } from '../../src/api/resources/ipaddresses';
import { rackControllerResources } from '../../src/api/resources/rackcontrollers';
import { subnetResources } from '../../src/api/resources/subnets';
import { BootConfigService } from '../../src/region/services/boot-config';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api';

type Json = Record<string, unknown>;
const API = '/MAAS/api/2.0';

describe('MAAS API: networking and rack DHCP configuration', () => {
  let api: ResourceApi;
  let admin: string;
  let alice: string;
  let rack: string;
  let standby: string;

  before(async () => {
    api = await startResourceApi((services) => [
      ...fabricResources({ services }),
      ...subnetResources({ services }),
      ...ipAddressResources({ services }),
      ...rackControllerResources({ services }),
    ]);
    admin = (await api.user('admin', true)).key;
    alice = (await api.user('alice')).key;
    const iface = { name: 'br0', mac: '02:00:00:00:00:01', addresses: ['10.77.0.1/24', 'fd77::1/64', 'fe80::1/64'] };
    rack = (
      await api.services.racks.register({
        name: 'rack-a',
        version: 'test',
        interfaces: [iface, { name: 'lo', mac: '00:00:00:00:00:00', addresses: ['127.0.0.1/8'] }],
      })
    ).systemId;
    standby = (
      await api.services.racks.register({
        name: 'rack-b',
        version: 'test',
        interfaces: [{ ...iface, addresses: ['10.77.0.2/24'] }],
      })
    ).systemId;
  });
  after(async () => api?.close());

  const subnetOf = async (cidr: string) =>
    (await api.call('GET', `${API}/subnets/${encodeURIComponent(cidr)}/`, { key: alice })).body as Json;

  it("learns a rack's subnets on a new fabric, one VLAN per interface, skipping loopback and link-local", async () => {
    const subnets = (await api.call('GET', `${API}/subnets/`, { key: alice })).body as Json[];
    assert.deepEqual(subnets.map((s) => s.cidr).sort(), ['10.77.0.0/24', 'fd77::/64']);
    const [v4, v6] = [await subnetOf('10.77.0.0/24'), await subnetOf('fd77::/64')];
    assert.equal((v4.vlan as Json).id, (v6.vlan as Json).id, 'addresses of one interface share its VLAN');
    assert.equal((v4.vlan as Json).fabric, 'fabric-1');
    const fabrics = (await api.call('GET', `${API}/fabrics/`, { key: alice })).body as Json[];
    assert.deepEqual(
      fabrics.map((f) => f.name),
      ['fabric-0', 'fabric-1'],
    );
    assert.equal(((fabrics[1]!.vlans as Json[])[0] as Json).vid, 0);
  });

  it('DHCP needs a primary rack and a dynamic range; ranges are validated and never overlap', async () => {
    const fabricId = ((await subnetOf('10.77.0.0/24')).vlan as Json).fabric_id as number;
    const vlanUri = `${API}/fabrics/${fabricId}/vlans/0/`;
    const noRange = await api.call('PUT', vlanUri, { key: admin, form: { dhcp_on: 'True', primary_rack: rack } });
    assert.equal(noRange.status, 400, noRange.text);
    assert.match(noRange.text, /dynamic IP range/);

    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ type: 'dynamic', start_ip: '10.77.0.100', end_ip: '10.78.0.5' }, /End IP address must be within subnet/],
      [{ type: 'dynamic', start_ip: '10.77.0.200', end_ip: '10.77.0.100' }, /must not be less than/],
      [{ type: 'dynamic', start_ip: '10.77.0.0', end_ip: '10.77.0.9' }, /network or broadcast/],
      [{ type: 'sticky', start_ip: '10.77.0.100', end_ip: '10.77.0.110' }, /type/],
      [{ type: 'dynamic', start_ip: 'not-an-ip', end_ip: '10.77.0.110' }, /start_ip/],
    ];
    for (const [form, why] of bad) {
      const r = await api.call('POST', `${API}/ipranges/`, { key: admin, form });
      assert.equal(r.status, 400, `${JSON.stringify(form)} → ${r.status} ${r.text}`);
      assert.match(r.text, why);
    }
    const users = await api.call('POST', `${API}/ipranges/`, {
      key: alice,
      form: { type: 'dynamic', start_ip: '10.77.0.100', end_ip: '10.77.0.150' },
    });
    assert.equal(users.status, 403, 'only admins create dynamic ranges');

    const dyn = await api.call('POST', `${API}/ipranges/`, {
      key: admin,
      form: { type: 'dynamic', start_ip: '10.77.0.100', end_ip: '10.77.0.150' },
    });
    assert.equal(dyn.status, 200, dyn.text);
    assert.equal(((dyn.body as Json).subnet as Json).cidr, '10.77.0.0/24', 'the subnet is found from start_ip');
    const overlap = await api.call('POST', `${API}/ipranges/`, {
      key: alice,
      form: { type: 'reserved', start_ip: '10.77.0.150', end_ip: '10.77.0.160' },
    });
    assert.equal(overlap.status, 400);
    assert.match(overlap.text, /conflicts with an existing dynamic range: 10\.77\.0\.100-10\.77\.0\.150/);
    const reserved = await api.call('POST', `${API}/ipranges/`, {
      key: alice,
      form: { type: 'reserved', start_ip: '10.77.0.151', end_ip: '10.77.0.160', comment: 'switches' },
    });
    assert.equal(reserved.status, 200, reserved.text);
    assert.equal(((reserved.body as Json).user as Json).username, 'alice');
    const mine = `${API}/ipranges/${(reserved.body as Json).id}/`;
    const renamed = await api.call('PUT', mine, { key: alice, form: { comment: 'core switches' } });
    assert.equal((renamed.body as Json).comment, 'core switches', 'users change their own reserved ranges');
    assert.equal(
      (await api.call('PUT', mine, { key: alice, form: { type: 'dynamic' } })).status,
      403,
      'but may not make them dynamic',
    );
    assert.equal((await api.call('DELETE', `${API}/ipranges/${(dyn.body as Json).id}/`, { key: alice })).status, 403);

    const secondaryIsPrimary = await api.call('PUT', vlanUri, {
      key: admin,
      form: { dhcp_on: 'True', primary_rack: rack, secondary_rack: rack },
    });
    assert.equal(secondaryIsPrimary.status, 400);
    const on = await api.call('PUT', vlanUri, {
      key: admin,
      form: { dhcp_on: 'True', primary_rack: rack, secondary_rack: standby },
    });
    assert.equal(on.status, 200, on.text);
    assert.equal((on.body as Json).dhcp_on, true);
    assert.equal((on.body as Json).primary_rack, rack);
    assert.equal((on.body as Json).secondary_rack, standby);

    const last = await api.call('DELETE', `${API}/ipranges/${(dyn.body as Json).id}/`, { key: admin });
    assert.equal(last.status, 400, 'the last dynamic range of a VLAN serving DHCP stays');
    assert.equal(
      (await api.call('PUT', `${API}/vlans/${(on.body as Json).id}/`, { key: alice, form: { dhcp_on: 'False' } }))
        .status,
      403,
    );
  });

  it('reserved IPs with a MAC are fixed DHCP hosts; the primary rack serves, the secondary only when the primary is silent', async () => {
    const inPool = await api.call('POST', `${API}/ipaddresses/?op=reserve`, {
      key: alice,
      form: { ip: '10.77.0.120', mac: '52:54:00:00:00:09' },
    });
    assert.equal(inPool.status, 400);
    assert.match(inPool.text, /dynamic range/);
    const badMac = await api.call('POST', `${API}/ipaddresses/?op=reserve`, {
      key: alice,
      form: { ip: '10.77.0.20', mac: 'zz' },
    });
    assert.equal(badMac.status, 400);
    const fixed = await api.call('POST', `${API}/ipaddresses/?op=reserve`, {
      key: alice,
      form: { ip: '10.77.0.20', mac: '52-54-00-00-00-09', hostname: 'printer' },
    });
    assert.equal(fixed.status, 200, fixed.text);
    assert.equal((fixed.body as Json).mac_address, '52:54:00:00:00:09');
    assert.equal(
      (await api.call('POST', `${API}/ipaddresses/?op=reserve`, { key: admin, form: { ip: '10.77.0.20' } })).status,
      409,
    );

    const config = await api.services.rackDhcp.config(rack);
    assert.equal(config.subnets.length, 1, 'IPv4 subnets with DHCP on only');
    const s = config.subnets[0]!;
    assert.equal(s.cidr, '10.77.0.0/24');
    assert.deepEqual(s.dynamicRanges, [{ start: '10.77.0.100', end: '10.77.0.150' }]);
    assert.deepEqual(s.reservedRanges, [{ start: '10.77.0.151', end: '10.77.0.160' }]);
    assert.deepEqual(s.fixed, [{ mac: '52:54:00:00:00:09', ip: '10.77.0.20', hostname: 'printer' }]);
    assert.deepEqual(
      (await api.services.rackDhcp.config(standby)).subnets,
      [],
      'the secondary waits while the primary is alive',
    );

    await api.services.db.query(`UPDATE racks SET last_seen = now() - interval '5 minutes' WHERE system_id = $1`, [
      rack,
    ]);
    assert.equal(
      (await api.services.rackDhcp.config(standby)).subnets.length,
      1,
      'the secondary takes over from a silent primary',
    );
    const racks = (await api.call('GET', `${API}/rackcontrollers/`, { key: alice })).body as Json[];
    assert.deepEqual(
      racks.map((r) => r.hostname),
      ['rack-a', 'rack-b'],
    );
    await api.services.racks.heartbeat(standby, {
      services: { dhcp: { status: 'running', message: 'serving 1 subnet' } },
    });
    const b = (await api.call('GET', `${API}/rackcontrollers/${standby}/`, { key: alice })).body as Json;
    assert.deepEqual(b.service_set, [{ name: 'dhcp', status: 'running', status_info: 'serving 1 subnet' }]);
    await api.services.racks.heartbeat(rack, { services: { dhcp: { status: 'running', message: 'ok' } } });
    await api.services.db.query(`UPDATE racks SET last_seen = now() - interval '5 minutes' WHERE system_id = $1`, [
      rack,
    ]);
    const a = (await api.call('GET', `${API}/rackcontrollers/${rack}/`, { key: alice })).body as Json;
    assert.equal((a.service_set as Json[])[0]!.status, 'dead', 'a silent rack shows its services dead');
    assert.equal((await api.call('GET', `${API}/rackcontrollers/nope/`, { key: alice })).status, 404);

    await api.services.db.query(`UPDATE racks SET last_seen = now()`);
    assert.equal(
      (await api.call('POST', `${API}/ipaddresses/?op=release`, { key: admin, form: { ip: '10.77.0.20' } })).status,
      204,
    );
    assert.deepEqual((await api.services.rackDhcp.config(rack)).subnets[0]!.fixed, []);
  });

  it('records leases racks report, skipping malformed events', async () => {
    const at = new Date(Date.now() + 600_000).toISOString();
    await api.services.rackDhcp.recordLeases(rack, [
      { action: 'commit', ip: '10.77.0.101', mac: '52:54:00:12:34:56', hostname: 'pxe', at },
    ]);
    const rows = (await api.services.db.query(
      `SELECT host(ip) AS ip, mac_address::text AS mac, subnet_id FROM dhcp_leases`,
    )) as Json[];
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.mac, '52:54:00:12:34:56');
    assert.ok(rows[0]!.subnet_id, 'the lease is tied to its subnet');
    const mixed = await api.services.rackDhcp.recordLeases(rack, [
      { action: 'commit', ip: 'nope', mac: '52:54:00:12:34:56', hostname: '', at },
      { action: 'commit', ip: '10.77.0.102', mac: '01:02:03:04:05:06:07:08', hostname: '', at },
      { action: 'commit', ip: '10.77.0.103', mac: '52:54:00:12:34:57', hostname: 'a\u0000b\nc', at },
    ]);
    assert.deepEqual(mixed, { recorded: 1, skipped: 2 }, 'a bad event is skipped, the rest recorded');
    const odd = (await api.services.db.query(`SELECT hostname FROM dhcp_leases WHERE ip = '10.77.0.103'`)) as Json[];
    assert.equal(odd[0]!.hostname, 'abc', 'control characters in a client hostname are dropped');
    await api.services.rackDhcp.recordLeases(rack, [
      { action: 'release', ip: '10.77.0.103', mac: '52:54:00:12:34:57', hostname: '', at },
    ]);
    assert.equal(((await api.services.db.query(`SELECT count(*)::int AS n FROM dhcp_leases`)) as Json[])[0]!.n, 1);
    await api.services.rackDhcp.recordLeases(rack, [
      { action: 'release', ip: '10.77.0.101', mac: '52:54:00:12:34:56', hostname: '', at },
    ]);
    assert.equal(((await api.services.db.query(`SELECT count(*)::int AS n FROM dhcp_leases`)) as Json[])[0]!.n, 0);
  });

  it("a rack's lease table (replace) replaces its leases: what a restart or an outage lost is corrected", async () => {
    const at = new Date(Date.now() + 600_000).toISOString();
    const commit = (ip: string, mac: string) => ({ action: 'commit' as const, ip, mac, hostname: '', at });
    const ips = async () =>
      ((await api.services.db.query(`SELECT host(ip) AS ip FROM dhcp_leases ORDER BY ip`)) as Json[]).map((r) => r.ip);
    await api.services.rackDhcp.recordLeases(rack, [
      commit('10.77.0.110', '52:54:00:00:01:10'),
      commit('10.77.0.111', '52:54:00:00:01:11'),
    ]);
    // The rack restarted: .110's release never reached the region, .112 was leased meanwhile.
    await api.services.rackDhcp.recordLeases(
      rack,
      [commit('10.77.0.111', '52:54:00:00:01:11'), commit('10.77.0.112', '52:54:00:00:01:12')],
      { replace: true },
    );
    assert.deepEqual(await ips(), ['10.77.0.111', '10.77.0.112']);
    await assert.rejects(
      api.services.rackDhcp.recordLeases(rack, [{ ...commit('10.77.0.111', '52:54:00:00:01:11'), action: 'release' }], {
        replace: true,
      }),
      /commits only/,
    );
    assert.deepEqual(await ips(), ['10.77.0.111', '10.77.0.112'], 'a refused table changes nothing');
    await api.services.rackDhcp.recordLeases(rack, [], { replace: true });
    assert.deepEqual(await ips(), [], 'an empty table: the rack holds no leases');

    // While rack-a was down its secondary leased .113 to another MAC: rack-a's table, restating
    // its old lease of .113, neither takes the live lease over nor deletes the secondary's.
    await api.services.rackDhcp.recordLeases(rack, [commit('10.77.0.113', '52:54:00:00:01:13')]);
    await api.services.rackDhcp.recordLeases(standby, [commit('10.77.0.113', '52:54:00:00:01:99')]);
    await api.services.rackDhcp.recordLeases(rack, [commit('10.77.0.113', '52:54:00:00:01:13')], { replace: true });
    const held = (await api.services.db.query(
      `SELECT mac_address::text AS mac, r.system_id AS rack FROM dhcp_leases l JOIN racks r ON r.id = l.rack_id WHERE ip = '10.77.0.113'`,
    )) as Json[];
    assert.deepEqual(held, [{ mac: '52:54:00:00:01:99', rack: standby }]);
    await api.services.rackDhcp.recordLeases(rack, [], { replace: true });
    assert.deepEqual(await ips(), ['10.77.0.113'], "the secondary's lease is not rack-a's to drop");
    await api.services.rackDhcp.recordLeases(standby, [], { replace: true });
  });

  it('boot config by MAC: a known machine gets its purpose (a token only in a netboot phase), an unknown MAC enlists', async () => {
    const boot = new BootConfigService(api.services.db, api.services.machines, 'http://region/MAAS/metadata');
    const m = await api.services.machines.create({
      hostname: 'pxe-1',
      architecture: 'amd64/generic',
      macAddresses: ['52:54:00:aa:bb:cc'],
      powerParameters: {},
      deployed: false,
      ownerId: null,
    });
    const known = await boot.forMac('52-54-00-AA-BB-CC');
    assert.equal(known.known, true);
    // A NEW machine is in no netboot phase: it powers off, and its token stays in the region.
    assert.ok(known.known && known.systemId === m.systemId && known.purpose === 'poweroff' && !known.credentials);
    assert.deepEqual(await boot.forMac('52:54:00:00:00:77'), {
      known: false,
      purpose: 'enlist',
      mac: '52:54:00:00:00:77',
      metadataUrl: 'http://region/MAAS/metadata',
    });
    await assert.rejects(boot.forMac('garbage'), /not a valid MAC/);
    const theirs = await api.call('POST', `${API}/ipaddresses/?op=reserve`, {
      key: alice,
      form: { ip: '10.77.0.30', mac: '52:54:00:aa:bb:cc' },
    });
    assert.equal(theirs.status, 403, "a user cannot pin another machine's MAC to an address");
    assert.equal(
      (
        await api.call('POST', `${API}/ipaddresses/?op=reserve`, {
          key: admin,
          form: { ip: '10.77.0.30', mac: '52:54:00:aa:bb:cc' },
        })
      ).status,
      200,
    );
  });

  it('subnet validation: bad CIDR, overlap, gateway outside', async () => {
    for (const [form, why] of <Array<[Record<string, string>, RegExp]>>[
      [{ cidr: '10.0.0.0/33' }, /CIDR/],
      [{ cidr: '10.77.0.128/25' }, /overlaps/],
      [{ cidr: '10.9.0.0/24', gateway_ip: '10.8.0.1' }, /within CIDR/],
      [{ cidr: '10.9.0.0/24', vlan: '99999' }, /vlan/],
    ]) {
      const r = await api.call('POST', `${API}/subnets/`, { key: admin, form });
      assert.equal(r.status, 400, `${JSON.stringify(form)}: ${r.text}`);
      assert.match(r.text, why);
    }
    assert.equal(
      (await api.call('POST', `${API}/subnets/`, { key: alice, form: { cidr: '10.9.0.0/24' } })).status,
      403,
    );
    const ok = await api.call('POST', `${API}/subnets/`, {
      key: admin,
      form: { cidr: '10.9.0.7/24', gateway_ip: '10.9.0.1', dns_servers: '10.9.0.2 10.9.0.3' },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((ok.body as Json).cidr, '10.9.0.0/24', 'host bits are cleared');
    assert.deepEqual((ok.body as Json).dns_servers, ['10.9.0.2', '10.9.0.3']);
    assert.equal(((ok.body as Json).vlan as Json).fabric, 'fabric-0');
    assert.equal((await api.call('DELETE', `${API}/subnets/${(ok.body as Json).id}/`, { key: admin })).status, 204);
  });

  it('a rack with aliases, privacy addresses, odd addresses or networks an admin described differently still registers', async () => {
    await api.services.subnets.create({ cidr: '10.99.0.0/16' });
    const reg = await api.services.racks.register({
      name: 'rack-c',
      version: 'test',
      interfaces: [
        {
          name: 'eth7',
          mac: '02:00:00:00:00:07',
          addresses: ['10.88.0.1/24', '10.88.0.2/24', '10.0.0.1/33', 'fe80::1%eth7/64', '10.99.1.1/24', 'junk'],
        },
      ],
    });
    assert.ok(reg.systemId);
    const cidrs = ((await api.call('GET', `${API}/subnets/`, { key: alice })).body as Json[]).map((s) => s.cidr);
    assert.equal(cidrs.filter((c) => c === '10.88.0.0/24').length, 1, 'one subnet for two addresses in it');
    assert.ok(!cidrs.includes('10.99.1.0/24'), "the admin's overlapping 10.99.0.0/16 stands");
  });
});
