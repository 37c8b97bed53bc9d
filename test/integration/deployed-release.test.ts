// Issue 7: a registered deployed machine's VLANs, bridges and bonds (as maas-run-scripts reports
// them) go away on release, its NICs stay; and hosts registering at the same moment get exactly
// one machine each, never a 500. The region's real app on real PostgreSQL and Temporal.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { startApi, type ApiClient } from '../helpers/api';
import { startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';

type Json = Record<string, unknown>;
const API = '/MAAS/api/2.0';

describe('deployed machines: release removes non-physical interfaces; concurrent registration', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;

  before(async () => {
    const off = async () => ({ state: 'off' as const });
    region = await startTestRegion({
      rack: {
        powerOn: off,
        powerOff: off,
        powerCycle: off,
        queryPower: async () => 'off',
        prepareBoot: async () => undefined,
      },
    });
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const register = (hostId: string, hostname: string) =>
    api.call('POST', `${API}/machines/`, { key: admin, form: { deployed: 'true', host_id: hostId, hostname } });
  const tokenOf = async (systemId: string) => {
    const t = (await api.call('GET', `${API}/machines/${systemId}/?op=get_token`, { key: admin })).body as Json;
    return `${t.consumer_key as string}:${t.token_key as string}:${t.token_secret as string}`;
  };
  const report = async (systemId: string, interfaces: object[]) => {
    const form = new FormData();
    form.append('op', 'signal');
    form.append('status', 'OK');
    const hw = {
      cpu: { count: 4, model: 'x', speed_mhz: 2000 },
      memory_mib: 8192,
      block_devices: [],
      interfaces,
      dmi: {},
    };
    form.append(
      'metalflow-hardware.json',
      new Blob([JSON.stringify(hw)], { type: 'application/json' }),
      'metalflow-hardware.json',
    );
    return api.call('POST', '/MAAS/metadata/2012-03-01/', { key: await tokenOf(systemId), body: form });
  };
  const interfaces = async (systemId: string) =>
    (((await api.call('GET', `${API}/machines/${systemId}/`, { key: admin })).body as Json).interface_set as Json[])
      .map((i) => `${i.name as string}:${i.type as string}:${i.mac_address as string}`)
      .sort();

  it('stores the reported VLAN, bridge and bond with their type (sharing MACs); release keeps only the NICs and ends READY', async () => {
    const r = await register('host-with-bridges-0001', 'bridged');
    assert.equal(r.status, 200, r.text);
    const id = (r.body as Json).system_id as string;
    const nics = [
      { name: 'eth0', type: 'physical', mac: '52:54:00:10:00:01', link_speed_mbps: 1000 },
      { name: 'eth1', mac: '52:54:00:10:00:02', link_speed_mbps: 1000 },
      { name: 'br0', type: 'bridge', mac: '52:54:00:10:00:01', link_speed_mbps: 0 },
      { name: 'eth0.100', type: 'vlan', mac: '52:54:00:10:00:01', link_speed_mbps: 0 },
      { name: 'bond0', type: 'bond', mac: '52:54:00:10:00:02', link_speed_mbps: 0 },
    ];
    const sent = await report(id, nics);
    assert.equal(sent.status, 200, sent.text);
    assert.deepEqual(await interfaces(id), [
      'bond0:bond:52:54:00:10:00:02',
      'br0:bridge:52:54:00:10:00:01',
      'eth0.100:vlan:52:54:00:10:00:01',
      'eth0:physical:52:54:00:10:00:01',
      'eth1:physical:52:54:00:10:00:02',
    ]);
    // Reporting again is safe, and a bond that is gone is gone.
    assert.equal(
      (
        await report(
          id,
          nics.filter((n) => n.name !== 'bond0'),
        )
      ).status,
      200,
    );
    assert.equal((await interfaces(id)).length, 4);

    assert.equal((await api.call('POST', `${API}/machines/${id}/op-release`, { key: admin })).status, 200);
    await waitForStatus(region.services, id, S.READY);
    assert.deepEqual(await interfaces(id), ['eth0:physical:52:54:00:10:00:01', 'eth1:physical:52:54:00:10:00:02']);
  });

  it('maas-run-scripts reports a bridge with its type, and leaves veths out (a network namespace; root only)', (t) => {
    const ns = `mf-rs-${process.pid}`;
    try {
      execFileSync('ip', ['netns', 'add', ns], { stdio: 'ignore' });
    } catch {
      t.skip('needs root and ip netns');
      return;
    }
    try {
      const script = path.resolve(__dirname, '..', '..', 'src', 'api', 'run-scripts', 'maas-run-scripts.sh');
      // `ip netns exec` mounts the namespace's own /sys, where the script looks.
      const out = execFileSync(
        'ip',
        [
          'netns',
          'exec',
          ns,
          'sh',
          '-c',
          `ip link add v0 type veth peer name v1 && ip link add br9 type bridge && ip link set br9 address 02:00:00:00:09:09 && MAAS_RUN_SCRIPTS_LIB=1 . '${script}' && _arch=amd64 collect_hardware`,
        ],
        { encoding: 'utf8' },
      );
      const report = JSON.parse(out) as { interfaces: Array<{ name: string; type: string; mac: string }> };
      assert.deepEqual(report.interfaces, [
        { name: 'br9', type: 'bridge', mac: '02:00:00:00:09:09', link_speed_mbps: 0 },
      ]);
    } finally {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    }
  });

  it('a machine without passed hardware data is NEW after release, its VLAN gone too', async () => {
    const r = await register('host-without-hw-0001', 'no-hw');
    const id = (r.body as Json).system_id as string;
    await region.services.db.query(
      `INSERT INTO interfaces (machine_id, name, type, mac_address) SELECT id, 'vlan7', 'vlan', '52:54:00:20:00:01' FROM machines WHERE system_id = $1`,
      [id],
    );
    assert.equal((await api.call('POST', `${API}/machines/${id}/op-release`, { key: admin })).status, 200);
    await waitForStatus(region.services, id, S.NEW);
    assert.deepEqual(await interfaces(id), []);
  });

  it('the same host registering 8 times at once: one machine, every answer 200 with it', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => register('same-host-race-0001', 'racer')));
    for (const a of answers) assert.equal(a.status, 200, a.text);
    const ids = new Set(answers.map((a) => (a.body as Json).system_id));
    assert.equal(ids.size, 1);
    const rows = (await region.services.db.query(
      `SELECT count(*)::int AS n FROM machines WHERE host_id = 'same-host-race-0001'`,
    )) as Array<{ n: number }>;
    assert.equal(rows[0]!.n, 1);
  });

  it('8 different hosts registering at once: 8 machines; two with one hostname: a 400, never a 500', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => register(`other-host-race-${i}00`, `racer-${i}`)),
    );
    for (const a of answers) assert.equal(a.status, 200, a.text);
    assert.equal(new Set(answers.map((a) => (a.body as Json).system_id)).size, 8);

    const clash = await Promise.all([
      register('clash-host-a-0001', 'same-name'),
      register('clash-host-b-0001', 'same-name'),
    ]);
    assert.deepEqual(clash.map((a) => a.status).sort(), [200, 400], clash.map((a) => a.text).join(' | '));
  });
});
