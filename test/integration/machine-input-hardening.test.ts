// Issue 15, part 3, at the HTTP level where it was found: machine credentials in boot configs only
// during a netboot phase; hardware reports validated before anything is stored (commissioning and
// deployed machines alike); presenters bounded; signal, annotation and MAC caps.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HARDWARE_FILE, HARDWARE_LIMITS } from '../../src/contracts/hardware';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { startApi, type ApiClient } from '../helpers/api';
import { startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

type Json = Record<string, unknown>;

describe('issue 15: machine credentials, hardware reports, amplification (real HTTP, PostgreSQL, Temporal)', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  const rack = new ScriptedRack(50);
  let macs = 0;
  const mac = () => `52:54:00:f5:00:${(macs++).toString(16).padStart(2, '0')}`;

  before(async () => {
    region = await startTestRegion({ nodeTimeoutMs: 60_000, rack: rack.activities() });
    rack.services = region.services;
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const ready = async (hostname: string) => {
    const address = mac();
    const r = await api.call('POST', '/MAAS/api/2.0/machines/', {
      key: admin,
      form: { hostname, architecture: 'amd64/generic', mac_addresses: address, power_type: 'manual' },
    });
    assert.equal(r.status, 200, r.text);
    const systemId = (r.body as Json).system_id as string;
    await waitForStatus(region.services, systemId, S.READY);
    return { systemId, mac: address };
  };
  const tokenOf = async (systemId: string) => {
    const t = (await api.call('GET', `/MAAS/api/2.0/machines/${systemId}/?op=get_token`, { key: admin })).body as Json;
    return `${t.consumer_key as string}:${t.token_key as string}:${t.token_secret as string}`;
  };
  /** What the rack is told when `mac` netboots (the rack API, with the racks' shared secret). */
  const bootConfig = async (address: string) => {
    const r = await fetch(`${api.base}/MAAS/rack/v1/racks/${region.rackSystemId}/boot-config/${address}`, {
      headers: { authorization: 'Bearer test-rack-secret' },
    });
    const text = await r.text();
    assert.equal(r.status, 200, text);
    return { json: JSON.parse(text) as Json, text };
  };
  const setPhase = (systemId: string, status: number, purpose: string, erase = '') =>
    region.services.db.query(
      `UPDATE machines SET status = $2, boot_purpose = $3, boot_erase = $4 WHERE system_id = $1`,
      [systemId, status, purpose, erase],
    );
  const row = async (systemId: string) =>
    (
      (await region.services.db.query(`SELECT cpu_count, memory, block_devices FROM machines WHERE system_id = $1`, [
        systemId,
      ])) as Json[]
    )[0]!;
  const eventCount = async (systemId: string) =>
    Number(
      (
        (await region.services.db.query(
          `SELECT count(*) AS n FROM events e JOIN machines m ON m.id = e.machine_id WHERE m.system_id = $1`,
          [systemId],
        )) as Array<{ n: string }>
      )[0]!.n,
    );
  const signal = (key: string, fields: Record<string, string>, report?: unknown) => {
    const form = new FormData();
    form.append('op', 'signal');
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    if (report !== undefined)
      form.append(
        HARDWARE_FILE,
        new Blob([typeof report === 'string' ? report : JSON.stringify(report)], { type: 'application/json' }),
        HARDWARE_FILE,
      );
    return api.call('POST', '/MAAS/metadata/2012-03-01/', { key, body: form });
  };

  it('a READY machine (commissioned, its stored purpose still commissioning) gets no credentials', async () => {
    const m = await ready('creds-ready');
    const stored = (await region.services.db.query(`SELECT boot_purpose FROM machines WHERE system_id = $1`, [
      m.systemId,
    ])) as Json[];
    assert.equal(stored[0]!.boot_purpose, 'commissioning', 'the case the issue found');
    const token = (await tokenOf(m.systemId)).split(':');
    const { json, text } = await bootConfig(m.mac);
    assert.equal(json.purpose, 'poweroff');
    assert.equal(json.credentials, undefined);
    for (const part of token) assert.ok(!text.includes(part), 'no part of the token in the reply');
  });

  it('credentials only in a netboot phase, with a purpose that phase uses', async () => {
    const m = await ready('creds-phases');
    const cases: Array<[number, string, string, string, boolean, string?]> = [
      [S.COMMISSIONING, 'commissioning', '', 'commissioning', true],
      [S.DEPLOYING, 'xinstall', '', 'xinstall', true],
      [S.DEPLOYING, 'local', '', 'local', true],
      [S.DISK_ERASING, 'commissioning', 'quick', 'commissioning', true, 'quick'],
      [S.DISK_ERASING, 'commissioning', '', 'poweroff', false],
      [S.DEPLOYED, 'local', '', 'local', false],
      [S.DEPLOYED, 'xinstall', '', 'poweroff', false],
      [S.FAILED_COMMISSIONING, 'commissioning', '', 'poweroff', false],
      [S.ALLOCATED, 'xinstall', '', 'poweroff', false],
      [S.NEW, 'commissioning', '', 'poweroff', false],
      [S.COMMISSIONING, 'xinstall', '', 'poweroff', false],
      [S.BROKEN, 'commissioning', 'full', 'poweroff', false],
    ];
    for (const [status, stored, erase, purpose, credentials, servedErase] of cases) {
      await setPhase(m.systemId, status, stored, erase);
      const { json } = await bootConfig(m.mac);
      const what = `status ${status}, stored ${stored}${erase ? `+${erase}` : ''}`;
      assert.equal(json.purpose, purpose, what);
      assert.equal(json.credentials !== undefined, credentials, what);
      assert.equal(json.erase, servedErase, what);
    }
    await setPhase(m.systemId, S.READY, 'poweroff');
  });

  it('hardware reports: a bad one is a 400 naming its path in the report, and stores nothing', async () => {
    const m = await ready('hw-bad');
    const key = await tokenOf(m.systemId);
    await setPhase(m.systemId, S.COMMISSIONING, 'commissioning');
    const before = { row: await row(m.systemId), events: await eventCount(m.systemId) };
    const disk = { name: 'sda', size_bytes: 1e9, serial: 's', model: 'm' };
    const nic = { name: 'eth0', mac: '52:54:00:f5:ff:01', link_speed_mbps: 1000 };
    const bad: Array<[unknown, string]> = [
      [{ cpu: { count: 150_000 } }, 'cpu.count'],
      [{ cpu: { count: 1.5 } }, 'cpu.count'],
      [{ cpu: { count: 3e9 } }, 'cpu.count'],
      [{ cpu: { count: -1 } }, 'cpu.count'],
      [{ cpu: { count: '4' } }, 'cpu.count'],
      [{ memory_mib: 1e20 }, 'memory_mib'],
      [{ memory_mib: HARDWARE_LIMITS.memoryMib + 1 }, 'memory_mib'],
      [{ cpu: { count: 4, model: 'Xeon\u0000' } }, 'cpu.model'],
      [{ cpu: { model: 'x'.repeat(HARDWARE_LIMITS.textLength + 1) } }, 'cpu.model'],
      [{ block_devices: Array.from({ length: HARDWARE_LIMITS.blockDevices + 1 }, () => disk) }, 'block_devices'],
      [{ block_devices: [disk, { ...disk, size_bytes: 2 ** 60 }] }, 'block_devices[1].size_bytes'],
      [{ interfaces: Array.from({ length: HARDWARE_LIMITS.interfaces + 1 }, () => nic) }, 'interfaces'],
      [{ interfaces: [{ ...nic, mac: 5 }] }, 'interfaces[0].mac'],
      [{ interfaces: [{ ...nic, type: 'tunnel' }] }, 'interfaces[0].type'],
      [{ interfaces: [{ ...nic, link_speed_mbps: 1e12 }] }, 'interfaces[0].link_speed_mbps'],
      [{ dmi: { vendor: 'a\u0001b' } }, 'dmi.vendor'],
      [{ gpu: { count: 8 } }, 'gpu'],
      [{ cpu: { count: 4, threads: 8 } }, 'cpu.threads'],
      [[1, 2], HARDWARE_FILE],
      ['{"cpu": ', HARDWARE_FILE],
    ];
    for (const [report, path] of bad) {
      const r = await signal(key, { status: 'OK' }, report);
      assert.equal(r.status, 400, `${path}: ${r.text}`);
      assert.ok(r.text.includes(path), `the reply names ${path}: ${r.text}`);
    }
    assert.deepEqual(await row(m.systemId), before.row, 'nothing stored');
    assert.equal(await eventCount(m.systemId), before.events, 'not even the event');

    const good = await signal(
      key,
      { status: 'WORKING' },
      {
        architecture: 'amd64/generic',
        cpu: { count: HARDWARE_LIMITS.cpuCount, model: 'Xeon', speed_mhz: 2400 },
        memory_mib: HARDWARE_LIMITS.memoryMib,
        block_devices: [disk],
        interfaces: [nic],
        dmi: { vendor: 'metalflow' },
      },
    );
    assert.equal(good.status, 200, good.text);
    const stored = await row(m.systemId);
    assert.equal(stored.cpu_count, HARDWARE_LIMITS.cpuCount);
    assert.equal(stored.memory, HARDWARE_LIMITS.memoryMib);
  });

  it("a deployed machine's report-results goes through the same validator", async () => {
    const m = await ready('hw-deployed');
    const key = await tokenOf(m.systemId);
    await setPhase(m.systemId, S.DEPLOYED, 'local');
    const before = await row(m.systemId);
    const r = await signal(key, { status: 'OK' }, { cpu: { count: 150_000 } });
    assert.equal(r.status, 400);
    assert.match(r.text, /cpu\.count/);
    assert.deepEqual(await row(m.systemId), before);
    await setPhase(m.systemId, S.READY, 'poweroff');
  });

  it('a machine reporting a huge cpu_count does not take the region down (the presenter is bounded)', async () => {
    const m = await ready('cpu-huge');
    // What an old row (or the API's own cpu_count) may hold; a report can no longer set it.
    await region.services.db.query(`UPDATE machines SET cpu_count = $2 WHERE system_id = $1`, [
      m.systemId,
      2 ** 31 - 1,
    ]);
    const r = await api.call('GET', `/MAAS/api/2.0/machines/${m.systemId}/`, { key: admin });
    assert.equal(r.status, 200);
    const numa = (r.body as Json).numanode_set as Array<{ cores: number[] }>;
    assert.equal(numa[0]!.cores.length, HARDWARE_LIMITS.cpuCount);
    assert.equal((await api.call('GET', '/MAAS/api/2.0/machines/', { key: admin })).status, 200);
  });

  it('signal: an error past the cap or with a NUL is a 400 and records nothing; status events are cut visibly', async () => {
    const m = await ready('sig-caps');
    const key = await tokenOf(m.systemId);
    const events = await eventCount(m.systemId);
    const huge = await signal(key, { status: 'WORKING', error: 'x'.repeat(1024 * 1024) });
    assert.equal(huge.status, 400, huge.text);
    assert.match(huge.text, /error/);
    const nul = await signal(key, { status: 'WORKING', error: 'bad\u0000byte' });
    assert.equal(nul.status, 400, nul.text);
    assert.equal(await eventCount(m.systemId), events, 'nothing recorded');
    const fine = await signal(key, { status: 'WORKING', error: `line one\nline two\t${'x'.repeat(9_000)}` });
    assert.equal(fine.status, 200, fine.text);

    const long = await api.call('POST', `/MAAS/metadata/status/${m.systemId}`, {
      key,
      body: JSON.stringify({ event_type: 'start', name: 'init', description: 'y'.repeat(100_000) }),
    });
    assert.equal(long.status, 200, long.text);
    const last = (await region.services.db.query(
      `SELECT e.description FROM events e JOIN machines m ON m.id = e.machine_id WHERE m.system_id = $1 ORDER BY e.id DESC LIMIT 1`,
      [m.systemId],
    )) as Array<{ description: string }>;
    assert.ok(last[0]!.description.length <= 2_000);
    assert.match(last[0]!.description, /\[truncated: 100006 characters\]$/);
    const nulEvent = await api.call('POST', `/MAAS/metadata/status/${m.systemId}`, {
      key,
      body: JSON.stringify({ event_type: 'start', name: 'init', description: 'a\u0000b' }),
    });
    assert.equal(nulEvent.status, 400, nulEvent.text);
  });

  it('workload annotations: at most 100, keys and values capped, a refused request changes nothing', async () => {
    const m = await ready('annotations');
    const url = `/MAAS/api/2.0/machines/${m.systemId}/?op=set_workload_annotations`;
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, 'v']));
    const tooMany = await api.call('POST', url, { key: admin, form: many });
    assert.equal(tooMany.status, 400, tooMany.text);
    assert.match(tooMany.text, /workload_annotations/);
    const longKey = await api.call('POST', url, { key: admin, form: { ['k'.repeat(256)]: 'v' } });
    assert.equal(longKey.status, 400);
    const longValue = await api.call('POST', url, { key: admin, form: { app: 'v'.repeat(4097) } });
    assert.equal(longValue.status, 400);
    assert.match(longValue.text, /app/);
    const shown = async () =>
      ((await api.call('GET', `/MAAS/api/2.0/machines/${m.systemId}/`, { key: admin })).body as Json)
        .workload_annotations;
    assert.deepEqual(await shown(), {});
    const hundred = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'v']));
    assert.equal((await api.call('POST', url, { key: admin, form: hundred })).status, 200);
    assert.equal((await api.call('POST', url, { key: admin, form: { extra: 'v' } })).status, 400);
    // Removing one makes room: the cap counts what the machine would hold.
    assert.equal((await api.call('POST', url, { key: admin, form: { k0: '', extra: 'v' } })).status, 200);
    assert.equal(Object.keys((await shown()) as Json).length, 100);
  });

  it('at most 64 MAC addresses per machine; more is a 400 naming mac_addresses, nothing created', async () => {
    const count = async () =>
      Number(((await region.services.db.query('SELECT count(*) AS n FROM machines')) as Array<{ n: string }>)[0]!.n);
    const before = await count();
    const many = Array.from(
      { length: 65 },
      (_, i) => `52:54:01:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
    );
    const r = await api.call('POST', '/MAAS/api/2.0/machines/', {
      key: admin,
      form: { architecture: 'amd64/generic', mac_addresses: many, power_type: 'manual', commission: 'false' },
    });
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /mac_addresses/);
    assert.match(r.text, /At most 64 MAC addresses/);
    assert.equal(await count(), before);
    const ok = await api.call('POST', '/MAAS/api/2.0/machines/', {
      key: admin,
      form: {
        architecture: 'amd64/generic',
        mac_addresses: many.slice(0, 64),
        power_type: 'manual',
        commission: 'false',
      },
    });
    assert.equal(ok.status, 200, ok.text);
  });
});
