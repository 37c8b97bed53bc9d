// The API's power actions on a machine or a rack controller's machine: a short power workflow run
// to completion (no status change, so no row lock is held across it), after MAAS's request event.
import type { DataSource } from 'typeorm';
import {
  powerWorkflowId,
  WorkflowType,
  type Deadlines,
  type PowerAction,
  type PowerResult,
} from '../../contracts/workflows';
import { MachineEntity, type Machine } from '../db/entities';
import { ConflictError, NotFoundError } from '../errors';
import { assertMayUseMachine } from './machine-access';
import { operatorRef } from './operator-ref';
import type { Principal } from './principal';
import type { RackService } from './racks';
import { recordRequest } from './request-events';
import type { WorkflowGateway } from './workflow-gateway';

export class MachinePowerActions {
  constructor(
    private readonly db: DataSource,
    private readonly workflows: WorkflowGateway,
    private readonly racks: RackService,
    private readonly deadlines: () => Promise<Deadlines>,
  ) {}

  async power(caller: Principal, systemId: string, action: PowerAction, comment = ''): Promise<PowerResult> {
    // Only read: the power workflow changes no status, so no row lock is held across it.
    const m = await this.db.getRepository(MachineEntity).findOneBy({ systemId });
    if (!m) throw new NotFoundError('No Machine matches the given query.');
    if (action !== 'query') {
      await assertMayUseMachine(this.db.manager, caller, m, `power ${action}`);
      if (m.locked) throw new ConflictError(`Cannot power ${action} machine ${systemId}: it is locked.`);
    }
    return this.requestPower(caller, m, action, comment);
  }

  /**
   * A rack controller's power (its controller machine, found by the rack's system_id), for admins
   * (the API's access rule): no owner to check, and the lock that keeps lifecycle operations off
   * a controller does not stop its BMC being driven, as MAAS's rack power actions are not stopped.
   */
  async powerRack(caller: Principal, rackSystemId: string, action: PowerAction, comment = ''): Promise<PowerResult> {
    return this.requestPower(caller, await this.rackMachine(rackSystemId), action, comment);
  }

  /** MAAS's request events for the API's power actions (REQUEST_NODE_START/STOP), with the comment; then the power. */
  private async requestPower(
    caller: Principal,
    m: Machine,
    action: PowerAction,
    comment: string,
  ): Promise<PowerResult> {
    if (action === 'on' || action === 'off') {
      const type = action === 'on' ? 'User powering up node' : 'User powering down node';
      await recordRequest(this.db.manager, m, caller, type, comment);
    }
    return this.runPower(m, action);
  }

  /** The controller machine of a rack (controller-machines.ts annotates it with rack_system_id). */
  async rackMachine(rackSystemId: string): Promise<Machine> {
    const m = await this.db
      .getRepository(MachineEntity)
      .createQueryBuilder('m')
      .where(`m.workload_annotations->>'rack_system_id' = :id`, { id: rackSystemId })
      .getOne();
    if (!m) throw new NotFoundError('No RackController matches the given query.');
    return m;
  }

  private async runPower(m: Machine, action: PowerAction): Promise<PowerResult> {
    const systemId = m.systemId;
    const queue = await this.racks.queueFor(m.rackId);
    return this.workflows.execute(
      WorkflowType.power,
      powerWorkflowId(systemId),
      {
        ...(await operatorRef(this.db.manager, m)),
        systemId,
        hostname: m.hostname,
        rackQueue: queue,
        deadlines: await this.deadlines(),
        action,
      },
      120_000,
    );
  }
}
