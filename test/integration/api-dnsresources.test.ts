// MAAS API: dnsresources/ and dnsresourcerecords/ over real HTTP on PostgreSQL: MAAS's shapes and
// validation, CNAME exclusivity, domains counting and protecting their records, and all=true's
// implicit records of machines' addresses.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dnsResourceResources } from '../../src/api/resources/dns-resources';
import { domainResources } from '../../src/api/resources/domains';
import { deployedMachineInput } from '../helpers/factories';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api';

type Json = Record<string, unknown>;
const RES = '/MAAS/api/2.0/dnsresources/';
const REC = '/MAAS/api/2.0/dnsresourcerecords/';
const DOMAINS = '/MAAS/api/2.0/domains/';

describe('MAAS API: DNS resources and records', () => {
  let api: ResourceApi;
  let admin: string;
  let alice: string;
  let domainId: number;

  before(async () => {
    api = await startResourceApi((services) => [
      ...dnsResourceResources({ services }),
      ...domainResources({ services }),
    ]);
    admin = (await api.user('admin', true)).key;
    alice = (await api.user('alice')).key;
    const d = await api.call('POST', DOMAINS, { key: admin, form: { name: 'lab.example', ttl: '600' } });
    domainId = (d.body as Json).id as number;
  });
  after(async () => api?.close());

  it('admins create a resource by fqdn with addresses; users read it in MAAS shape', async () => {
    const c = await api.call('POST', RES, {
      key: admin,
      form: { fqdn: 'www.lab.example', ip_addresses: '10.0.0.5 2001:db8::5', address_ttl: '60' },
    });
    assert.equal(c.status, 200, c.text);
    const r = c.body as Json;
    assert.equal(r.fqdn, 'www.lab.example');
    assert.equal(r.address_ttl, 60);
    assert.deepEqual(
      (r.ip_addresses as Json[]).map((a) => a.ip),
      ['10.0.0.5', '2001:db8::5'],
    );
    assert.deepEqual(r.resource_records, []);
    assert.equal(r.resource_uri, `${RES}${r.id}/`);
    assert.deepEqual((await api.call('GET', `${RES}${r.id}/`, { key: alice })).body, r);
    const byName = await api.call('GET', `${RES}?domain=lab.example&name=www`, { key: alice });
    assert.deepEqual(byName.body, [r]);
    assert.deepEqual((await api.call('GET', `${RES}?rrtype=AAAA`, { key: alice })).body, [r]);
    assert.deepEqual((await api.call('GET', `${RES}?rrtype=MX`, { key: alice })).body, []);

    const dup = await api.call('POST', RES, { key: admin, form: { name: 'www', domain: String(domainId) } });
    assert.equal(dup.status, 400);
    assert.match(dup.text, /Labels must be unique within their zone/);
    const denied = await api.call('POST', RES, { key: alice, form: { fqdn: 'x.lab.example' } });
    assert.equal(denied.status, 403);
    const bad = await api.call('POST', RES, {
      key: admin,
      form: { fqdn: 'y.lab.example', ip_addresses: '10.0.0.999' },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /10\.0\.0\.999 is not a valid IP address/);
    const badName = await api.call('POST', RES, {
      key: admin,
      form: { name: 'bad_name', domain: 'lab.example', ip_addresses: '10.0.0.6' },
    });
    assert.equal(badName.status, 400);
    assert.match(badName.text, /Invalid dnsresource name: bad_name/);
    const count = (await api.services.db.query(`SELECT count(*)::int AS n FROM dns_resources`)) as [{ n: number }];
    assert.equal(count[0].n, 1, 'refused creates wrote nothing');

    const u = await api.call('PUT', `${RES}${r.id}/`, {
      key: admin,
      form: { ip_addresses: '10.0.0.7', address_ttl: '' },
    });
    assert.equal(u.status, 200, u.text);
    assert.deepEqual(
      ((u.body as Json).ip_addresses as Json[]).map((a) => a.ip),
      ['10.0.0.7'],
    );
    assert.equal((u.body as Json).address_ttl, null);
  });

  it('records: MAAS validation per type, CNAME alone on its name, the resource made and removed with them', async () => {
    const mx = await api.call('POST', REC, {
      key: admin,
      form: { fqdn: 'mail.lab.example', rrtype: 'mx', rrdata: '10 mx1.lab.example', ttl: '300' },
    });
    assert.equal(mx.status, 200, mx.text);
    const rec = mx.body as Json;
    assert.deepEqual(
      { fqdn: rec.fqdn, rrtype: rec.rrtype, rrdata: rec.rrdata, ttl: rec.ttl },
      { fqdn: 'mail.lab.example', rrtype: 'MX', rrdata: '10 mx1.lab.example', ttl: 300 },
    );
    assert.equal(rec.resource_uri, `${REC}${rec.id}/`);
    const txt = await api.call('POST', REC, {
      key: admin,
      form: { name: 'mail', domain: 'lab.example', rrtype: 'TXT', rrdata: 'v=spf1 -all' },
    });
    assert.equal(txt.status, 200, txt.text);

    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ name: 'mail', domain: 'lab.example', rrtype: 'CNAME', rrdata: 'www' }, /cannot coexist with non-CNAME/],
      [{ name: 'www', domain: 'lab.example', rrtype: 'CNAME', rrdata: 'other' }, /cannot coexist with non-CNAME/],
      [{ name: 'x', domain: 'lab.example', rrtype: 'MX', rrdata: 'ten mx' }, /Invalid MX/],
      [{ name: 'x', domain: 'lab.example', rrtype: 'MX', rrdata: '70000 mx.lab.example' }, /Invalid MX/],
      [
        { name: 'x', domain: 'lab.example', rrtype: 'SRV', rrdata: '1 2 http' },
        /Invalid dnsresource name: x|Invalid SRV/,
      ],
      [{ name: '_http._tcp', domain: 'lab.example', rrtype: 'SRV', rrdata: '1 2 80' }, /Invalid SRV/],
      [{ name: 'x', domain: 'lab.example', rrtype: 'CNAME', rrdata: 'not valid!' }, /Invalid CNAME/],
      [
        { name: 'x', domain: 'lab.example', rrtype: 'A', rrdata: '10.0.0.1' },
        /A is not one of CNAME MX NS SRV SSHFP TXT/,
      ],
      [{ name: 'x', domain: 'lab.example', rrdata: 'v' }, /rrtype must be provided/],
      [{ name: 'x', domain: 'nowhere.example', rrtype: 'TXT', rrdata: 'v' }, /No Domain matches/],
    ];
    for (const [form, message] of cases) {
      const r = await api.call('POST', REC, { key: admin, form });
      assert.ok(r.status === 400 || r.status === 404, `${JSON.stringify(form)}: ${r.status} ${r.text}`);
      assert.match(r.text, message, JSON.stringify(form));
    }
    const srv = await api.call('POST', REC, {
      key: admin,
      form: { name: '_http._tcp', domain: 'lab.example', rrtype: 'SRV', rrdata: '1 2 80 www.lab.example' },
    });
    assert.equal(srv.status, 200, srv.text);
    // An SRV fqdn splits at the domain that exists (_service._proto, then lab.example).
    const srvByFqdn = await api.call('POST', REC, {
      key: admin,
      form: { fqdn: '_xmpp._tcp.lab.example', rrtype: 'SRV', rrdata: '5 0 5222 www.lab.example' },
    });
    assert.equal(srvByFqdn.status, 200, srvByFqdn.text);
    assert.equal((srvByFqdn.body as Json).fqdn, '_xmpp._tcp.lab.example');
    assert.equal((await api.call('DELETE', `${REC}${(srvByFqdn.body as Json).id}/`, { key: admin })).status, 204);

    const cname = await api.call('POST', REC, {
      key: admin,
      form: { fqdn: 'alias.lab.example', rrtype: 'CNAME', rrdata: 'www' },
    });
    assert.equal(cname.status, 200, cname.text);
    const second = await api.call('POST', REC, {
      key: admin,
      form: { fqdn: 'alias.lab.example', rrtype: 'CNAME', rrdata: 'mail' },
    });
    assert.equal(second.status, 400);
    assert.match(second.text, /Only one CNAME can be associated with a name/);
    const aliasRes = (await api.call('GET', `${RES}?name=alias&domain=lab.example`, { key: alice })).body as Json[];
    const addAddress = await api.call('PUT', `${RES}${aliasRes[0]!.id}/`, {
      key: admin,
      form: { ip_addresses: '10.0.0.8' },
    });
    assert.equal(addAddress.status, 400);
    assert.match(addAddress.text, /Cannot add address: CNAME present/);

    const listed = (await api.call('GET', `${REC}?domain=lab.example&rrtype=MX`, { key: alice })).body as Json[];
    assert.deepEqual(
      listed.map((r) => r.rrdata),
      ['10 mx1.lab.example'],
    );
    const put = await api.call('PUT', `${REC}${rec.id}/`, { key: admin, form: { rrdata: '20 mx2.lab.example' } });
    assert.equal(put.status, 200, put.text);
    assert.equal((put.body as Json).rrdata, '20 mx2.lab.example');

    // Deleting a name's last record takes its resource with it, as MAAS does.
    const cnameId = (cname.body as Json).id as number;
    assert.equal((await api.call('DELETE', `${REC}${cnameId}/`, { key: admin })).status, 204);
    assert.deepEqual((await api.call('GET', `${RES}?name=alias`, { key: alice })).body, []);
    assert.equal((await api.call('GET', `${REC}${cnameId}/`, { key: alice })).status, 404);
  });

  it('a domain counts its records and cannot be deleted while it has DNS resources', async () => {
    const d = (await api.call('GET', `${DOMAINS}${domainId}/`, { key: alice })).body as Json;
    // www: 1 address; mail: MX + TXT; _http._tcp: SRV.
    assert.equal(d.resource_record_count, 4);
    const del = await api.call('DELETE', `${DOMAINS}${domainId}/`, { key: admin });
    assert.equal(del.status, 400);
    assert.match(del.text, /DNSResource\.domain/);
    assert.equal((await api.call('GET', `${DOMAINS}${domainId}/`, { key: alice })).status, 200);
  });

  it("all=true adds the implicit records of machines' boot-interface addresses", async () => {
    const m = await api.services.machines.create(
      deployedMachineInput('node1', null, { domain: 'lab.example', macAddresses: ['52:54:00:aa:00:01'] }),
    );
    await api.services.db.query(`INSERT INTO dhcp_leases (ip, mac_address) VALUES ('10.0.0.50', '52:54:00:aa:00:01')`);
    const plain = (await api.call('GET', `${RES}?domain=lab.example`, { key: admin })).body as Json[];
    assert.ok(!plain.some((r) => r.id === -1));
    const all = (await api.call('GET', `${RES}?domain=lab.example&all=true`, { key: admin })).body as Json[];
    const implicit = all.filter((r) => r.id === -1);
    assert.deepEqual(implicit, [
      {
        id: -1,
        fqdn: 'node1.lab.example',
        address_ttl: null,
        ip_addresses: null,
        resource_records: [
          {
            system_id: m.systemId,
            node_type: 0,
            user_id: null,
            dnsresource_id: null,
            dnsdata_id: null,
            ttl: 600,
            rrtype: 'A',
            rrdata: '10.0.0.50',
          },
        ],
        resource_uri: `${RES}-1/`,
      },
    ]);
    assert.equal(all.length, plain.length + 1);
    const filtered = (await api.call('GET', `${RES}?all=true&rrtype=AAAA&name=node1`, { key: admin })).body;
    assert.deepEqual(filtered, []);
  });
});
