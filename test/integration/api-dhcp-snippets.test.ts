// MAAS API: dhcp-snippets/ over real HTTP on PostgreSQL: MAAS's shape, scope rules and revert,
// admin-only writes, every class of refused statement a 400 that writes nothing, and what the
// rack's DHCP config carries (snippets per scope, ntp_servers, domain, MTU, static routes).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dhcpSnippetResources } from '../../src/api/resources/dhcp-snippets';
import { fabricResources } from '../../src/api/resources/fabrics';
import { machineInput } from '../helpers/factories';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api';

type Json = Record<string, unknown>;
const API = '/MAAS/api/2.0';
const SNIPPETS = `${API}/dhcp-snippets/`;

describe('MAAS API: dhcp-snippets', () => {
  let api: ResourceApi;
  let admin: string;
  let alice: string;
  let rack: string;
  let subnetId: number;
  let systemId: string;
  const MAC = '52:54:00:dd:00:01';

  before(async () => {
    api = await startResourceApi((services) => [
      ...dhcpSnippetResources({ services }),
      ...fabricResources({ services }),
    ]);
    const adminUser = await api.user('admin', true);
    admin = adminUser.key;
    alice = (await api.user('alice')).key;
    rack = (
      await api.services.racks.register({
        name: 'rack-a',
        version: 'test',
        interfaces: [{ name: 'br0', mac: '02:00:00:00:00:01', addresses: ['10.67.0.1/24'] }],
      })
    ).systemId;
    const subnet = await api.services.subnets.get('10.67.0.0/24');
    subnetId = subnet.id;
    await api.services.ipRanges.create({ type: 'dynamic', startIp: '10.67.0.100', endIp: '10.67.0.150' }, adminUser.id);
    const vlan = await api.call('PUT', `${API}/vlans/${subnet.vlanId}/`, {
      key: admin,
      form: { dhcp_on: 'True', primary_rack: rack },
    });
    assert.equal(vlan.status, 200, vlan.text);
    systemId = (await api.services.machines.create(machineInput({ hostname: 'snippy', macAddresses: [MAC] }))).systemId;
  });
  after(async () => api?.close());

  const count = async (table: string) =>
    Number(((await api.services.db.query(`SELECT count(*) AS n FROM ${table}`)) as Array<{ n: string }>)[0]!.n);
  const create = (form: Record<string, string>, key = admin) => api.call('POST', SNIPPETS, { key, form });

  it("creates in MAAS's shape with its history, reads, lists, updates and deletes (admins only)", async () => {
    const r = await create({ name: 'ntp', value: 'option ntp-servers 10.67.0.5;', description: 'site NTP' });
    assert.equal(r.status, 200, r.text);
    const body = r.body as Json;
    assert.deepEqual(Object.keys(body).sort(), [
      'description',
      'enabled',
      'global_snippet',
      'history',
      'id',
      'name',
      'node',
      'resource_uri',
      'subnet',
      'value',
    ]);
    assert.equal(body.value, 'option ntp-servers 10.67.0.5;');
    assert.equal(body.enabled, true);
    assert.equal(body.global_snippet, true);
    assert.equal(body.node, null);
    assert.equal(body.subnet, null);
    assert.equal((body.history as Json[]).length, 1);
    const uri = body.resource_uri as string;
    assert.equal(uri, `${SNIPPETS}${body.id as number}/`);
    assert.deepEqual((await api.call('GET', uri, { key: alice })).body, body, 'users read');
    assert.ok(((await api.call('GET', SNIPPETS, { key: alice })).body as Json[]).some((s) => s.id === body.id));

    assert.equal((await create({ name: 'x', value: 'option ntp-servers 1.2.3.4;' }, alice)).status, 403);
    assert.equal((await api.call('PUT', uri, { key: alice, form: { enabled: 'false' } })).status, 403);
    assert.equal((await api.call('DELETE', uri, { key: alice })).status, 403);

    const up = await api.call('PUT', uri, {
      key: admin,
      form: { value: 'option ntp-servers 10.67.0.6;', enabled: 'false' },
    });
    assert.equal(up.status, 200, up.text);
    assert.equal((up.body as Json).value, 'option ntp-servers 10.67.0.6;');
    assert.equal((up.body as Json).enabled, false);
    assert.deepEqual(
      ((up.body as Json).history as Json[]).map((h) => h.value),
      ['option ntp-servers 10.67.0.6;', 'option ntp-servers 10.67.0.5;'],
    );
    assert.equal((await api.call('DELETE', uri, { key: admin })).status, 204);
    assert.equal((await api.call('GET', uri, { key: admin })).status, 404);
    assert.equal(await count('dhcp_snippet_versions'), 0, 'the versions go with it');
  });

  it("follows MAAS's scope rules: node or subnet, global_snippet clears both, a new one replaces the other", async () => {
    const both = await create({
      name: 'both',
      value: 'option interface-mtu 1400;',
      node: systemId,
      subnet: String(subnetId),
    });
    assert.equal(both.status, 400, both.text);
    assert.match(both.text, /cannot be enabled on a node and subnet at the same time/);
    const unknownNode = await create({ name: 'n', value: 'option interface-mtu 1400;', node: 'nosuch' });
    assert.equal(unknownNode.status, 400);
    assert.match(unknownNode.text, /node/);
    const unknownSubnet = await create({ name: 'n', value: 'option interface-mtu 1400;', subnet: '10.99.0.0/24' });
    assert.equal(unknownSubnet.status, 400);
    assert.match(unknownSubnet.text, /subnet/);

    const s = (await create({ name: 's', value: 'option interface-mtu 1400;', subnet: '10.67.0.0/24' })).body as Json;
    assert.equal((s.subnet as Json).id, subnetId);
    assert.equal(s.global_snippet, false);
    const uri = s.resource_uri as string;
    const toNode = (await api.call('PUT', uri, { key: admin, form: { node: systemId } })).body as Json;
    assert.equal((toNode.node as Json).system_id, systemId);
    assert.equal(toNode.subnet, null, 'the node replaces the subnet');
    const toGlobal = (await api.call('PUT', uri, { key: admin, form: { global_snippet: 'true' } })).body as Json;
    assert.equal(toGlobal.node, null);
    assert.equal(toGlobal.global_snippet, true);
    await api.call('DELETE', uri, { key: admin });
  });

  it('reverts to an id or by steps back, deleting the later values; refuses a bad `to`', async () => {
    const s = (await create({ name: 'r', value: 'option interface-mtu 1401;' })).body as Json;
    const uri = s.resource_uri as string;
    for (const mtu of [1402, 1403, 1404])
      await api.call('PUT', uri, { key: admin, form: { value: `option interface-mtu ${mtu};` } });
    const history = async () =>
      (((await api.call('GET', uri, { key: admin })).body as Json).history as Json[]).map((h) => h);
    const [, v3, , v1] = await history();
    const back = await api.call('POST', `${uri}op-revert`, { key: admin, form: { to: '-1' } });
    assert.equal(back.status, 200, back.text);
    assert.equal((back.body as Json).value, 'option interface-mtu 1403;');
    const toId = await api.call('POST', `${uri}op-revert`, { key: admin, form: { to: String(v1!.id) } });
    assert.equal((toId.body as Json).value, 'option interface-mtu 1401;');
    assert.equal(((toId.body as Json).history as Json[]).length, 1);
    for (const [to, message] of [
      ['', /You must specify where to revert to/],
      ['abc', /invalid 'to' value/],
      ['-5', /Goes too far back/],
      [String(v3!.id), /not found in history/],
    ] as const) {
      const r = await api.call('POST', `${uri}op-revert`, { key: admin, form: to ? { to } : {} });
      assert.equal(r.status, 400, `${to}: ${r.text}`);
      assert.match(r.text, message);
    }
    await api.call('DELETE', uri, { key: admin });
  });

  it('refuses every class of unsupported statement with a 400 naming it, and writes nothing', async () => {
    const keep = (await create({ name: 'keep', value: 'option interface-mtu 1450;' })).body as Json;
    const before = [await count('dhcp_snippets'), await count('dhcp_snippet_versions')];
    const values: Array<[string, RegExp]> = [
      ['host foo { fixed-address 10.0.0.1; }', /blocks are not supported/],
      ['if exists user-class;', /conditionals/],
      ['deny unknown-clients;', /client access rules/],
      ['ddns-update-style none;', /dynamic DNS/],
      ['authoritative;', /'authoritative'.*not supported/],
      ['option foo 1;', /unknown option 'foo'/],
      ['option dhcp-server-identifier 10.0.0.1;', /option 54 cannot be set/],
      ['option ntp-servers ntp.example.com;', /host names are not resolved/],
      ['option ntp-servers 1.2.3.4', /not terminated/],
    ];
    for (const [value, message] of values) {
      const r = await create({ name: 'bad', value });
      assert.equal(r.status, 400, `${value}: ${r.text}`);
      assert.match(r.text, message);
      assert.match(r.text, /value/);
      const u = await api.call('PUT', keep.resource_uri as string, { key: admin, form: { value, name: 'renamed' } });
      assert.equal(u.status, 400, `${value}: ${u.text}`);
    }
    assert.equal((await create({ name: 'no-value' })).status, 400);
    assert.deepEqual([await count('dhcp_snippets'), await count('dhcp_snippet_versions')], before);
    const kept = (await api.call('GET', keep.resource_uri as string, { key: admin })).body as Json;
    assert.equal(kept.name, 'keep');
    assert.equal(kept.value, 'option interface-mtu 1450;');
    await api.call('DELETE', keep.resource_uri as string, { key: admin });
  });

  it('gives the rack its snippets per scope (enabled only) and the derived options', async () => {
    await api.services.config.set('ntp_servers', 'ntp.example.com 10.67.0.123');
    const g = (await create({ name: 'g', value: 'option time-servers 10.67.0.4;' })).body as Json;
    const s = (await create({ name: 's', value: 'option log-servers 10.67.0.7;', subnet: String(subnetId) }))
      .body as Json;
    const h = (await create({ name: 'h', value: 'option interface-mtu 1400;', node: systemId })).body as Json;
    const off = (await create({ name: 'off', value: 'option root-path "x";', enabled: 'false' })).body as Json;
    const config = await api.services.rackDhcp.config(rack);
    const sub = config.subnets[0]!;
    assert.deepEqual(sub.ntpServers, ['10.67.0.123'], 'option 42 holds addresses only');
    assert.equal(sub.domain, 'maas');
    assert.deepEqual(sub.domainSearch, ['maas']);
    assert.equal(sub.mtu, 1500);
    assert.deepEqual(sub.snippets?.options, [{ code: 7, hex: '0a430007' }]);
    assert.deepEqual(config.globalSnippets?.options, [{ code: 4, hex: '0a430004' }]);
    assert.deepEqual(config.hostSnippets, [{ mac: MAC, snippets: { options: [{ code: 26, hex: '0578' }] } }]);
    for (const x of [g, s, h, off]) await api.call('DELETE', x.resource_uri as string, { key: admin });
    assert.deepEqual((await api.services.rackDhcp.config(rack)).hostSnippets, []);
  });
});
