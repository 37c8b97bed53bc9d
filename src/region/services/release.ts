// Release's rules: what a released machine gives back, and where it goes. The release workflow
// reaches them through its region activities (clearWorkloadAnnotations, releaseDestination).
import type { DataSource, EntityManager } from 'typeorm';
import { MachineStatus as S, type MachineStatus } from '../../contracts/lifecycle';
import { MachineEntity } from '../db/entities';
import { NotFoundError } from '../errors';
import { releaseAutoAddresses } from './network/auto-addresses';

export class ReleaseService {
  constructor(private readonly db: DataSource) {}

  /**
   * Give the machine back: no owner, no deployment leftovers (annotations, agent, user data, OS,
   * kernel, ephemeral_deploy, lock), and the VLANs, bridges and bonds its workload reported go with it (the NICs and
   * the configured ones stay), and so
   * do its child devices (Juju's containers, with their addresses), and its AUTO links' addresses
   * (MAAS's release_auto_ips), as in MAAS. One transaction,
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
      const [machine] = (await tx.query(`SELECT id FROM machines WHERE system_id = $1`, [systemId])) as Array<{
        id: number;
      }>;
      if (machine) await releaseAutoAddresses(tx, machine.id);
      await tx.query(
        // Only what the workload's own reports added (no parents): the bonds, bridges and VLAN
        // interfaces users configured are the machine's network model and stay, as in MAAS.
        `DELETE FROM interfaces i WHERE i.machine_id = (SELECT id FROM machines WHERE system_id = $1) AND i.type <> 'physical'
            AND NOT EXISTS (SELECT 1 FROM interface_parents p WHERE p.child_id = i.id)`,
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
