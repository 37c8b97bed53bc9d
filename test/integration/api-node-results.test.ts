// node-results (installation-results/, also routed at commissioning-results/), a machine's script
// results (nodes/{system_id}/results/) and a machine's `details`
// (BSON of lshw/lldp XML), from the hardware report commissioning stored. Real HTTP, PostgreSQL and Temporal (scripted rack).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { oauthHeader } from '../../src/api/http';
import { HARDWARE_FILE, type HardwareReport } from '../../src/contracts/hardware';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { MachineEntity } from '../../src/region/db/entities';
import { startApi, type ApiClient } from '../helpers/api';
import { decodeBson } from '../helpers/bson';
import { startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

type Json = Record<string, unknown>;

const report: HardwareReport = {
  architecture: 'amd64/generic',
  cpu: { count: 2, model: 'Test CPU <v2>', speed_mhz: 2400 },
  memory_mib: 4096,
  block_devices: [{ name: 'sda', size_bytes: 1_000_000_000, serial: 'SER1', model: 'DISK-A' }],
  interfaces: [{ name: 'eth0', mac: '52:54:00:dd:00:01', link_speed_mbps: 1000 }],
  dmi: { vendor: 'ACME', product: 'Box', serial: 'S123', uuid: 'a0b1c2d3-0000-0000-0000-000000000001' },
};

describe('MAAS API: node-results and machine details', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let alice: string;
  const rack = new ScriptedRack(50);
  let commissioned: string;
  let fresh: string;

  before(async () => {
    region = await startTestRegion({ nodeTimeoutMs: 60_000, rack: rack.activities() });
    rack.services = region.services;
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    alice = await api.keyFor('alice');
    const create = async (hostname: string, mac: string) => {
      const r = await api.call('POST', '/MAAS/api/2.0/machines/', {
        key: admin,
        form: {
          hostname,
          architecture: 'amd64/generic',
          mac_addresses: mac,
          power_type: 'manual',
          commission: 'false',
        },
      });
      assert.equal(r.status, 200, r.text);
      return (r.body as Json).system_id as string;
    };
    commissioned = await create('reported', '52:54:00:dd:00:01');
    fresh = await create('unreported', '52:54:00:dd:00:02');
    rack.behaviour.set(commissioned, 'silent');
    const r = await api.call('POST', `/MAAS/api/2.0/machines/${commissioned}/op-commission`, { key: admin });
    assert.equal(r.status, 200, r.text);
    await waitForStatus(region.services, commissioned, S.COMMISSIONING);
    const m = await region.services.db.getRepository(MachineEntity).findOneByOrFail({ systemId: commissioned });
    await region.services.metadata.signal(m, {
      status: 'OK',
      error: '',
      files: new Map([[HARDWARE_FILE, Buffer.from(JSON.stringify(report))]]),
    });
    await waitForStatus(region.services, commissioned, S.READY);
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const results = (query: string, key = admin) =>
    api.call('GET', `/MAAS/api/2.0/installation-results/?${query}`, { key });

  it("lists each commissioned machine's report in MAAS's shape, with MAAS's filters", async () => {
    const all = await results('');
    assert.equal(all.status, 200, all.text);
    const list = all.body as Json[];
    assert.equal(list.length, 1);
    const [one] = list;
    assert.equal(one!.name, HARDWARE_FILE);
    assert.equal(one!.script_result, 0);
    assert.equal(one!.result_type, 0);
    assert.deepEqual(one!.node, { system_id: commissioned });
    assert.equal(one!.resource_uri, '/MAAS/api/2.0/installation-results/');
    assert.match(one!.created as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);
    // The report as validated (an interface's type made explicit).
    const data = JSON.parse(Buffer.from(one!.data as string, 'base64').toString('utf8')) as HardwareReport;
    assert.deepEqual(data, { ...report, interfaces: [{ ...report.interfaces[0]!, type: 'physical' }] });

    assert.equal(((await results(`system_id=${commissioned}`)).body as Json[]).length, 1);
    assert.equal(((await results(`system_id=${fresh}`)).body as Json[]).length, 0);
    assert.equal(((await results(`name=${HARDWARE_FILE}&name=other`)).body as Json[]).length, 1);
    assert.equal(((await results('name=00-maas-01-lshw')).body as Json[]).length, 0);
    assert.equal(((await results('result_type=0')).body as Json[]).length, 1);
    assert.equal(((await results('result_type=2')).body as Json[]).length, 0);
    const bad = await results('result_type=banana');
    assert.equal(bad.status, 400);
    assert.match(bad.text, /result_type/);
    // alice sees unowned machines in the default pool, so she sees the result too; nothing hidden leaks.
    assert.equal(((await results('', alice)).body as Json[]).length, 1);
  });

  it('details: BSON of {lshw, lldp}, lshw the XML of what commissioning reported', async () => {
    const r = await fetch(`${api.base}/MAAS/api/2.0/machines/${commissioned}/op-details`, {
      headers: { Authorization: oauthHeader(admin) },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/bson');
    const doc = decodeBson(Buffer.from(await r.arrayBuffer()));
    assert.deepEqual(Object.keys(doc), ['lshw', 'lldp']);
    assert.equal(doc.lldp, null);
    const xml = doc.lshw!.toString('utf8');
    assert.match(xml, /^<\?xml version="1\.0" standalone="yes" \?>\n<list>/);
    assert.match(xml, /<node id="reported" class="system"><product>Box<\/product><vendor>ACME<\/vendor>/);
    assert.match(xml, /<node id="cpu:1" class="processor"><product>Test CPU &lt;v2&gt;<\/product>/);
    assert.match(
      xml,
      /<logicalname>\/dev\/sda<\/logicalname><serial>SER1<\/serial><size units="bytes">1000000000<\/size>/,
    );
    assert.match(xml, /<serial>52:54:00:dd:00:01<\/serial>/);
    assert.match(xml, /<size units="bytes">4294967296<\/size>/);

    const before = await fetch(`${api.base}/MAAS/api/2.0/machines/${fresh}/op-details`, {
      headers: { Authorization: oauthHeader(admin) },
    });
    assert.deepEqual(decodeBson(Buffer.from(await before.arrayBuffer())), { lshw: null, lldp: null });
    assert.equal((await api.call('GET', '/MAAS/api/2.0/machines/nosuch/op-details', { key: admin })).status, 404);
  });

  it('commissioning-results/ is the same handler, as MAAS routes it', async () => {
    const r = await api.call('GET', `/MAAS/api/2.0/commissioning-results/?system_id=${commissioned}`, { key: admin });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, (await results(`system_id=${commissioned}`)).body);
  });

  it("nodes/{system_id}/results/: the machine's commissioning as MAAS's script set", async () => {
    const RESULTS = `/MAAS/api/2.0/nodes/${commissioned}/results/`;
    const list = await api.call('GET', RESULTS, { key: alice });
    assert.equal(list.status, 200, list.text);
    const [set] = list.body as Json[];
    assert.equal((list.body as Json[]).length, 1);
    const id = set!.id as number;
    assert.equal(set!.system_id, commissioned);
    assert.equal(set!.type, 0);
    assert.equal(set!.type_name, 'Commissioning');
    // The environment reported only its hardware report: the built-ins it did not run are skipped.
    assert.equal(set!.status_name, 'Passed');
    assert.equal(set!.resource_uri, `${RESULTS}${id}/`);
    assert.match(set!.last_ping as string, /^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0000$/);
    const byName = new Map((set!.results as Json[]).map((r) => [r.name as string, r]));
    const result = byName.get(HARDWARE_FILE)!;
    assert.equal(result.exit_status, 0);
    assert.equal(result.status_name, 'Passed');
    assert.equal(result.script_id, null, 'not a stored script: made when the machine sent it, as MAAS does');
    assert.equal(result.output, undefined, 'no output unless asked');
    assert.equal(byName.get('00-maas-01-lshw')!.status_name, 'Skipped');

    const withOutput = (
      await api.call('GET', `${RESULTS}current-commissioning/?include_output=true&filters=${HARDWARE_FILE}`, {
        key: admin,
      })
    ).body as Json;
    const [out] = withOutput.results as Json[];
    const data = JSON.parse(Buffer.from(out!.output as string, 'base64').toString('utf8')) as HardwareReport;
    assert.equal(data.dmi.product, 'Box');
    assert.deepEqual((await api.call('GET', `${RESULTS}${id}/`, { key: admin })).body, set);

    // MAAS's filters and types.
    assert.deepEqual((await api.call('GET', `${RESULTS}?type=testing`, { key: admin })).body, []);
    assert.equal(((await api.call('GET', `${RESULTS}?type=commissioning`, { key: admin })).body as Json[]).length, 1);
    const filtered = (await api.call('GET', `${RESULTS}${id}/?filters=other-script`, { key: admin })).body as Json;
    assert.deepEqual(filtered.results, []);
    const cpu = (await api.call('GET', `${RESULTS}${id}/?hardware_type=cpu`, { key: admin })).body as Json;
    assert.deepEqual(cpu.results, []);
    const badType = await api.call('GET', `${RESULTS}?type=banana`, { key: admin });
    assert.equal(badType.status, 400);
    assert.match(badType.text, /Unknown type \\?"banana/);
    const badId = await api.call('GET', `${RESULTS}latest/`, { key: admin });
    assert.equal(badId.status, 400);
    assert.match(badId.text, /must be current-commissioning, current-testing, current-installation/);
    const noTesting = await api.call('GET', `${RESULTS}current-testing/`, { key: admin });
    assert.equal(noTesting.status, 400);
    assert.match(noTesting.text, /No current testing script set exists for this node/);
    assert.equal((await api.call('GET', `${RESULTS}${id + 1000}/`, { key: admin })).status, 404);
    // A machine that never commissioned has no sets; one nobody can see is a 404.
    assert.deepEqual((await api.call('GET', `/MAAS/api/2.0/nodes/${fresh}/results/`, { key: admin })).body, []);
    assert.equal((await api.call('GET', '/MAAS/api/2.0/nodes/nosuch/results/', { key: admin })).status, 404);
  });
});
