// The API's lifecycle operations. Each one checks the transition and records it with the workflow
// start it owes (services/workflow-starts.ts), then starts the workflow after the commit: no row
// lock is held while Temporal answers, and a start Temporal could not take is completed by a
// repeated request or the reconciler. The bulk operations still start inside their transaction:
// if Temporal refuses, nothing is written; if the commit fails after a start, the workflow's own
// first step re-applies the transition (only then: the claim token it carries tells that apart
// from an operator having released the claim).
import type { DataSource, EntityManager } from 'typeorm';
import {
  ABORTABLE_STATUSES,
  assertTransition,
  isTransitional,
  labelOf,
  LIFECYCLE,
  MachineStatus as S,
  testingReturnsTo,
  type LifecycleOperation,
  operationIn,
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
import {
  ConflictError,
  ForbiddenError,
  FormValidationError,
  NotFoundError,
  UnavailableError,
  ValidationError,
} from '../errors';
import { newClaimToken } from '../ids';
import { WORKFLOW_SERVICE_DOWN } from '../outages';
import type { BootResourceService } from './boot-resources';
import { eraseOnRelease, assertRunsFromRam } from './ephemeral-deploy';
import { recordEvent } from './events';
import { installerStorage } from './storage/installer-description';
import { loadOne } from './storage/repository';
import { assertCanNetboot } from './mac-rules';
import { claimAutoAddresses } from './network/auto-addresses';
import { assertNoOtherMaclessCommissioning } from './macless-commissioning';
import type { Principal } from './principal';
import { visibilitySql } from './machine-queries';
import { mayTake } from './reservations';
import { machineFacts } from './policy-facts';
import { authorizeMachine, machineVerbOf } from '../policy';
import type { ConfigService } from './config';
import type { RackService } from './racks';
import { changeStatus, lockMachine } from './transitions';
import { operatorRef, type OperatorRef } from './operator-ref';
import type { WorkflowGateway } from './workflow-gateway';
import { ensureScriptSet, ensureTestingSet, RESULT_TYPE } from './scripts/script-sets';
import { assertSameRequest } from './start-repeats';
import {
  clearPendingStart,
  pendingStartOf,
  recordPendingStart,
  type PendingStart,
  type StartRequest,
} from './workflow-starts';

/**
 * MAAS's skip_networking / skip_storage: the hardware report keeps the interfaces / block devices.
 * testingScripts: names or tags of the tests the environment runs after commissioning (none: no tests).
 */
export interface CommissionOptions {
  skipNetworking: boolean;
  skipStorage: boolean;
  testingScripts?: readonly string[];
}
const NO_SKIPS: CommissionOptions = { skipNetworking: false, skipStorage: false };

/** op=test's testing_scripts: names or tags; undefined: MAAS's default set (those tagged commissioning). */
export interface TestOptions {
  testingScripts?: readonly string[];
}

export interface DeployOptions {
  distroSeries: string;
  userData: string;
  agentName: string;
  /** For the request event (MAAS: "User starting deployment"). */
  comment: string;
  /** MAAS's ephemeral_deploy: run the image from RAM, disks untouched. */
  ephemeral?: boolean;
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
      {
        caller,
        verb: 'commission',
        asked: {
          skip_networking: o.skipNetworking,
          skip_storage: o.skipStorage,
          testing_scripts: (o.testingScripts ?? []).join(','),
        },
      },
      async (_m, ref) => ref,
      // Read when this commissioning's hardware report arrives (hardware.ts), which clears them.
      () => ({ skipNetworking: o.skipNetworking, skipStorage: o.skipStorage }),
      async (tx, m) => {
        await this.assertMayUse(tx, caller, m, 'commission');
        await assertNoOtherMaclessCommissioning(tx, m);
        return m;
      },
      // The tests the environment goes on to once commissioning passes (testing_scripts=none: none).
      async (tx, m, claimToken) => {
        const tests = o.testingScripts?.filter((n) => n !== 'none') ?? [];
        if (tests.length > 0) await ensureTestingSet(tx, m.id, claimToken, tests);
      },
    );
  }

  /**
   * MAAS's op=test (models/node.py start_testing): the machine netboots the commissioning
   * environment, which runs the testing set made here; passing tests return it where it started
   * from (testingReturnsTo), a failed one leaves it FAILED_TESTING naming the script.
   */
  async test(caller: Principal, systemId: string, o: TestOptions): Promise<void> {
    let from: S | undefined;
    await this.startLifecycle(
      systemId,
      LIFECYCLE.test,
      WorkflowType.test,
      { caller, verb: 'test', asked: { testing_scripts: (o.testingScripts ?? []).join(',') } },
      async (_m, ref) => ({ ...ref, returnTo: testingReturnsTo(from!) }),
      () => ({}),
      async (tx, m) => {
        await this.assertMayUse(tx, caller, m, 'test');
        from = m.status;
        if ((LIFECYCLE.test.startFrom as readonly S[]).includes(m.status)) {
          // Testing ends READY or FAILED_TESTING, statuses with no owner and no OS (only release
          // gives those back): a machine someone holds is released first. (MAAS tests allocated
          // and deployed machines in place; metalflow does not yet.)
          if (m.ownerId !== null)
            throw new ConflictError(
              `Machine ${m.systemId} is ${labelOf(m.status)} and allocated to a user: release it before testing it.`,
            );
          if (!m.powerType)
            throw ValidationError.field(
              'power_type',
              'Unconfigured power type. Please configure the power type and try again.',
            );
          await assertCanNetboot(tx, m, 'test');
        }
        return m;
      },
      (tx, m, claimToken) => ensureTestingSet(tx, m.id, claimToken, o.testingScripts),
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
    const ephemeral = o.ephemeral === true;
    // A root filesystem image is laid out by install-to-disk.sh from the machine's storage; the raw
    // stand-in writes the whole disk, and an ephemeral deploy writes none.
    const installsToDisk = !ephemeral && image?.filetype === 'root-tgz';
    // What this request asks for, as a repeat of it is compared (the image as resolved: `bookworm`
    // and `debian/bookworm` ask the same; the comment is the request event's, not the operation's).
    const asked = {
      distro_series: `${osystem}/${series}`,
      user_data: o.userData,
      agent_name: o.agentName,
      ephemeral_deploy: ephemeral,
    };
    await this.startLifecycle(
      systemId,
      LIFECYCLE.deploy,
      WorkflowType.deploy,
      { caller, verb: 'deploy', asked },
      async (_m, ref) => ({ ...ref, distroSeries: series, ...(ephemeral ? { ephemeral } : {}) }),
      // The boot config finds the image again by exactly this os/series (BootConfigService).
      () => ({
        distroSeries: series,
        osystem,
        userData: o.userData,
        agentName: o.agentName || undefined,
        ephemeralDeploy: ephemeral,
      }),
      async (tx, m) => {
        if (m.locked) throw new ConflictError(`Cannot deploy machine ${systemId}: it is locked.`);
        await assertCanNetboot(tx, m, 'deploy');
        const known = this.images?.list() ?? [];
        if (ephemeral && m.powerType !== 'fake') assertRunsFromRam(image, known);
        if (!image && known.length > 0 && m.powerType !== 'fake') {
          const names = [...new Set(known.map((r) => r.name))].join(', ');
          throw ValidationError.field(
            'distro_series',
            `'${wanted}' is not a boot resource this region has; choose one of: ${names}.`,
          );
        }
        // MAAS deploys a READY machine by allocating it to the caller first, if the caller could
        // have allocated it (unowned, not reserved for someone else, a pool they may deploy from).
        if (m.status === S.READY && (m.ownerId === null || m.ownerId === callerId(caller))) {
          if (!(await mayTake(tx, caller, m.id)))
            throw new ConflictError(
              `Cannot deploy machine ${systemId}: it is reserved for someone else, or in a pool you may not deploy from.`,
            );
          if (installsToDisk) await assertStorageDeployable(tx, m);
          await recordRequest(tx, m, caller, 'User starting deployment', o.comment);
          // MAAS's claim_auto_ips: in this transaction, so a refused deploy holds no address.
          await claimAutoAddresses(tx, m.id);
          return changeStatus(tx, m, {
            to: S.ALLOCATED,
            extra: { ownerId: callerId(caller) },
            event: { description: `Allocated to ${callerName(caller)}.` },
          });
        }
        await this.assertMayUse(tx, caller, m, 'deploy');
        // A machine deploy cannot start from gets its 409 (startLocked), not an address or a storage 400.
        const starts = (LIFECYCLE.deploy.startFrom as readonly S[]).includes(m.status);
        if (starts && installsToDisk) await assertStorageDeployable(tx, m);
        await recordRequest(tx, m, caller, 'User starting deployment', o.comment);
        if (starts) await claimAutoAddresses(tx, m.id);
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
      // The erase options after the config's defaults: what the release does.
      { caller, verb: 'release', asked: { erase: o.erase, secure_erase: o.secureErase, quick_erase: o.quickErase } },
      releaseParams(o),
      () => ({}),
      async (tx, m) => {
        await this.assertMayUse(tx, caller, m, 'release');
        // MAAS (api/machines.py release): already released or releasing is the postcondition, a
        // success (a RELEASING machine whose start is recorded has had it completed before this).
        if (m.status === S.READY || m.status === S.RELEASING) return null;
        if (m.locked) throw new ConflictError(`Cannot release machine ${systemId}: it is locked.`);
        await prepareRelease(tx, caller, m, o);
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
   * MAAS's bulk release (MachinesHandler.release): everything is checked before anything happens,
   * in MAAS's order and words: unknown (or not visible) → 400, not the caller's to release → 403,
   * in a state that cannot be released → 409, each naming every machine concerned. READY
   * machines are left alone. Then every release starts in one transaction under the machines' row
   * locks, as the single release does. Returns the system_ids whose release started.
   */
  async releaseMany(caller: Principal, systemIds: string[], options: ReleaseOptions): Promise<string[]> {
    const wanted = [...new Set(systemIds)];
    if (wanted.length === 0) return [];
    const o = await this.withEraseDefaults(options);
    return this.inBulk(wanted, async (tx, deadlines, started) => {
      const machines = await lockVisibleMachines(tx, caller, wanted);
      const unknown = wanted.filter((id) => !machines.some((m) => m.systemId === id));
      if (unknown.length) throw ValidationError.field('__all__', `Unknown machine(s): ${unknown.join(', ')}.`);
      await this.assertMayUseAll(tx, caller, machines, 'release');
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
          await this.startLocked(tx, m, LIFECYCLE.release, WorkflowType.release, deadlines, {
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
      await this.assertMayUseAll(tx, caller, machines, 'commission', 'accept');
      return this.acceptLocked(tx, caller, machines, deadlines, started);
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
          await this.assertMayUse(tx, caller, m, 'commission');
          mine.push(m);
        } catch (err) {
          if (!(err instanceof ForbiddenError)) throw err;
        }
      }
      return this.acceptLocked(tx, caller, mine, deadlines, started);
    });
  }

  private async acceptLocked(
    tx: EntityManager,
    _caller: Principal,
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
        await this.startLocked(tx, m, LIFECYCLE.commission, WorkflowType.commission, deadlines, {
          params: async (_m, ref) => ref,
          // An accepted machine commissions in full: skips left by an aborted commission do not carry over.
          extra: () => ({ ...NO_SKIPS }),
        }),
      );
    }
    return accepting.map((m) => m.systemId);
  }

  /** Every machine may be used so, else a 403 naming all that may not (MAAS's bulk wording). */
  private async assertMayUseAll(
    tx: EntityManager,
    caller: Principal,
    machines: Machine[],
    verb: string,
    what = verb,
  ): Promise<void> {
    const denied: string[] = [];
    for (const m of machines) {
      try {
        await this.assertMayUse(tx, caller, m, verb);
      } catch (err) {
        if (!(err instanceof ForbiddenError)) throw err;
        denied.push(m.systemId);
      }
    }
    if (denied.length)
      throw new ForbiddenError(
        `You don't have the required permission to ${what} the following machine(s): ${denied.join(', ')}.`,
      );
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
   * Abort: cancel the running workflow, whose cleanup powers off and leaves MAAS's abort status.
   * If the workflow is gone, an abort workflow does the same cleanup. The cancel (or the start) is
   * asked under the machine's row lock, before the AUDIT event commits: if Temporal cannot take it,
   * the 503 "nothing was changed" is true. The cleanup's first step waits for that lock, so it
   * runs after the commit either way.
   */
  async abort(caller: Principal, systemId: string, comment = ''): Promise<void> {
    const deadlines = await this.deadlines();
    const id = lifecycleWorkflowId(systemId);
    await this.db.transaction(async (tx) => {
      const m = await lockMachine(tx, systemId);
      await this.assertMayUse(tx, caller, m, 'abort');
      if (!ABORTABLE_STATUSES.includes(m.status))
        throw new ConflictError(`Cannot abort in current state: node ${systemId} is in state ${labelOf(m.status)}.`);
      if (comment) await recordEvent(tx, m.id, { type: 'Aborting', description: comment, level: 'AUDIT' });
      if (m.workflowId === id && (await this.workflows.cancel(id))) return;
      await this.workflows.start(WorkflowType.abort, id, {
        ...(await operatorRef(tx, m)),
        systemId,
        hostname: m.hostname,
        rackQueue: await this.racks.queueFor(m.rackId, tx),
        deadlines,
        from: m.status,
      });
    });
    await this.workflows.waitForClose(id, ABORT_WAIT_MS);
  }

  /** Start the workflow a newly created machine gets (enlistment or deployed registration). */
  async startForNewMachine(m: Machine, kind: 'enlist' | 'registerDeployed'): Promise<void> {
    const base = {
      ...(await operatorRef(this.db.manager, m)),
      systemId: m.systemId,
      hostname: m.hostname,
      deadlines: await this.deadlines(),
    };
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
    await this.db.transaction(async (tx) => {
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
      await this.assertMayUse(tx, caller, m, 'mark fixed');
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
      await this.assertMayUse(tx, caller, m, 'override failed testing');
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
   * workflow ID: let it close first (the gateway's grace), outside the lock. Skipped when an operation is in progress
   * (the transition check answers 409 at once).
   */
  private async settlePrevious(systemId: string): Promise<void> {
    const m = await this.db.getRepository(MachineEntity).findOne({ where: { systemId }, select: { status: true } });
    if (!m || isTransitional(m.status)) return;
    await this.workflows.waitForEarlierRun(lifecycleWorkflowId(systemId));
  }

  private async startLifecycle<T extends LifecycleWorkflowType>(
    systemId: string,
    op: LifecycleOperation,
    type: T,
    /** Who asks, the policy verb, and the request's effective parameters (a repeat must ask the same). */
    request: { caller: Principal; verb: string; asked: StartRequest },
    params: (m: Machine, ref: LifecycleStartRef) => Promise<WorkflowParams<T>>,
    extra: (m: Machine) => Partial<Machine>,
    /** Checks and steps in the transaction before the transition; null: nothing to do (a success). */
    prepare: (tx: EntityManager, m: Machine) => Promise<Machine | null> = async (_tx, m) => m,
    /** The run's script sets beyond commissioning's, made with the transition (a 400 here writes nothing). */
    scripts?: ScriptSetsStep,
  ): Promise<void> {
    const deadlines = await this.deadlines();
    await this.refuseWhileEarlierRunCloses(systemId);
    // The status change and the start it owes commit together (an outbox row); the workflow is
    // started after the commit, so the machine's row lock is never held while Temporal answers.
    // A repeat that found the start still recorded: if that start turns out to be running already,
    // this request is a second one for an operation in progress and gets MAAS's refusal.
    let repeat = false;
    const start = await this.db.transaction(async (tx): Promise<PendingStart | null> => {
      const locked = await lockMachine(tx, systemId);
      // A repeated request (after a 503 that said the start was recorded) completes that start if
      // it asks the same. Looked up before `prepare`, whose answers for a machine already in the
      // operation (release: RELEASING is a success) would leave the start to the reconciler, and
      // whose steps (request events, allocation) the first request took already.
      if (locked.status === op.inProgress) {
        const pending = await pendingStartOf(tx, systemId);
        if (pending?.type === type) {
          await this.assertMayUse(tx, request.caller, locked, request.verb);
          assertSameRequest(type, pending.request, request.asked);
          repeat = true;
          return pending;
        }
      }
      const m = await prepare(tx, locked);
      if (m === null) return null;
      const owed = await this.transitionLocked(tx, m, op, type, deadlines, { params, extra, scripts });
      const recorded = { ...owed, request: request.asked };
      await recordPendingStart(tx, m.id, recorded);
      return recorded;
    });
    if (!start) return;
    const outcome = await this.completeStart(start, op);
    // Two requests at once (a double submit, or concurrent clients): the one that did not start
    // the operation is refused as MAAS refuses an operation on a machine already in it (release:
    // already releasing is its postcondition, a success), whoever made the start.
    if (repeat && outcome === 'running' && type !== WorkflowType.release)
      throw notStartable(type, { status: op.inProgress } as Machine);
  }

  /**
   * The machine's earlier operation may still be closing (an abort's cleanup powers the machine
   * off in a scope that cannot be cancelled): a new operation then waits the gateway's grace for
   * it, and is refused with a 409 that changed nothing if it is still running, as before starts
   * moved after the commit, rather than committed with a start the reconciler makes later. Asked
   * before the transaction, never under the row lock; best effort: the start after the commit
   * still copes with a run it meets (and says so when Temporal cannot be reached).
   */
  private async refuseWhileEarlierRunCloses(systemId: string): Promise<void> {
    const m = await this.db.getRepository(MachineEntity).findOneBy({ systemId });
    // In an operation (this one: a repeat or a duplicate; another: refused by the lifecycle table
    // at once), nothing to wait for: only a settled machine's earlier run may still be closing.
    if (!m || operationIn(m.status) !== undefined) return;
    let state: string;
    try {
      state = await this.workflows.waitForEarlierRun(lifecycleWorkflowId(systemId));
    } catch {
      return;
    }
    if (state === 'running')
      throw new ConflictError(
        `Another operation is in progress on this machine (workflow ${lifecycleWorkflowId(systemId)}).`,
      );
  }

  /**
   * Start the workflow a committed status change owes. Its ID is the machine's (deterministic), so
   * a start that is repeated (a retried request, the reconciler) cannot run the operation twice,
   * and one whose workflow is already running (a double submit) is a success (the gateway knows
   * the run by its claim token). If Temporal cannot take it, or another run of the machine is
   * still closing, the 503 says what did change: the machine is in the operation's status, and its
   * workflow is started by a repeated request or by the reconciler.
   */
  private async completeStart(start: PendingStart, op: LifecycleOperation): Promise<'started' | 'running'> {
    let outcome: 'started' | 'running';
    try {
      outcome = await this.workflows.start(start.type, start.workflowId, start.params as never);
    } catch (err) {
      if (!(err instanceof UnavailableError || err instanceof ConflictError)) throw err;
      const why = err.message.startsWith(WORKFLOW_SERVICE_DOWN) ? `${WORKFLOW_SERVICE_DOWN}.` : err.message;
      throw new UnavailableError(
        `${why} This request was recorded: machine ${start.systemId} is ${labelOf(op.inProgress!)}, ` +
          `and its workflow starts when the workflow service takes it (repeat this request, or the region ` +
          `starts it within its reconcile interval).`,
      );
    }
    // Its first step removes the row too; gone now, a workflow terminated before that step is
    // failed by the reconciler rather than started again.
    await clearPendingStart(this.db.manager, start.systemId, start.claimToken);
    return outcome;
  }

  /** The transition and the workflow start of one machine already locked in `tx`; returns the start's claim token. */
  private async startLocked<T extends LifecycleWorkflowType>(
    tx: EntityManager,
    m: Machine,
    op: LifecycleOperation,
    type: T,
    deadlines: Deadlines,
    o: {
      params: (m: Machine, ref: LifecycleStartRef) => Promise<WorkflowParams<T>>;
      extra: (m: Machine) => Partial<Machine>;
    },
  ): Promise<string> {
    const start = await this.transitionLocked(tx, m, op, type, deadlines, o);
    await this.workflows.start(type, start.workflowId, start.params as WorkflowParams<T>);
    return start.claimToken;
  }

  /** The transition of one machine already locked in `tx`, and the workflow start it owes. */
  private async transitionLocked<T extends LifecycleWorkflowType>(
    tx: EntityManager,
    m: Machine,
    op: LifecycleOperation,
    type: T,
    deadlines: Deadlines,
    o: {
      params: (m: Machine, ref: LifecycleStartRef) => Promise<WorkflowParams<T>>;
      extra: (m: Machine) => Partial<Machine>;
      scripts?: ScriptSetsStep;
    },
  ): Promise<Omit<PendingStart, 'request'>> {
    const to = op.inProgress!;
    // The lifecycle table says where the operation may start; its workflow claims the machine
    // only from there, so anything else is refused here rather than failed there.
    if (!op.startFrom.includes(m.status)) throw notStartable(type, m);
    assertTransition(m.status, to);
    const systemId = m.systemId;
    const rackQueue = await this.racks.queueFor(m.rackId, tx);
    const workflowId = lifecycleWorkflowId(systemId);
    // The token tells the workflow whether this commit happened (see beginTransition).
    const claimToken = newClaimToken();
    await changeStatus(tx, m, { to, workflow: { id: workflowId, type, claimToken }, extra: o.extra(m) });
    // MAAS makes the run's script set (one pending result per script) when the operation starts.
    if (to === S.COMMISSIONING) await ensureScriptSet(tx, m.id, RESULT_TYPE.commissioning, claimToken);
    await o.scripts?.(tx, m, claimToken);
    const params = await o.params(m, {
      ...(await operatorRef(tx, m)),
      systemId,
      hostname: m.hostname,
      rackQueue,
      deadlines,
      claimToken,
    });
    return { systemId, workflowId, type, params, claimToken };
  }
}

const releaseParams =
  (o: Required<ReleaseOptions>) =>
  async (m: Machine, ref: LifecycleStartRef): Promise<WorkflowParams<typeof WorkflowType.release>> => {
    const erase = eraseOnRelease(m.ephemeralDeploy, o.erase);
    return { ...ref, erase, secureErase: erase && o.secureErase, quickErase: erase && o.quickErase };
  };

/** What releasing one (checked, locked) machine records before its workflow starts. */
async function prepareRelease(
  tx: EntityManager,
  caller: Principal,
  m: Machine,
  o: Required<ReleaseOptions>,
): Promise<void> {
  if (eraseOnRelease(m.ephemeralDeploy, o.erase)) await assertCanNetboot(tx, m, 'erase the disks of');
  await recordRequest(tx, m, caller, 'User releasing node', o.comment);
  if (m.ephemeralDeploy && o.erase)
    await recordEvent(tx, m.id, {
      type: 'Node status event',
      description: 'Ephemeral deployment: the disks were never written, so there is nothing to erase.',
      level: 'INFO',
    });
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
    case WorkflowType.test:
      // forms/ephemeral.py: TestForm.clean (a form error, 400), as for commission.
      return new FormValidationError({
        __all__: ['Test is not available because of the current state of the node.'],
      });
  }
}

type ScriptSetsStep = (tx: EntityManager, m: Machine, claimToken: string) => Promise<void>;

/** The workflows the API starts through startLifecycle, and what each gets besides its options. */
type LifecycleWorkflowType =
  typeof WorkflowType.commission | typeof WorkflowType.deploy | typeof WorkflowType.release | typeof WorkflowType.test;
interface LifecycleStartRef extends OperatorRef {
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

/**
 * MAAS's _start_deployment: a machine whose storage cannot be installed (no `/`, no ESP on UEFI,
 * or what install-to-disk.sh cannot lay out) is refused before anything is written, not after the
 * installer's storage-layout request gets its 409 with addresses claimed and the machine cycled.
 * The same check as that request's (metadata storageLayout), on the storage under this row lock.
 */
async function assertStorageDeployable(tx: EntityManager, m: Machine): Promise<void> {
  const r = installerStorage(await loadOne(tx, m.id));
  if (!r.ok) throw new ValidationError({ storage: r.problems });
}
