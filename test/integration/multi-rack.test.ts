// Several racks at once (issue 3): two real rack processes register with one region, report their
// services, and each runs the power and boot work of its own machines on its own task queue; a
// rack restarted with its state dir is the same rack. Real processes, PostgreSQL and Temporal.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { macAddress } from '../helpers/factories';
import { startStack, type Stack } from '../helpers/stack';
import { NODE_FLAGS } from '../../src/runtime/node-flags';

type Json = Record<string, unknown>;
const ROOT = path.resolve(__dirname, '..', '..');

describe('several racks at once (processes)', () => {
  let stack: Stack;
  let db: pg.Client;
  let secret: string;
  const rackBDir = fs.mkdtempSync(path.join(os.tmpdir(), 'metalflow-rack-b-'));
  let rackB: { child: ChildProcess; output: () => string } | undefined;

  /** A second rack process: its own name and state dir, the region's shared secret. */
  const startRackB = async (rackSecret = secret) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, path.join(ROOT, 'bin', 'metalflow.js'), 'rack'], {
      cwd: ROOT,
      env: {
        ...stack.env,
        METALFLOW_RACK_NAME: 'rack-b',
        METALFLOW_STATE_DIR: rackBDir,
        METALFLOW_RACK_SECRET: rackSecret,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const started = new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (/worker running on task queue/.test(out)) {
          clearInterval(timer);
          resolve();
        }
      }, 50);
      child.once('exit', (code) => {
        clearInterval(timer);
        reject(new Error(`rack-b exited with ${code}:\n${out}`));
      });
    });
    await started;
    rackB = { child, output: () => out };
  };
  const stopRackB = async () => {
    if (!rackB || rackB.child.exitCode !== null) return;
    const gone = new Promise((r) => rackB!.child.once('exit', r));
    rackB.child.kill('SIGTERM');
    await gone;
  };
  const racks = async () =>
    ((await stack.call('GET', '/rackcontrollers/')).body as Json[]).sort((a, b) =>
      String(a.hostname).localeCompare(String(b.hostname)),
    );

  before(async () => {
    stack = await startStack({ nodeTimeoutSeconds: 120 });
    secret = fs.readFileSync(path.join(stack.env.METALFLOW_STATE_DIR!, 'rack-secret'), 'utf8').trim();
    db = new pg.Client({ connectionString: stack.dbUrl });
    await db.connect();
    await startRackB();
  });
  after(async () => {
    await stopRackB();
    await db?.end();
    await stack?.stop();
    fs.rmSync(rackBDir, { recursive: true, force: true });
  });

  it('both racks are registered and report their services, the worker on its own task queue', async () => {
    const deadline = Date.now() + 30_000;
    let seen: Json[];
    for (;;) {
      seen = await racks();
      const workers = seen.map((r) => (r.service_set as Json[]).find((s) => s.name === 'rack-worker'));
      if (seen.length === 2 && workers.every((w) => w?.status === 'running')) break;
      assert.ok(
        Date.now() < deadline,
        `both racks report a running worker: ${JSON.stringify(seen.map((r) => [r.hostname, r.service_set]))}`,
      );
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(
      seen.map((r) => r.hostname),
      ['rack-b', 'rack-test'],
    );
    const queues = seen.map((r) =>
      String((r.service_set as Json[]).find((s) => s.name === 'rack-worker')!.status_info),
    );
    for (const [i, r] of seen.entries()) assert.ok(queues[i]!.includes(`rack:${String(r.system_id)}`), queues[i]);
  });

  it('each rack powers and boots only its own machines', async () => {
    const [b, a] = await racks();
    const create = async (hostname: string) => {
      const r = await stack.call('POST', '/machines/', {
        hostname,
        architecture: 'amd64',
        mac_addresses: macAddress(),
        power_type: 'fake',
        power_parameters_fake_delay_ms: '100',
        commission: 'false',
      });
      assert.equal(r.status, 200, r.text);
      return (r.body as Json).system_id as string;
    };
    const onA = await create('served-by-a');
    const onB = await create('served-by-b');
    // Which rack serves a machine is the region's record (MAAS derives it from the machine's
    // VLAN); this test sets it directly.
    await db.query(`UPDATE machines SET rack_id = (SELECT id FROM racks WHERE system_id = $2) WHERE system_id = $1`, [
      onA,
      a!.system_id,
    ]);
    await db.query(`UPDATE machines SET rack_id = (SELECT id FROM racks WHERE system_id = $2) WHERE system_id = $1`, [
      onB,
      b!.system_id,
    ]);
    for (const id of [onA, onB]) assert.equal((await stack.call('POST', `/machines/${id}/op-commission`)).status, 200);
    const [readyA, readyB] = await Promise.all([stack.waitForStatus(onA, 'Ready'), stack.waitForStatus(onB, 'Ready')]);
    assert.equal((readyA.rack_controller as Json).system_id, a!.system_id);
    assert.equal((readyB.rack_controller as Json).system_id, b!.system_id);
    const logA = stack.logs('rack');
    const logB = rackB!.output();
    assert.ok(logA.includes(`power on ${onA}`) && !logA.includes(onB), 'rack-test acted on its machine only');
    assert.ok(logB.includes(`power on ${onB}`) && !logB.includes(onA), 'rack-b acted on its machine only');
  });

  it('a rack restarted with its state dir is the same rack; a wrong secret is refused', async () => {
    const before = (await racks()).map((r) => r.system_id);
    await stopRackB();
    await startRackB();
    assert.deepEqual(
      (await racks()).map((r) => r.system_id),
      before,
      'no second rack-b',
    );
    const identity = JSON.parse(fs.readFileSync(path.join(rackBDir, 'rack-rack-b.json'), 'utf8')) as Json;
    assert.ok(before.includes(identity.systemId), 'the identity in the state dir is the registered rack');

    const maasUrl = stack.apiUrl.replace(/\/api\/2\.0$/, '');
    const wrong = await fetch(`${maasUrl}/rack/v1/register`, {
      method: 'POST',
      headers: { authorization: 'Bearer not-the-secret', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'intruder', interfaces: [] }),
    });
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /shared secret/);
    assert.equal((await racks()).length, 2, 'nothing registered');
  });
});
