// An in-process region on real PostgreSQL and Temporal: services, region worker, and a rack
// worker whose activities the test scripts (the "machine" answers through the real services).
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import crypto from 'node:crypto';
import type { RackActivities, RegionActivities } from '../../src/contracts/activities';
import type { MachineStatus } from '../../src/contracts/lifecycle';
import { MachineEntity, type Machine } from '../../src/region/db/entities';
import { SecretBox } from '../../src/region/secrets';
import { createRegionServices, type RegionServices } from '../../src/region/services';
import { applyDefaultLayout } from '../../src/region/services/storage/default-layout';
import { syncPhysicalDevices } from '../../src/region/services/storage/repository';
import { TemporalWorkflowGateway } from '../../src/region/temporal/gateway';
import { createRegionWorker } from '../../src/region/worker';
import { freshDatabase, freshNamespace, testInfra, workflowBundle } from './infra';

export interface TestRegion {
  services: RegionServices;
  namespace: string;
  client: Client;
  rackQueue: string;
  rackSystemId: string;
  stop(): Promise<void>;
}

export async function startTestRegion(o: {
  nodeTimeoutMs?: number;
  /** Where the region finds deployable images (test/helpers/boot-images.ts); none by default. */
  bootRoot?: string;
  rack?: RackActivities;
  wrapRegionActivities?: (a: RegionActivities) => RegionActivities;
}): Promise<TestRegion> {
  const { temporalAddress } = testInfra();
  const database = await freshDatabase();
  const ns = await freshNamespace();
  const gateway = new TemporalWorkflowGateway(ns.client);
  const services = createRegionServices({
    db: database.db,
    workflows: gateway,
    secrets: new SecretBox(crypto.randomBytes(32)),
    nodeTimeoutMs: o.nodeTimeoutMs,
    bootRoot: o.bootRoot,
  });
  const region = await createRegionWorker({
    address: temporalAddress,
    namespace: ns.namespace,
    db: database.db,
    services,
    workflowBundle: await workflowBundle(),
    wrapActivities: o.wrapRegionActivities,
  });
  const regionRun = region.worker.run();
  const rack = await services.racks.register({ name: 'test-rack', version: 'test', interfaces: [] });
  let rackWorker: Worker | undefined;
  let rackConnection: NativeConnection | undefined;
  let rackRun: Promise<void> | undefined;
  if (o.rack) {
    rackConnection = await NativeConnection.connect({ address: temporalAddress });
    rackWorker = await Worker.create({
      connection: rackConnection,
      namespace: ns.namespace,
      taskQueue: rack.taskQueue,
      activities: o.rack,
    });
    rackRun = rackWorker.run();
  }
  return {
    services,
    namespace: ns.namespace,
    client: ns.client,
    rackQueue: rack.taskQueue,
    rackSystemId: rack.systemId,
    stop: async () => {
      // Starts whose requests answered before them (lifecycle-start.ts) end before their connections close.
      await services.actions.drainStarts();
      rackWorker?.shutdown();
      await rackRun?.catch(() => undefined);
      await rackConnection?.close();
      region.worker.shutdown();
      await regionRun.catch(() => undefined);
      await region.connection.close();
      await ns.connection.close();
      await database.drop();
    },
  };
}

/** Poll until the machine reaches `status` (or throw with what it is after `timeoutMs`). */
export async function waitForStatus(
  services: RegionServices,
  systemId: string,
  status: MachineStatus,
  timeoutMs = 30_000,
): Promise<Machine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = await services.db.query(`SELECT status, status_message FROM machines WHERE system_id = $1`, [systemId]);
    const row = m[0] as { status: number; status_message: string } | undefined;
    if (row?.status === status) {
      return services.db.getRepository(MachineEntity).findOneByOrFail({ systemId });
    }
    if (Date.now() > deadline)
      throw new Error(
        `machine ${systemId} is ${row?.status} (${row?.status_message}), not ${status}, after ${timeoutMs} ms`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A 20 GiB disk, stored as commissioning stores a hardware report's, and the default layout on it
 * (flat): what a real image's deploy needs (MachineActions.deploy refuses storage it cannot
 * install). `layout: false` leaves the disk blank.
 */
export async function giveDisk(services: RegionServices, systemId: string, o: { layout?: boolean } = {}) {
  await services.db.transaction(async (tx) => {
    const m = await tx.getRepository(MachineEntity).findOneByOrFail({ systemId });
    const disk = { name: 'sda', size: 20 * 1024 ** 3, serial: `disk-${systemId}`, model: 'QEMU HARDDISK' };
    await syncPhysicalDevices(tx, m.id, [{ ...disk, idPath: '', blockSize: 512 }]);
    if (o.layout !== false) await applyDefaultLayout(tx, m.id);
  });
}
