// machines read (GET machines/) with MAAS's filters, over real HTTP and PostgreSQL: each filter
// selects what MAAS's ReadNodesForm selects, and a filter naming what does not exist, or one
// metalflow cannot honour, is a 400 naming the field.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { startApi, type ApiClient } from '../helpers/api';
import { macAddress } from '../helpers/factories';
import { startTestRegion, type TestRegion } from '../helpers/region';

type Json = Record<string, unknown>;

describe('machines read: MAAS filters', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  const ids: Record<string, string> = {};

  before(async () => {
    region = await startTestRegion({});
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    await api.keyFor('alice');
    const db = region.services.db;
    await db.query(`INSERT INTO zones (name, description) VALUES ('z2', '') ON CONFLICT DO NOTHING`);
    await db.query(`INSERT INTO tags (name) VALUES ('gpu'), ('ssd') ON CONFLICT DO NOTHING`);
    const rows: Array<[string, Record<string, unknown>]> = [
      ['f-juju-a', { agent_name: 'model-a', cpu_count: 4, memory: 8192, status: S.DEPLOYED, power_state: 'on' }],
      ['f-juju-b', { agent_name: 'model-b', cpu_count: 8, memory: 16384, status: S.ALLOCATED, power_state: 'off' }],
      ['f-free', { agent_name: '', cpu_count: 2, memory: 2048, status: S.READY, power_state: 'off' }],
    ];
    for (const [hostname, set] of rows) {
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
      const systemId = (r.body as Json).system_id as string;
      ids[hostname] = systemId;
      const cols = Object.keys(set);
      await db.query(`UPDATE machines SET ${cols.map((c, i) => `${c} = $${i + 2}`).join(', ')} WHERE system_id = $1`, [
        systemId,
        ...Object.values(set),
      ]);
    }
    await db.query(
      `UPDATE machines SET owner_id = (SELECT id FROM users WHERE username = 'alice') WHERE system_id = ANY($1)`,
      [[ids['f-juju-a'], ids['f-juju-b']]],
    );
    await db.query(`UPDATE machines SET zone_id = (SELECT id FROM zones WHERE name = 'z2') WHERE system_id = $1`, [
      ids['f-juju-b'],
    ]);
    await db.query(
      `INSERT INTO machine_tags (machine_id, tag_id) SELECT m.id, t.id FROM machines m, tags t
        WHERE (m.system_id = $1 AND t.name IN ('gpu', 'ssd')) OR (m.system_id = $2 AND t.name = 'ssd')`,
      [ids['f-juju-a'], ids['f-free']],
    );
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const read = async (query: string) => {
    const r = await api.call('GET', `/MAAS/api/2.0/machines/?${query}`, { key: admin });
    return r;
  };
  const names = async (query: string) => {
    const r = await read(query);
    assert.equal(r.status, 200, r.text);
    return (r.body as Json[])
      .map((m) => m.hostname as string)
      .filter((h) => h.startsWith('f-'))
      .sort();
  };

  it('agent_name is exact, and agent_name= (empty) means machines without one', async () => {
    assert.deepEqual(await names('agent_name=model-a'), ['f-juju-a']);
    assert.deepEqual(await names('agent_name=model'), []);
    assert.deepEqual(await names('agent_name=model-a&agent_name=model-b'), ['f-juju-a', 'f-juju-b']);
    assert.deepEqual(await names('agent_name='), ['f-free']);
    assert.deepEqual(await names('not_agent_name=model-a'), ['f-free', 'f-juju-b']);
  });

  it('cpu_count, mem and their minimum; numbers only', async () => {
    assert.deepEqual(await names('cpu_count=4'), ['f-juju-a', 'f-juju-b']);
    assert.deepEqual(await names('mem=10000'), ['f-juju-b']);
    assert.deepEqual(await names('cpu_count=8&cpu_count=3'), ['f-juju-a', 'f-juju-b']);
    const bad = await read('cpu_count=many');
    assert.equal(bad.status, 400);
    assert.deepEqual((bad.body as Json).cpu_count, ['Invalid CPU count: number required.']);
    assert.equal((await read('mem=1e3')).status, 400);
  });

  it('zone / not_in_zone, owner / not_owner, status / not_status, tags / not_tags, id / not_id, hostname / not_hostname, domain, power_state', async () => {
    assert.deepEqual(await names('zone=z2'), ['f-juju-b']);
    assert.deepEqual(await names('not_in_zone=z2'), ['f-free', 'f-juju-a']);
    assert.deepEqual(await names('owner=alice'), ['f-juju-a', 'f-juju-b']);
    assert.deepEqual(await names('not_owner=alice'), ['f-free']);
    assert.deepEqual(await names('status=deployed&status=ready'), ['f-free', 'f-juju-a']);
    assert.deepEqual(await names('not_status=deployed'), ['f-free', 'f-juju-b']);
    assert.deepEqual(await names('tags=ssd'), ['f-free', 'f-juju-a']);
    assert.deepEqual(await names('tags=ssd&tags=gpu'), ['f-juju-a']);
    assert.deepEqual(await names('not_tags=gpu'), ['f-free', 'f-juju-b']);
    assert.deepEqual(await names(`id=${ids['f-free']}&system_id=${ids['f-juju-a']}`), ['f-free', 'f-juju-a']);
    assert.deepEqual(await names(`not_id=${ids['f-free']}`), ['f-juju-a', 'f-juju-b']);
    assert.deepEqual(await names('not_hostname=f-free&hostname=f-free&hostname=f-juju-a'), ['f-juju-a']);
    assert.deepEqual(await names('domain=maas'), ['f-free', 'f-juju-a', 'f-juju-b']);
    assert.deepEqual(await names('domain=other'), []);
    assert.deepEqual(await names('power_state=on'), ['f-juju-a']);
    assert.deepEqual(await names('arch=amd64/generic&not_arch=arm64/generic'), ['f-free', 'f-juju-a', 'f-juju-b']);
  });

  it('refuses what does not exist, in MAAS words, naming the field', async () => {
    const cases: Array<[string, string, string]> = [
      ['zone=nowhere', 'zone', 'No such zone(s): nowhere.'],
      ['not_in_zone=nowhere', 'not_in_zone', 'No such zone(s): nowhere.'],
      ['pool=nopool', 'pool', 'No such pool(s): nopool.'],
      ['tags=notag', 'tags', "No such tag(s): 'notag'."],
      ['owner=nobody', 'owner', "No such owner: 'nobody'."],
      ['fabrics=nofabric', 'fabrics', "No matching fabrics found for 'nofabric'."],
      ['status=sleeping', 'status', "'sleeping' is not a valid status."],
    ];
    for (const [query, field, message] of cases) {
      const r = await read(query);
      assert.equal(r.status, 400, `${query}: ${r.text}`);
      assert.deepEqual((r.body as Json)[field], [message], query);
    }
  });

  it('refuses the filters metalflow cannot honour (pods) with a 400 naming them', async () => {
    for (const name of ['pod', 'not_pod', 'pod_type', 'interfaces', 'storage', 'devices']) {
      const r = await read(`${name}=x`);
      assert.equal(r.status, 400, `${name}: ${r.text}`);
      assert.match(((r.body as Json)[name] as string[])[0]!, /not supported/);
    }
  });

  it('documents the filters in describe/', async () => {
    const d = (await api.call('GET', '/MAAS/api/2.0/describe/')).text;
    for (const p of ['agent_name', 'not_in_zone', 'cpu_count', 'fabrics', 'pod'])
      assert.ok(d.includes(`:param ${p}:`), p);
  });
});
