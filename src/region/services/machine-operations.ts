// What the API does to machines, each operation one call: the machine must be visible to the
// caller (404 before any 403), the policy must allow the verb, then the service that does the work
// runs. The API's machine handlers call only this (and the queries that present the result).
import type { DataSource } from 'typeorm';
import { isTransitional, MachineStatus as S } from '../../contracts/lifecycle';
import type { OperationStep, PowerAction, PowerResult } from '../../contracts/workflows';
import type { Machine } from '../db/entities';
import { authorizeMachine, type MachineVerb } from '../policy';
import { ForbiddenError, ValidationError } from '../errors';
import type { ListedMachine, MachineFilter, MachineQueries, MachineView, VersionedChunk } from './machine-queries';
import type { CommissionOptions, DeployOptions, MachineActions, ReleaseOptions, TestOptions } from './machine-actions';
import type { CreateMachineInput, MachineService, UpdateMachineInput } from './machine-service';
import { normaliseMac } from './machine-validation';
import { assertEnlistmentInput } from './enlistment';
import { reregisterHost } from './host-registration';
import { administersPool, machineFacts } from './policy-facts';
import type { Principal } from './principal';
import type { ReservationService } from './reservations';
import { lastReportAge } from './machine-progress';
import { StepCache } from './step-cache';
import { annotate } from './workload-annotations';
import type { WorkflowGateway } from './workflow-gateway';

/** How long a machine's read waits for its workflow's step before showing none. */
const STEP_QUERY_TIMEOUT_MS = 1_000;

export type EnrolInput = Omit<CreateMachineInput, 'ownerId'> & {
  commission: boolean;
  /** The tests its commissioning goes on to (none: no tests); refused when it does not commission. */
  testingScripts?: readonly string[];
  /** The parameter names the request gave (anonymous enlistment takes only some). */
  given: readonly string[];
};

export interface MachineTokenCredentials {
  tokenKey: string;
  tokenSecret: string;
  consumerKey: string;
}

export class MachineOperations {
  /** Polling a machine mid-operation costs one workflow query every few seconds, not one a read. */
  private readonly steps = new StepCache<OperationStep | null>();

  constructor(
    private readonly db: DataSource,
    private readonly queries: MachineQueries,
    private readonly machines: MachineService,
    private readonly actions: MachineActions,
    private readonly reservations: ReservationService,
    /** Answers the step of a machine's running operation (absent: none shown). */
    private readonly workflows?: Pick<WorkflowGateway, 'step'>,
  ) {}

  /**
   * POST machines/: admins create (commissioned unless commission=false; deployed=true registers a
   * running host, again for the same host_id returns its machine); anonymous callers enlist. All
   * or nothing: a machine whose workflow could not start is deleted again.
   */
  async enrol(caller: Principal | null, input: EnrolInput): Promise<MachineView> {
    // Anonymous: enlistment's allowlist (deployed=true, like every field it does not take, is a 400).
    if (!caller) assertEnlistmentInput(input.given, input.powerType);
    const tests = input.testingScripts ?? [];
    if (tests.length > 0 && (input.deployed || !input.commission))
      throw ValidationError.field(
        'testing_scripts',
        'Tests run after commissioning: a machine created with commission=false or deployed=true runs none.',
      );
    const hostId = input.deployed ? input.hostId : undefined;
    const again = () => (hostId ? this.db.transaction((tx) => reregisterHost(tx, hostId, input.hostname)) : null);
    const existing = await again();
    if (existing) return this.view(existing.id);
    const ownerId = caller?.kind === 'user' ? caller.user.id : null;
    let machine: Machine;
    try {
      machine = await this.machines.create({ ...input, ownerId });
    } catch (err) {
      // The same host registering twice at the same moment: the first one's machine won (the
      // unique host_id or hostname refused the second), so this is a re-registration.
      const raced = await again();
      if (!raced) throw err;
      return this.view(raced.id);
    }
    try {
      if (input.deployed) await this.actions.startForNewMachine(machine, 'registerDeployed');
      else if (!caller) await this.actions.startForNewMachine(machine, 'enlist');
      else if (input.commission)
        await this.actions.commission(caller, machine.systemId, {
          skipNetworking: false,
          skipStorage: false,
          ...(tests.length > 0 ? { testingScripts: tests } : {}),
        });
    } catch (err) {
      await this.machines.delete(machine.systemId).catch(() => undefined);
      throw err;
    }
    return this.view(machine.id);
  }

  /** Whether a MAC address belongs to a machine (enlistment asks before it creates one). */
  async isRegistered(mac: string): Promise<boolean> {
    const normalised = normaliseMac(mac);
    if (!normalised) return false;
    const rows: unknown[] = await this.db.query(`SELECT 1 FROM interfaces WHERE mac_address = $1::macaddr`, [
      normalised,
    ]);
    return rows.length > 0;
  }

  /** PUT: admins; pool admins, who may not touch power settings and move only to pools they administer. */
  async edit(caller: Principal, systemId: string, input: UpdateMachineInput): Promise<void> {
    const machine = await this.visible(caller, systemId);
    // BMC settings stay with admins: with the stored credentials kept across an address change, a
    // new power_address would send them wherever it points.
    if (input.powerType !== undefined || Object.keys(input.powerParameters).length > 0)
      await this.authorize(caller, 'edit-power', machine);
    await this.authorize(caller, 'edit', machine);
    if (input.pool) {
      const target: Array<{ id: number }> = await this.db.query(`SELECT id FROM resource_pools WHERE name = $1`, [
        input.pool,
      ]);
      if (target[0] && !(await administersPool(this.db.manager, caller, target[0].id)))
        throw new ForbiddenError(`You do not have permission to move machines to pool ${input.pool}.`);
    }
    await this.machines.update(systemId, input);
  }

  async delete(caller: Principal, systemId: string): Promise<void> {
    await this.authorize(caller, 'delete', await this.visible(caller, systemId));
    await this.machines.delete(systemId);
  }

  async commission(caller: Principal, systemId: string, o?: CommissionOptions): Promise<void> {
    await this.assertVisible(caller, systemId);
    await this.actions.commission(caller, systemId, o);
  }
  async test(caller: Principal, systemId: string, o: TestOptions): Promise<void> {
    await this.assertVisible(caller, systemId);
    await this.actions.test(caller, systemId, o);
  }
  async deploy(caller: Principal, systemId: string, o: DeployOptions): Promise<void> {
    await this.assertVisible(caller, systemId);
    await this.actions.deploy(caller, systemId, o);
  }
  async release(caller: Principal, systemId: string, o: ReleaseOptions): Promise<void> {
    await this.assertVisible(caller, systemId);
    await this.actions.release(caller, systemId, o);
  }
  /** Bulk release: visibility and policy are checked per machine inside (MAAS's all-or-nothing). */
  async releaseMany(caller: Principal, systemIds: string[], o: ReleaseOptions): Promise<string[]> {
    return this.actions.releaseMany(caller, systemIds, o);
  }
  /** Accept enlisted machines (they start commissioning); returns them as they are now. */
  async acceptMany(caller: Principal, systemIds: string[]): Promise<MachineView[]> {
    return this.viewsOf(caller, await this.actions.acceptMany(caller, systemIds));
  }
  async acceptAll(caller: Principal): Promise<MachineView[]> {
    return this.viewsOf(caller, await this.actions.acceptAll(caller));
  }

  /**
   * MAAS's set_zone (admins: the route's rule): every node named must exist, else nothing moves
   * and the 400 says so in MAAS's words.
   */
  async setZone(zone: string, systemIds: string[]): Promise<void> {
    const wanted = [...new Set(systemIds)];
    if (wanted.length === 0) throw ValidationError.field('system_id', 'No node selected.');
    await this.db.transaction(async (tx) => {
      const zones: Array<{ id: number }> = await tx.query(`SELECT id FROM zones WHERE name = $1`, [zone]);
      if (!zones[0])
        throw ValidationError.field('zone', 'Select a valid choice. That choice is not one of the available choices.');
      const found: Array<{ id: number }> = await tx.query(
        `SELECT id FROM machines WHERE system_id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE`,
        [wanted],
      );
      if (found.length !== wanted.length)
        throw ValidationError.field('system_id', 'Some of the given system ids are invalid system ids.');
      await tx.query(`UPDATE machines SET zone_id = $1, updated = now() WHERE id = ANY($2::int[])`, [
        zones[0].id,
        found.map((r) => r.id),
      ]);
    });
  }

  async abort(caller: Principal, systemId: string, comment: string): Promise<void> {
    await this.assertVisible(caller, systemId);
    await this.actions.abort(caller, systemId, comment);
  }
  async markBroken(caller: Principal, systemId: string, message: string): Promise<void> {
    await this.assertVisible(caller, systemId);
    await this.actions.markBroken(caller, systemId, message);
  }
  async markFixed(caller: Principal, systemId: string, comment = ''): Promise<void> {
    await this.assertVisible(caller, systemId);
    await this.actions.markFixed(caller, systemId, comment);
  }
  async overrideFailedTesting(caller: Principal, systemId: string, comment = ''): Promise<void> {
    await this.assertVisible(caller, systemId);
    await this.actions.overrideFailedTesting(caller, systemId, comment);
  }
  async reserve(caller: Principal, systemId: string, reservedFor: string, comment: string): Promise<void> {
    await this.assertVisible(caller, systemId);
    await this.reservations.reserve(caller, systemId, reservedFor, comment);
  }
  async lock(caller: Principal, systemId: string, locked: boolean, comment: string): Promise<void> {
    await this.assertVisible(caller, systemId);
    await this.actions.lock(caller, systemId, locked, comment);
  }
  async power(caller: Principal, systemId: string, action: PowerAction, comment = ''): Promise<PowerResult> {
    await this.assertVisible(caller, systemId);
    return this.actions.power(caller, systemId, action, comment);
  }

  /** The machine's own token (owner and admins); `regenerate` replaces it, the old one refused at once. */
  async token(caller: Principal, systemId: string, regenerate: boolean): Promise<MachineTokenCredentials> {
    const machine = await this.visible(caller, systemId);
    await this.authorize(caller, 'read-token', machine);
    return regenerate
      ? this.db.transaction((tx) => this.machines.machineToken(machine.id, true, tx))
      : this.machines.machineToken(machine.id);
  }

  /** Set workload annotations (owner and admins): an empty value removes the key. */
  async annotate(caller: Principal, systemId: string, entries: Record<string, string>): Promise<void> {
    const machine = await this.visible(caller, systemId);
    await this.authorize(caller, 'annotate', machine);
    const annotations = annotate(machine.workloadAnnotations, Object.entries(entries));
    await this.db.query(`UPDATE machines SET workload_annotations = $2, updated = now() WHERE id = $1`, [
      machine.id,
      JSON.stringify(annotations),
    ]);
  }

  /** One machine's power parameters, secrets included (admins). */
  async powerParameters(caller: Principal, systemId: string): Promise<Record<string, string>> {
    const machine = await this.visible(caller, systemId);
    await this.authorize(caller, 'read-power-parameters', machine);
    return this.machines.powerParametersOf(machine);
  }

  /** Power parameters of the visible machines (all, or those listed), by system_id (admins: the route's rule). */
  async powerParametersOfMany(caller: Principal, systemIds: string[]): Promise<Record<string, Record<string, string>>> {
    const views = await this.queries.list(caller, systemIds.length ? { systemId: systemIds } : {});
    return Object.fromEntries(views.map((v) => [v.machine.systemId, this.machines.powerParametersOf(v.machine)]));
  }

  /** Machines allocated to the caller (MAAS: owned and ALLOCATED), those listed when `systemIds` are given. */
  async allocatedTo(caller: Principal, systemIds: string[] = []): Promise<MachineView[]> {
    if (caller.kind !== 'user') return [];
    return this.queries.list(caller, {
      owner: [caller.user.username],
      status: [S.ALLOCATED],
      ...(systemIds.length ? { systemId: systemIds } : {}),
    });
  }

  /**
   * One machine, with its running operation's step (a listing has none: one query per machine).
   * `justStarted`: the reply to the request that started the operation, whose workflow has reported
   * no step yet; asking would wait for a worker to take its first task (up to the query's timeout
   * under load) to learn nothing.
   */
  async read(caller: Principal | null, systemId: string, o: { justStarted?: boolean } = {}): Promise<MachineView> {
    const view = await this.queries.get(caller, systemId);
    const m = view.machine;
    // Only a transitional machine has an operation under way; a closed workflow is not asked.
    const asked = !o.justStarted && this.workflows && m.workflowId && isTransitional(m.status);
    // Keyed by status too: the same workflow id runs the machine's next operation (commission,
    // then deploy), whose read must not show the previous one's step.
    const operationStep = asked
      ? await this.steps.get(`${m.workflowId}\n${m.status}`, () =>
          this.workflows!.step(m.workflowId!, STEP_QUERY_TIMEOUT_MS),
        )
      : null;
    return { ...view, operationStep: withKeptReports(operationStep, await this.keptReportOf(m.id, operationStep)) };
  }

  /** When the region last kept a progress report for the machine's quiet workflow, if it matters to `step`. */
  private async keptReportOf(machineId: number, step: OperationStep | null): Promise<Date | null> {
    if (!step?.deadline || step.silenceMs === undefined) return null;
    // Its age by the database's clock, placed on this process's: the clocks need not agree.
    const age = await lastReportAge(this.db.manager, { id: machineId });
    return age === null ? null : new Date(Date.now() - age);
  }

  /** The listing in chunks; `signal` (the request going away) cancels its query. */
  list(caller: Principal, filter: MachineFilter, signal?: AbortSignal): AsyncGenerator<MachineView[]> {
    return this.queries.chunks(caller, filter, { signal });
  }

  /** The listing with each machine's version, views only of those `known` lacks (see MachineQueries). */
  listVersioned(
    caller: Principal,
    filter: MachineFilter,
    known: (m: ListedMachine) => boolean,
    signal?: AbortSignal,
  ): AsyncGenerator<VersionedChunk> {
    return this.queries.versionedChunks(caller, filter, { signal, known });
  }

  private async viewsOf(caller: Principal, systemIds: string[]): Promise<MachineView[]> {
    return systemIds.length ? this.queries.list(caller, { systemId: systemIds }) : [];
  }

  /** A hidden machine is MAAS's 404, before any rule is asked (one query, no view). */
  private async assertVisible(caller: Principal, systemId: string): Promise<void> {
    await this.queries.visibleId(caller, systemId);
  }

  private async visible(caller: Principal, systemId: string): Promise<Machine> {
    return (await this.queries.get(caller, systemId)).machine;
  }

  private async authorize(caller: Principal, verb: MachineVerb, machine: Machine): Promise<void> {
    authorizeMachine(caller, verb, await machineFacts(this.db.manager, caller, machine));
  }

  private async view(id: number): Promise<MachineView> {
    return (await this.queries.views([id]))[0]!;
  }
}

/**
 * The step as the operator should read it: a quiet workflow (machine_progress.quiet) hears of progress
 * reports only at its deadline, so a report the region kept since the wait's deadline was set
 * (one newer than `deadline - silenceMs`) moves `lastHeardAt` and the deadline, as the workflow
 * will when its timer fires. An older record (an earlier wait or operation) changes nothing.
 */
function withKeptReports(step: OperationStep | null, lastReportAt: Date | null): OperationStep | null {
  if (!step?.deadline || step.silenceMs === undefined || !lastReportAt) return step;
  const heard = lastReportAt.getTime();
  if (heard <= Date.parse(step.deadline) - step.silenceMs) return step;
  return {
    ...step,
    lastHeardAt: new Date(heard).toISOString(),
    deadline: new Date(heard + step.silenceMs).toISOString(),
  };
}
