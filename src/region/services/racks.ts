import type { DataSource, EntityManager } from 'typeorm';
import type { RackHeartbeat, RackRegistered, RackRegistration } from '../../contracts/rack-api';
import { rackTaskQueue } from '../../contracts/workflows';
import { retryingDeadlocks } from '../db/deadlock-retry';
import { RackEntity, type Rack } from '../db/entities';
import { NotFoundError, UnavailableError, ValidationError } from '../errors';
import { newSystemId } from '../ids';
import type { ControllerService } from './controller-machines';
import type { FabricService } from './network/fabrics';
import { learnRackNetworks } from './network/rack-networks';
import type { SubnetService } from './network/subnets';

const POWER_STATES = ['on', 'off', 'unknown', 'error'];

/** Rack controllers: registration (idempotent by name), service health, and which rack serves a machine. */
export class RackService {
  /**
   * Rack id → system id, as read once: a rack's system id is made with its row and never changes,
   * and ids are never reused. Removing a rack moves its machines to another rack (or clears their
   * rack_id: ON DELETE SET NULL) in the same transaction, so once that commits no machine names
   * it; a read that raced the removal may still use the entry, as it would have used the row.
   */
  private readonly rackSystemIds = new Map<number, string>();

  constructor(
    private readonly db: DataSource,
    private readonly networks: { fabrics: FabricService; subnets: SubnetService },
    private readonly controllers: ControllerService,
  ) {}

  async register(reg: RackRegistration): Promise<RackRegistered> {
    if (!reg.name || !/^[\w.-]{1,63}$/.test(reg.name))
      throw ValidationError.field('name', 'A rack needs a name of letters, digits, dots, dashes.');
    const rows: Array<{ system_id: string }> = await this.db.transaction(async (tx) => {
      await learnRackNetworks(tx, this.networks, reg.interfaces);
      return tx.query(
        `INSERT INTO racks (system_id, name, interfaces, version, last_seen) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (name) DO UPDATE SET interfaces = EXCLUDED.interfaces, version = EXCLUDED.version, last_seen = now()
       RETURNING system_id`,
        [newSystemId(), reg.name, JSON.stringify(reg.interfaces ?? []), reg.version ?? ''],
      );
    });
    const systemId = rows[0]!.system_id;
    // Machines that no rack serves yet (created before any rack registered) get this one. The
    // UPDATE locks them in scan order: an allocation's wait can close a cycle.
    await retryingDeadlocks(() =>
      this.db.query(`UPDATE machines SET rack_id = (SELECT id FROM racks WHERE system_id = $1) WHERE rack_id IS NULL`, [
        systemId,
      ]),
    );
    // The rack as a machine (DEPLOYED, locked; see controller-machines.ts).
    await this.controllers.ensureMachine({
      role: 'rack',
      id: systemId,
      hostname: reg.name,
      interfaces: reg.interfaces ?? [],
    });
    return { systemId, taskQueue: rackTaskQueue(systemId) };
  }

  /** DELETE rackcontrollers/{id}: the rack goes; its machine is unlocked, or deleted without a BMC. */
  async remove(systemId: string): Promise<void> {
    await this.controllers.removeRack(systemId);
    for (const [id, known] of this.rackSystemIds) if (known === systemId) this.rackSystemIds.delete(id);
  }

  async heartbeat(systemId: string, hb: RackHeartbeat): Promise<void> {
    const result = await this.db
      .getRepository(RackEntity)
      .update({ systemId }, { services: hb.services, lastSeen: new Date() });
    if (!result.affected) throw new NotFoundError(`No rack controller ${systemId}.`);
  }

  /**
   * What the rack's BMCs answered; only changes are written, and only for this rack's machines.
   * Each change is recorded as a machine event in the same statement (MAAS: "Power state
   * changed"), so a report applied twice, or two racks' reports racing, cannot record one change
   * twice: the row lock makes the second see the state already changed. `ageMs`: how long before
   * the report the rack began sampling; a state known since then (the workflow's own power
   * command) is newer than the sample and stays. A report without it is taken as of now. Its
   * machines are locked in id order, as the bulk actions lock theirs; a report PostgreSQL fails to
   * break a deadlock (an allocation waits in best-fit order) runs again.
   */
  async recordPowerStates(
    rackSystemId: string,
    states: Record<string, string>,
    errors: Record<string, string> = {},
    ageMs = 0,
  ): Promise<void> {
    const valid = Object.entries(states).filter(([, s]) => POWER_STATES.includes(s));
    if (valid.length === 0) return;
    await retryingDeadlocks(() =>
      this.db.query(
        `WITH report AS (
         SELECT s.system_id, s.state, s.error FROM unnest($2::text[], $3::text[], $4::text[]) AS s(system_id, state, error)
       ), prev AS (
         SELECT m.id, m.power_state AS old, report.state AS new, report.error, r.name AS rack
           FROM machines m JOIN report ON report.system_id = m.system_id JOIN racks r ON r.id = m.rack_id
          WHERE r.system_id = $1 AND m.power_state <> report.state
            AND (m.power_state_at IS NULL OR m.power_state_at <= now() - $5::bigint * interval '1 millisecond')
          ORDER BY m.id FOR UPDATE OF m
       ), changed AS (
         UPDATE machines m SET power_state = prev.new, power_state_at = now() - $5::bigint * interval '1 millisecond'
           FROM prev WHERE m.id = prev.id RETURNING m.id
       )
       INSERT INTO events (machine_id, type, description, level)
       SELECT prev.id, 'Power state changed',
              'Power state changed from ' || prev.old || ' to ' || prev.new || ' (queried by rack ' || prev.rack || ')'
                || CASE WHEN prev.error <> '' THEN ': ' || prev.error ELSE '' END,
              CASE WHEN prev.new = 'error' THEN 'ERROR' ELSE 'INFO' END
         FROM prev JOIN changed ON changed.id = prev.id`,
        [
          rackSystemId,
          valid.map(([id]) => id),
          valid.map(([, s]) => s),
          valid.map(([id, s]) => (s === 'error' ? (errors[id] ?? '').slice(0, 500) : '')),
          Math.max(0, Math.round(ageMs)),
        ],
      ),
    );
  }

  list(): Promise<Rack[]> {
    return this.db.getRepository(RackEntity).find({ order: { id: 'ASC' } });
  }

  /** The rack a new machine is served by: the one heard from most recently. */
  async defaultRackId(manager: EntityManager = this.db.manager): Promise<number | null> {
    const rows: Array<{ id: number }> = await manager.query(`SELECT id FROM racks ORDER BY last_seen DESC, id LIMIT 1`);
    return rows[0]?.id ?? null;
  }

  /** The task queue of the rack that reaches this machine. */
  async queueFor(rackId: number | null, manager: EntityManager = this.db.manager): Promise<string> {
    const id = rackId ?? (await this.defaultRackId(manager));
    const known = id === null ? undefined : this.rackSystemIds.get(id);
    if (known !== undefined) return rackTaskQueue(known);
    // The rack's system id only: its row carries its interfaces, which this has no use for.
    const rows: Array<{ system_id: string }> =
      id === null ? [] : await manager.query(`SELECT system_id FROM racks WHERE id = $1`, [id]);
    if (!rows[0]) throw new UnavailableError('No rack controller is connected to reach this machine.');
    this.rackSystemIds.set(id!, rows[0].system_id);
    return rackTaskQueue(rows[0].system_id);
  }
}
