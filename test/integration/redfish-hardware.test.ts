// Issue 7: examples/redfish-hardware.py reads a server's hardware from its Redfish BMC (here
// sushy-emulator with an inventory) and reports it to metalflow with the machine's own token.
// The region's real app on real PostgreSQL and Temporal; the example runs as a process.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startApi, type ApiClient } from '../helpers/api';
import { startSushy, SUSHY_HARDWARE, type Sushy } from '../helpers/bmc/sushy';
import { startTestRegion, type TestRegion } from '../helpers/region';

type Json = Record<string, unknown>;
const API = '/MAAS/api/2.0';
const EXAMPLE = path.resolve(__dirname, '..', '..', 'examples', 'redfish-hardware.py');
const run = promisify(execFile);

describe('examples/redfish-hardware.py against sushy-emulator', () => {
  let region: TestRegion;
  let api: ApiClient;
  let bmc: Sushy;
  let admin: string;
  let dir: string;

  before(async () => {
    [region, bmc] = await Promise.all([startTestRegion({}), startSushy({ hardware: true, tls: true })]);
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redfish-hardware-'));
  });
  after(async () => {
    await api?.close();
    await region?.stop();
    await bmc?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const example = async (args: string[]) => {
    try {
      const r = await run(
        'python3',
        [EXAMPLE, '--bmc', bmc.address, '--user', 'admin', '--password-env', 'BMC_PASSWORD', ...args],
        {
          cwd: dir,
          env: { PATH: process.env.PATH, BMC_PASSWORD: 'password' },
        },
      );
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const machine = async (id: string) => (await api.call('GET', `${API}/machines/${id}/`, { key: admin })).body as Json;
  const totalStorageMb = SUSHY_HARDWARE.drives.reduce((s, d) => s + d.bytes, 0) / 1_000_000;

  it('refuses a self-signed BMC without --insecure, and a wrong password, sending nothing', async () => {
    const tls = await example(['--dry-run']);
    assert.notEqual(tls.code, 0);
    assert.match(tls.stderr, /cannot reach the BMC|CERTIFICATE/i);
    const wrong = await run('python3', [
      EXAMPLE,
      '--bmc',
      bmc.address,
      '--user',
      'admin',
      '--password',
      'nope',
      '--insecure',
      '--dry-run',
    ]).then(
      (r) => ({ code: 0, stderr: r.stderr }),
      (e: { code: number; stderr: string }) => e,
    );
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /401/);
  });

  it("--register makes the machine (identity: the BMC system UUID) and reports the BMC's inventory; again finds the same machine", async () => {
    const r = await example(['--insecure', '--register', `${api.base}/MAAS`, admin, '--hostname', 'server7']);
    assert.equal(r.code, 0, r.stderr);
    const creds = fs.readFileSync(path.join(dir, 'server7-creds.yaml'), 'utf8');
    const systemId = /endpoint: \S+\/metadata\/status\/(\w+)$/m.exec(creds)![1]!;
    const m = await machine(systemId);
    assert.equal(m.hostname, 'server7');
    assert.equal(m.status_name, 'Deployed');
    assert.equal(
      m.cpu_count,
      SUSHY_HARDWARE.cpus.reduce((s, c) => s + c.threads, 0),
    );
    assert.equal(m.memory, SUSHY_HARDWARE.memoryGib * 1024);
    assert.equal(m.storage, totalStorageMb);
    assert.equal(m.architecture, 'amd64/generic');
    assert.deepEqual((m.interface_set as Json[]).map((i) => i.mac_address).sort(), SUSHY_HARDWARE.nics);
    assert.deepEqual((m.blockdevice_set as Json[]).map((d) => [d.name, d.size, d.serial]).sort(), [
      ['disk0', 480103981056, '1234570'],
      ['disk1', 1920383410176, '1234570'],
    ]);
    const info = m.hardware_info as Json;
    assert.equal(info.cpu_model, 'Fake Xeon 6230');
    assert.equal(info.system_vendor, 'Sushy Emulator');
    assert.equal(info.system_uuid, SUSHY_HARDWARE.uuid);
    assert.equal(m.commissioning_status_name, 'Passed');

    const again = await example(['--insecure', '--register', `${api.base}/MAAS/`, admin, '--hostname', 'server7']);
    assert.equal(again.code, 0, again.stderr);
    const count = (await region.services.db.query(`SELECT count(*)::int AS n FROM machines WHERE host_id = $1`, [
      `redfish-${SUSHY_HARDWARE.uuid}`,
    ])) as Array<{ n: number }>;
    assert.equal(count[0]!.n, 1);
  });

  it("--config reports with the machine's token only; a bad token is refused", async () => {
    const r = await example(['--insecure', '--config', 'server7-creds.yaml']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /16 CPUs, 65536 MiB, 2 disks, 2 NICs/);
    fs.writeFileSync(
      path.join(dir, 'bad-creds.yaml'),
      fs.readFileSync(path.join(dir, 'server7-creds.yaml'), 'utf8').replace(/token_secret: \S+/, 'token_secret: wrong'),
    );
    const bad = await example(['--insecure', '--config', 'bad-creds.yaml']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /401/);
  });
});
