// Release's rules: what a released machine gives back, and where it goes. The release workflow
// reaches them through its region activities (clearWorkloadAnnotations, releaseDestination).
import type { DataSource, EntityManager } from 'typeorm';
import { MachineStatus as S, type MachineStatus } from '../../contracts/lifecycle';
import { MachineEntity } from '../db/entities';
import { NotFoundError } from '../errors';

export class ReleaseService {
  constructor(private readonly db: DataSource) {}

  /**
   * Give the machine back: no owner, no deployment leftovers (annotations, agent, user data, OS,
   * kernel, ephemeral_deploy, lock), and the workload's VLANs, bridges and bonds go with it (the NICs stay), and so
   * do its child devices (Juju's containers, with their addresses), as in MAAS. One transaction,
   * and idempotent: the activity may run it again.
   */
  async clearDeployment(systemId: string): Promise<void> {
    await this.db.transaction(async (tx: EntityManager) => {
      await tx.query(
        `UPDATE machines SET workload_annotations = '{}', owner_id = NULL, agent_name = '', user_data = '',
                distro_series = '', osystem = '', hwe_kernel = '', ephemeral_deploy = false, locked = false,
                updated = now()
          WHERE system_id = $1`,
        [systemId],
      );
      await tx.query(
        `DELETE FROM interfaces WHERE machine_id = (SELECT id FROM machines WHERE system_id = $1) AND type <> 'physical'`,
        [systemId],
      );
      await tx.query(`DELETE FROM devices WHERE parent_id = (SELECT id FROM machines WHERE system_id = $1)`, [
        systemId,
      ]);
    });
  }

  /** MAAS's release destination: READY when the machine has passed commissioning, else NEW. */
  async destination(systemId: string): Promise<MachineStatus> {
    const m = await this.db.getRepository(MachineEntity).findOneBy({ systemId });
    if (!m) throw new NotFoundError(`No machine ${systemId}.`);
    return m.commissioningPassed ? S.READY : S.NEW;
  }
}
