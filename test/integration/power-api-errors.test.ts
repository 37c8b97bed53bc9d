// Power actions through the region when the BMC refuses: a real BMC (ipmi_sim) with a wrong
// password behind the real IPMI driver, the rack's activities in a Temporal worker, the power
// workflow on the region's worker. MAAS answers 503 with the BMC's message; so do we, at once
// (a refused password is not retried), with the reason in the machine's events and power_state
// "error". The HTTP mapping of UnavailableError to 503 is the API's error boundary.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRackActivities } from '../../src/activities/rack';
import { BootCache } from '../../src/rack/boot-cache';
import { IpmiPowerDriver } from '../../src/rack/power/ipmi';
import { createPowerRegistry } from '../../src/rack/power/registry';
import { MachineEntity } from '../../src/region/db/entities';
import { UnavailableError } from '../../src/region/errors';
import { startIpmiSim, type IpmiSim } from '../helpers/bmc/ipmi-sim';
import { skipUnless } from '../helpers/bmc/peers';
import { createAdmin } from '../helpers/factories';
import { startTestRegion, type TestRegion } from '../helpers/region';

const skip = skipUnless('ipmi_sim', 'apt-get install openipmi ipmitool');

describe('power API against a BMC that refuses the password', { skip }, () => {
  let sim: IpmiSim;
  let region: TestRegion;
  let systemId: string;

  before(async () => {
    sim = await startIpmiSim();
    const rackRegion = {
      powerConfig: async (id: string) => {
        const m = (await region.services.db.getRepository(MachineEntity).findOneBy({ systemId: id }))!;
        return { systemId: id, powerType: m.powerType, parameters: region.services.machines.powerParametersOf(m) };
      },
      bootConfig: () => Promise.reject(new Error('unused')),
    };
    const drivers = createPowerRegistry(
      () => undefined,
      [new IpmiPowerDriver({ backoffMs: [10, 10], retransmit: { intervalS: 1, retries: 1 } })],
    );
    region = await startTestRegion({
      rack: createRackActivities({ region: rackRegion, drivers, bootCache: new BootCache() }),
    });
    const m = await region.services.machines.create({
      hostname: 'bmc-wrong-pass',
      macAddresses: [],
      powerType: 'ipmi',
      deployed: true,
      ownerId: null,
      zone: 'default',
      powerParameters: { power_address: sim.address, power_user: 'admin', power_pass: 'wrong' },
    });
    systemId = m.systemId;
  });
  after(async () => {
    await region?.stop();
    await sim?.stop();
  });

  const events = async () =>
    (await region.services.db.query(
      `SELECT e.type, e.level, e.description FROM events e JOIN machines m ON m.id = e.machine_id WHERE m.system_id = $1 ORDER BY e.id`,
      [systemId],
    )) as Array<{ type: string; level: string; description: string }>;

  for (const [action, type] of [
    ['query', "Failed to query node's BMC"],
    ['on', 'Failed to power on node'],
  ] as const) {
    it(`${action}: 503 with the BMC's reason within seconds, an ERROR event, power_state error`, async () => {
      const admin = await createAdmin(region.services, `admin-${action}`);
      const started = Date.now();
      const err = await region.services.actions.power(admin, systemId, action).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof UnavailableError, `expected UnavailableError, got ${String(err)}`);
      assert.match(err.message, /bmc-wrong-pass: .*RAKP 2 HMAC is invalid/);
      assert.doesNotMatch(err.message, /Workflow service|Activity task failed/);
      assert.ok(Date.now() - started < 20_000, `answered after ${Date.now() - started} ms`);
      const last = (await events()).at(-1)!;
      assert.equal(last.type, type);
      assert.equal(last.level, 'ERROR');
      assert.match(last.description, /RAKP 2 HMAC is invalid/);
      const m = (await region.services.db.getRepository(MachineEntity).findOneBy({ systemId }))!;
      assert.equal(m.powerState, 'error');
    });
  }
});
