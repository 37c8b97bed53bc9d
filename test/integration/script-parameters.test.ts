// Issue 20 items 1 and 3, script parameters: op=test / op=commission take MAAS's
// `<script>_<parameter>=value` (and a bare `<parameter>`), checked against the chosen scripts'
// declarations and the machine's hardware; each result keeps its resolved parameters (results/
// `parameters`, `physical_blockdevice`, `interface`) and index.json carries them as runner.sh reads
// them; storage `all` (the default) is a result per disk. Each refusal is a 400 that writes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { MachineEntity } from '../../src/region/db/entities';
import { syncPhysicalDevices } from '../../src/region/services/storage/repository';
import type { ApiClient } from '../helpers/api';
import { startApiRegion } from '../helpers/api-region';
import { scriptEnvironment } from '../helpers/script-environment';
import { waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

type Json = Record<string, unknown>;
const API = '/MAAS/api/2.0';

/** A testing script declaring an interface and a runtime parameter. */
const NIC_CHECK = `#!/bin/sh
# --- Start MAAS 1.0 script metadata ---
# name: nic-check
# script_type: testing
# hardware_type: network
# timeout: 300
# parameters:
#   interface: {type: interface}
#   runtime: {type: runtime, min: 10, max: 3600}
# --- End MAAS 1.0 script metadata ---
echo "$@"
`;

/** A testing script whose name starts with nic-check's and a separator, with a required url. */
const NIC_CHECK_URL = `#!/bin/sh
# --- Start MAAS 1.0 script metadata ---
# name: nic-check-url
# timeout: 300
# script_type: testing
# parameters:
#   url: {type: url, required: true}
#   runtime: {type: runtime, min: 10, max: 3600}
# --- End MAAS 1.0 script metadata ---
echo "$@"
`;

describe('issue 20: script parameters on op=test and op=commission', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  const rack = new ScriptedRack(50);

  before(async () => {
    ({ region, api, admin } = await startApiRegion(rack));
    for (const [name, text] of [
      ['nic-check', NIC_CHECK],
      ['nic-check-url', NIC_CHECK_URL],
    ]) {
      const body = new FormData();
      body.append('name', name!);
      body.append('script', new Blob([text!]), name!);
      const r = await api.call('POST', `${API}/scripts/`, { key: admin, body });
      assert.equal(r.status, 200, r.text);
    }
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const env = scriptEnvironment(() => ({ region, api, admin }), rack);
  const { machine, tokenOf, maasScripts, signal } = env;
  /** A READY machine with two disks (sda, sdb) and one interface. */
  const ready = async (hostname: string, mac: string) => {
    const id = await env.ready(hostname, mac);
    await region.services.db.transaction(async (tx) => {
      const m = await tx.getRepository(MachineEntity).findOneByOrFail({ systemId: id });
      await syncPhysicalDevices(tx, m.id, [
        {
          name: 'sda',
          size: 10 * 1024 ** 3,
          serial: `A-${id}`,
          model: 'DISK-A',
          idPath: '/dev/disk/by-id/a',
          blockSize: 512,
        },
        {
          name: 'sdb',
          size: 20 * 1024 ** 3,
          serial: `B-${id}`,
          model: 'DISK-B',
          idPath: '/dev/disk/by-id/b',
          blockSize: 512,
        },
      ]);
    });
    return id;
  };
  const diskIds = async (id: string): Promise<Record<string, number>> => {
    const rows: Array<{ name: string; id: number }> = await region.services.db.query(
      `SELECT d.name, d.id FROM storage_block_devices d JOIN machines m ON m.id = d.machine_id WHERE m.system_id = $1`,
      [id],
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.id]));
  };
  /** Plays the environment: every script of the section passes, each result reported by its id. */
  const passAll = async (id: string, token: string, scripts: Json[]) => {
    await signal(token, { status: 'TESTING' });
    for (const s of scripts)
      await signal(
        token,
        { status: 'WORKING', name: s.name as string, script_result_id: String(s.script_result_id), exit_status: '0' },
        { [`${s.name as string}.out`]: `ran ${String(s.script_result_id)}\n` },
      );
    await signal(token, { status: 'OK', error: 'All scripts successfully ran' });
    await waitForStatus(region.services, id, S.READY);
  };
  const currentTesting = async (id: string) => {
    const r = await api.call('GET', `${API}/nodes/${id}/results/current-testing/`, { key: admin });
    assert.equal(r.status, 200, r.text);
    return (r.body as Json).results as Json[];
  };
  const writes = async (id: string) =>
    (
      await region.services.db.query(
        `SELECT (SELECT count(*) FROM script_sets t WHERE t.machine_id = m.id)::int AS sets,
                (SELECT count(*) FROM script_results r JOIN script_sets t ON t.id = r.script_set_id
                  WHERE t.machine_id = m.id)::int AS results
           FROM machines m WHERE m.system_id = $1`,
        [id],
      )
    )[0] as { sets: number; results: number };

  it('op=test with <script>_storage, _interface and _runtime: index.json and results/ carry them', async () => {
    const mac = '52:54:00:7f:00:01';
    const id = await ready('params-chosen', mac);
    const disks = await diskIds(id);
    const r = await api.call('POST', `${API}/machines/${id}/op-test`, {
      key: admin,
      form: {
        testing_scripts: 'smartctl-validate,nic-check',
        'smartctl-validate_storage': 'DISK-B:B-' + id,
        'nic-check_interface': mac,
        'nic-check_runtime': '120',
      },
    });
    assert.equal(r.status, 200, r.text);
    await waitForStatus(region.services, id, S.TESTING);
    const token = await tokenOf(id);
    const { index } = await maasScripts(token);
    const byName = Object.fromEntries(index.testing_scripts!.map((s) => [s.name as string, s]));
    assert.deepEqual(Object.keys(byName).sort(), ['nic-check', 'smartctl-validate'], 'one run each');
    const smart = byName['smartctl-validate']!.parameters as Record<string, Json>;
    assert.equal(smart.storage!.type, 'storage');
    assert.deepEqual(smart.storage!.value, {
      name: 'sdb',
      id_path: '/dev/disk/by-id/b',
      model: 'DISK-B',
      serial: `B-${id}`,
    });
    const nic = byName['nic-check']!.parameters as Record<string, Json>;
    assert.equal((nic.interface!.value as Json).mac_address, mac);
    assert.equal((nic.interface!.value as Json).name, 'eth0');
    assert.equal(nic.runtime!.value, 120, 'runner.sh takes a runtime value as the timeout');

    const results = await currentTesting(id);
    const smartResult = results.find((x) => x.name === 'smartctl-validate')!;
    assert.equal(smartResult.physical_blockdevice, disks.sdb);
    assert.equal(((smartResult.parameters as Record<string, Json>).storage!.value as Json).name, 'sdb');
    const nicResult = results.find((x) => x.name === 'nic-check')!;
    assert.equal(typeof nicResult.interface, 'number');
    assert.equal(((nicResult.parameters as Record<string, Json>).runtime as Json).value, 120);
    await passAll(id, token, index.testing_scripts!);
  });

  it("storage 'all', and no value (MAAS's default): a result per disk, one script file in the tar", async () => {
    const id = await ready('params-all', '52:54:00:7f:00:02');
    const disks = await diskIds(id);
    assert.equal((await api.call('POST', `${API}/machines/${id}/op-test`, { key: admin })).status, 200);
    await waitForStatus(region.services, id, S.TESTING);
    const token = await tokenOf(id);
    const { index, paths } = await maasScripts(token);
    const runs = index.testing_scripts!;
    assert.deepEqual(runs.map((s) => ((s.parameters as Record<string, Json>).storage!.value as Json).name).sort(), [
      'sda',
      'sdb',
    ]);
    assert.equal(new Set(runs.map((s) => s.script_result_id)).size, 2, 'a result each');
    assert.equal(paths.filter((p) => p === 'testing/smartctl-validate').length, 1);
    await passAll(id, token, runs);
    const results = await currentTesting(id);
    assert.deepEqual(results.map((x) => x.physical_blockdevice).sort(), [disks.sda, disks.sdb].sort());
    assert.ok(results.every((x) => x.status_name === 'Passed'));

    // Named `all` on commission's tests, as a bare parameter: the same.
    rack.behaviour.set(id, 'silent');
    const c = await api.call('POST', `${API}/machines/${id}/op-commission`, {
      key: admin,
      form: { testing_scripts: 'smartctl-validate', storage: 'all' },
    });
    assert.equal(c.status, 200, c.text);
    await waitForStatus(region.services, id, S.COMMISSIONING);
    const again = await maasScripts(await tokenOf(id));
    assert.equal(again.index.testing_scripts!.length, 2);
    assert.equal((await api.call('POST', `${API}/machines/${id}/op-abort`, { key: admin })).status, 200);
  });

  it('each bad parameter is a 400 naming it that starts and writes nothing', async () => {
    const id = await ready('params-refused', '52:54:00:7f:00:03');
    const before = await writes(id);
    const refused = async (op: string, form: Record<string, string>, field: string, words: RegExp) => {
      const r = await api.call('POST', `${API}/machines/${id}/op-${op}`, { key: admin, form });
      assert.equal(r.status, 400, `${op} ${JSON.stringify(form)}: ${r.text}`);
      assert.match(JSON.stringify((r.body as Json)[field]), words, r.text);
      assert.equal((await machine(id)).status_name, 'Ready');
      assert.deepEqual(await writes(id), before);
    };
    const smart = { testing_scripts: 'smartctl-validate' };
    const nic = { testing_scripts: 'nic-check' };
    await refused(
      'test',
      { ...smart, 'smartctl-validate_colour': 'red' },
      'smartctl-validate_colour',
      /Unknown parameter 'colour' for smartctl-validate/,
    );
    await refused('test', { ...smart, colour: 'red' }, 'colour', /Unknown parameter: no chosen script declares it/);
    await refused('test', { ...smart, 'nic-check_runtime': '60' }, 'nic-check_runtime', /Unknown parameter/);
    await refused('test', { ...smart, parameters: '{"storage": "sda"}' }, 'parameters', /Unknown parameter/);
    await refused(
      'test',
      { ...smart, 'smartctl-validate_storage': 'sdz' },
      'smartctl-validate_storage',
      /Unknown storage device for params-refused/,
    );
    await refused(
      'test',
      { ...smart, 'smartctl-validate_storage': '99999999' },
      'smartctl-validate_storage',
      /Physical block id does not exist/,
    );
    await refused(
      'test',
      { ...nic, 'nic-check_interface': '00:11:22:33:44:55' },
      'nic-check_interface',
      /Unknown interface for params-refused/,
    );
    await refused('test', { ...nic, 'nic-check_runtime': 'soon' }, 'nic-check_runtime', /Must be an int/);
    await refused('test', { ...nic, 'nic-check_runtime': '5' }, 'nic-check_runtime', /Must be greater than 10/);
    await refused('test', { ...nic, 'nic-check_runtime': '7200' }, 'nic-check_runtime', /Must be less than 3600/);
    await refused(
      'commission',
      { ...smart, 'smartctl-validate_storage': 'sdz' },
      'smartctl-validate_storage',
      /Unknown storage device/,
    );
    // Commissioning without tests: its own scripts declare nothing.
    await refused('commission', { storage: 'sda' }, 'storage', /Unknown parameter/);
    // A required parameter with no value, also when the request gives no parameter at all.
    await refused('test', { testing_scripts: 'nic-check-url' }, 'url', /Field is required/);
  });

  it("a required parameter given is taken; a longer script name's parameter is that script's", async () => {
    const id = await ready('params-required', '52:54:00:7f:00:04');
    const r = await api.call('POST', `${API}/machines/${id}/op-test`, {
      key: admin,
      form: {
        testing_scripts: 'nic-check,nic-check-url',
        'nic-check-url_url': 'http://example.com/x',
        'nic-check-url_runtime': '60',
        'nic-check_runtime': '30',
      },
    });
    assert.equal(r.status, 200, r.text);
    await waitForStatus(region.services, id, S.TESTING);
    const { index } = await maasScripts(await tokenOf(id));
    const params = (name: string) =>
      (index.testing_scripts ?? []).find((e) => e.name === name)!.parameters as Record<string, Json>;
    assert.equal(params('nic-check-url').url!.value, 'http://example.com/x');
    assert.equal(params('nic-check-url').runtime!.value, 60);
    assert.equal(params('nic-check').runtime!.value, 30);
    // The runtime is the run's timeout, which the environment's poweroff guard sums.
    const entry = (name: string) => (index.testing_scripts ?? []).find((e) => e.name === name)!;
    assert.deepEqual([entry('nic-check-url').timeout_seconds, entry('nic-check').timeout_seconds], [60, 30]);
    await api.call('POST', `${API}/machines/${id}/op-abort`, { key: admin });
  });
});
