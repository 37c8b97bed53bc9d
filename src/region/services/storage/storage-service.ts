// nodes/{system_id}/blockdevices/, partitions, volume-groups/ and raids/, and a machine's storage
// layout: each call finds the machine the caller can see (404 first), checks MAAS's state rule and
// the policy, then loads the storage under the machine's row lock, checks the edit against it and
// writes it, all in one transaction: a refused edit writes nothing.
import type { DataSource, EntityManager } from 'typeorm';
import { MachineStatus as S } from '../../../contracts/lifecycle';
import type { Machine } from '../../db/entities';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../errors';
import { authorizeMachine, decideMachine } from '../../policy';
import type { MachineQueries } from '../machine-queries';
import { machineFacts } from '../policy-facts';
import type { Principal } from '../principal';
import { lockMachine } from '../transitions';
import { StorageEdits } from './edits';
import { installerStorage, type InstallerStorage } from './installer-description';
import { applyLayout, defaultLayoutOf } from './default-layout';
import { APPLIED_LAYOUTS, type AppliedLayout, type LayoutParams } from './layouts';
import type { MachineStorage, StoredBlockDevice, StoredGroup, StoredPartition } from './model';
import { loadOne } from './repository';

type User = Extract<Principal, { kind: 'user' }>;

/**
 * MAAS's two kinds of storage edit: `allocated` ones (format, mount, partitions) the owner of an
 * Allocated machine or an admin of a Ready one makes; `ready` ones (tags, boot disk, volume
 * groups, RAIDs, layouts) only admins, only on a Ready machine.
 */
export type EditKind = 'allocated' | 'ready';

/** MAAS's refusals name the operation and object; some layout ones have their own sentence. */
export interface Wording {
  operation: string;
  object: string;
  notReady?: string;
}

export class StorageService {
  constructor(
    private readonly db: DataSource,
    private readonly queries: MachineQueries,
  ) {}

  /** A visible machine's storage. */
  async read(caller: User, systemId: string): Promise<MachineStorage> {
    const view = await this.queries.get(caller, systemId);
    return loadOne(this.db.manager, view.machine.id);
  }

  blockDevice(s: MachineStorage, id: number): StoredBlockDevice {
    const d = s.devices.find((x) => x.id === id);
    if (!d) throw new NotFoundError('No BlockDevice matches the given query.');
    return d;
  }
  partition(s: MachineStorage, deviceId: number, id: number): StoredPartition {
    const d = this.blockDevice(s, deviceId);
    const table = s.tables.find((t) => t.blockDeviceId === d.id);
    const p = table && s.partitions.find((x) => x.id === id && x.partitionTableId === table.id);
    if (!p) throw new NotFoundError('No Partition matches the given query.');
    return p;
  }
  group(s: MachineStorage, id: number, type: 'lvm-vg' | 'raid'): StoredGroup {
    const g = s.groups.find(
      (x) => x.id === id && (type === 'lvm-vg' ? x.groupType === 'lvm-vg' : x.groupType.startsWith('raid-')),
    );
    if (!g) throw new NotFoundError(`No ${type === 'lvm-vg' ? 'VolumeGroup' : 'RAID'} matches the given query.`);
    return g;
  }

  /**
   * Runs one edit: `operation` and `object` word MAAS's refusals ("Cannot format block device
   * because the machine is not Ready or Allocated."). Returns the storage as it is afterwards.
   */
  async edit<T>(
    caller: User,
    systemId: string,
    kind: EditKind,
    wording: Wording,
    work: (edits: StorageEdits, s: MachineStorage, tx: EntityManager) => Promise<T>,
  ): Promise<{ result: T; storage: MachineStorage }> {
    await this.queries.get(caller, systemId);
    return this.db.transaction(async (tx) => {
      const machine = await lockMachine(tx, systemId);
      const result = await this.editLocked(tx, caller, machine, kind, wording, work);
      return { result, storage: await loadOne(tx, machine.id) };
    });
  }

  /**
   * `edit` inside a transaction of the caller's that already holds the machine's row lock (the
   * web UI's deploy lays out storage in the deploy's own transaction): the same admission.
   */
  async editLocked<T>(
    tx: EntityManager,
    caller: User,
    machine: Machine,
    kind: EditKind,
    wording: Wording,
    work: (edits: StorageEdits, s: MachineStorage, tx: EntityManager) => Promise<T>,
  ): Promise<T> {
    await this.admit(tx, caller, machine, kind, wording);
    const s = await loadOne(tx, machine.id);
    return work(new StorageEdits(tx, machine.id, s), s, tx);
  }

  private async admit(tx: EntityManager, caller: User, m: Machine, kind: EditKind, w: Wording): Promise<void> {
    const facts = await machineFacts(tx, caller, m);
    if (kind === 'ready') {
      authorizeMachine(caller, 'configure-storage', facts, `change the storage of`);
      if (m.status !== S.READY)
        throw new ConflictError(w.notReady ?? `Cannot ${w.operation} ${w.object} because the machine is not Ready.`);
      return;
    }
    if (m.status !== S.READY && m.status !== S.ALLOCATED)
      throw new ConflictError(`Cannot ${w.operation} ${w.object} because the machine is not Ready or Allocated.`);
    if (m.status === S.READY && decideMachine(caller, 'configure-storage', facts, 'configure') !== null)
      throw new ForbiddenError(
        `Cannot ${w.operation} ${w.object} because you don't have the permissions on a Ready machine.`,
      );
    authorizeMachine(caller, 'edit-storage', facts, 'change the storage of');
  }

  /** The description install-to-disk.sh takes, for the deploy installer (no caller: the region's own use). */
  async installerStorage(systemId: string): Promise<InstallerStorage> {
    const rows: Array<{ id: number }> = await this.db.query(`SELECT id FROM machines WHERE system_id = $1`, [systemId]);
    if (!rows[0]) throw new NotFoundError('No Machine matches the given query.');
    return installerStorage(await loadOne(this.db.manager, rows[0].id));
  }

  /** Machine op=set_storage_layout: MAAS's layouts flat, lvm, blank; others are refused by name. */
  async setLayout(caller: User, systemId: string, layout: string, params: LayoutParams): Promise<void> {
    const known = APPLIED_LAYOUTS.find((l) => l === layout);
    if (!known) {
      const why =
        layout === 'bcache'
          ? 'bcache is not supported: metalflow lays out flat, lvm and blank.'
          : `${layout.slice(0, 64)} is not one of the layouts metalflow applies: ${APPLIED_LAYOUTS.join(', ')}.`;
      throw ValidationError.field('storage_layout', why);
    }
    await this.edit(
      caller,
      systemId,
      'ready',
      {
        operation: 'change',
        object: 'the storage layout',
        notReady: 'Cannot change the storage layout on a machine that is not Ready.',
      },
      (_e, s, tx) => applyLayout(tx, s, known as AppliedLayout, params),
    );
  }

  /** Machine op=restore_storage_configuration: the default layout, as after commissioning. */
  async restore(caller: User, systemId: string): Promise<void> {
    await this.edit(
      caller,
      systemId,
      'ready',
      {
        operation: 'restore',
        object: 'the storage configuration',
        notReady: 'Cannot restore storage configuration because the machine is not Ready.',
      },
      async (_e, s, tx) => applyLayout(tx, s, await defaultLayoutOf(tx), {}),
    );
  }
}
