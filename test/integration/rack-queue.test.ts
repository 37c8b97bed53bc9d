// The task queue of a machine's rack: RackService keeps each rack's system id once read (it never
// changes); a rack removed in this region is forgotten at once, so no workflow is sent to its queue.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rackTaskQueue } from '../../src/contracts/workflows';
import { UnavailableError } from '../../src/region/errors';
import type { RegionServices } from '../../src/region/services';
import { freshDatabase } from '../helpers/infra';
import { servicesWithoutTemporal } from '../helpers/resource-api';

describe("a machine's rack task queue", () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let services: RegionServices;
  before(async () => {
    database = await freshDatabase();
    services = servicesWithoutTemporal(database.db);
  });
  after(async () => database?.drop());

  const rackId = async (systemId: string) =>
    ((await database.db.query(`SELECT id FROM racks WHERE system_id = $1`, [systemId])) as Array<{ id: number }>)[0]!
      .id;

  it("is the rack's, read again after none; a removed rack has none", async () => {
    const a = await services.racks.register({ name: 'rack-a', interfaces: [], version: 'test' });
    const b = await services.racks.register({ name: 'rack-b', interfaces: [], version: 'test' });
    const aId = await rackId(a.systemId);
    assert.equal(await services.racks.queueFor(aId), rackTaskQueue(a.systemId));
    // Known now: asked again, the same queue.
    assert.equal(await services.racks.queueFor(aId), rackTaskQueue(a.systemId));
    await services.racks.remove(a.systemId);
    await assert.rejects(services.racks.queueFor(aId), UnavailableError);
    // A machine without a rack goes to the one heard from last: b.
    assert.equal(await services.racks.queueFor(null), rackTaskQueue(b.systemId));
  });
});
