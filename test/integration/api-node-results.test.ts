// node-results (installation-results/) and a machine's `details` (BSON of lshw/lldp XML), from
// the hardware report commissioning stored. Real HTTP, PostgreSQL and Temporal (scripted rack).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { oauthHeader } from '../../src/api/http';
import { HARDWARE_FILE, type HardwareReport } from '../../src/contracts/hardware';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { MachineEntity } from '../../src/region/db/entities';
import { startApi, type ApiClient } from '../helpers/api';
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

/** The one BSON shape details sends: binary and null elements (see presenters/bson.ts). */
function decodeBson(buf: Buffer): Record<string, Buffer | null> {
  assert.equal(buf.readInt32LE(0), buf.length);
  const out: Record<string, Buffer | null> = {};
  let i = 4;
  while (buf[i] !== 0) {
    const type = buf[i]!;
    const end = buf.indexOf(0, i + 1);
    const name = buf.subarray(i + 1, end).toString('utf8');
    i = end + 1;
    if (type === 0x0a) out[name] = null;
    else {
      assert.equal(type, 0x05);
      const len = buf.readInt32LE(i);
      out[name] = buf.subarray(i + 5, i + 5 + len);
      i += 5 + len;
    }
  }
  return out;
}

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
});
