// The status changes an operator makes on one machine with no workflow to start: mark broken
// (which cancels the running one), mark fixed, override failed testing, lock and unlock. Each is
// one transaction under the machine's row lock, in MAAS's words.
import type { DataSource } from 'typeorm';
import { isTransitional, MachineStatus as S } from '../../contracts/lifecycle';
import { ConflictError } from '../errors';
import { recordEvent } from './events';
import type { LifecycleStarts } from './lifecycle-start';
import { assertMayUseMachine } from './machine-access';
import type { Principal } from './principal';
import { recordRequest } from './request-events';
import { changeStatus, lockMachine } from './transitions';
import type { WorkflowGateway } from './workflow-gateway';

export class MachineStatusActions {
  constructor(
    private readonly db: DataSource,
    private readonly workflows: Pick<WorkflowGateway, 'cancel'>,
    /** Starts still going out after their requests answered (lifecycle-start.ts). */
    private readonly starts?: Pick<LifecycleStarts, 'settled'>,
  ) {}

  async markBroken(caller: Principal, systemId: string, message: string): Promise<void> {
    // A start still going out after its request answered: cancel the workflow it started rather
    // than leave it to find its claim gone.
    await this.starts?.settled(systemId);
    await this.db.transaction(async (tx) => {
      const m = await lockMachine(tx, systemId);
      await assertMayUseMachine(tx, caller, m, 'mark broken');
      // Releasing the machine from its workflow first means that workflow's cleanup cannot
      // overwrite BROKEN when it is cancelled below.
      await changeStatus(tx, m, {
        to: S.BROKEN,
        message,
        workflow: null,
        event: { description: message || 'Marked broken.' },
      });
      // Cancelled before the commit, under the row lock: if Temporal cannot take the cancel, the
      // 503 that says nothing was changed is true (the machine is not left BROKEN with its
      // workflow still running). The cleanup's steps wait for this lock and, after the commit,
      // find the claim released, so they cannot overwrite BROKEN.
      if (m.workflowId && isTransitional(m.status)) await this.workflows.cancel(m.workflowId);
    });
  }

  async markFixed(caller: Principal, systemId: string, comment = ''): Promise<void> {
    await this.db.transaction(async (tx) => {
      const m = await lockMachine(tx, systemId);
      await assertMayUseMachine(tx, caller, m, 'mark fixed');
      if (m.status !== S.BROKEN) throw new ConflictError("Can't mark a non-broken node as 'Ready'.");
      await recordRequest(tx, m, caller, 'User marking node fixed', comment);
      const to = m.previousStatus === S.DEPLOYED ? S.DEPLOYED : S.READY;
      await changeStatus(tx, m, { to, event: { description: 'Marked fixed.' } });
    });
  }

  /**
   * MAAS's override_failed_testing (models/node.py): a FAILED_TESTING machine is usable again,
   * DEPLOYED when it has an OS (it was tested deployed), else READY; its error is cleared.
   */
  async overrideFailedTesting(caller: Principal, systemId: string, comment = ''): Promise<void> {
    await this.db.transaction(async (tx) => {
      const m = await lockMachine(tx, systemId);
      await assertMayUseMachine(tx, caller, m, 'override failed testing');
      if (m.status !== S.FAILED_TESTING)
        throw new ConflictError("Unable to override node status. Node is not in 'Failed testing' status.");
      await recordRequest(tx, m, caller, "User overrode 'Failed testing' status", comment);
      const to = m.osystem ? S.DEPLOYED : S.READY;
      await changeStatus(tx, m, {
        to,
        message: '',
        event: { description: `Status 'Failed testing' overridden: ${to === S.DEPLOYED ? 'Deployed' : 'Ready'}.` },
      });
    });
  }

  async lock(caller: Principal, systemId: string, locked: boolean, comment = ''): Promise<void> {
    await this.db.transaction(async (tx) => {
      const m = await lockMachine(tx, systemId);
      await assertMayUseMachine(tx, caller, m, locked ? 'lock' : 'unlock');
      // MAAS's words and order (api/machines.py lock/unlock, models/node.py lock).
      if (m.locked === locked) throw new ConflictError(locked ? 'Machine is already locked' : 'Machine is not locked');
      if (locked && m.status !== S.DEPLOYED && m.status !== S.DEPLOYING) {
        throw new ConflictError("Can't lock, node is not deployed or deploying");
      }
      await tx.query(`UPDATE machines SET locked = $2, updated = now() WHERE id = $1`, [m.id, locked]);
      await recordEvent(tx, m.id, {
        type: locked ? 'Locked' : 'Unlocked',
        description: comment || (locked ? 'Machine locked.' : 'Machine unlocked.'),
        level: 'AUDIT',
      });
    });
  }
}
