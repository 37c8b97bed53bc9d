// The fuzzer's world: an in-process region (real PostgreSQL, real Temporal, region worker and a
// scripted rack whose machines never boot, so a started workflow goes quiet at once) seeded with
// users, machines in several states, a tag, a zone, a pool with a pool admin, a fabric/VLAN/subnet.
// The seeded database is dumped once; restore() puts it back exactly (same ids), so every action
// starts from the same world whatever the previous one deleted or changed.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { MachineStatus as S } from '../../../src/contracts/lifecycle';
import { lifecycleWorkflowId, powerWorkflowId } from '../../../src/contracts/workflows';
import { formatApiKey } from '../../../src/region/services/users';
import { startApi, type ApiClient } from '../api';
import { startTestRegion, type TestRegion } from '../region';
import { ScriptedRack, type Behaviour } from '../scripted-rack';
import {
  databaseDump,
  installWriteCounter,
  restoreDump,
  restoreSql,
  snapshot,
  writeCounts,
  type DatabaseDump,
  type Snapshot,
} from './db-state';

export const PRINCIPALS = ['anonymous', 'user', 'other', 'machine', 'admin'] as const;
export type PrincipalName = (typeof PRINCIPALS)[number];

/** A value no reply may show except to the principals `mayShow` allows. */
export interface Secret {
  what: string;
  value: string;
  mayShow(principal: PrincipalName, op: string | null): boolean;
}

export interface FuzzWorld {
  api: ApiClient;
  region: TestRegion;
  keys: Record<PrincipalName, string | null>;
  secrets: Secret[];
  seededSystemIds: string[];
  /** Row count + checksum per table: exact, for checking restore(). */
  snapshot(): Promise<Snapshot>;
  /** Committed row writes per table so far: cheap, for checking each request. */
  writes(): Promise<Snapshot>;
  /**
   * The seeded world again, exactly (ids included). With `workflows`, the seeded machines'
   * workflows are terminated first (a write to a machine may have started one).
   */
  restore(o?: { workflows?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

/** Every machine is silent: it never netboots, so a lifecycle workflow waits for it quietly. */
class SilentRack extends ScriptedRack {
  override readonly behaviour = new (class extends Map<string, Behaviour> {
    override get(): Behaviour {
      return 'silent';
    }
  })();
}

const hex = () => crypto.randomBytes(6).toString('hex');

export async function startFuzzWorld(): Promise<FuzzWorld> {
  const rack = new SilentRack(50);
  // An hour: no deadline fires while the fuzzer runs, so nothing changes behind its back.
  const region = await startTestRegion({ nodeTimeoutMs: 3_600_000, rack: rack.activities() });
  rack.services = region.services;
  const api = await startApi(region);
  const db = region.services.db;

  const users: Record<string, { id: number; key: string; secret: string; password: string }> = {};
  for (const [name, admin] of [
    ['fuzz-admin', true],
    ['alice', false],
    ['bob', false],
    ['carol', false],
  ] as const) {
    const password = `fuzz-password-${name}-${hex()}`;
    const u = await region.services.users.create({
      username: name,
      password,
      email: `${name}@example.com`,
      isSuperuser: admin,
    });
    const token = await region.services.users.createToken(u.id);
    users[name] = { id: u.id, key: formatApiKey(token), secret: token.tokenSecret, password };
  }
  const adminKey = users['fuzz-admin']!.key;
  const ok = async (method: string, path: string, form: Record<string, string | string[]> = {}) => {
    const r = await api.call(method, `/MAAS/api/2.0/${path}`, { key: adminKey, form });
    assert.ok(r.status < 300, `seeding ${method} ${path}: ${r.status} ${r.text.slice(0, 300)}`);
    return r.body as Record<string, unknown>;
  };

  await ok('POST', 'zones/', { name: 'fuzz-zone', description: 'fuzz' });
  const pool = await ok('POST', 'resourcepools/', { name: 'fuzz-pool', description: 'fuzz' });
  await ok('POST', 'tags/', { name: 'fuzz-tag', comment: 'fuzz' });
  const group = await ok('POST', 'user-groups/', { name: 'fuzz-team' });
  await ok('POST', `user-group/${String(group.id)}/`, { op: 'add_member', username: 'carol' });
  await ok('POST', `user-group/${String(group.id)}/`, {
    op: 'add_entitlement',
    resource_type: 'pool',
    resource_id: String(pool.id),
    entitlement: 'admin',
  });
  const fabric = await ok('POST', 'fabrics/', { name: 'fuzz-fabric' });
  await ok('POST', `fabrics/${String(fabric.id)}/vlans/`, { vid: '42', name: 'fuzz-vlan' });
  await ok('POST', 'subnets/', { cidr: '10.99.0.0/24', fabric: String(fabric.id), vid: '42', name: 'fuzz-subnet' });
  await ok('POST', 'ipranges/', { type: 'dynamic', start_ip: '10.99.0.100', end_ip: '10.99.0.150' });
  await ok('POST', 'ipaddresses/', { op: 'reserve', ip: '10.99.0.20', mac: '52:54:00:fe:00:09' });
  await ok('POST', 'placement-rules/', { name: 'fuzz-rule', match_arch: 'arm64', pool: 'fuzz-pool' });

  // Machines in different states, owned by different users; BMC passwords are secrets.
  const secrets: Secret[] = [];
  const machines: Array<{ name: string; status: number; owner: string | null; pool?: string }> = [
    { name: 'fuzz-ready', status: S.READY, owner: null, pool: 'fuzz-pool' },
    { name: 'fuzz-alice', status: S.ALLOCATED, owner: 'alice' },
    { name: 'fuzz-bob', status: S.DEPLOYED, owner: 'bob', pool: 'fuzz-pool' },
    { name: 'fuzz-new', status: S.NEW, owner: null },
    { name: 'fuzz-broken', status: S.BROKEN, owner: 'alice' },
  ];
  const seeded: Array<{ systemId: string; id: number; owner: string | null }> = [];
  for (const [i, m] of machines.entries()) {
    const bmcPass = `fuzz-bmc-pass-${hex()}`;
    const kg = `fuzz-bmc-kg-${hex()}`;
    const body = await ok('POST', 'machines/', {
      hostname: m.name,
      architecture: 'amd64/generic',
      mac_addresses: `52:54:00:fe:01:0${i}`,
      commission: 'false',
      power_type: 'ipmi',
      power_parameters_power_address: `10.99.1.${i + 1}`,
      power_parameters_power_user: 'root',
      power_parameters_power_pass: bmcPass,
      power_parameters_k_g: kg,
      zone: 'fuzz-zone',
      ...(m.pool ? { pool: m.pool } : {}),
    });
    const systemId = body.system_id as string;
    await db.query(`UPDATE machines SET status = $2, owner_id = $3 WHERE system_id = $1`, [
      systemId,
      m.status,
      m.owner ? users[m.owner]!.id : null,
    ]);
    const id = (
      (await db.query(`SELECT id FROM machines WHERE system_id = $1`, [systemId])) as Array<{ id: number }>
    )[0]!.id;
    seeded.push({ systemId, id, owner: m.owner });
    for (const [what, value] of [
      [`BMC password of ${m.name}`, bmcPass],
      [`BMC k_g of ${m.name}`, kg],
    ] as const) {
      // MAAS shows power parameters, secrets included, to admins asking for them; no one else.
      secrets.push({ what, value, mayShow: (p, op) => p === 'admin' && op === 'power_parameters' });
    }
  }
  await ok('POST', 'tags/fuzz-tag/', { op: 'update_nodes', add: seeded.slice(0, 2).map((s) => s.systemId) });

  // Every machine's token is a secret of its owner (and admins, and the machine itself).
  let machineKey = '';
  for (const s of seeded) {
    const t = await region.services.machines.machineToken(s.id);
    if (s.owner === 'alice' && !machineKey) machineKey = `${t.consumerKey}:${t.tokenKey}:${t.tokenSecret}`;
    const mine = machineKey.endsWith(`:${t.tokenSecret}`);
    const ownerPrincipal: PrincipalName | null = s.owner === 'alice' ? 'user' : s.owner === 'bob' ? 'other' : null;
    secrets.push({
      what: `machine token secret of ${s.systemId}`,
      value: t.tokenSecret,
      mayShow: (p) => p === 'admin' || p === ownerPrincipal || (mine && p === 'machine'),
    });
  }
  const principalOf: Record<string, PrincipalName | null> = {
    'fuzz-admin': 'admin',
    alice: 'user',
    bob: 'other',
    carol: null,
  };
  for (const [name, u] of Object.entries(users)) {
    const who = principalOf[name];
    secrets.push({ what: `API token secret of ${name}`, value: u.secret, mayShow: (p) => p === who });
    secrets.push({ what: `password of ${name}`, value: u.password, mayShow: () => false });
  }

  const keys: Record<PrincipalName, string | null> = {
    anonymous: null,
    user: users.alice!.key,
    other: users.bob!.key,
    machine: machineKey,
    admin: adminKey,
  };
  const dump: DatabaseDump = await databaseDump(db);
  const restoreStatements = restoreSql(dump);
  await installWriteCounter(db);
  const seededSystemIds = seeded.map((s) => s.systemId);
  return {
    api,
    region,
    keys,
    secrets,
    seededSystemIds,
    snapshot: () => snapshot(db),
    writes: () => writeCounts(db),
    async restore(o = { workflows: true }) {
      if (o.workflows)
        await Promise.all(
          seededSystemIds
            .flatMap((s) => [lifecycleWorkflowId(s), powerWorkflowId(s)])
            .map((id) =>
              region.client.workflow
                .getHandle(id)
                .terminate('fuzz world restored')
                .catch(() => undefined),
            ),
        );
      await restoreDump(db, restoreStatements);
    },
    async stop() {
      await api.close();
      await region.stop();
    },
  };
}
