// The input layer at the HTTP level, on the region's real app (PostgreSQL + Temporal): NUL in
// fields, out-of-range and malformed path ids, a 50,000-deep JSON body, an oversized anonymous
// multipart, too many repeated values, control characters in OAuth headers, the UI's search and the
// metadata server's signals. Every one is a 4xx, never a 5xx, and writes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PARAM_LIMITS } from '../../src/api/http';
import { startApi, type ApiClient } from '../helpers/api';
import { startTestRegion, type TestRegion } from '../helpers/region';

const API = '/MAAS/api/2.0';
type Json = Record<string, unknown>;

describe('input hardening (real HTTP, PostgreSQL, Temporal)', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let machineKey: string;
  let systemId: string;

  /** Row counts of the tables a refused request could have written to. */
  const counts = async () => {
    const rows = (await region.services.db.query(
      `SELECT (SELECT count(*) FROM machines) AS machines, (SELECT count(*) FROM zones) AS zones,
              (SELECT count(*) FROM tags) AS tags, (SELECT count(*) FROM fabrics) AS fabrics,
              (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM resource_pools) AS pools`,
    )) as Array<Record<string, string>>;
    return rows[0];
  };
  before(async () => {
    region = await startTestRegion({});
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    const m = await region.services.machines.create({
      hostname: 'meta-1',
      macAddresses: ['52:54:00:00:10:01'],
      powerParameters: {},
      deployed: true,
      ownerId: null,
    });
    systemId = m.systemId;
    const t = (await api.call('GET', `${API}/machines/${systemId}/?op=get_token`, { key: admin })).body as Json;
    machineKey = `${t.consumer_key as string}:${t.token_key as string}:${t.token_secret as string}`;
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  it('a NUL or other control character in any field is a 400 naming it, and nothing is written', async () => {
    const before = await counts();
    const cases: Array<[string, string, Record<string, string | string[]>, string]> = [
      ['POST', `${API}/machines/`, { hostname: 'a\u0000b', mac_addresses: '52:54:00:00:10:02' }, 'hostname'],
      [
        'POST',
        `${API}/machines/`,
        { hostname: 'ok', description: 'x\u0007y', mac_addresses: '52:54:00:00:10:03' },
        'description',
      ],
      ['POST', `${API}/zones/`, { name: 'z\u0000' }, 'name'],
      ['POST', `${API}/zones/`, { name: 'zone-ok', description: '\u001b[31m' }, 'description'],
      ['POST', `${API}/tags/`, { name: 'tag-ok', comment: 'bad\u0000comment' }, 'comment'],
      ['POST', `${API}/fabrics/`, { name: 'f\u007f' }, 'name'],
      ['POST', `${API}/resourcepools/`, { name: 'pool\u0000' }, 'name'],
      ['POST', `${API}/machines/?op=allocate`, { comment: '\u0000' }, 'comment'],
      ['PUT', `${API}/machines/${systemId}/`, { description: 'NUL\u0000' }, 'description'],
      ['POST', `${API}/zones/`, { ['na\u0000me']: 'x', name: 'zone-ok2' }, 'na\u0000me'],
    ];
    for (const [method, path, form, field] of cases) {
      const r = await api.call(method, path, { key: admin, form });
      assert.equal(r.status, 400, `${method} ${path} ${JSON.stringify(form)}: ${r.status} ${r.text}`);
      assert.ok(Object.hasOwn(r.body as object, field), `${path}: names ${JSON.stringify(field)}: ${r.text}`);
    }
    const query = await api.call('GET', `${API}/machines/?hostname=%00`, { key: admin });
    assert.equal(query.status, 400, query.text);
    assert.deepEqual(Object.keys(query.body as object), ['hostname']);
    assert.deepEqual(await counts(), before);
    const mine = (
      (await region.services.db.query(`SELECT description FROM machines WHERE system_id = $1`, [systemId])) as Json[]
    )[0];
    assert.equal(mine?.description, '');
  });

  it('malformed and out-of-range path ids are 404s (or 400s), never an SQL error', async () => {
    const paths = [
      '/machines/%00/',
      '/machines/%00/?op=details',
      '/fabrics/99999999999/',
      '/fabrics/-1/',
      '/fabrics/1e3/',
      '/fabrics/0x10/',
      '/fabrics/1.5/',
      '/fabrics/99999999999/vlans/',
      '/fabrics/0/vlans/99999999999/',
      '/vlans/99999999999/',
      '/subnets/99999999999/',
      '/subnets/%00/',
      '/ipranges/99999999999/',
      '/ipranges/-1/',
      '/zones/-1/',
      '/zones/%00/',
      '/tags/%00/',
      '/users/%00/',
      '/resourcepool/99999999999/',
      '/resourcepool/%00/',
      '/boot-resources/99999999999/',
      '/boot-resources/1e3/',
      '/boot-resources/%20/',
      '/account/prefs/sshkeys/99999999999/',
      '/groups/99999999999/',
      '/placement-rules/99999999999/',
      '/rackcontrollers/%00/',
      '/regioncontrollers/%00/',
    ];
    for (const path of paths) {
      const r = await api.call('GET', API + path, { key: admin });
      assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status} ${r.text.slice(0, 200)}`);
    }
    const before = await counts();
    for (const [method, path] of [
      ['PUT', '/fabrics/99999999999/'],
      ['DELETE', '/fabrics/99999999999/'],
      ['DELETE', '/machines/%00/'],
      ['PUT', '/zones/%00/'],
      ['DELETE', '/subnets/99999999999/'],
    ] as const) {
      const r = await api.call(method, API + path, { key: admin, form: { name: 'renamed' } });
      assert.ok(r.status === 404 || r.status === 400, `${method} ${path}: ${r.status} ${r.text.slice(0, 200)}`);
    }
    assert.deepEqual(await counts(), before);
  });

  it('integer parameters outside the integer range are a 400 naming them', async () => {
    const events = await api.call('GET', `${API}/events/?op=query&limit=99999999999`, { key: admin });
    assert.equal(events.status, 400, events.text);
    assert.ok(Object.hasOwn(events.body as object, 'limit'));
    const after = await api.call('GET', `${API}/events/?op=query&after=-99999999999`, { key: admin });
    assert.equal(after.status, 400, after.text);
    const before = await counts();
    const vlan = await api.call('POST', `${API}/fabrics/0/vlans/`, { key: admin, form: { vid: '99999999999' } });
    assert.equal(vlan.status, 400, vlan.text);
    assert.ok(Object.hasOwn(vlan.body as object, 'vid'));
    assert.deepEqual(await counts(), before);
  });

  it('a JSON body nested 50,000 deep is a 400 and writes nothing', async () => {
    const before = await counts();
    const deep = `{"hostname":"deep","power_parameters":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
    for (const key of [admin, null]) {
      const r = await api.call('POST', `${API}/machines/`, {
        key,
        body: deep,
        headers: { 'Content-Type': 'application/json' },
      });
      assert.equal(r.status, 400, r.text.slice(0, 200));
      assert.match(r.text, /nested more than 32 levels deep/);
    }
    const event = await api.call('POST', `/MAAS/metadata/status/${systemId}`, {
      key: machineKey,
      body: `{"name":${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
      headers: { 'Content-Type': 'text/plain' },
    });
    assert.equal(event.status, 400, event.text.slice(0, 200));
    assert.deepEqual(await counts(), before);
  });

  it('an anonymous multipart create over 1 MiB, or with too many parts, is a 413 and creates nothing', async () => {
    const before = await counts();
    const form = new FormData();
    form.append('architecture', 'amd64/generic');
    form.append('mac_addresses', '52:54:00:00:10:09');
    form.append('blob', new Blob([Buffer.alloc(2 * 1024 * 1024, 7)]), 'blob.bin');
    const big = await api.call('POST', `${API}/machines/`, { body: form });
    assert.equal(big.status, 413, big.text);
    const parts = new FormData();
    for (let i = 0; i < 150; i++) parts.append(`p${i}`, 'x');
    const many = await api.call('POST', `${API}/machines/`, { body: parts });
    assert.equal(many.status, 413, many.text);
    assert.deepEqual(await counts(), before);
  });

  it('too many values for one name, or too many names, is a 400 naming the field', async () => {
    const tags = Array.from({ length: PARAM_LIMITS.valuesPerName + 1 }, (_, i) => `tags=t${i}`).join('&');
    const list = await api.call('GET', `${API}/machines/?${tags}`, { key: admin });
    assert.equal(list.status, 400, list.text);
    assert.deepEqual(Object.keys(list.body as object), ['tags']);
    const before = await counts();
    const macs = Array.from(
      { length: PARAM_LIMITS.valuesPerName + 1 },
      (_, i) => `52:54:00:01:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
    );
    const create = await api.call('POST', `${API}/machines/`, {
      key: admin,
      form: { hostname: 'many-macs', mac_addresses: macs },
    });
    assert.equal(create.status, 400, create.text);
    assert.ok(Object.hasOwn(create.body as object, 'mac_addresses'));
    const names = Object.fromEntries(Array.from({ length: PARAM_LIMITS.names + 1 }, (_, i) => [`n${i}`, 'x']));
    const wide = await api.call('POST', `${API}/zones/`, { key: admin, form: { name: 'wide', ...names } });
    assert.equal(wide.status, 400, wide.text);
    assert.deepEqual(await counts(), before);
  });

  it('a control character in an OAuth header value is a 401, not a 500', async () => {
    const [consumer, token] = admin.split(':');
    for (const header of [
      `OAuth oauth_consumer_key="${consumer}", oauth_token="%00", oauth_signature_method="PLAINTEXT", oauth_signature="%26x"`,
      `OAuth oauth_consumer_key="%00${consumer}", oauth_token="${token}", oauth_signature_method="PLAINTEXT", oauth_signature="%26x"`,
      `OAuth oauth_consumer_key="${consumer}", oauth_token="${token}%0A", oauth_signature_method="PLAINTEXT", oauth_signature="%26x"`,
    ]) {
      for (const path of [`${API}/machines/`, '/MAAS/metadata/2012-03-01/meta-data/']) {
        const r = await api.call('GET', path, { headers: { Authorization: header } });
        assert.equal(r.status, 401, `${path}: ${r.status} ${r.text}`);
      }
    }
  });

  it("the metadata server's signal and event fields refuse control characters with a 400", async () => {
    const before = await counts();
    const forms: Array<Record<string, string>> = [
      { op: 'signal', status: 'WORKING', error: 'bad\u0000' },
      { op: 'signal', status: '\u0000' },
    ];
    for (const form of forms) {
      const r = await api.call('POST', '/MAAS/metadata/2012-03-01/', { key: machineKey, form });
      assert.equal(r.status, 400, r.text);
    }
    const event = await api.call('POST', `/MAAS/metadata/status/${systemId}`, {
      key: machineKey,
      body: JSON.stringify({ event_type: 'start', name: 'x', description: 'NUL\u0000' }),
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(event.status, 400, event.text);
    assert.deepEqual(await counts(), before);
  });

  it('the rack API refuses malformed MACs in its path and deep JSON with 4xx', async () => {
    const rack = { Authorization: 'Bearer test-rack-secret' };
    // A control character names no MAC (404); broken percent-encoding is a malformed request (400).
    for (const [mac, status] of [
      ['%00', 404],
      ['%E0%A4%A', 400],
      ['52%3A54%0A', 404],
    ] as const) {
      const r = await api.call('GET', `/MAAS/rack/v1/racks/${region.rackSystemId}/boot-config/${mac}`, {
        headers: rack,
      });
      assert.equal(r.status, status, `${mac}: ${r.status} ${r.text}`);
    }
    const deep = await api.call('POST', `/MAAS/rack/v1/racks/${region.rackSystemId}/heartbeat`, {
      headers: { ...rack, 'Content-Type': 'text/plain' },
      body: `{"a":${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
    });
    assert.equal(deep.status, 400, deep.text.slice(0, 200));
  });

  it("the UI's search box and machine path refuse control characters (400/404 pages, not 500)", async () => {
    await region.services.users.create({
      username: 'uiuser',
      password: 'pw',
      email: 'ui@example.com',
      isSuperuser: false,
    });
    const cookies = new Map<string, string>();
    const request = async (method: string, path: string, form?: Record<string, string>) => {
      const r = await fetch(api.base + path, {
        method,
        redirect: 'manual',
        headers: { Cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
        body: form ? new URLSearchParams(form) : undefined,
      });
      for (const c of r.headers.getSetCookie()) {
        const [name, value] = c.split(';')[0]!.split('=') as [string, string];
        cookies.set(name, value);
      }
      return { status: r.status, text: await r.text() };
    };
    const login = await request('GET', '/MAAS/r/login');
    const csrf = /name="csrf" value="([^"]+)"/.exec(login.text)?.[1] ?? '';
    const nulLogin = await request('POST', '/MAAS/r/login', { username: 'ui\u0000user', password: 'pw', csrf });
    assert.equal(nulLogin.status, 400, nulLogin.text.slice(0, 300));
    const ok = await request('POST', '/MAAS/r/login', { username: 'uiuser', password: 'pw', csrf });
    assert.equal(ok.status, 303, ok.text.slice(0, 300));
    assert.equal((await request('GET', '/MAAS/r/machines?q=meta')).status, 200);
    const search = await request('GET', '/MAAS/r/machines?q=%00');
    assert.equal(search.status, 400, search.text.slice(0, 300));
    assert.equal((await request('GET', '/MAAS/r/machine/%00')).status, 404);
  });
});
