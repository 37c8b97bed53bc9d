// A signal finds its run's script set and sets its last_ping in one statement (touchRunSet), the
// set ensureScriptSet made for the run's claim token, on a real PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureScriptSet, RESULT_TYPE, touchRunSet } from '../../src/region/services/scripts/script-sets';
import { deployedMachineInput } from '../helpers/factories';
import { freshDatabase } from '../helpers/infra';
import { servicesWithoutTemporal } from '../helpers/resource-api';

describe("a signal's script set and its last_ping in one statement", () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let machineId: number;

  before(async () => {
    database = await freshDatabase();
    machineId = (await servicesWithoutTemporal(database.db).machines.create(deployedMachineInput('node1', null))).id;
  });
  after(async () => {
    await database?.drop();
  });

  const pings = async () =>
    (await database.db.query(
      `SELECT id, claim_token, last_ping IS NOT NULL AS pinged FROM script_sets WHERE machine_id = $1 ORDER BY id`,
      [machineId],
    )) as Array<{ id: number; claim_token: string | null; pinged: boolean }>;

  it("touches only the run's own set, and finds none before the run has one", async () => {
    const { manager } = database.db;
    const { commissioning, testing } = RESULT_TYPE;
    assert.equal(await touchRunSet(manager, machineId, commissioning, 'run-1'), null, 'no set yet');
    assert.deepEqual(await pings(), [], 'and none made');

    const first = await ensureScriptSet(manager, machineId, commissioning, 'run-1');
    const second = await ensureScriptSet(manager, machineId, commissioning, 'run-2');
    assert.deepEqual(await pings(), [
      { id: first, claim_token: 'run-1', pinged: false },
      { id: second, claim_token: 'run-2', pinged: false },
    ]);

    assert.equal(await touchRunSet(manager, machineId, commissioning, 'run-1'), first);
    assert.deepEqual(
      (await pings()).map((s) => s.pinged),
      [true, false],
    );
    assert.equal(await touchRunSet(manager, machineId, commissioning, 'run-2'), second);
    // Another type, or a run without a claim token: no set of theirs, nothing touched.
    assert.equal(await touchRunSet(manager, machineId, testing, 'run-2'), null);
    assert.equal(await touchRunSet(manager, machineId, commissioning, null), null);
    const unclaimed = await ensureScriptSet(manager, machineId, commissioning, null);
    assert.equal(await touchRunSet(manager, machineId, commissioning, null), unclaimed);
    assert.deepEqual(
      (await pings()).map((s) => s.pinged),
      [true, true, true],
    );
  });
});
