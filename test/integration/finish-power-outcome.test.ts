// The run's outcome with its closing power-off's (finishTransition's powerOutcome, lean-close), on
// a real PostgreSQL: the power-off's events come before the status change's, in one transaction,
// and a retried outcome (its dedupe keys taken) never writes back a power state the machine left.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRegionActivities } from '../../src/activities/region';
import type { RegionActivities } from '../../src/contracts/activities';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { machineInput } from '../helpers/factories';
import { freshDatabase } from '../helpers/infra';
import { servicesWithoutTemporal } from '../helpers/resource-api';

describe("a run's outcome with its closing power-off's", () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let activities: RegionActivities;
  let machine: { id: number; systemId: string };

  before(async () => {
    database = await freshDatabase();
    activities = createRegionActivities(database.db, { release: {} as never });
    machine = await servicesWithoutTemporal(database.db).machines.create(machineInput({ hostname: 'closes' }));
    await database.db.query(`UPDATE machines SET status = $2, workflow_id = 'wf-1', power_state = 'on' WHERE id = $1`, [
      machine.id,
      S.COMMISSIONING,
    ]);
  });
  after(async () => {
    await database?.drop();
  });

  const row = async () =>
    (
      (await database.db.query(`SELECT status, power_state, workflow_id FROM machines WHERE id = $1`, [
        machine.id,
      ])) as Array<{ status: number; power_state: string; workflow_id: string | null }>
    )[0]!;
  const eventTypes = async () =>
    (
      (await database.db.query(`SELECT type FROM events WHERE machine_id = $1 ORDER BY id`, [machine.id])) as Array<{
        type: string;
      }>
    ).map((e) => e.type);

  const finish = () =>
    activities.finishTransition({
      systemId: machine.systemId,
      workflowId: 'wf-1',
      to: S.READY,
      message: '',
      expectFrom: [S.COMMISSIONING],
      powerOutcome: {
        state: 'off',
        events: [
          { type: 'Node powered off', description: 'Power state: off.', level: 'INFO', dedupeKey: 'wf-1/r/4/off' },
        ],
      },
    });

  it('records the power-off, then the status change', async () => {
    assert.deepEqual(await finish(), { applied: true, status: S.READY });
    assert.deepEqual(await row(), { status: S.READY, power_state: 'off', workflow_id: null });
    assert.deepEqual(await eventTypes(), ['New', 'Node powered off', 'Ready']);
  });

  it('a retry changes nothing, not even a power state the machine has left since', async () => {
    // Allocated and powered on by its next operation meanwhile.
    await database.db.query(`UPDATE machines SET power_state = 'on' WHERE id = $1`, [machine.id]);
    assert.deepEqual(await finish(), { applied: true, status: S.READY });
    assert.deepEqual(await row(), { status: S.READY, power_state: 'on', workflow_id: null });
    assert.deepEqual(await eventTypes(), ['New', 'Node powered off', 'Ready']);
  });
});
