// What a machine's netboot gets from the region (BootConfigService): its purpose, its MACs (the boot
// interface first) and, in a phase that reports, its metadata credentials, made on the first such
// boot and the same on every later one. Read in one statement, on a real PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { NotFoundError } from '../../src/region/errors';
import type { BootConfigService } from '../../src/region/services/boot-config';
import { macAddress, machineInput } from '../helpers/factories';
import { freshDatabase } from '../helpers/infra';
import { servicesWithoutTemporal } from '../helpers/resource-api';

describe('a netboot’s config from the region', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let boot: BootConfigService;
  const macs = [macAddress(), macAddress()];
  let machine: { id: number; systemId: string };

  before(async () => {
    database = await freshDatabase();
    const services = servicesWithoutTemporal(database.db);
    boot = services.bootConfig('http://region.test/MAAS/metadata/');
    machine = await services.machines.create(machineInput({ hostname: 'boots', macAddresses: macs }));
  });
  after(async () => {
    await database?.drop();
  });

  const setPhase = (status: S, purpose: string) =>
    database.db.query(`UPDATE machines SET status = $2, boot_purpose = $3 WHERE id = $1`, [
      machine.id,
      status,
      purpose,
    ]);
  const tokens = async () =>
    (await database.db.query(`SELECT token_key FROM api_tokens WHERE machine_id = $1`, [machine.id])) as Array<{
      token_key: string;
    }>;

  it('a phase that reports gets credentials, made once; the boot interface comes first', async () => {
    assert.deepEqual(await tokens(), [], 'no token before its first reporting boot');
    await setPhase(S.COMMISSIONING, 'commissioning');
    const first = await boot.forSystemId(machine.systemId);
    assert.equal(first.purpose, 'commissioning');
    assert.equal(first.hostname, 'boots');
    assert.deepEqual(first.macAddresses, macs);
    const made = await tokens();
    assert.equal(made.length, 1);
    assert.equal(first.credentials?.tokenKey, made[0]!.token_key);

    // The boot interface first, whatever the order the interfaces were made in.
    await database.db.query(`UPDATE interfaces SET is_boot = (mac_address = $2::macaddr) WHERE machine_id = $1`, [
      machine.id,
      macs[1],
    ]);
    const again = await boot.forSystemId(machine.systemId);
    assert.deepEqual(again.credentials, first.credentials, 'the same token on a later boot');
    assert.deepEqual(again.macAddresses, [macs[1], macs[0]]);
    assert.equal((await tokens()).length, 1);

    const byMac = await boot.forMac(macs[0]!);
    assert.equal(byMac.known, true);
    assert.deepEqual(byMac.known && byMac.credentials, first.credentials);
  });

  it('outside a netboot phase: no credentials, and the disk or power-off', async () => {
    await setPhase(S.READY, 'commissioning');
    const ready = await boot.forSystemId(machine.systemId);
    assert.equal(ready.purpose, 'poweroff');
    assert.equal(ready.credentials, undefined);
    await setPhase(S.DEPLOYED, 'local');
    assert.equal((await boot.forSystemId(machine.systemId)).purpose, 'local');
  });

  it('an unknown machine is a 404', async () => {
    await assert.rejects(boot.forSystemId('nosuch'), NotFoundError);
  });
});
