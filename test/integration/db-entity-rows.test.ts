// Entities read by plain SQL (src/region/db/entity-rows.ts) are the entities TypeORM's own reads
// give, column for column (jsonb, timestamps, nulls, doubles), on a real PostgreSQL; the machine's
// row lock is taken; the credential lookup that uses them still finds a token's holder.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiTokenEntity, MachineEntity, UserEntity } from '../../src/region/db/entities';
import { selectOne, updateRows } from '../../src/region/db/entity-rows';
import type { RegionServices } from '../../src/region/services';
import { CredentialService } from '../../src/region/services/credentials';
import { lockMachine } from '../../src/region/services/transitions';
import { createUser, deployedMachineInput } from '../helpers/factories';
import { freshDatabase } from '../helpers/infra';
import { servicesWithoutTemporal } from '../helpers/resource-api';

describe('entities read by plain SQL', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let services: RegionServices;
  let systemId: string;

  before(async () => {
    database = await freshDatabase();
    services = servicesWithoutTemporal(database.db);
    const m = await services.machines.create(deployedMachineInput('node1', null));
    systemId = m.systemId;
    // Every kind of column with a value: jsonb objects and arrays, a double, a timestamp, nullables.
    await database.db.query(
      `UPDATE machines SET storage = 1234.5, power_state_at = now(), hardware_info = '{"cpu": {"model": "x"}}',
              block_devices = '[{"name": "sda", "size": 1}]', workload_annotations = '{"a": "b"}',
              owner_id = NULL, claim_token = 'tok'
        WHERE system_id = $1`,
      [systemId],
    );
  });
  after(async () => {
    await database?.drop();
  });

  it('a machine is the one TypeORM reads', async () => {
    const typeorm = await database.db.getRepository(MachineEntity).findOneBy({ systemId });
    const plain = await selectOne(database.db, MachineEntity, 't.system_id = $1', [systemId]);
    assert.ok(typeorm && plain);
    assert.deepEqual(plain, typeorm);
    assert.equal(plain.storage, 1234.5);
    assert.ok(plain.powerStateAt instanceof Date);
    assert.deepEqual(plain.blockDevices, [{ name: 'sda', size: 1 }]);
    assert.equal(await selectOne(database.db, MachineEntity, 't.system_id = $1', ['nope']), null);
  });

  it("a machine's token and a user are the ones TypeORM reads", async () => {
    const m = (await selectOne(database.db, MachineEntity, 't.system_id = $1', [systemId]))!;
    const token = await services.machines.machineToken(m.id);
    assert.deepEqual(
      await selectOne(database.db, ApiTokenEntity, 't.machine_id = $1', [m.id]),
      await database.db.getRepository(ApiTokenEntity).findOneBy({ machineId: m.id }),
    );
    assert.equal((await services.machines.machineToken(m.id)).tokenKey, token.tokenKey, 'the same token again');
    await createUser(services, 'alice');
    assert.deepEqual(
      await selectOne(database.db, UserEntity, 't.username = $1', ['alice']),
      await database.db.getRepository(UserEntity).findOneBy({ username: 'alice' }),
    );
  });

  it("a token's holder: the machine, or the user, as TypeORM reads them", async () => {
    const credentials = new CredentialService(database.db);
    const m = (await database.db.getRepository(MachineEntity).findOneBy({ systemId }))!;
    const token = await services.machines.machineToken(m.id);
    const asMachine = await credentials.findByTokenKey(token.tokenKey, 'machine');
    assert.deepEqual(asMachine, {
      consumerKey: token.consumerKey,
      tokenSecret: token.tokenSecret,
      principal: { kind: 'machine', machine: m },
    });
    // Asked first as a user's (the API's order): found on the second look.
    assert.deepEqual(await credentials.findByTokenKey(token.tokenKey, 'user'), asMachine);
    const alice = (await database.db.getRepository(UserEntity).findOneBy({ username: 'alice' }))!;
    const key = await services.users.createToken(alice.id);
    const asUser = await credentials.findByTokenKey(key.tokenKey);
    assert.deepEqual(asUser, {
      consumerKey: key.consumerKey,
      tokenSecret: key.tokenSecret,
      principal: { kind: 'user', user: alice },
    });
    assert.equal(await credentials.findByTokenKey('no-such-key'), null);
  });

  it('updateRows stores a patch as TypeORM stores it, and sets the update date', async () => {
    const repo = database.db.getRepository(MachineEntity);
    const before = (await repo.findOneBy({ systemId }))!;
    await new Promise((r) => setTimeout(r, 10));
    const disks = [{ name: 'vda', size: 2, serial: 's', model: 'm', path: '/dev/vda' }];
    await updateRows(
      database.db,
      MachineEntity,
      // A jsonb array: pg would send a bare array as a PostgreSQL array literal, which jsonb refuses.
      { blockDevices: disks, statusMessage: 'patched', claimToken: null, hostname: undefined },
      't.system_id = $1',
      [systemId],
    );
    const after = (await repo.findOneBy({ systemId }))!;
    assert.deepEqual(after.blockDevices, disks);
    assert.equal(after.statusMessage, 'patched');
    assert.equal(after.claimToken, null);
    assert.equal(after.hostname, before.hostname, 'an undefined property is left as it is');
    assert.equal(before.hostname, 'node1');
    assert.ok(after.updated > before.updated, 'the update date moves');
    await assert.rejects(
      updateRows(database.db, MachineEntity, { nope: 1 } as never, 't.system_id = $1', [systemId]),
      /Machine has no column nope/,
    );
    await assert.rejects(
      updateRows(database.db, MachineEntity, { hostname: () => 'now()' } as never, 't.system_id = $1', [systemId]),
      /a SQL function, not a value/,
    );
  });

  it("lockMachine takes the machine's row lock until its transaction ends", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const lockTaken = new Promise<void>((r) => (locked = r));
    const holder = database.db.transaction(async (tx) => {
      await lockMachine(tx, systemId);
      locked();
      await held;
    });
    await lockTaken;
    const other = database.db.createQueryRunner();
    await other.connect();
    try {
      await other.startTransaction();
      await other.query(`SET LOCAL lock_timeout = '200ms'`);
      await assert.rejects(
        other.query(`SELECT id FROM machines WHERE system_id = $1 FOR NO KEY UPDATE`, [systemId]),
        /lock timeout/,
      );
      await other.rollbackTransaction();
      // NO KEY UPDATE, not UPDATE: a row that references the machine (an event, a token) can
      // still be written meanwhile; its foreign key check takes KEY SHARE.
      await other.startTransaction();
      await other.query(`SET LOCAL lock_timeout = '200ms'`);
      await other.query(`SELECT id FROM machines WHERE system_id = $1 FOR KEY SHARE`, [systemId]);
      await other.rollbackTransaction();
    } finally {
      release();
      await holder;
      await other.release();
    }
    await assert.rejects(
      database.db.transaction((tx) => lockMachine(tx, 'nope')),
      /No Machine matches the given query/,
    );
    await assert.rejects(lockMachine(database.db.manager, systemId), /FOR NO KEY UPDATE needs a transaction's manager/);
  });
});
