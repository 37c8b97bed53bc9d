// The API's operations on one machine, and the facade the API and the other services call: the
// lifecycle operations (commission, test, deploy, release) check what MAAS checks and leave the
// start to lifecycle-start.ts (the transition with its recorded workflow start, the start after
// the commit); the bulk operations are machine-bulk-actions.ts, the power actions
// machine-power-actions.ts, the status changes with no workflow start (mark broken/fixed, override
// failed testing, lock) machine-status-actions.ts; abort and the new machine's workflow are here.
import type { DataSource, EntityManager } from 'typeorm';
import type { Log } from '../../contracts/log';
import {
  ABORTABLE_STATUSES,
  labelOf,
  LIFECYCLE,
  MachineStatus as S,
  testingReturnsTo,
} from '../../contracts/lifecycle';
import {
  enlistWorkflowId,
  lifecycleWorkflowId,
  WorkflowType,
  type Deadlines,
  type PowerAction,
  type PowerResult,
} from '../../contracts/workflows';
import type { Machine } from '../db/entities';
import { ConflictError, ValidationError } from '../errors';
import type { BootResourceService } from './boot-resources';
import type { ConfigService } from './config';
import { assertRunsFromRam } from './ephemeral-deploy';
import { recordEvent } from './events';
import { LifecycleStarts } from './lifecycle-start';
import { assertMayUseMachine } from './machine-access';
import { MachineBulkActions } from './machine-bulk-actions';
import { MachinePowerActions } from './machine-power-actions';
import { MachineStatusActions } from './machine-status-actions';
import { assertCanNetboot } from './mac-rules';
import { assertNoOtherMaclessCommissioning } from './macless-commissioning';
import { claimAutoAddresses } from './network/auto-addresses';
import { operatorRef } from './operator-ref';
import type { Principal } from './principal';
import type { RackService } from './racks';
import {
  askedParameters,
  NO_SKIPS,
  type CommissionOptions,
  type DeployOptions,
  type TestOptions,
} from './machine-action-requests';
import { prepareRelease, releaseParams, withEraseDefaults, type ReleaseOptions } from './release-request';
import { callerId, callerName, recordRequest } from './request-events';
import { mayTake } from './reservations';
import { applyRunParameters, ensureTestingSet } from './scripts/script-sets';
import { installerStorage } from './storage/installer-description';
import { loadOne } from './storage/repository';
import { changeStatus, lockMachine } from './transitions';
import type { WorkflowGateway } from './workflow-gateway';

export type { CommissionOptions, DeployOptions, ReleaseOptions, TestOptions };

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
    /** How long a lifecycle request waits for its workflow's start (lifecycle-start.ts). */
    startWaitMs?: number,
    /** Where a start that failed after its request answered is told (the region's log). */
    log?: Log,
  ) {
    this.starts = new LifecycleStarts(db, workflows, racks, deadlines, startWaitMs, log);
    this.bulk = new MachineBulkActions(db, workflows, this.starts, deadlines, config);
    this.powerActions = new MachinePowerActions(db, workflows, racks, deadlines);
    this.statusActions = new MachineStatusActions(db, workflows, this.starts);
  }

  private readonly starts: LifecycleStarts;

  /** Wait for workflow starts still going on after their requests answered (before shutdown closes their connections). */
  drainStarts(): Promise<void> {
    return this.starts.drain();
  }
  private readonly bulk: MachineBulkActions;
  private readonly powerActions: MachinePowerActions;
  private readonly statusActions: MachineStatusActions;

  async commission(caller: Principal, systemId: string, o: CommissionOptions = NO_SKIPS): Promise<void> {
    await this.starts.start(
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
          ...askedParameters(o.scriptParameters),
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
        await applyRunParameters(tx, m.id, claimToken, o.scriptParameters ?? {});
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
    await this.starts.start(
      systemId,
      LIFECYCLE.test,
      WorkflowType.test,
      {
        caller,
        verb: 'test',
        asked: { testing_scripts: (o.testingScripts ?? []).join(','), ...askedParameters(o.scriptParameters) },
      },
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
      async (tx, m, claimToken) => {
        await ensureTestingSet(tx, m.id, claimToken, o.testingScripts);
        await applyRunParameters(tx, m.id, claimToken, o.scriptParameters ?? {});
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
      ...(o.storageLayout ? { storage_layout: o.storageLayout.name } : {}),
    };
    await this.starts.start(
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
          await o.storageLayout?.layOut(tx, m);
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
        if (starts) await o.storageLayout?.layOut(tx, m);
        if (starts && installsToDisk) await assertStorageDeployable(tx, m);
        await recordRequest(tx, m, caller, 'User starting deployment', o.comment);
        if (starts) await claimAutoAddresses(tx, m.id);
        return m;
      },
    );
  }

  async release(caller: Principal, systemId: string, options: ReleaseOptions): Promise<void> {
    const o = await withEraseDefaults(this.config, options);
    await this.starts.start(
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

  /** MAAS's bulk release (MachinesHandler.release): all checked, then all started (machine-bulk-actions.ts). */
  releaseMany(caller: Principal, systemIds: string[], options: ReleaseOptions): Promise<string[]> {
    return this.bulk.releaseMany(caller, systemIds, options);
  }

  /** MAAS's accept (MachinesHandler.accept): NEW machines start commissioning (machine-bulk-actions.ts). */
  acceptMany(caller: Principal, systemIds: string[]): Promise<string[]> {
    return this.bulk.acceptMany(caller, systemIds);
  }

  /** MAAS's accept_all: every NEW machine the caller may commission starts commissioning. */
  acceptAll(caller: Principal): Promise<string[]> {
    return this.bulk.acceptAll(caller);
  }

  /**
   * Abort: cancel the running workflow, whose cleanup powers off and leaves MAAS's abort status.
   * If the workflow is gone, an abort workflow does the same cleanup. The cancel (or the start) is
   * asked under the machine's row lock, before the AUDIT event commits: if Temporal cannot take it,
   * the 503 "nothing was changed" is true. The cleanup's first step waits for that lock, so it
   * runs after the commit either way.
   */
  async abort(caller: Principal, systemId: string, comment = ''): Promise<void> {
    // A start still going out after its request answered: cancel what it started, not race it.
    await this.starts.settled(systemId);
    const deadlines = await this.deadlines();
    const id = lifecycleWorkflowId(systemId);
    await this.db.transaction(async (tx) => {
      const m = await lockMachine(tx, systemId);
      await this.assertMayUse(tx, caller, m, 'abort');
      if (!ABORTABLE_STATUSES.includes(m.status))
        throw new ConflictError(`Cannot abort in current state: node ${systemId} is in state ${labelOf(m.status)}.`);
      if (comment) await recordEvent(tx, m.id, { type: 'Aborting', description: comment, level: 'AUDIT' });
      if (m.workflowId === id && (await this.workflows.cancel(id))) return;
      const params = {
        ...(await operatorRef(tx, m)),
        systemId,
        hostname: m.hostname,
        rackQueue: await this.racks.queueFor(m.rackId, tx),
        deadlines,
        from: m.status,
      };
      try {
        await this.workflows.start(WorkflowType.abort, id, params);
      } catch (err) {
        // The operation's own start went out meanwhile (from another region, whose requests
        // answered before their starts were made): it is what this abort stops.
        if (err instanceof ConflictError && m.workflowId === id && (await this.workflows.cancel(id))) return;
        throw err;
      }
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

  /** mark_broken: BROKEN at once, the running workflow cancelled under the row lock (machine-status-actions.ts). */
  markBroken(caller: Principal, systemId: string, message: string): Promise<void> {
    return this.statusActions.markBroken(caller, systemId, message);
  }

  markFixed(caller: Principal, systemId: string, comment = ''): Promise<void> {
    return this.statusActions.markFixed(caller, systemId, comment);
  }

  /** MAAS's override_failed_testing: a FAILED_TESTING machine is usable again (machine-status-actions.ts). */
  overrideFailedTesting(caller: Principal, systemId: string, comment = ''): Promise<void> {
    return this.statusActions.overrideFailedTesting(caller, systemId, comment);
  }

  lock(caller: Principal, systemId: string, locked: boolean, comment = ''): Promise<void> {
    return this.statusActions.lock(caller, systemId, locked, comment);
  }

  power(caller: Principal, systemId: string, action: PowerAction, comment = ''): Promise<PowerResult> {
    return this.powerActions.power(caller, systemId, action, comment);
  }

  /** A rack controller's power (its controller machine), for admins (machine-power-actions.ts). */
  powerRack(caller: Principal, rackSystemId: string, action: PowerAction, comment = ''): Promise<PowerResult> {
    return this.powerActions.powerRack(caller, rackSystemId, action, comment);
  }

  /** The controller machine of a rack (controller-machines.ts annotates it with rack_system_id). */
  rackMachine(rackSystemId: string): Promise<Machine> {
    return this.powerActions.rackMachine(rackSystemId);
  }

  /** The one access check for acting on a machine (machine-access.ts). */
  async assertMayUse(manager: EntityManager, caller: Principal, m: Machine, what: string): Promise<void> {
    await assertMayUseMachine(manager, caller, m, what);
  }
}

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
