// MAAS API over real HTTP on PostgreSQL: a parameter an action does not declare is a 400 naming
// it, and the request writes nothing (the handler never runs); what an action declares still works.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiResources } from '../../src/api/app';
import { deployedMachineInput } from '../helpers/factories';
import { PRESENT, startResourceApi, type ResourceApi } from '../helpers/resource-api';

type Json = Record<string, unknown>;
const API = '/MAAS/api/2.0';

describe('MAAS API: parameters an action does not declare are refused', () => {
  let api: ResourceApi;
  let admin: { id: number; key: string };
  let systemId: string;
  const row = async (sql: string, args: unknown[] = []) =>
    ((await api.services.db.query(sql, args)) as Json[])[0] ?? null;

  before(async () => {
    api = await startResourceApi((services) => apiResources(services, PRESENT));
    admin = await api.user('admin', true);
    systemId = (await api.services.machines.create(deployedMachineInput('keep-me', admin.id))).systemId;
  });
  after(async () => api?.close());

  const assertUnknown = (r: { status: number; body: unknown; text: string }, names: string[]) => {
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(Object.keys(r.body as Json).sort(), [...names].sort(), r.text);
    for (const name of names) assert.match(((r.body as Json)[name] as string[])[0]!, /^Unknown parameter: /);
  };

  it("PUT machines/{id}/ with MAAS's swap_size and a typo changes nothing, not even the declared hostname", async () => {
    const r = await api.call('PUT', `${API}/machines/${systemId}/`, {
      key: admin.key,
      form: { hostname: 'renamed', swap_size: '1G', descripton: 'typo' },
    });
    assertUnknown(r, ['swap_size', 'descripton']);
    assert.equal((await row('SELECT hostname FROM machines WHERE system_id = $1', [systemId]))?.hostname, 'keep-me');
    const ok = await api.call('PUT', `${API}/machines/${systemId}/`, { key: admin.key, form: { hostname: 'renamed' } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((ok.body as Json).hostname, 'renamed');
  });

  it('POST zones/ with an unknown parameter creates no zone; DELETE with one deletes nothing', async () => {
    assertUnknown(await api.call('POST', `${API}/zones/`, { key: admin.key, form: { name: 'z1', colour: 'red' } }), [
      'colour',
    ]);
    assert.equal(await row("SELECT id FROM zones WHERE name = 'z1'"), null);
    assert.equal((await api.call('POST', `${API}/zones/`, { key: admin.key, form: { name: 'z1' } })).status, 200);
    assertUnknown(await api.call('DELETE', `${API}/zones/z1/?force=true`, { key: admin.key }), ['force']);
    assert.notEqual(await row("SELECT id FROM zones WHERE name = 'z1'"), null);
  });

  it('a GET with a mistyped filter is refused rather than answered with every machine', async () => {
    assertUnknown(await api.call('GET', `${API}/machines/?hostnme=nothing-matches`, { key: admin.key }), ['hostnme']);
    const ok = await api.call('GET', `${API}/machines/?hostname=nothing-matches`, { key: admin.key });
    assert.deepEqual(ok.body, []);
    assertUnknown(await api.call('GET', `${API}/zones/?name=default`, { key: admin.key }), ['name']);
  });

  it('anonymous enlistment with an unknown parameter enlists nothing', async () => {
    const before = await row('SELECT count(*)::int AS n FROM machines');
    const r = await api.call('POST', `${API}/machines/`, {
      key: null,
      form: { architecture: 'amd64/generic', mac_addresses: '52:54:00:aa:bb:01', is_dpu: 'false' },
    });
    assertUnknown(r, ['is_dpu']);
    assert.deepEqual(await row('SELECT count(*)::int AS n FROM machines'), before);
  });

  it("allocate refuses python-libmaas's not_in_zones (MAAS's name is not_in_zone) and documents its pod/bridge options as refused", async () => {
    const allocate = (form: Record<string, string>) =>
      api.call('POST', `${API}/machines/?op=allocate`, { key: admin.key, form });
    assertUnknown(await allocate({ not_in_zones: 'default' }), ['not_in_zones']);
    const pod = await allocate({ pod: 'p1' });
    assert.equal(pod.status, 400);
    assert.match(((pod.body as Json).pod as string[])[0]!, /^pod is not supported yet: /);
    // false asks for nothing metalflow lacks: the request goes on (and finds no Ready machine).
    assert.equal((await allocate({ bridge_all: 'false' })).status, 409);
    const create = await api.call('POST', `${API}/machines/`, {
      key: admin.key,
      form: { architecture: 'amd64', subarchitecture: 'generic', mac_addresses: '52:54:00:aa:bb:02' },
    });
    assert.equal(create.status, 400);
    assert.deepEqual(Object.keys(create.body as Json), ['subarchitecture']);
    assert.equal(await row("SELECT id FROM interfaces WHERE mac_address = '52:54:00:aa:bb:02'"), null);
  });

  it('workload annotations still take any key, and power_parameters_* still reach the machine', async () => {
    const a = await api.call('POST', `${API}/machines/${systemId}/?op=set_workload_annotations`, {
      key: admin.key,
      form: { any_key: 'v', 'juju-model': 'm' },
    });
    assert.equal(a.status, 200, a.text);
    assert.deepEqual((a.body as Json).workload_annotations, { any_key: 'v', 'juju-model': 'm' });
    const p = await api.call('PUT', `${API}/machines/${systemId}/`, {
      key: admin.key,
      form: {
        power_type: 'ipmi',
        power_parameters_power_address: '10.9.9.9',
        power_parameters_power_user: 'operator',
      },
    });
    assert.equal(p.status, 200, p.text);
    assert.equal((p.body as Json).power_type, 'ipmi');
    const power = await api.call('GET', `${API}/machines/${systemId}/?op=power_parameters`, { key: admin.key });
    assert.equal((power.body as Json).power_address, '10.9.9.9', power.text);
  });
});
