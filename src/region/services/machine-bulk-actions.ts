// The API's operations on a selection of machines (MAAS's MachinesHandler release, accept and
// accept_all): everything is checked before anything happens, then every start goes out in one
// transaction under the machines' row locks (LifecycleStarts.startLocked).
import type { DataSource, EntityManager } from 'typeorm';
import { isTransitional, labelOf, LIFECYCLE, MachineStatus as S } from '../../contracts/lifecycle';
import { lifecycleWorkflowId, WorkflowType, type Deadlines } from '../../contracts/workflows';
import { MachineEntity, type Machine } from '../db/entities';
import { ConflictError, ForbiddenError, ValidationError } from '../errors';
import type { ConfigService } from './config';
import type { LifecycleStarts } from './lifecycle-start';
import { assertMayUseAll, assertMayUseMachine } from './machine-access';
import { assertNoOtherMaclessCommissioning } from './macless-commissioning';
import { visibilitySql } from './machine-queries';
import type { Principal } from './principal';
import { prepareRelease, releaseParams, withEraseDefaults, type ReleaseOptions } from './release-request';
import type { WorkflowGateway } from './workflow-gateway';

export class MachineBulkActions {
  constructor(
    private readonly db: DataSource,
    private readonly workflows: WorkflowGateway,
    private readonly starts: LifecycleStarts,
    private readonly deadlines: () => Promise<Deadlines>,
    private readonly config?: Pick<ConfigService, 'eraseDefaults'>,
  ) {}

  /**
   * MAAS's bulk release (MachinesHandler.release): everything is checked before anything happens,
   * in MAAS's order and words: unknown (or not visible) → 400, not the caller's to release → 403,
   * in a state that cannot be released → 409, each naming every machine concerned. READY
   * machines are left alone. Then every release starts in one transaction under the machines' row
   * locks, as the single release does. Returns the system_ids whose release started.
   */
  async releaseMany(caller: Principal, systemIds: string[], options: ReleaseOptions): Promise<string[]> {
    const wanted = [...new Set(systemIds)];
    if (wanted.length === 0) return [];
    const o = await withEraseDefaults(this.config, options);
    return this.inBulk(wanted, async (tx, deadlines, started) => {
      const machines = await lockVisibleMachines(tx, caller, wanted);
      const unknown = wanted.filter((id) => !machines.some((m) => m.systemId === id));
      if (unknown.length) throw ValidationError.field('__all__', `Unknown machine(s): ${unknown.join(', ')}.`);
      await assertMayUseAll(tx, caller, machines, 'release');
      const releasing = machines.filter((m) => m.status !== S.READY);
      const failed = releasing
        .filter((m) => m.locked || !(LIFECYCLE.release.startFrom as readonly unknown[]).includes(m.status))
        .map((m) => `${m.systemId} ('${labelOf(m.status)}'${m.locked ? ', locked' : ''})`);
      if (failed.length)
        throw new ConflictError(`Machine(s) cannot be released in their current state: ${failed.join(', ')}.`);
      for (const m of releasing) {
        await prepareRelease(tx, caller, m, o);
        started(
          m.systemId,
          await this.starts.startLocked(tx, m, LIFECYCLE.release, WorkflowType.release, deadlines, {
            params: releaseParams(o),
            extra: () => ({}),
          }),
        );
      }
      return releasing.map((m) => m.systemId);
    });
  }

  /**
   * MAAS's accept (MachinesHandler.accept): NEW machines start commissioning; READY and
   * COMMISSIONING ones were accepted already and are left out of the answer; any other state is
   * a 409 naming the machine. Unknown → 400 and not the caller's to commission → 403, naming
   * them, before anything starts; all start in one transaction. Returns the accepted system_ids.
   */
  async acceptMany(caller: Principal, systemIds: string[]): Promise<string[]> {
    const wanted = [...new Set(systemIds)];
    if (wanted.length === 0) return [];
    return this.inBulk(wanted, async (tx, deadlines, started) => {
      const machines = await lockVisibleMachines(tx, caller, wanted);
      const unknown = wanted.filter((id) => !machines.some((m) => m.systemId === id));
      if (unknown.length) throw ValidationError.field('__all__', `Unknown machine(s): ${unknown.join(', ')}.`);
      await assertMayUseAll(tx, caller, machines, 'commission', 'accept');
      return this.acceptLocked(tx, machines, deadlines, started);
    });
  }

  /** MAAS's accept_all: every NEW machine the caller may commission starts commissioning. */
  async acceptAll(caller: Principal): Promise<string[]> {
    const rows: Array<{ system_id: string }> = await this.db.query(`SELECT system_id FROM machines WHERE status = $1`, [
      S.NEW,
    ]);
    const wanted = rows.map((r) => r.system_id);
    if (wanted.length === 0) return [];
    return this.inBulk(wanted, async (tx, deadlines, started) => {
      const mine: Machine[] = [];
      for (const m of await lockVisibleMachines(tx, caller, wanted)) {
        if (m.status !== S.NEW) continue;
        try {
          await assertMayUseMachine(tx, caller, m, 'commission');
          mine.push(m);
        } catch (err) {
          if (!(err instanceof ForbiddenError)) throw err;
        }
      }
      return this.acceptLocked(tx, mine, deadlines, started);
    });
  }

  private async acceptLocked(
    tx: EntityManager,
    machines: Machine[],
    deadlines: Deadlines,
    started: (systemId: string, claimToken: string) => void,
  ): Promise<string[]> {
    const accepting = machines.filter((m) => m.status !== S.READY && m.status !== S.COMMISSIONING);
    const wrong = accepting.filter((m) => m.status !== S.NEW);
    if (wrong.length)
      throw new ConflictError(
        `Cannot accept node enlistment: ${wrong.map((m) => `node ${m.systemId} is in state ${labelOf(m.status)}`).join('; ')}.`,
      );
    for (const m of accepting) {
      await assertNoOtherMaclessCommissioning(tx, m);
      started(
        m.systemId,
        await this.starts.startLocked(tx, m, LIFECYCLE.commission, WorkflowType.commission, deadlines, {
          params: async (_m, ref) => ref,
          // An accepted machine commissions in full: skips left by an aborted commission do not carry over.
          extra: () => ({ skipNetworking: false, skipStorage: false }),
        }),
      );
    }
    return accepting.map((m) => m.systemId);
  }

  /**
   * A bulk operation: its machines' previous workflows settled, then `work` in one transaction,
   * reporting each workflow it starts. If a start is refused after others went out, the
   * transaction is rolled back, and each started workflow must not take that for a lost commit
   * and act anyway: leaving its claim token on the machine (without its workflow id) is what
   * tells it the claim is gone (see beginTransition), so it stops without touching the machine.
   */
  private async inBulk<T>(
    systemIds: string[],
    work: (
      tx: EntityManager,
      deadlines: Deadlines,
      started: (systemId: string, claimToken: string) => void,
    ) => Promise<T>,
  ): Promise<T> {
    const deadlines = await this.deadlines();
    for (const systemId of systemIds) await this.settlePrevious(systemId);
    const starts: Array<{ systemId: string; claimToken: string }> = [];
    let workDone = false;
    try {
      return await this.db.transaction(async (tx) => {
        const result = await work(tx, deadlines, (systemId, claimToken) => starts.push({ systemId, claimToken }));
        workDone = true;
        return result;
      });
    } catch (err) {
      if (!workDone && starts.length) await this.disown(starts);
      throw err;
    }
  }

  private async disown(starts: Array<{ systemId: string; claimToken: string }>): Promise<void> {
    for (const s of starts)
      await this.db.query(`UPDATE machines SET claim_token = $2 WHERE system_id = $1`, [s.systemId, s.claimToken]);
  }

  /**
   * The machine's previous workflow may have recorded its outcome and still be closing (e.g.
   * register-deployed recording its event right after the API answered). Its last activity can
   * need this machine's row, which the bulk transaction then locks while Temporal refuses the new
   * workflow ID: let it close first (the gateway's grace), outside the lock. Skipped when an
   * operation is in progress (the transition check answers 409 at once).
   */
  private async settlePrevious(systemId: string): Promise<void> {
    const m = await this.db.getRepository(MachineEntity).findOne({ where: { systemId }, select: { status: true } });
    if (!m || isTransitional(m.status)) return;
    await this.workflows.waitForEarlierRun(lifecycleWorkflowId(systemId));
  }
}

/**
 * The machines of `systemIds` the caller can see, locked in id order (two bulk operations naming
 * the same machines cannot deadlock); a machine the caller cannot see is not there.
 */
async function lockVisibleMachines(tx: EntityManager, caller: Principal, systemIds: string[]): Promise<Machine[]> {
  const params: unknown[] = [systemIds];
  const visible = visibilitySql(caller, 'm', params);
  const rows: Array<{ id: number }> = await tx.query(
    `SELECT m.id FROM machines m WHERE m.system_id = ANY($1::text[]) AND ${visible} ORDER BY m.id FOR NO KEY UPDATE OF m`,
    params,
  );
  if (rows.length === 0) return [];
  return tx
    .getRepository(MachineEntity)
    .createQueryBuilder('m')
    .where('m.id = ANY(:ids)', { ids: rows.map((r) => r.id) })
    .orderBy('m.id')
    .getMany();
}
