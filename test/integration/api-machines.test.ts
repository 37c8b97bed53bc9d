// The machines API over real HTTP, on real PostgreSQL and Temporal (the rack is scripted).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { lockMachine } from '../../src/region/services/transitions';
import { startApi, type ApiClient } from '../helpers/api';
import { macAddress } from '../helpers/factories';
import { startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

type Json = Record<string, unknown>;

describe('MAAS API: machines (real HTTP, PostgreSQL, Temporal)', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let alice: string;
  let bob: string;
  const rack = new ScriptedRack(50);
  const count = async () =>
    Number(((await region.services.db.query('SELECT count(*) AS n FROM machines')) as Array<{ n: string }>)[0]!.n);

  before(async () => {
    region = await startTestRegion({ nodeTimeoutMs: 60_000, rack: rack.activities() });
    rack.services = region.services;
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    alice = await api.keyFor('alice');
    bob = await api.keyFor('bob');
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const create = async (form: Record<string, string | string[]>, key = admin) =>
    api.call('POST', '/MAAS/api/2.0/machines/', { key, form });
  const macOf = new Map<string, string>();
  const ready = async (hostname: string, extra: Record<string, string> = {}) => {
    const address = macAddress();
    macOf.set(hostname, address);
    const r = await create({
      hostname,
      architecture: 'amd64/generic',
      mac_addresses: address,
      power_type: 'manual',
      ...extra,
    });
    assert.equal(r.status, 200, r.text);
    const systemId = (r.body as Json).system_id as string;
    await waitForStatus(region.services, systemId, S.READY);
    return systemId;
  };

  it('answers the version endpoints and describes itself', async () => {
    assert.equal((await api.call('GET', '/MAAS/api/version/')).text, '2.0');
    const v = (await api.call('GET', '/MAAS/api/2.0/version/')).body as Json;
    assert.ok(Array.isArray(v.capabilities) && v.capabilities.includes('networks-management'));
    const d = (await api.call('GET', '/MAAS/api/2.0/describe/')).body as {
      resources: Array<{ name: string; auth: { actions: Array<{ name: string }> } | null; anon: unknown }>;
    };
    const machine = d.resources.find((r) => r.name === 'MachineHandler');
    assert.ok(machine?.auth);
    for (const op of [
      'commission',
      'deploy',
      'release',
      'abort',
      'mark_broken',
      'mark_fixed',
      'lock',
      'unlock',
      'power_on',
      'power_off',
      'query_power_state',
      'get_token',
      'set_workload_annotations',
      'set_owner_data',
    ]) {
      assert.ok(
        machine.auth.actions.some((a) => a.name === op),
        `describe names ${op}`,
      );
    }
    const machines = d.resources.find((r) => r.name === 'MachinesHandler');
    assert.ok(machines?.anon, 'anonymous enlistment is described');
  });

  it('rejects missing and bad credentials with 401', async () => {
    assert.equal((await api.call('GET', '/MAAS/api/2.0/machines/')).status, 401);
    const [ck, tk] = admin.split(':');
    const forged = await api.call('GET', '/MAAS/api/2.0/machines/', { key: `${ck}:${tk}:wrongsecret` });
    assert.equal(forged.status, 401);
    assert.equal((await api.call('GET', '/MAAS/api/2.0/machines/', { key: 'a:b:c' })).status, 401);
  });

  it('creates and commissions; bad input is a 400 naming the field and writes nothing', async () => {
    const before = await count();
    const cases: Array<[Record<string, string | string[]>, string]> = [
      [{ architecture: 'amd64', mac_addresses: 'zz:zz:zz' }, 'mac_addresses'],
      [{ architecture: 'amd64', mac_addresses: [macAddress(), 'nonsense'] }, 'mac_addresses'],
      [{ mac_addresses: macAddress() }, 'architecture'],
      [{ architecture: 'sparc', mac_addresses: macAddress() }, 'architecture'],
      [{ architecture: 'amd64', mac_addresses: macAddress(), power_type: 'telepathy' }, 'power_type'],
      [{ architecture: 'amd64', mac_addresses: macAddress(), power_type: 'ipmi' }, 'power_parameters_power_address'],
      [
        {
          architecture: 'amd64',
          mac_addresses: macAddress(),
          power_type: 'ipmi',
          power_parameters_power_address: '10.0.0.1',
          power_parameters_bogus: 'x',
        },
        'power_parameters_bogus',
      ],
      [{ architecture: 'amd64', mac_addresses: macAddress(), hostname: '-bad-' }, 'hostname'],
      [{ architecture: 'amd64', mac_addresses: macAddress(), zone: 'nowhere' }, 'zone'],
    ];
    for (const [form, field] of cases) {
      const r = await create(form);
      assert.equal(r.status, 400, `${JSON.stringify(form)} → ${r.text}`);
      assert.ok(Object.keys(r.body as Json).includes(field), `${field} named in ${r.text}`);
    }
    assert.equal(await count(), before, 'nothing was written');

    const id = await ready('node-a');
    const m = (await api.call('GET', `/MAAS/api/2.0/machines/${id}/`, { key: admin })).body as Json;
    assert.equal(m.status, S.READY);
    assert.equal(m.status_name, 'Ready');
    assert.equal(m.architecture, 'amd64/generic');
    assert.equal((m.boot_interface as Json).mac_address, macOf.get('node-a'));
    const dup = await create({ architecture: 'amd64', mac_addresses: macOf.get('node-a')!.toUpperCase() });
    assert.equal(dup.status, 400, 'a MAC in use is refused');
    const sameName = await create({ architecture: 'amd64', mac_addresses: macAddress(), hostname: 'node-a' });
    assert.equal(sameName.status, 400);
  });

  it('takes power_parameters as a JSON object too (python-libmaas sends that); bad JSON is a 400', async () => {
    const r = await create({
      hostname: 'json-power',
      architecture: 'amd64',
      mac_addresses: macAddress(),
      commission: 'false',
      power_type: 'ipmi',
      power_parameters: JSON.stringify({ power_address: '10.9.9.9', power_pass: 'pw' }),
      power_parameters_power_user: 'ops',
    });
    assert.equal(r.status, 200, r.text);
    const params = (
      await api.call('GET', `/MAAS/api/2.0/machines/${(r.body as Json).system_id as string}/?op=power_parameters`, {
        key: admin,
      })
    ).body as Json;
    assert.equal(params.power_address, '10.9.9.9');
    assert.equal(params.power_user, 'ops');
    const bad = await create({
      hostname: 'json-bad',
      architecture: 'amd64',
      mac_addresses: macAddress(),
      power_type: 'ipmi',
      power_parameters: '{nope',
    });
    assert.equal(bad.status, 400);
    assert.ok(Object.keys(bad.body as Json).includes('power_parameters'));
  });

  it('keeps BMC secrets encrypted at rest and shows them only to admins', async () => {
    const r = await create({
      hostname: 'bmc-node',
      architecture: 'amd64',
      mac_addresses: macAddress(),
      power_type: 'ipmi',
      power_parameters_power_address: '10.1.1.1',
      power_parameters_power_user: 'root',
      power_parameters_power_pass: 'hunter2',
      commission: 'false',
    });
    assert.equal(r.status, 200, r.text);
    const id = (r.body as Json).system_id as string;
    assert.ok(!r.text.includes('hunter2'), 'machine JSON has no secrets');
    const row = (
      (await region.services.db.query(
        'SELECT power_parameters::text AS p, power_secrets AS s FROM machines WHERE system_id = $1',
        [id],
      )) as Array<{ p: string; s: string }>
    )[0]!;
    assert.ok(!row.p.includes('hunter2') && !row.s.includes('hunter2') && row.s.startsWith('v1:'), 'encrypted at rest');
    const asAdmin = await api.call('GET', `/MAAS/api/2.0/machines/${id}/?op=power_parameters`, { key: admin });
    assert.equal((asAdmin.body as Json).power_pass, 'hunter2');
    const asUser = await api.call('GET', `/MAAS/api/2.0/machines/${id}/?op=power_parameters`, { key: alice });
    assert.equal(asUser.status, 403);
  });

  it('checks power parameter values on create and update: a bad address, URL or regex is a 400 naming the field and writes nothing', async () => {
    const webhook = {
      power_type: 'webhook',
      power_parameters_power_on_uri: 'http://hooks.example.com/on',
      power_parameters_power_off_uri: 'https://hooks.example.com:8443/off',
    };
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [
        { power_type: 'ipmi', power_parameters_power_address: 'not an address!' },
        'power_parameters_power_address',
        /valid IP address or hostname/,
      ],
      [
        { power_type: 'ipmi', power_parameters_power_address: '10.0.0.999' },
        'power_parameters_power_address',
        /valid IP address/,
      ],
      [
        { power_type: 'ipmi', power_parameters_power_address: '   ' },
        'power_parameters_power_address',
        /valid IP address/,
      ],
      [
        { power_type: 'ipmi', power_parameters_power_address: '10.0.0.1:99999' },
        'power_parameters_power_address',
        /:port/,
      ],
      [
        { power_type: 'redfish', power_parameters_power_address: 'ftp://bmc.example.com' },
        'power_parameters_power_address',
        /http\(s\):\/\/ URL of the BMC/,
      ],
      [
        { power_type: 'redfish', power_parameters_power_address: 'bmc name' },
        'power_parameters_power_address',
        /valid IP address, hostname or http/,
      ],
      [
        { ...webhook, power_parameters_power_on_uri: 'not a url' },
        'power_parameters_power_on_uri',
        /valid http:\/\/ or https:\/\/ URL: 'not a url'/,
      ],
      [
        { ...webhook, power_parameters_power_off_uri: 'ftp://hooks.example.com/off' },
        'power_parameters_power_off_uri',
        /valid http/,
      ],
      [{ ...webhook, power_parameters_power_query_uri: '/status' }, 'power_parameters_power_query_uri', /valid http/],
      [
        { ...webhook, power_parameters_power_on_regex: 'status.*(running' },
        'power_parameters_power_on_regex',
        /valid regular expression/,
      ],
      [
        { ...webhook, power_parameters_power_off_regex: '[stopped' },
        'power_parameters_power_off_regex',
        /valid regular expression/,
      ],
    ];
    const before = await count();
    for (const [form, field, message] of cases) {
      const r = await create({ architecture: 'amd64', mac_addresses: macAddress(), commission: 'false', ...form });
      assert.equal(r.status, 400, `${JSON.stringify(form)} → ${r.text}`);
      const body = r.body as Record<string, string[]>;
      assert.deepEqual(Object.keys(body), [field], `only ${field} named in ${r.text}`);
      assert.ok(Array.isArray(body[field]) && message.test(body[field][0]!), `${field}: ${r.text}`);
    }
    // The JSON form python-libmaas sends is checked the same way.
    const json = await create({
      architecture: 'amd64',
      mac_addresses: macAddress(),
      power_type: 'webhook',
      power_parameters: JSON.stringify({
        power_on_uri: 'http://h/on',
        power_off_uri: 'http://h/off',
        power_on_regex: '(',
      }),
    });
    assert.equal(json.status, 400, json.text);
    assert.ok(Object.keys(json.body as Json).includes('power_parameters_power_on_regex'), json.text);
    assert.equal(await count(), before, 'nothing was written');

    // Good values of every shape are taken.
    for (const form of [
      { power_type: 'ipmi', power_parameters_power_address: 'bmc-7.example.com:623' },
      { power_type: 'ipmi', power_parameters_power_address: '[fd00::7]:623' },
      { power_type: 'redfish', power_parameters_power_address: 'https://10.0.0.7:8443/' },
      { power_type: 'redfish', power_parameters_power_address: '10.0.0.7' },
      {
        ...webhook,
        power_parameters_power_query_uri: 'http://127.0.0.1:8080/status?node=7',
        power_parameters_power_on_regex: '"state": *"on"',
      },
    ] as Array<Record<string, string>>) {
      const r = await create({ architecture: 'amd64', mac_addresses: macAddress(), commission: 'false', ...form });
      assert.equal(r.status, 200, `${JSON.stringify(form)} → ${r.text}`);
    }

    // Update: the same rules; a refused update changes nothing that was stored.
    const made = await create({
      hostname: 'hook-node',
      architecture: 'amd64',
      mac_addresses: macAddress(),
      commission: 'false',
      ...webhook,
      power_parameters_power_query_uri: 'http://hooks.example.com/status',
    });
    assert.equal(made.status, 200, made.text);
    const id = (made.body as Json).system_id as string;
    const stored = async () =>
      (await api.call('GET', `/MAAS/api/2.0/machines/${id}/?op=power_parameters`, { key: admin })).body as Json;
    const original = await stored();
    for (const [form, field] of [
      [{ power_parameters_power_off_regex: '(stopped', description: 'changed' }, 'power_parameters_power_off_regex'],
      [{ power_parameters_power_query_uri: 'hooks.example.com/status' }, 'power_parameters_power_query_uri'],
      [{ power_type: 'ipmi', power_parameters_power_address: 'bmc..example.com' }, 'power_parameters_power_address'],
    ] as Array<[Record<string, string>, string]>) {
      const r = await api.call('PUT', `/MAAS/api/2.0/machines/${id}/`, { key: admin, form });
      assert.equal(r.status, 400, `${JSON.stringify(form)} → ${r.text}`);
      assert.deepEqual(Object.keys(r.body as Json), [field], r.text);
    }
    assert.deepEqual(await stored(), original, 'power parameters unchanged');
    const m = (await api.call('GET', `/MAAS/api/2.0/machines/${id}/`, { key: admin })).body as Json;
    assert.equal(m.power_type, 'webhook');
    assert.equal(m.description, '', 'nothing else in the refused update was written');
    const ok = await api.call('PUT', `/MAAS/api/2.0/machines/${id}/`, {
      key: admin,
      form: { power_parameters_power_off_regex: '"stopped"' },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await stored()).power_off_regex, '"stopped"');
  });

  it('allocates by constraints, cheapest first; dry_run allocates nothing; no match is a 409', async () => {
    const small = await ready('alloc-small');
    await region.services.db.query(`UPDATE machines SET cpu_count = 2, memory = 4096 WHERE system_id = $1`, [small]);
    const big = await ready('alloc-big');
    await region.services.db.query(`UPDATE machines SET cpu_count = 16, memory = 65536 WHERE system_id = $1`, [big]);
    await region.services.db.query(
      `UPDATE machines SET cpu_count = 64 WHERE status = $1 AND system_id NOT IN ($2, $3)`,
      [S.READY, small, big],
    );

    const dry = await api.call('POST', '/MAAS/api/2.0/machines/?op=allocate', {
      key: alice,
      form: { cpu_count: '2', dry_run: 'true' },
    });
    assert.equal(dry.status, 200, dry.text);
    assert.equal((dry.body as Json).system_id, small);
    assert.equal((await waitForStatus(region.services, small, S.READY)).ownerId, null, 'dry_run changed nothing');

    const got = await api.call('POST', '/MAAS/api/2.0/machines/op-allocate', {
      key: alice,
      form: { cpu_count: '8', mem: '8192' },
    });
    assert.equal(got.status, 200, got.text);
    assert.equal((got.body as Json).system_id, big);
    assert.equal((got.body as Json).owner, 'alice');
    assert.equal((got.body as Json).status_name, 'Allocated');

    const none = await api.call('POST', '/MAAS/api/2.0/machines/op-allocate', {
      key: bob,
      form: { cpu_count: '1000' },
    });
    assert.equal(none.status, 409);
    assert.match(
      none.text,
      /^No available machine matches constraints: \[\('cpu_count', \['1000'\]\)\] \(resolved to "cpu_count=1000"\)$/,
    );
    const huge = await api.call('POST', '/MAAS/api/2.0/machines/op-allocate', {
      key: bob,
      form: { mem: String(2 ** 40), cpu_count: '1.5' },
    });
    assert.equal(huge.status, 409, 'sizes beyond any machine match nothing (not a 500)');
    const badTag = await api.call('POST', '/MAAS/api/2.0/machines/op-allocate', { key: bob, form: { tags: 'gpu' } });
    assert.equal(badTag.status, 400);
    assert.match(badTag.text, /No such tag/);
    const badMem = await api.call('POST', '/MAAS/api/2.0/machines/op-allocate', { key: bob, form: { mem: 'lots' } });
    assert.equal(badMem.status, 400);
    assert.match(badMem.text, /mem/);
  });

  it('waits for a machine another kind of change holds for a moment, instead of a false 409', async () => {
    const id = await ready('held-1');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const holder = region.services.db.transaction(async (tx) => {
      await lockMachine(tx, id); // e.g. an admin editing it
      await held;
    });
    await new Promise((r) => setTimeout(r, 100));
    const allocation = api.call('POST', '/MAAS/api/2.0/machines/op-allocate', { key: bob, form: { system_id: id } });
    const dry = await api.call('POST', '/MAAS/api/2.0/machines/op-allocate', {
      key: bob,
      form: { system_id: id, dry_run: 'true' },
    });
    assert.equal(dry.status, 200, 'a dry run neither waits nor locks');
    await new Promise((r) => setTimeout(r, 300));
    release();
    await holder;
    const got = await allocation;
    assert.equal(got.status, 200, got.text);
    assert.equal((got.body as Json).owner, 'bob');
    assert.equal((await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-release`, { key: bob })).status, 200);
    await waitForStatus(region.services, id, S.READY);
  });

  it("hides other users' machines (404) and forbids acting on unowned ones (403)", async () => {
    const mine = ((await api.call('POST', '/MAAS/api/2.0/machines/op-allocate', { key: alice, form: {} })).body as Json)
      .system_id as string;
    assert.equal((await api.call('GET', `/MAAS/api/2.0/machines/${mine}/`, { key: bob })).status, 404);
    assert.equal((await api.call('POST', `/MAAS/api/2.0/machines/${mine}/op-release`, { key: bob })).status, 404);
    const bobSees = (await api.call('GET', '/MAAS/api/2.0/machines/', { key: bob })).body as Json[];
    assert.ok(!bobSees.some((m) => m.system_id === mine));
    assert.ok(bobSees.every((m) => m.owner === null || m.owner === 'bob'));
    const unowned = bobSees.find((m) => m.owner === null)!;
    assert.equal(
      (await api.call('POST', `/MAAS/api/2.0/machines/${unowned.system_id as string}/op-commission`, { key: bob }))
        .status,
      403,
    );
    assert.equal((await create({ architecture: 'amd64', mac_addresses: macAddress() }, bob)).status, 403);
    const token = await api.call('GET', `/MAAS/api/2.0/machines/${mine}/?op=get_token`, { key: alice });
    assert.equal(token.status, 200);
    assert.deepEqual(Object.keys(token.body as Json).sort(), ['consumer_key', 'token_key', 'token_secret']);
  });

  it('drives the lifecycle: deploy, lock, invalid transitions (409), release, mark broken/fixed', async () => {
    const id = await ready('life-1');
    const deploy = await api.call('POST', `/MAAS/api/2.0/machines/${id}/?op=deploy`, {
      key: alice,
      form: { distro_series: 'jammy', user_data: Buffer.from('#!/bin/sh\necho hi\n').toString('base64') },
    });
    assert.equal(deploy.status, 200, deploy.text);
    assert.equal((deploy.body as Json).status_name, 'Deploying');
    assert.equal(((deploy.body as Json).current_workflow as Json).workflow_id, `machine:${id}`);
    // The Temporal UI has no login and shows every machine's workflows: its link is for admins.
    assert.equal(((deploy.body as Json).current_workflow as Json).temporal_ui_url, null, 'not for alice');
    await waitForStatus(region.services, id, S.DEPLOYED);

    const commission = await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-commission`, { key: admin });
    // MAAS's CommissionForm refuses it: a form error, 400.
    assert.equal(commission.status, 400);
    assert.deepEqual(commission.body, {
      __all__: ['Commission is not available because of the current state of the node.'],
    });
    const again = await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-deploy`, { key: alice });
    assert.equal(again.status, 409);
    assert.equal(again.text, "Can't deploy a machine that is in the 'Deployed' state");

    assert.equal((await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-lock`, { key: alice })).status, 200);
    const twice = await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-lock`, { key: alice });
    assert.deepEqual([twice.status, twice.text], [409, 'Machine is already locked']);
    const locked = await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-release`, { key: alice });
    assert.equal(locked.status, 409);
    assert.match(locked.text, /locked/);
    assert.equal(
      (await api.call('PUT', `/MAAS/api/2.0/machines/${id}/`, { key: admin, form: { description: 'x' } })).status,
      409,
    );
    assert.equal((await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-unlock`, { key: alice })).status, 200);
    const unlocked = await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-unlock`, { key: alice });
    assert.deepEqual([unlocked.status, unlocked.text], [409, 'Machine is not locked']);

    const annotated = await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-set_workload_annotations`, {
      key: alice,
      form: { app: 'web' },
    });
    assert.deepEqual((annotated.body as Json).workload_annotations, { app: 'web' });
    // MAAS's earlier name, which Juju's gomaasapi sends: the same annotations ('' removes a key).
    const owned = await api.call('POST', `/MAAS/api/2.0/machines/${id}/?op=set_owner_data`, {
      key: alice,
      form: { app: '', 'juju-model-uuid': 'u-1' },
    });
    assert.equal(owned.status, 200, owned.text);
    assert.deepEqual((owned.body as Json).workload_annotations, { 'juju-model-uuid': 'u-1' });

    assert.equal((await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-release`, { key: alice })).status, 200);
    const released = await waitForStatus(region.services, id, S.READY);
    assert.deepEqual(released.workloadAnnotations, {});
    // As MAAS: releasing a READY machine again is a retry that succeeds and does nothing; a
    // caller who may not release it is still refused.
    const releasedAgain = await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-release`, { key: admin });
    assert.equal(releasedAgain.status, 200, releasedAgain.text);
    assert.equal((releasedAgain.body as Json).status_name, 'Ready');
    assert.equal((await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-release`, { key: alice })).status, 403);
    const abort = await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-abort`, { key: admin });
    assert.deepEqual([abort.status, abort.text], [409, `Cannot abort in current state: node ${id} is in state Ready.`]);
    const notBroken = await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-mark_fixed`, { key: admin });
    assert.deepEqual([notBroken.status, notBroken.text], [409, "Can't mark a non-broken node as 'Ready'."]);

    const lock = await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-lock`, { key: admin });
    assert.deepEqual([lock.status, lock.text], [409, "Can't lock, node is not deployed or deploying"]);
    const broken = await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-mark_broken`, {
      key: admin,
      form: { comment: 'bad RAM' },
    });
    assert.equal((broken.body as Json).status_name, 'Broken');
    assert.equal((broken.body as Json).status_message, 'bad RAM');
    assert.equal((await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-mark_fixed`, { key: alice })).status, 403);
    const fixed = await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-mark_fixed`, {
      key: admin,
      form: { comment: 'RAM replaced' },
    });
    assert.equal((fixed.body as Json).status_name, 'Ready', fixed.text);
    const events = await api.call('GET', `/MAAS/api/2.0/events/?op=query&id=${id}&level=DEBUG&limit=5`, { key: admin });
    const request = (events.body as { events: Json[] }).events.find((e) => e.type === 'User marking node fixed');
    assert.equal(request?.description, '(admin) - RAM replaced', events.text);
  });

  it('overrides failed testing as MAAS does: READY without an OS, DEPLOYED with one, else a 409', async () => {
    const id = await ready('tested-1');
    const url = `/MAAS/api/2.0/machines/${id}/op-override_failed_testing`;
    const notFailed = await api.call('POST', url, { key: admin });
    assert.deepEqual(
      [notFailed.status, notFailed.text],
      [409, "Unable to override node status. Node is not in 'Failed testing' status."],
    );
    const failTesting = (osystem: string) =>
      region.services.db.query(
        `UPDATE machines SET status = $2, osystem = $3, status_message = 'smartctl-validate failed' WHERE system_id = $1`,
        [id, S.FAILED_TESTING, osystem],
      );
    await failTesting('');
    assert.equal((await api.call('POST', url, { key: alice })).status, 403);
    const ready1 = await api.call('POST', url, { key: admin, form: { comment: 'known flaky disk' } });
    assert.equal(ready1.status, 200, ready1.text);
    assert.equal((ready1.body as Json).status_name, 'Ready');
    const events = await api.call('GET', `/MAAS/api/2.0/events/?op=query&id=${id}&level=DEBUG&limit=5`, { key: admin });
    const request = (events.body as { events: Json[] }).events.find(
      (e) => e.type === "User overrode 'Failed testing' status",
    );
    assert.equal(request?.description, '(admin) - known flaky disk', events.text);
    await failTesting('ubuntu');
    const deployed = await api.call('POST', url, { key: admin });
    assert.equal((deployed.body as Json).status_name, 'Deployed', deployed.text);
  });

  it('filters the listing', async () => {
    const all = (await api.call('GET', '/MAAS/api/2.0/machines/', { key: admin })).body as Json[];
    const byName = (await api.call('GET', '/MAAS/api/2.0/machines/?hostname=node-a', { key: admin })).body as Json[];
    assert.deepEqual(
      byName.map((m) => m.hostname),
      ['node-a'],
    );
    const byMac = (
      await api.call(
        'GET',
        `/MAAS/api/2.0/machines/?mac_address=${macOf.get('node-a')!.toUpperCase().replaceAll(':', '-')}`,
        { key: admin },
      )
    ).body as Json[];
    assert.deepEqual(
      byMac.map((m) => m.hostname),
      ['node-a'],
    );
    const readyOnes = (await api.call('GET', '/MAAS/api/2.0/machines/?status=ready', { key: admin })).body as Json[];
    assert.ok(readyOnes.length > 0 && readyOnes.length < all.length && readyOnes.every((m) => m.status === S.READY));
    assert.equal((await api.call('GET', '/MAAS/api/2.0/machines/?status=sleepy', { key: admin })).status, 400);
  });

  it('refuses huge bodies with 413, unknown ops with 400, unknown machines with 404', async () => {
    const before = await count();
    const huge = await api.call('POST', '/MAAS/api/2.0/machines/', {
      key: admin,
      form: { architecture: 'amd64', mac_addresses: macAddress(), description: 'x'.repeat(11 * 1024 * 1024) },
    });
    assert.equal(huge.status, 413);
    assert.equal(await count(), before);
    const op = await api.call('POST', '/MAAS/api/2.0/machines/?op=frobnicate', { key: admin });
    assert.equal(op.status, 400);
    assert.match(op.text, /Unrecognised signature: method=POST op=frobnicate/);
    assert.equal((await api.call('GET', '/MAAS/api/2.0/machines/nosuch/', { key: admin })).status, 404);
  });

  it('keeps machine tokens to the metadata server and user keys out of it', async () => {
    const id = await ready('meta-1');
    const t = (await api.call('GET', `/MAAS/api/2.0/machines/${id}/?op=get_token`, { key: admin })).body as Json;
    const machineKey = `${t.consumer_key as string}:${t.token_key as string}:${t.token_secret as string}`;
    assert.equal((await api.call('GET', '/MAAS/api/2.0/machines/', { key: machineKey })).status, 403);
    assert.equal(
      (await api.call('GET', '/MAAS/metadata/2012-03-01/meta-data/instance-id', { key: machineKey })).text,
      id,
    );
    assert.equal(
      (await api.call('GET', '/MAAS/metadata/2012-03-01/meta-data/local-hostname', { key: machineKey })).text,
      'meta-1',
    );
    assert.equal(
      (await api.call('GET', '/MAAS/metadata/2012-03-01/meta-data/instance-id', { key: admin })).status,
      403,
    );
    assert.equal((await api.call('GET', '/MAAS/metadata/2012-03-01/meta-data/instance-id')).status, 401);
    const bad = await api.call('POST', '/MAAS/metadata/2012-03-01/', {
      key: machineKey,
      form: { op: 'signal', status: 'DANCING' },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /status/);
  });
});
