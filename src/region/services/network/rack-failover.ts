// Which dead racks' task queues a live rack covers (docs/adr/0005-rack-failover.md). A rack that
// shares a VLAN with another (one primary, the other secondary) reaches the same machines, so once
// its partner has been silent as long as DHCP failover waits (FAILOVER_AFTER_S), it also polls the
// partner's task queue: the power and boot activities of the dead rack's machines, retried by
// Temporal after their heartbeat timeout or still waiting to start, run on the survivor.
import type { DataSource } from 'typeorm';
import type { CoveredQueues } from '../../../contracts/rack-api';
import { rackTaskQueue } from '../../../contracts/workflows';
import { NotFoundError } from '../../errors';
import { FAILOVER_AFTER_S } from './rack-dhcp';

/** The event a machine mid-operation gets when its rack's work moves (MAAS has no such event). */
export const RACK_FAILOVER_EVENT = 'Rack failover';

export class RackFailoverService {
  constructor(private readonly db: DataSource) {}

  /**
   * The queues `rackSystemId` must poll besides its own. Asking is also what records, once per
   * outage of the dead rack (its last_seen is in the dedupe key), an event on each of its machines
   * that a workflow drives: "Rack rack-1 is gone; continuing through rack-2."
   */
  async coveredQueues(rackSystemId: string): Promise<CoveredQueues> {
    return this.db.transaction(async (tx) => {
      const me: Array<{ id: number; name: string }> = await tx.query(
        `SELECT id, name FROM racks WHERE system_id = $1`,
        [rackSystemId],
      );
      if (!me[0]) throw new NotFoundError(`No rack controller ${rackSystemId}.`);
      const dead: Array<{ id: number; system_id: string; name: string }> = await tx.query(
        `SELECT DISTINCT p.id, p.system_id, p.name
           FROM vlans v JOIN racks p ON p.id IN (v.primary_rack_id, v.secondary_rack_id)
          WHERE $1 IN (v.primary_rack_id, v.secondary_rack_id) AND p.id <> $1
            AND p.last_seen < now() - make_interval(secs => $2)
          ORDER BY p.id`,
        [me[0].id, FAILOVER_AFTER_S],
      );
      if (dead.length > 0) {
        await tx.query(
          `INSERT INTO events (machine_id, type, description, level, dedupe_key)
           SELECT m.id, $3, 'Rack ' || p.name || ' is gone; continuing through ' || $2 || '.', 'WARNING',
                  'rack-failover/' || m.workflow_id || '/' || p.system_id || '/' || extract(epoch FROM p.last_seen)::text
             FROM machines m JOIN racks p ON p.id = m.rack_id
            WHERE p.id = ANY($1::int[]) AND m.workflow_id IS NOT NULL
           ON CONFLICT (dedupe_key) DO NOTHING`,
          [dead.map((d) => d.id), me[0].name, RACK_FAILOVER_EVENT],
        );
      }
      return {
        queues: dead.map((d) => ({
          rackSystemId: d.system_id,
          rackName: d.name,
          taskQueue: rackTaskQueue(d.system_id),
        })),
      };
    });
  }
}
