// The API's lifecycle operations. Each one checks the transition, records it, and starts the
// machine's workflow inside the same transaction: if Temporal refuses, nothing is written; if the
// commit fails after the start, the workflow's own first step re-applies the transition (only
// then: the claim token it carries tells that apart from an operator having released the claim).
import type { DataSource, EntityManager } from 'typeorm';
import {
  ABORTABLE_STATUSES,
  assertTransition,
  isTransitional,
  labelOf,
  LIFECYCLE,
  MachineStatus as S,
  type LifecycleOperation,
} from '../../contracts/lifecycle';
import {
  enlistWorkflowId,
  lifecycleWorkflowId,
  powerWorkflowId,
  WorkflowType,
  type Deadlines,
  type PowerAction,
  type PowerResult,
  type WorkflowParams,
} from '../../contracts/workflows';
import { MachineEntity, type Machine } from '../db/entities';
import { ConflictError, FormValidationError, NotFoundError, ValidationError } from '../errors';
import { newClaimToken } from '../ids';
import type { BootResourceService } from './boot-resources';
import { recordEvent } from './events';
import { assertCanNetboot } from './mac-rules';
import { assertNoOtherMaclessCommissioning } from './macless-commissioning';
import type { Principal } from './principal';
import { mayTake } from './reservations';
import { machineFacts } from './policy-facts';
import { authorizeMachine, machineVerbOf } from '../policy';
import type { ConfigService } from './config';
import type { RackService } from './racks';
import { changeStatus, lockMachine } from './transitions';
import type { WorkflowGateway } from './workflow-gateway';

/** MAAS's skip_networking / skip_storage: the hardware report keeps the interfaces / block devices. */
export interface CommissionOptions {
  skipNetworking: boolean;
  skipStorage: boolean;
}
const NO_SKIPS: CommissionOptions = { skipNetworking: false, skipStorage: false };

export interface DeployOptions {
  distroSeries: string;
  userData: string;
  agentName: string;
  /** For the request event (MAAS: "User starting deployment"). */
  comment: string;
}
/** An erase option left undefined takes the `maas` config's default (ConfigService.eraseDefaults). */
export interface ReleaseOptions {
  erase?: boolean;
  secureErase?: boolean;
  quickErase?: boolean;
  /** For the request event (MAAS: "User releasing node"). */
  comment: string;
}

/** How long the API waits for an aborted workflow's cleanup before answering. */
const ABORT_WAIT_MS = 15_000;
/** How long a new operation waits for a settled machine's previous workflow to close. */
const SETTLE_MS = 5_000;

export class MachineActions {
  constructor(
    private readonly db: DataSource,
    private readonly workflows: WorkflowGateway,
    private readonly racks: RackService,
    private readonly deadlines: () => Promise<Deadlines>,
    private readonly images?: Pick<BootResourceService, 'resolve' | 'list'>,
    private readonly config?: Pick<ConfigService, 'defaultDeployImage' | 'eraseDefaults'>,
  ) {}

  async commission(caller: Principal, systemId: string, o: CommissionOptions = NO_SKIPS): Promise<void> {
    await this.startLifecycle(
      systemId,
      LIFECYCLE.commission,
      WorkflowType.commission,
      async (_m, ref) => ref,
      // Read when this commissioning's hardware report arrives (hardware.ts), which clears them.
      () => ({ skipNetworking: o.skipNetworking, skipStorage: o.skipStorage }),
      async (tx, m) => {
        await this.assertMayUse(tx, caller, m, 'commission');
        await assertNoOtherMaclessCommissioning(tx, m);
        return m;
      },
    );
  }

  async deploy(caller: Principal, systemId: string, o: DeployOptions): Promise<void> {
    // distro_series names a boot resource (`bookworm` or `debian/bookworm`); none given: the
    // first one. A region with no images at all, and simulated (fake) machines, which write
    // nothing, take any series as given (MAAS's default, jammy, when none is). None given: the
    // `maas` config's default_osystem/default_distro_series.
    const wanted = o.distroSeries || ((await this.config?.defaultDeployImage()) ?? '');
    const image = this.images?.resolve(wanted);
    const osystem = image?.os ?? (wanted.includes('/') ? wanted.split('/')[0]! : 'ubuntu');
    const series = image?.series ?? (wanted.split('/').pop() || 'jammy');
    await this.startLifecycle(
      systemId,
      LIFECYCLE.deploy,
      WorkflowType.deploy,
      async (_m, ref) => ({ ...ref, distroSeries: series }),
      // The boot config finds the image again by exactly this os/series (BootConfigService).
      () => ({
        distroSeries: series,
        osystem,
        userData: o.userData,
        agentName: o.agentName || undefined,
      }),
      async (tx, m) => {
        if (m.locked) throw new ConflictError(`Cannot deploy machine ${systemId}: it is locked.`);
        await assertCanNetboot(tx, m, 'deploy');
        const known = this.images?.list() ?? [];
        if (!image && known.length > 0 && m.powerType !== 'fake') {
          // Listed images that are not deployable (the real image before its installer) are
          // never offered as a choice.
          const names = (rs: typeof known) => [...new Set(rs.map((r) => r.name))].join(', ');
          const deployable = known.filter((r) => r.deployable);
          throw ValidationError.field(
            'distro_series',
            deployable.length
              ? `'${wanted}' is not a boot resource this region has; choose one of: ${names(deployable)}.`
              : `'${wanted}' cannot be deployed: this region's images (${names(known)}) are not deployable yet.`,
          );
        }
        // MAAS deploys a READY machine by allocating it to the caller first, if the caller could
        // have allocated it (unowned, not reserved for someone else, a pool they may deploy from).
        if (m.status === S.READY && (m.ownerId === null || m.ownerId === callerId(caller))) {
          if (!(await mayTake(tx, caller, m.id)))
            throw new ConflictError(
              `Cannot deploy machine ${systemId}: it is reserved for someone else, or in a pool you may not deploy from.`,
            );
          await recordRequest(tx, m, caller, 'User starting deployment', o.comment);
          return changeStatus(tx, m, {
            to: S.ALLOCATED,
            extra: { ownerId: callerId(caller) },
            event: { description: `Allocated to ${callerName(caller)}.` },
          });
        }
        await this.assertMayUse(tx, caller, m, 'deploy');
        await recordRequest(tx, m, caller, 'User starting deployment', o.comment);
        return m;
      },
    );
  }

  async release(caller: Principal, systemId: string, options: ReleaseOptions): Promise<void> {
    const o = await this.withEraseDefaults(options);
    await this.startLifecycle(
      systemId,
      LIFECYCLE.release,
      WorkflowType.release,
      async (_m, ref) => ({
        ...ref,
        erase: o.erase || o.secureErase || o.quickErase,
        secureErase: o.secureErase,
        quickErase: o.quickErase,
      }),
      () => ({}),
      async (tx, m) => {
        await this.assertMayUse(tx, caller, m, 'release');
        // MAAS (api/machines.py release): already released or releasing is the postcondition, a success.
        if (m.status === S.READY || m.status === S.RELEASING) return null;
        if (m.locked) throw new ConflictError(`Cannot release machine ${systemId}: it is locked.`);
        if (o.erase || o.secureErase || o.quickErase) await assertCanNetboot(tx, m, 'erase the disks of');
        await recordRequest(tx, m, caller, 'User releasing node', o.comment);
        return m;
      },
    );
  }

  /**
   * MAAS: enable_disk_erasing_on_release forces an erase; an erase's secure/quick mode the release
   * does not give comes from disk_erase_with_secure_erase/quick_erase.
   */
  private async withEraseDefaults(o: ReleaseOptions): Promise<Required<ReleaseOptions>> {
    const d = (await this.config?.eraseDefaults()) ?? { erase: false, secureErase: false, quickErase: false };
    const erase = o.erase === true || o.secureErase === true || o.quickErase === true || d.erase;
    return {
      erase,
      secureErase: erase && (o.secureErase ?? d.secureErase),
      quickErase: erase && (o.quickErase ?? d.quickErase),
      comment: o.comment,
    };
  }

  /**
   * Abort: cancel the running workflow, whose cleanup powers off and leaves MAAS's abort status.
   * If the workflow is gone, an abort workflow does the same cleanup.
   */
  async abort(caller: Principal, systemId: string, comment = ''): Promise<void> {
    const machine = await this.db.transaction(async (tx) => {
      const m = await lockMachine(tx, systemId);
      await this.assertMayUse(tx, caller, m, 'abort');
      if (!ABORTABLE_STATUSES.includes(m.status))
        throw new ConflictError(`Cannot abort in current state: node ${systemId} is in state ${labelOf(m.status)}.`);
      if (comment) await recordEvent(tx, m.id, { type: 'Aborting', description: comment, level: 'AUDIT' });
      return m;
    });
    const id = lifecycleWorkflowId(systemId);
    if (machine.workflowId === id && (await this.workflows.cancel(id))) {
      await this.workflows.waitForClose(id, ABORT_WAIT_MS);
      return;
    }
    const queue = await this.racks.queueFor(machine.rackId);
    await this.workflows.start(WorkflowType.abort, id, {
      systemId,
      hostname: machine.hostname,
      rackQueue: queue,
      deadlines: await this.deadlines(),
      from: machine.status,
    });
    await this.workflows.waitForClose(id, ABORT_WAIT_MS);
  }

  /** Start the workflow a newly created machine gets (enlistment or deployed registration). */
  async startForNewMachine(m: Machine, kind: 'enlist' | 'registerDeployed'): Promise<void> {
    const base = { systemId: m.systemId, hostname: m.hostname, deadlines: await this.deadlines() };
    if (kind === 'registerDeployed') {
      await this.workflows.start(WorkflowType.registerDeployed, lifecycleWorkflowId(m.systemId), base);
      return;
    }
    await this.workflows.start(WorkflowType.enlist, enlistWorkflowId(m.systemId), {
      ...base,
      rackQueue: await this.racks.queueFor(m.rackId),
    });
  }

  async markBroken(caller: Principal, systemId: string, message: string): Promise<void> {
    const stale = await this.db.transaction(async (tx) => {
      const m = await lockMachine(tx, systemId);
      await this.assertMayUse(tx, caller, m, 'mark broken');
      // Releasing the machine from its workflow first means that workflow's cleanup cannot
      // overwrite BROKEN when it is cancelled below.
      await changeStatus(tx, m, {
        to: S.BROKEN,
        message,
        workflow: null,
        event: { description: message || 'Marked broken.' },
      });
      return m.workflowId && isTransitional(m.status) ? m.workflowId : null;
    });
    if (stale) await this.workflows.cancel(stale);
  }

  async markFixed(caller: Principal, systemId: string, comment = ''): Promise<void> {
    await this.db.transaction(async (tx) => {
      const m = await lockMachine(tx, systemId);
      await this.assertMayUse(tx, caller, m, 'mark fixed');
      if (m.status !== S.BROKEN) throw new ConflictError("Can't mark a non-broken node as 'Ready'.");
      await recordRequest(tx, m, caller, 'User marking node fixed', comment);
      const to = m.previousStatus === S.DEPLOYED ? S.DEPLOYED : S.READY;
      await changeStatus(tx, m, { to, event: { description: 'Marked fixed.' } });
    });
  }

  async lock(caller: Principal, systemId: string, locked: boolean, comment = ''): Promise<void> {
    await this.db.transaction(async (tx) => {
      const m = await lockMachine(tx, systemId);
      await this.assertMayUse(tx, caller, m, locked ? 'lock' : 'unlock');
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

  async power(caller: Principal, systemId: string, action: PowerAction, comment = ''): Promise<PowerResult> {
    // Only read: the power workflow changes no status, so no row lock is held across it.
    const m = await this.db.getRepository(MachineEntity).findOneBy({ systemId });
    if (!m) throw new NotFoundError('No Machine matches the given query.');
    if (action !== 'query') {
      await this.assertMayUse(this.db.manager, caller, m, `power ${action}`);
      if (m.locked) throw new ConflictError(`Cannot power ${action} machine ${systemId}: it is locked.`);
    }
    // MAAS's request events for the API's power actions (REQUEST_NODE_START/STOP), with the comment.
    if (action === 'on' || action === 'off') {
      const type = action === 'on' ? 'User powering up node' : 'User powering down node';
      await recordRequest(this.db.manager, m, caller, type, comment);
    }
    return this.runPower(m, action);
  }

  /**
   * A rack controller's power (its controller machine, found by the rack's system_id), for admins
   * (the API's access rule): no owner to check, and the lock that keeps lifecycle operations off
   * a controller does not stop its BMC being driven, as MAAS's rack power actions are not stopped.
   */
  async powerRack(rackSystemId: string, action: PowerAction): Promise<PowerResult> {
    return this.runPower(await this.rackMachine(rackSystemId), action);
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
        systemId,
        hostname: m.hostname,
        rackQueue: queue,
        deadlines: await this.deadlines(),
        action,
      },
      120_000,
    );
  }

  /**
   * The one access check for acting on a machine, answered by the policy (region/policy/rules.ts:
   * admins; pool admins of the machine's pool, controllers excepted; the owner where the verb's
   * rule allows it). `what` is the operation in MAAS's words, for the refusal's message.
   */
  async assertMayUse(manager: EntityManager, caller: Principal, m: Machine, what: string): Promise<void> {
    authorizeMachine(caller, machineVerbOf(what), await machineFacts(manager, caller, m), what);
  }

  /**
   * The machine's previous workflow may have recorded its outcome and still be closing (e.g.
   * register-deployed recording its event right after the API answered). Its last activity can
   * need this machine's row, which startLifecycle then locks while Temporal refuses the new
   * workflow ID: let it close first, outside the lock. Skipped when an operation is in progress
   * (the transition check answers 409 at once).
   */
  private async settlePrevious(systemId: string): Promise<void> {
    const m = await this.db.getRepository(MachineEntity).findOne({ where: { systemId }, select: { status: true } });
    if (!m || isTransitional(m.status)) return;
    const id = lifecycleWorkflowId(systemId);
    if ((await this.workflows.state(id)) === 'running') await this.workflows.waitForClose(id, SETTLE_MS);
  }

  private async startLifecycle<T extends LifecycleWorkflowType>(
    systemId: string,
    op: LifecycleOperation,
    type: T,
    params: (m: Machine, ref: LifecycleStartRef) => Promise<WorkflowParams<T>>,
    extra: (m: Machine) => Partial<Machine>,
    /** Checks and steps in the transaction before the transition; null: nothing to do (a success). */
    prepare: (tx: EntityManager, m: Machine) => Promise<Machine | null> = async (_tx, m) => m,
  ): Promise<void> {
    const deadlines = await this.deadlines();
    await this.settlePrevious(systemId);
    await this.db.transaction(async (tx) => {
      const locked = await lockMachine(tx, systemId);
      const m = await prepare(tx, locked);
      if (m === null) return;
      const to = op.inProgress!;
      // The lifecycle table says where the operation may start; its workflow claims the machine
      // only from there, so anything else is refused here rather than failed there.
      if (!op.startFrom.includes(m.status)) throw notStartable(type, m);
      assertTransition(m.status, to);
      const rackQueue = await this.racks.queueFor(m.rackId, tx);
      const workflowId = lifecycleWorkflowId(systemId);
      // The token tells the workflow whether this commit happened (see beginTransition).
      const claimToken = newClaimToken();
      await changeStatus(tx, m, { to, workflow: { id: workflowId, type, claimToken }, extra: extra(m) });
      await this.workflows.start(
        type,
        workflowId,
        await params(m, { systemId, hostname: m.hostname, rackQueue, deadlines, claimToken }),
      );
    });
  }
}

/** MAAS's refusal when an operation cannot start from the machine's status, in its words and codes. */
function notStartable(type: LifecycleWorkflowType, m: Machine): Error {
  switch (type) {
    case WorkflowType.commission:
      // forms/ephemeral.py: CommissionForm.clean, a form error (400).
      return new FormValidationError({
        __all__: ['Commission is not available because of the current state of the node.'],
      });
    case WorkflowType.deploy:
      return new ConflictError(`Can't deploy a machine that is in the '${labelOf(m.status)}' state`);
    case WorkflowType.release:
      return new ConflictError(`Machine cannot be released in its current state ('${labelOf(m.status)}').`);
  }
}

/** The workflows the API starts through startLifecycle, and what each gets besides its options. */
type LifecycleWorkflowType = typeof WorkflowType.commission | typeof WorkflowType.deploy | typeof WorkflowType.release;
interface LifecycleStartRef {
  systemId: string;
  hostname: string;
  rackQueue: string;
  deadlines: Deadlines;
  claimToken: string;
}

/**
 * MAAS's request event (Node._register_request_event): who asked, with their comment. Written in
 * the operation's transaction, so a refused start leaves none.
 */
async function recordRequest(
  tx: EntityManager,
  m: Machine,
  caller: Principal,
  type: string,
  comment: string,
): Promise<void> {
  const who = `(${callerName(caller)})`;
  await recordEvent(tx, m.id, { type, description: comment ? `${who} - ${comment}` : who, level: 'INFO' });
}

const callerId = (c: Principal): number | null => (c.kind === 'user' ? c.user.id : null);
const callerName = (c: Principal): string => (c.kind === 'user' ? c.user.username : c.machine.hostname);
