// Rack controllers' power actions (through the rack's controller machine and the power workflow)
// and describe_power_types in MAAS's shape. Real HTTP, PostgreSQL and Temporal (scripted rack).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApi, type ApiClient } from '../helpers/api';
import { startTestRegion, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

type Json = Record<string, unknown>;

describe('MAAS API: rack controller power and power types', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let alice: string;
  let hostMachine: string;
  const rack = new ScriptedRack(50);

  before(async () => {
    region = await startTestRegion({ nodeTimeoutMs: 60_000, rack: rack.activities() });
    rack.services = region.services;
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    alice = await api.keyFor('alice');
    hostMachine = (await region.services.actions.rackMachine(region.rackSystemId)).systemId;
    rack.behaviour.set(hostMachine, 'silent');
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const rackPath = () => `/MAAS/api/2.0/rackcontrollers/${region.rackSystemId}/`;

  it("powers the rack's host on and off through the rack that reaches it, and queries its state", async () => {
    const on = await api.call('POST', `${rackPath()}op-power_on`, { key: admin });
    assert.equal(on.status, 200, on.text);
    assert.equal((on.body as Json).system_id, region.rackSystemId);
    assert.ok(rack.calls.includes(`on:${hostMachine}`), rack.calls.join());

    const state = await api.call('GET', `${rackPath()}?op=query_power_state`, { key: alice });
    assert.equal(state.status, 200, state.text);
    assert.deepEqual(state.body, { state: 'on' });

    const off = await api.call('POST', `${rackPath()}op-power_off`, { key: admin });
    assert.equal(off.status, 200, off.text);
    assert.ok(rack.calls.includes(`off:${hostMachine}`), rack.calls.join());

    const params = await api.call('GET', `${rackPath()}?op=power_parameters`, { key: admin });
    assert.equal(params.status, 200, params.text);
    assert.deepEqual(params.body, {});
    const many = await api.call('GET', '/MAAS/api/2.0/rackcontrollers/?op=power_parameters', { key: admin });
    assert.deepEqual(many.body, { [region.rackSystemId]: {} });
  });

  it('refuses users (403) and unknown racks (404), powering nothing', async () => {
    const calls = rack.calls.length;
    assert.equal((await api.call('POST', `${rackPath()}op-power_on`, { key: alice })).status, 403);
    assert.equal((await api.call('POST', `${rackPath()}op-power_off`, { key: alice })).status, 403);
    assert.equal((await api.call('GET', `${rackPath()}?op=power_parameters`, { key: alice })).status, 403);
    const unknown = await api.call('POST', '/MAAS/api/2.0/rackcontrollers/nosuch/op-power_on', { key: admin });
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /No RackController matches the given query/);
    assert.equal(rack.calls.length, calls);
  });

  it("describe_power_types: each power type with MAAS's field keys (admin only)", async () => {
    const r = await api.call('GET', '/MAAS/api/2.0/rackcontrollers/?op=describe_power_types', { key: admin });
    assert.equal(r.status, 200, r.text);
    const types = r.body as Json[];
    assert.deepEqual(
      types.map((t) => t.name),
      ['manual', 'ipmi', 'redfish', 'webhook', 'fake'],
    );
    const ipmi = types.find((t) => t.name === 'ipmi')!;
    assert.equal(ipmi.driver_type, 'power');
    assert.equal(ipmi.description, 'IPMI');
    assert.equal(ipmi.queryable, true);
    const fields = ipmi.fields as Json[];
    assert.deepEqual(
      fields.find((f) => f.name === 'power_address'),
      {
        name: 'power_address',
        label: 'IP address',
        required: true,
        field_type: 'string',
        choices: [],
        default: '',
        scope: 'bmc',
        secret: false,
      },
    );
    const pass = fields.find((f) => f.name === 'power_pass')!;
    assert.equal(pass.field_type, 'password');
    assert.equal(pass.secret, true);
    const driver = fields.find((f) => f.name === 'power_driver')!;
    assert.equal(driver.field_type, 'choice');
    assert.deepEqual(driver.choices, [
      ['LAN', 'LAN'],
      ['LAN_2_0', 'LAN_2_0'],
    ]);
    assert.equal(driver.default, 'LAN_2_0');
    const denied = await api.call('GET', '/MAAS/api/2.0/rackcontrollers/?op=describe_power_types', { key: alice });
    assert.equal(denied.status, 403);
  });
});
