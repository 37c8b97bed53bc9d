// The one way a machine's interfaces change: the machine the caller can see (404 first), then in
// one transaction under its row lock: not a controller (403), the policy (MAAS's
// NodePermission.admin: admins and pool admins, 403), MAAS's state rule (409), then the edit and
// the interface as it is afterwards. A refused edit writes nothing.
import type { DataSource, EntityManager } from 'typeorm';
import { MachineStatus as S, type MachineStatus } from '../../../contracts/lifecycle';
import type { Machine } from '../../db/entities';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../errors';
import { authorizeMachine } from '../../policy';
import type { MachineQueries } from '../machine-queries';
import { machineFacts } from '../policy-facts';
import type { Principal } from '../principal';
import { lockMachine } from '../transitions';
import { loadMachineNics, type MachineNic } from './model';

export type User = Extract<Principal, { kind: 'user' }>;

/** MAAS's ALLOWED_STATES for interface edits (api/interfaces.py). */
export const EDITABLE_STATES: readonly MachineStatus[] = [S.NEW, S.READY, S.FAILED_TESTING, S.ALLOCATED, S.BROKEN];

export interface EditScope {
  tx: EntityManager;
  machine: Machine;
  /** The machine's interfaces as they were when the lock was taken. */
  nics: MachineNic[];
}

export class MachineNetworkEditor {
  constructor(
    private readonly db: DataSource,
    private readonly queries: MachineQueries,
  ) {}

  /**
   * Runs one edit. `operation` words MAAS's refusals ("Cannot create bond interface because the
   * machine is not New, Ready, Allocated, or Broken."); `extraStates` are the ones this edit also
   * takes (update: Deployed). `work` answers the id of the interface to show afterwards.
   */
  async edit(
    caller: User,
    systemId: string,
    operation: string,
    work: (s: EditScope) => Promise<number>,
    extraStates: readonly MachineStatus[] = [],
  ): Promise<MachineNic> {
    return this.run(caller, systemId, operation, extraStates, async (s) => {
      const id = await work(s);
      const nic = (await loadMachineNics(s.tx, [s.machine.id])).get(s.machine.id)?.find((n) => n.id === id);
      if (!nic) throw new NotFoundError('No Interface matches the given query.');
      return nic;
    });
  }

  /** The same checks around work that answers nothing in particular (delete, restore). */
  async run<T>(
    caller: User,
    systemId: string,
    operation: string,
    extraStates: readonly MachineStatus[],
    work: (s: EditScope) => Promise<T>,
    stateRule?: (m: Machine) => string | null,
  ): Promise<T> {
    await this.queries.get(caller, systemId);
    try {
      return await this.db.transaction(async (tx) => {
        const machine = await lockMachine(tx, systemId);
        const facts = await machineFacts(tx, caller, machine);
        if (facts.controller) throw new ForbiddenError(`Cannot ${operation} interface on a controller.`);
        authorizeMachine(caller, 'configure-network', facts, 'change the interfaces of');
        const refused = stateRule
          ? stateRule(machine)
          : [...EDITABLE_STATES, ...extraStates].includes(machine.status as MachineStatus)
            ? null
            : `Cannot ${operation} interface because the machine is not New, Ready, Allocated, or Broken.`;
        if (refused) throw new ConflictError(refused);
        const nics = (await loadMachineNics(tx, [machine.id])).get(machine.id) ?? [];
        return await work({ tx, machine, nics });
      });
    } catch (err) {
      const pg = err as { code?: string; constraint?: string };
      if (pg.code === '23505' && pg.constraint === 'interface_links_ip_key')
        throw new ConflictError('The IP address was taken by another request at the same time; try again.');
      if (pg.code === '23505' && /name/.test(pg.constraint ?? ''))
        throw ValidationError.field('name', 'Another interface of this machine has that name.');
      throw err;
    }
  }
}

/** One of the machine's interfaces, or a 404 as MAAS answers it. */
export function nicOf(nics: MachineNic[], id: number): MachineNic {
  const nic = nics.find((n) => n.id === id);
  if (!nic) throw new NotFoundError('No Interface matches the given query.');
  return nic;
}
