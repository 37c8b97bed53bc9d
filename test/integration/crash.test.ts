// kill -9 the region worker, and separately the API process, in the middle of commissioning and
// of deployment: after a restart the machine reaches the right status and its events are intact.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Role, type Stack } from '../helpers/stack';
import { macAddress } from '../helpers/factories';

interface MachineJson {
  system_id: string;
  status_name: string;
  status_message: string | null;
}
interface EventsJson {
  events: Array<{ type: string; description: string }>;
}

describe('crash safety (separate processes, kill -9)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ nodeTimeoutSeconds: 300 });
  });
  after(async () => stack?.stop());

  const waitFor = (systemId: string, status: string) => stack.waitForStatus(systemId, status, 120_000);
  const events = async (systemId: string) =>
    ((await stack.call('GET', `/events/?op=query&id=${systemId}&limit=1000`)).body as EventsJson).events;
  const dbEvents = async (systemId: string) => {
    const pg = await import('pg');
    const c = new pg.default.Client({ connectionString: stack.dbUrl });
    await c.connect();
    const r = await c.query(
      `SELECT e.type, e.description FROM events e JOIN machines m ON m.id = e.machine_id WHERE m.system_id = $1 ORDER BY e.id`,
      [systemId],
    );
    await c.end();
    return r.rows as Array<{ type: string; description: string }>;
  };

  const create = async (hostname: string) => {
    // A slow fake machine: each step takes 1.5 s, so there is time to kill a process mid-way.
    const r = await stack.call('POST', '/machines/', {
      hostname,
      architecture: 'amd64',
      mac_addresses: macAddress(),
      power_type: 'fake',
      power_parameters_fake_delay_ms: '1500',
    });
    assert.equal(r.status, 200, r.text);
    return (r.body as MachineJson).system_id;
  };

  const crashDuring = async (role: Role, systemId: string, inProgress: string) => {
    await waitFor(systemId, inProgress);
    await new Promise((r) => setTimeout(r, 800));
    await stack.kill(role);
    await new Promise((r) => setTimeout(r, 2000));
    await stack.start(role);
  };

  for (const role of ['worker', 'api'] as Role[]) {
    it(`commissioning survives kill -9 of the ${role}`, async () => {
      const id = await create(`crash-c-${role}`);
      await crashDuring(role, id, 'Commissioning');
      const m = await waitFor(id, 'Ready');
      assert.equal(m.status_message, null);
      const log = await dbEvents(id);
      assert.ok(
        log.some((e) => e.type === 'Commissioning'),
        'the commissioning event is kept',
      );
      assert.ok(
        log.some((e) => e.type === 'Ready'),
        'the outcome is recorded',
      );
      const poweringOn = log.filter((e) => e.description === 'Powering on to commission.');
      assert.equal(poweringOn.length, 1, 'a replayed step does not record its event twice');
    });

    it(`deployment survives kill -9 of the ${role}`, async () => {
      const id = await create(`crash-d-${role}`);
      await waitFor(id, 'Ready');
      const deploy = await stack.call('POST', `/machines/${id}/op-deploy`, { distro_series: 'jammy' });
      assert.equal(deploy.status, 200, deploy.text);
      await crashDuring(role, id, 'Deploying');
      await waitFor(id, 'Deployed');
      const log = await events(id);
      assert.ok(log.some((e) => e.type === 'Deployed'));
      assert.ok(log.some((e) => e.type === 'Deploying'));
    });
  }
});
