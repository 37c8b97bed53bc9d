// Issue 18 item 1, with real processes: two racks share a VLAN (primary rack-test, secondary
// rack-b); the primary is killed with SIGKILL while four machines are mid-operation: one deploy's
// power-on is in flight on it (the installer's netboot), one deploy's installer is writing, one
// machine commissions, one releases with a disk erase. Each completes through the secondary with no
// operator action (docs/adr/0005-rack-failover.md), and each machine's events say what happened.
// The machines are FAKE machines simulated in this process behind a webhook BMC, so the kill takes
// only the rack, as it would in a rack of real servers.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startFakeMachinePeer, type FakeMachinePeer } from '../helpers/bmc/fake-machine-peer';
import { macAddress } from '../helpers/factories';
import { startStack, type Stack } from '../helpers/stack';
import { NODE_FLAGS } from '../../src/runtime/node-flags';

type Json = Record<string, unknown>;
const ROOT = path.resolve(__dirname, '..', '..');
const LONG = 240_000;

describe('rack failover mid-operation (processes, kill -9 of the primary rack)', () => {
  let stack: Stack;
  let db: pg.Client;
  let peer: FakeMachinePeer;
  const rackBDir = fs.mkdtempSync(path.join(os.tmpdir(), 'metalflow-rack-b-'));
  let rackB: { child: ChildProcess; output: () => string } | undefined;

  const startRackB = async (secret: string) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, path.join(ROOT, 'bin', 'metalflow.js'), 'rack'], {
      cwd: ROOT,
      env: {
        ...stack.env,
        METALFLOW_RACK_NAME: 'rack-b',
        METALFLOW_STATE_DIR: rackBDir,
        METALFLOW_RACK_SECRET: secret,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await until(
      'rack-b is up',
      () => /worker running on task queue/.test(out),
      60_000,
      () => out,
    );
    rackB = { child, output: () => out };
  };

  before(async () => {
    stack = await startStack({ nodeTimeoutSeconds: 600 });
    const secret = fs.readFileSync(path.join(stack.env.METALFLOW_STATE_DIR!, 'rack-secret'), 'utf8').trim();
    db = new pg.Client({ connectionString: stack.dbUrl });
    await db.connect();
    await startRackB(secret);
    peer = await startFakeMachinePeer({ regionUrl: stack.env.METALFLOW_REGION_URL!, secret });
  });
  after(async () => {
    if (rackB && rackB.child.exitCode === null && rackB.child.signalCode === null) {
      const gone = new Promise((r) => rackB!.child.once('exit', r));
      rackB.child.kill('SIGTERM');
      await gone;
    }
    await peer?.stop();
    await db?.end();
    await stack?.stop();
    fs.rmSync(rackBDir, { recursive: true, force: true });
  });

  const create = async (hostname: string): Promise<string> => {
    const r = await stack.call('POST', '/machines/', {
      hostname,
      architecture: 'amd64',
      mac_addresses: macAddress(),
      power_type: 'webhook',
      ...peer.powerParameters,
      commission: 'false',
    });
    assert.equal(r.status, 200, r.text);
    const id = (r.body as Json).system_id as string;
    // Served by the primary, which is about to die.
    await db.query(
      `UPDATE machines SET rack_id = (SELECT id FROM racks WHERE name = 'rack-test') WHERE system_id = $1`,
      [id],
    );
    return id;
  };
  const op = async (id: string, name: string, form: Record<string, string> = {}) => {
    const r = await stack.call('POST', `/machines/${id}/op-${name}`, form);
    assert.equal(r.status, 200, `${name} ${id}: ${r.text}`);
  };
  const events = async (id: string) =>
    (
      await db.query(
        `SELECT e.type, e.description FROM events e JOIN machines m ON m.id = e.machine_id WHERE m.system_id = $1 ORDER BY e.id`,
        [id],
      )
    ).rows as Array<{ type: string; description: string }>;
  const peerSaw = (id: string, what: string) => peer.log.some((l) => l.includes(id) && l.includes(what));

  it('deploy (power-on in flight, installer writing), commission and release complete through the secondary', async () => {
    const vlans = await db.query(
      `UPDATE vlans SET primary_rack_id = (SELECT id FROM racks WHERE name = 'rack-test'),
                        secondary_rack_id = (SELECT id FROM racks WHERE name = 'rack-b')`,
    );
    assert.ok((vlans.rowCount ?? 0) > 0, 'the racks share a VLAN');

    const netbooting = await create('fo-netboot');
    const installing = await create('fo-install');
    const commissioning = await create('fo-commission');
    const releasing = await create('fo-release');
    // Before the fault, at full speed: everything Ready, the machine to release Deployed.
    for (const id of [netbooting, installing, releasing]) await op(id, 'commission');
    for (const id of [netbooting, installing, releasing]) await stack.waitForStatus(id, 'Ready', LONG);
    await op(releasing, 'deploy', { distro_series: 'custom/metalflow-standin' });
    await stack.waitForStatus(releasing, 'Deployed', LONG);

    // Into the fault: slow machines, each in its phase when the primary dies.
    for (const id of [installing, commissioning, releasing]) peer.delays.set(id, 4_000);
    await op(installing, 'deploy', { distro_series: 'custom/metalflow-standin' });
    await until('the installer of fo-install is writing', () => peerSaw(installing, 'netbooted: purpose xinstall'));
    await op(commissioning, 'commission');
    await op(releasing, 'release', { erase: 'true' });
    peer.holdNextOn.add(netbooting);
    await op(netbooting, 'deploy', { distro_series: 'custom/metalflow-standin' });
    await until('the power-on of fo-netboot is in flight on the primary', () =>
      peer.log.some((l) => l.includes(`holding power on of ${netbooting}`)),
    );
    await until('fo-commission has netbooted', () => peerSaw(commissioning, 'netbooted: purpose commissioning'));
    await stack.kill('rack');

    const [n, i, c, r] = await Promise.all([
      stack.waitForStatus(netbooting, 'Deployed', LONG),
      stack.waitForStatus(installing, 'Deployed', LONG),
      stack.waitForStatus(commissioning, 'Ready', LONG),
      stack.waitForStatus(releasing, 'Ready', LONG),
    ]);
    for (const m of [n, i]) assert.equal(m.status_message, 'Deployed metalflow-standin.');
    for (const m of [c, r]) assert.equal(m.status_message ?? null, null, String(m.status_message));

    const gone = 'Rack rack-test is gone; continuing through rack-b.';
    for (const id of [netbooting, installing, commissioning, releasing]) {
      const log = await events(id);
      assert.equal(log.filter((e) => e.description === gone).length, 1, `${id}: ${JSON.stringify(log)}`);
    }
    const erased = await events(releasing);
    assert.ok(
      erased.some((e) => /erase/i.test(e.description)),
      'the release erased the disks',
    );
    assert.ok(peerSaw(netbooting, 'went away; not powered on'), 'the held power-on died with the primary');
    const b = rackB!.output();
    assert.match(b, /rack rack-test is silent: serving its task queue rack:/);
    assert.ok(b.includes(`power on ${netbooting}`), 'the secondary powered the netbooting machine on');
    assert.ok(b.includes(`power off ${commissioning}`), 'the secondary powered the commissioned machine off');
  });
});

async function until(what: string, ok: () => boolean, timeoutMs = 60_000, detail?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}${detail ? `:\n${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
