// Issue 20 item 3, hardware testing: op=test, testing_scripts on commission, a failed test's
// FAILED_TESTING naming the script, override_failed_testing, abort during testing, and the 400s
// that start nothing. Real HTTP, PostgreSQL and Temporal; the rack is scripted and the test plays
// the ephemeral environment over the metadata API with the machine's token, as runner.sh does.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import type { ApiClient } from '../helpers/api';
import { startApiRegion } from '../helpers/api-region';
import { scriptEnvironment } from '../helpers/script-environment';
import { waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

type Json = Record<string, unknown>;
const API = '/MAAS/api/2.0';

describe('issue 20: hardware testing', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  const rack = new ScriptedRack(50);

  before(async () => {
    ({ region, api, admin } = await startApiRegion(rack));
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const { machine, ready, tokenOf, maasScripts, signal, runSection } = scriptEnvironment(
    () => ({ region, api, admin }),
    rack,
  );
  const scriptsOf = async (token: string) => (await maasScripts(token)).index;
  /** op=commission with testing_scripts; the machine's token and its maas-scripts sections. */
  const commissionWithTests = async (id: string, testingScripts: string) => {
    const started = await api.call('POST', `${API}/machines/${id}/op-commission`, {
      key: admin,
      form: { testing_scripts: testingScripts },
    });
    assert.equal(started.status, 200, started.text);
    await waitForStatus(region.services, id, S.COMMISSIONING);
    const token = await tokenOf(id);
    return { token, index: await scriptsOf(token) };
  };
  const scriptSets = async (id: string): Promise<number> =>
    Number(
      (
        await region.services.db.query(
          `SELECT count(*) AS n FROM script_sets t JOIN machines m ON m.id = t.machine_id WHERE m.system_id = $1`,
          [id],
        )
      )[0].n,
    );

  it('op=test: the default testing set runs, passing tests return the machine to READY', async () => {
    const id = await ready('tested-ok', '52:54:00:7e:00:01');
    const started = await api.call('POST', `${API}/machines/${id}/op-test`, { key: admin });
    assert.equal(started.status, 200, started.text);
    await waitForStatus(region.services, id, S.TESTING);
    const token = await tokenOf(id);
    const index = await scriptsOf(token);
    assert.equal(index.commissioning_scripts, undefined);
    assert.deepEqual(
      index.testing_scripts!.map((s) => s.name),
      ['smartctl-validate'],
      "MAAS's default: the tests tagged commissioning",
    );
    await signal(token, { status: 'TESTING' });
    await runSection(token, index.testing_scripts!, () => 0);
    await signal(token, { status: 'OK', error: 'All scripts successfully ran' });
    await waitForStatus(region.services, id, S.READY);
    const m = await machine(id);
    assert.equal(m.testing_status_name, 'Passed');
    assert.equal(m.storage_test_status_name, 'Passed');
    assert.ok(rack.calls.includes(`boot:commissioning:${id}`));
    assert.equal(rack.calls.at(-1), `off:${id}`, 'powered off once the tests passed');
  });

  it('op=test: a failed test leaves FAILED_TESTING naming it; override_failed_testing makes it READY', async () => {
    const id = await ready('tested-bad', '52:54:00:7e:00:02');
    const started = await api.call('POST', `${API}/machines/${id}/op-test`, {
      key: admin,
      form: { testing_scripts: 'smartctl-validate,memtester' },
    });
    assert.equal(started.status, 200, started.text);
    await waitForStatus(region.services, id, S.TESTING);
    const token = await tokenOf(id);
    const index = await scriptsOf(token);
    assert.deepEqual(index.testing_scripts!.map((s) => s.name).sort(), ['memtester', 'smartctl-validate']);
    await signal(token, { status: 'TESTING' });
    await runSection(token, index.testing_scripts!, (name) => (name === 'memtester' ? 1 : 0));
    await signal(token, { status: 'FAILED', error: '1 test scripts failed to run' });
    const failed = await waitForStatus(region.services, id, S.FAILED_TESTING);
    assert.equal(failed.statusMessage, 'Testing script failed: memtester');
    const m = await machine(id);
    assert.equal(m.testing_status_name, 'Failed');
    assert.equal(m.memory_test_status_name, 'Failed');
    assert.equal(m.storage_test_status_name, 'Passed');

    const overridden = await api.call('POST', `${API}/machines/${id}/op-override_failed_testing`, { key: admin });
    assert.equal(overridden.status, 200, overridden.text);
    assert.equal((overridden.body as Json).status_name, 'Ready');
  });

  it('commission with testing_scripts: commissioning, then the tests in the same boot; a failed test → FAILED_TESTING', async () => {
    const id = await ready('commission-tested', '52:54:00:7e:00:03');
    const { token, index } = await commissionWithTests(id, 'smartctl-validate');
    assert.ok(index.commissioning_scripts!.length > 0);
    assert.deepEqual(
      index.testing_scripts!.map((s) => s.name),
      ['smartctl-validate'],
    );
    await runSection(token, index.commissioning_scripts!, () => 0);
    await signal(token, { status: 'TESTING' });
    await waitForStatus(region.services, id, S.TESTING);
    assert.equal((await machine(id)).commissioning_status_name, 'Passed');
    await runSection(token, index.testing_scripts!, () => 1);
    await signal(token, { status: 'FAILED', error: '1 test scripts failed to run' });
    const failed = await waitForStatus(region.services, id, S.FAILED_TESTING);
    assert.equal(failed.statusMessage, 'Testing script failed: smartctl-validate');
    assert.equal((await machine(id)).commissioning_status_name, 'Passed');
  });

  it('commission with testing_scripts: a workflow that never hears TESTING still ends FAILED_TESTING', async () => {
    const id = await ready('commission-unheard', '52:54:00:7e:00:0a');
    const { token, index } = await commissionWithTests(id, 'smartctl-validate');
    await runSection(token, index.commissioning_scripts!, () => 0);
    // No TESTING report (as if it never reached the workflow): the final report says the run
    // reached its tests, the workflow moves on to TESTING, and the failed test decides.
    await runSection(token, index.testing_scripts!, () => 1);
    await signal(token, { status: 'OK' });
    const failed = await waitForStatus(region.services, id, S.FAILED_TESTING);
    assert.equal(failed.statusMessage, 'Testing script failed: smartctl-validate');
    assert.equal((await machine(id)).commissioning_status_name, 'Passed');
  });

  it("commission with testing_scripts: the environment's FAILED after a failed test, TESTING unheard, is FAILED_TESTING; a failed commissioning script stays FAILED_COMMISSIONING", async () => {
    const id = await ready('commission-unheard-failed', '52:54:00:7e:00:0b');
    // As a machine never commissioned before: this run alone must record that commissioning passed.
    await region.services.db.query(`UPDATE machines SET commissioning_passed = false WHERE system_id = $1`, [id]);
    const commission = () => commissionWithTests(id, 'smartctl-validate');
    let { token, index } = await commission();
    await runSection(token, index.commissioning_scripts!, () => 0);
    await runSection(token, index.testing_scripts!, () => 1);
    await signal(token, { status: 'FAILED', error: 'Failed scripts' });
    const failed = await waitForStatus(region.services, id, S.FAILED_TESTING);
    assert.equal(failed.statusMessage, 'Testing script failed: smartctl-validate');
    // Commissioning itself passed (release would return it to READY, not NEW).
    assert.equal(failed.commissioningPassed, true);

    // Commissioning again after override: a commissioning script fails, the tests never start.
    const override = await api.call('POST', `${API}/machines/${id}/op-override_failed_testing`, { key: admin });
    assert.equal(override.status, 200, override.text);
    ({ token, index } = await commission());
    await runSection(token, index.commissioning_scripts!, () => 1);
    await signal(token, { status: 'FAILED', error: 'Failed scripts' });
    const commissioningFailed = await waitForStatus(region.services, id, S.FAILED_COMMISSIONING);
    assert.match(commissioningFailed.statusMessage ?? '', /Commissioning script|Failed scripts/);
  });

  it('commission with testing_scripts: abort while the environment runs the tests (TESTING unheard) leaves no machine behind in TESTING', async () => {
    const id = await ready('commission-unheard-abort', '52:54:00:7e:00:0c');
    const { token, index } = await commissionWithTests(id, 'smartctl-validate');
    await runSection(token, index.commissioning_scripts!, () => 0);
    await runSection(token, index.testing_scripts!, () => 0);
    const aborted = await api.call('POST', `${API}/machines/${id}/op-abort`, { key: admin });
    assert.equal(aborted.status, 200, aborted.text);
    const m = await waitForStatus(region.services, id, S.NEW);
    assert.equal(m.workflowId, null);
  });

  it("the hardware record takes the run's lshw (UEFI) even when it comes after the resources JSON (the two run in parallel)", async () => {
    const id = await ready('lshw-after-resources', '52:54:00:7e:00:0d');
    const { token, index } = await commissionWithTests(id, 'none');
    const entry = (name: string) => (index.commissioning_scripts ?? []).find((e) => e.name === name)!;
    const fixture = (f: string) => fs.readFileSync(path.join(__dirname, '../fixtures/commissioning', f), 'utf8');
    const uefiLshw = fixture('vm-00-maas-01-lshw.xml').replace(
      '<node id="core" claimed="true" class="bus">',
      '<node id="core" claimed="true" class="bus"><node id="firmware" class="memory"><capabilities><capability id="uefi">UEFI</capability></capabilities></node>',
    );
    const report = (name: string, files: Record<string, string>) =>
      signal(
        token,
        { status: 'WORKING', name, script_result_id: String(entry(name).script_result_id), exit_status: '0' },
        files,
      );
    await report('50-maas-01-commissioning', {
      '50-maas-01-commissioning.out': fixture('vm-50-maas-01-commissioning.json'),
    });
    await report('00-maas-01-lshw', { '00-maas-01-lshw': uefiLshw });
    assert.equal((await machine(id)).bios_boot_method, 'uefi');
    await api.call('POST', `${API}/machines/${id}/op-abort`, { key: admin });
    await waitForStatus(region.services, id, S.NEW);

    // skip_storage holds for both reports of the run, whichever comes first.
    const disks = async () => ((await machine(id)).blockdevice_set as Json[]).map((d) => d.name).sort();
    const before = await disks();
    assert.deepEqual(before, ['vda']);
    const again = await api.call('POST', `${API}/machines/${id}/op-commission`, {
      key: admin,
      form: { skip_storage: 'true', testing_scripts: 'none' },
    });
    assert.equal(again.status, 200, again.text);
    await waitForStatus(region.services, id, S.COMMISSIONING);
    const token2 = await tokenOf(id);
    const index2 = await scriptsOf(token2);
    const entry2 = (name: string) => (index2.commissioning_scripts ?? []).find((e) => e.name === name)!;
    for (const [name, files] of [
      // Another disk than the first run reported: applied, it would replace vda.
      [
        '50-maas-01-commissioning',
        { '50-maas-01-commissioning.out': fixture('vm-50-maas-01-commissioning.json').replaceAll('"vda"', '"vdq"') },
      ],
      ['00-maas-01-lshw', { '00-maas-01-lshw': uefiLshw }],
    ] as const)
      await signal(
        token2,
        { status: 'WORKING', name, script_result_id: String(entry2(name).script_result_id), exit_status: '0' },
        files,
      );
    assert.deepEqual(await disks(), before, 'skip_storage: the disks as they were');
    await api.call('POST', `${API}/machines/${id}/op-abort`, { key: admin });
  });

  it("a test given for `all` disks before any disk was known: once commissioning records two, a result for each (MAAS's regenerate)", async () => {
    const id = await ready('regenerated', '52:54:00:7e:00:0e');
    assert.deepEqual((await machine(id)).physicalblockdevice_set, [], 'no disk on record yet');
    const { token, index } = await commissionWithTests(id, 'smartctl-validate');
    const storageOf = (s: Json) => ((s.parameters as Record<string, Json>).storage as Json).value;
    assert.deepEqual(index.testing_scripts!.map(storageOf), ['all'], "MAAS's placeholder: no disk known");
    const resources = JSON.parse(
      fs.readFileSync(path.join(__dirname, '../fixtures/commissioning/vm-50-maas-01-commissioning.json'), 'utf8'),
    ) as { resources: { storage: { disks: Json[]; total: number } } };
    const disks = resources.resources.storage.disks;
    disks.push({ ...disks[0], id: 'vdb', device: '254:16', serial: 'second-disk', device_path: 'pci-0000:00:03.0' });
    resources.resources.storage.total = 2;
    /** The environment's report of the resources JSON (the hardware), as its 50-maas-01-commissioning result. */
    const reportResources = async (t: string, sections: Record<string, Json[]>) => {
      const entry = sections.commissioning_scripts!.find((e) => e.name === '50-maas-01-commissioning')!;
      const result = { name: '50-maas-01-commissioning', script_result_id: String(entry.script_result_id) };
      await signal(
        t,
        { status: 'WORKING', ...result, exit_status: '0' },
        { '50-maas-01-commissioning.out': JSON.stringify(resources) },
      );
    };
    await reportResources(token, index);
    // What the environment fetches again once commissioning has passed.
    const again = await scriptsOf(token);
    const tests = again.testing_scripts!;
    assert.deepEqual(tests.map((s) => (storageOf(s) as Json).name).sort(), ['vda', 'vdb']);
    assert.equal(new Set(tests.map((s) => s.script_result_id)).size, 2, 'a result each');
    const ids = Object.fromEntries(
      ((await machine(id)).physicalblockdevice_set as Json[]).map((d) => [d.name as string, d.id as number]),
    );
    const results = (
      (await api.call('GET', `${API}/nodes/${id}/results/current-testing/`, { key: admin })).body as { results: Json[] }
    ).results;
    assert.deepEqual(results.map((r) => r.physical_blockdevice).sort(), [ids.vda, ids.vdb].sort());
    assert.equal((await api.call('POST', `${API}/machines/${id}/op-abort`, { key: admin })).status, 200);
    await waitForStatus(region.services, id, S.NEW);

    // Commissioned again with its two disks on record and a third found: `all` is the three disks
    // now; the disk a request named is that disk only.
    const started = await api.call('POST', `${API}/machines/${id}/op-commission`, {
      key: admin,
      form: { testing_scripts: 'smartctl-validate,badblocks', badblocks_storage: 'vdb' },
    });
    assert.equal(started.status, 200, started.text);
    await waitForStatus(region.services, id, S.COMMISSIONING);
    const token2 = await tokenOf(id);
    const index2 = await scriptsOf(token2);
    const named = (list: Json[], script: string) =>
      list
        .filter((s) => s.name === script)
        .map((s) => (storageOf(s) as Json).name)
        .sort();
    assert.deepEqual(named(index2.testing_scripts!, 'smartctl-validate'), ['vda', 'vdb']);
    assert.deepEqual(named(index2.testing_scripts!, 'badblocks'), ['vdb']);
    disks.push({ ...disks[0], id: 'vdc', device: '254:32', serial: 'third-disk', device_path: 'pci-0000:00:04.0' });
    resources.resources.storage.total = 3;
    await reportResources(token2, index2);
    const again2 = (await scriptsOf(token2)).testing_scripts!;
    assert.deepEqual(named(again2, 'smartctl-validate'), ['vda', 'vdb', 'vdc']);
    assert.deepEqual(named(again2, 'badblocks'), ['vdb'], 'the disk the request named, not every disk');
    assert.equal((await api.call('POST', `${API}/machines/${id}/op-abort`, { key: admin })).status, 200);
    await waitForStatus(region.services, id, S.NEW);
  });

  it('commission with testing_scripts: passing tests end READY; testing_scripts=none runs none', async () => {
    const id = await ready('commission-passed', '52:54:00:7e:00:04');
    let started = await api.call('POST', `${API}/machines/${id}/op-commission`, {
      key: admin,
      form: { testing_scripts: 'commissioning' },
    });
    assert.equal(started.status, 200, started.text);
    await waitForStatus(region.services, id, S.COMMISSIONING);
    const token = await tokenOf(id);
    const index = await scriptsOf(token);
    await runSection(token, index.commissioning_scripts!, () => 0);
    await signal(token, { status: 'TESTING' });
    await runSection(token, index.testing_scripts!, () => 0);
    await signal(token, { status: 'OK', error: 'All scripts successfully ran' });
    await waitForStatus(region.services, id, S.READY);
    assert.equal((await machine(id)).testing_status_name, 'Passed');

    started = await api.call('POST', `${API}/machines/${id}/op-commission`, {
      key: admin,
      form: { testing_scripts: 'none' },
    });
    assert.equal(started.status, 200, started.text);
    await waitForStatus(region.services, id, S.COMMISSIONING);
    assert.equal((await scriptsOf(await tokenOf(id))).testing_scripts, undefined);
    await api.call('POST', `${API}/machines/${id}/op-abort`, { key: admin });
  });

  it('machines create with testing_scripts: its commissioning goes on to them (an OK without them fails testing); without commissioning, a 400', async () => {
    const form = { architecture: 'amd64/generic', power_type: 'manual', testing_scripts: 'memtester' };
    const refused = await api.call('POST', `${API}/machines/`, {
      key: admin,
      form: { ...form, hostname: 'created-untested', mac_addresses: '52:54:00:7e:00:08', commission: 'false' },
    });
    assert.equal(refused.status, 400, refused.text);
    assert.match(JSON.stringify(refused.body), /testing_scripts/);
    const none: unknown[] = await region.services.db.query(
      `SELECT 1 FROM machines WHERE hostname = 'created-untested'`,
    );
    assert.equal(none.length, 0);

    const r = await api.call('POST', `${API}/machines/`, {
      key: admin,
      form: { ...form, hostname: 'created-tested', mac_addresses: '52:54:00:7e:00:09' },
    });
    assert.equal(r.status, 200, r.text);
    const id = (r.body as Json).system_id as string;
    // Made with the commissioning's start (the scripted rack may already be answering for it).
    const tests: Array<{ name: string }> = await region.services.db.query(
      `SELECT r.script_name AS name FROM script_results r JOIN script_sets t ON t.id = r.script_set_id
         JOIN machines m ON m.id = t.machine_id WHERE m.system_id = $1 AND t.result_type = 1`,
      [id],
    );
    assert.deepEqual(
      tests.map((t) => t.name),
      ['memtester'],
    );
    // The scripted rack's environment says OK without running the tests: not a pass (issue 20's
    // review), but FAILED_TESTING naming the test that never reported, marked aborted.
    const failed = await waitForStatus(region.services, id, S.FAILED_TESTING);
    assert.equal(failed.statusMessage, 'Testing script never reported a result: memtester');
    const m = await machine(id);
    assert.equal(m.commissioning_status_name, 'Passed');
    assert.equal(m.testing_status_name, 'Aborted');
  });

  it('abort during testing leaves FAILED_TESTING (the lifecycle table), powered off', async () => {
    const id = await ready('tested-aborted', '52:54:00:7e:00:05');
    assert.equal((await api.call('POST', `${API}/machines/${id}/op-test`, { key: admin })).status, 200);
    await waitForStatus(region.services, id, S.TESTING);
    const aborted = await api.call('POST', `${API}/machines/${id}/op-abort`, { key: admin, form: { comment: 'stop' } });
    assert.equal(aborted.status, 200, aborted.text);
    const m = await waitForStatus(region.services, id, S.FAILED_TESTING);
    assert.equal(m.statusMessage, 'Aborted testing.');
    assert.equal(rack.calls.at(-1), `off:${id}`);
  });

  it('bad input is a 400 that starts and writes nothing', async () => {
    const id = await ready('tested-refused', '52:54:00:7e:00:06');
    const before = await scriptSets(id);
    const refused = async (op: string, form: Record<string, string>, field: string, words: string) => {
      const r = await api.call('POST', `${API}/machines/${id}/op-${op}`, { key: admin, form });
      assert.equal(r.status, 400, `${op} ${JSON.stringify(form)}: ${r.text}`);
      assert.match(JSON.stringify((r.body as Json)[field] ?? r.text), new RegExp(words));
      assert.equal((await machine(id)).status_name, 'Ready');
      assert.equal(await scriptSets(id), before);
    };
    await refused('test', { testing_scripts: 'smartctl-validate,no-such-test' }, 'testing_scripts', 'no-such-test');
    await refused('test', { testing_scripts: 'none' }, 'testing_scripts', 'No testing scripts found');
    // Script parameters (script-parameters.test.ts has the rest): none named `parameters`; this machine has no disks.
    await refused('test', { parameters: '{"storage": "sda"}' }, 'parameters', 'Unknown parameter');
    await refused('test', { storage: 'sda' }, 'storage', 'Unknown storage device');
    await refused('test', { enable_ssh: 'true' }, 'enable_ssh', 'not supported');
    await refused('commission', { testing_scripts: 'no-such-test' }, 'testing_scripts', 'no-such-test');
    // A state op=test cannot start from: MAAS's form error.
    const created = await api.call('POST', `${API}/machines/`, {
      key: admin,
      form: {
        hostname: 'never-commissioned',
        architecture: 'amd64/generic',
        mac_addresses: '52:54:00:7e:00:07',
        power_type: 'manual',
        commission: 'false',
      },
    });
    const fresh = (created.body as Json).system_id as string;
    const r = await api.call('POST', `${API}/machines/${fresh}/op-test`, { key: admin });
    assert.equal(r.status, 400, r.text);
    assert.deepEqual((r.body as Json).__all__, ['Test is not available because of the current state of the node.']);
    assert.equal((await machine(fresh)).status_name, 'New');
    // A machine someone holds is released before it is tested (testing ends with no owner).
    assert.equal(
      (await api.call('POST', `${API}/machines/op-allocate`, { key: admin, form: { system_id: id } })).status,
      200,
    );
    const held = await api.call('POST', `${API}/machines/${id}/op-test`, { key: admin });
    assert.equal(held.status, 409, held.text);
    assert.match(held.text, /release it before testing it/);
    assert.equal((await machine(id)).status_name, 'Allocated');
    assert.equal(await scriptSets(id), before);
  });
});
