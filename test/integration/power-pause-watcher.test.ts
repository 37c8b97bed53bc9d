// The power pause watcher's writes over real PostgreSQL, with Temporal's listing stood in for
// (issue 21 review): a listing a few seconds old must not overwrite what the workflow wrote after
// an unpause, nor blank it later, and two region processes must not both do a pass.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { MachineStatus } from '../../src/contracts/statuses';
import { PAUSED_MARK, PowerPauseWatcher, pausedMessage } from '../../src/region/power-pause-watcher';
import type { PausedPowerStep, PausedPowerSteps } from '../../src/region/temporal/paused-power-steps';
import { freshDatabase } from '../helpers/infra';

const PAUSED: PausedPowerStep = { workflowId: 'wf-1', activityType: 'powerOn', bmcError: 'HTTP 503: busy' };

/** A listing that runs `during` while "Temporal" answers, then answers `steps`. */
function listing(steps: PausedPowerStep[], during?: () => Promise<void>): PausedPowerSteps & { calls: number } {
  const l: PausedPowerSteps & { calls: number } = {
    calls: 0,
    list: async () => {
      l.calls++;
      await during?.();
      return { steps, complete: true };
    },
  };
  return l;
}

describe('power pause watcher (real PostgreSQL)', () => {
  let db: DataSource;
  let drop: () => Promise<void>;

  const message = async (): Promise<string> =>
    (
      (await db.query(`SELECT status_message FROM machines WHERE system_id = 'pw0001'`)) as Array<{
        status_message: string;
      }>
    )[0]!.status_message;
  const setMessage = (m: string) => db.query(`UPDATE machines SET status_message = $1 WHERE system_id = 'pw0001'`, [m]);

  before(async () => {
    ({ db, drop } = await freshDatabase());
    const [zone] = (await db.query(`SELECT id FROM zones WHERE name = 'default'`)) as Array<{ id: number }>;
    const [pool] = (await db.query(`SELECT id FROM resource_pools WHERE name = 'default'`)) as Array<{ id: number }>;
    await db.query(
      `INSERT INTO machines (system_id, hostname, status, zone_id, pool_id, workflow_id, status_message)
       VALUES ('pw0001', 'pw', $1, $2, $3, 'wf-1', 'Powering on')`,
      [MachineStatus.DEPLOYING, zone!.id, pool!.id],
    );
  });
  after(async () => drop());
  beforeEach(async () => setMessage('Powering on'));

  it('says paused, then clears its own message once the step is no longer paused', async () => {
    const watcher = new PowerPauseWatcher(db, listing([PAUSED]), () => undefined);
    assert.deepEqual(await watcher.sweep(), ['wf-1']);
    assert.equal(await message(), pausedMessage(PAUSED));
    const unpaused = new PowerPauseWatcher(db, listing([]), () => undefined);
    await unpaused.sweep();
    assert.equal(await message(), '');
  });

  it('a listing taken before an unpause does not overwrite what the workflow wrote after it, nor blank it', async () => {
    // While Temporal answers "paused", the operator unpauses and the workflow writes its message.
    const stale = listing([PAUSED], () => setMessage('Powering on (attempt 2)'));
    await new PowerPauseWatcher(db, stale, () => undefined).sweep();
    assert.equal(await message(), 'Powering on (attempt 2)');
    await new PowerPauseWatcher(db, listing([]), () => undefined).sweep();
    assert.equal(await message(), 'Powering on (attempt 2)');
  });

  it('one region process at a time: a second pass meanwhile skips, without asking Temporal', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let inside!: () => void;
    const entered = new Promise<void>((r) => (inside = r));
    const first = listing([PAUSED], async () => {
      inside();
      await held;
    });
    const second = listing([PAUSED]);
    const running = new PowerPauseWatcher(db, first, () => undefined).sweep();
    await entered;
    assert.equal(await new PowerPauseWatcher(db, second, () => undefined).sweep(), undefined);
    assert.equal(second.calls, 0);
    release();
    assert.deepEqual(await running, ['wf-1']);
    assert.ok((await message()).includes(PAUSED_MARK));
  });
});
