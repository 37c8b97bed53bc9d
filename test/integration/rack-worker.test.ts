// The rack's Temporal worker reports its real state to the heartbeat (rack-worker service): a
// real worker on the test Temporal server is running while it polls and dead once it stopped.
import { NativeConnection } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RackActivities } from '../../src/contracts/activities';
import { rackServices } from '../../src/rack/heartbeat';
import { startRackWorker } from '../../src/rack/worker';
import { freshNamespace, testInfra } from '../helpers/infra';

const never = async (): Promise<never> => {
  throw new Error('not called');
};
const activities: RackActivities = {
  powerOn: never,
  powerOff: never,
  powerCycle: never,
  queryPower: never,
  prepareBoot: never,
};

describe('rack worker health (real Temporal)', () => {
  let ns: Awaited<ReturnType<typeof freshNamespace>>;
  let connection: NativeConnection;

  before(async () => {
    ns = await freshNamespace();
    connection = await NativeConnection.connect({ address: testInfra().temporalAddress });
  });
  after(async () => {
    await connection?.close();
    await ns?.connection.close();
  });

  it('running while it polls its task queue; dead, saying so, once stopped', async () => {
    const worker = await startRackWorker({ connection, namespace: ns.namespace, taskQueue: 'rack:health', activities });
    const service = () => rackServices('rack:health', { worker: worker.health() }).services['rack-worker'];
    assert.deepEqual(service(), { status: 'running', message: 'power and boot activities on task queue rack:health' });
    await worker.stop();
    assert.deepEqual(service(), { status: 'dead', message: 'the worker on task queue rack:health is stopped' });
  });
});
