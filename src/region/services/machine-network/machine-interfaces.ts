// A machine's interfaces as MAAS edits them (api/interfaces.py, forms/interface.py):
// create_physical, create_bond, create_bridge, create_vlan, update, delete, disconnect and tags.
// Which interfaces may be parents: a bond's are physical, on one VLAN and used by nothing else; a
// bridge has one parent no other bridge or bond uses; a VLAN interface sits on a tagged VLAN of its
// parent's fabric, once per parent and VLAN. Links live in machine-links.ts.
import type { EntityManager } from 'typeorm';
import { MachineStatus as S } from '../../../contracts/lifecycle';
import { ConflictError, NotFoundError, ValidationError } from '../../errors';
import { macField } from '../network/addresses';
import type { VlanService } from '../network/fabrics';
import type { VlanRow } from '../network/rows';
import { assertMacsFree } from '../node-identity';
import { nicOf, type EditScope, type MachineNetworkEditor, type User } from './machine-edit';
import type { MachineNic } from './model';
import {
  apiName,
  bondParents,
  checkNameFree,
  interfaceName,
  MAX_INTERFACE_TAGS,
  nextName,
  oneParent,
  refuseForType,
  speed,
  tagList,
} from './interface-rules';
import { bondParams, bridgeParams, mtuParam, refuseForeignParams, type ParamsInput } from './params';

export interface PhysicalInput {
  name?: string;
  macAddress?: string;
  vlan?: number;
  tags?: string[];
  mtu?: number;
}
export interface ChildInput extends ParamsInput {
  name?: string;
  macAddress?: string;
  vlan?: number;
  tags?: string[];
  parents?: number[];
}
export interface UpdateInput extends ChildInput {
  linkConnected?: boolean;
  interfaceSpeed?: number;
  linkSpeed?: number;
}

export class MachineInterfaceService {
  constructor(
    private readonly editor: MachineNetworkEditor,
    private readonly vlans: VlanService,
  ) {}

  createPhysical(caller: User, systemId: string, input: PhysicalInput): Promise<MachineNic> {
    return this.editor.edit(caller, systemId, 'create', async ({ tx, machine, nics }) => {
      const mac = macField('mac_address', input.macAddress);
      if (!mac) throw ValidationError.field('mac_address', 'This field is required.');
      await assertMacsFree(tx, [mac], 'mac_address');
      const vlan = input.vlan === undefined ? null : await this.vlan(input.vlan, tx);
      const name = input.name === undefined ? nextName(nics) : interfaceName(input.name);
      checkNameFree(nics, name);
      return insert(tx, machine.id, {
        name,
        type: 'physical',
        mac,
        vlanId: vlan?.id ?? null,
        params: mtuParam(input.mtu),
        tags: tagList(input.tags) ?? [],
      });
    });
  }

  createBond(caller: User, systemId: string, input: ChildInput): Promise<MachineNic> {
    return this.editor.edit(caller, systemId, 'create bond', async (s) => {
      if (input.name === undefined) throw ValidationError.field('name', 'This field is required.');
      const name = interfaceName(input.name);
      checkNameFree(s.nics, name);
      const parents = bondParents(s.nics, input.parents, null);
      const vlanId = await this.childVlan(s, parents, input.vlan);
      const params = bondParams(input);
      const mac = macField('mac_address', input.macAddress) ?? parents[0]!.macAddress;
      const id = await insert(s.tx, s.machine.id, {
        name,
        type: 'bond',
        mac,
        vlanId,
        params,
        tags: tagList(input.tags) ?? [],
      });
      await setParents(s.tx, id, parents);
      // A bond's members carry no addresses of their own (MAAS clears their links).
      await s.tx.query(`DELETE FROM interface_links WHERE interface_id = ANY($1::int[])`, [parents.map((p) => p.id)]);
      if (vlanId !== null) await linkUp(s.tx, id);
      return id;
    });
  }

  createBridge(caller: User, systemId: string, input: ChildInput): Promise<MachineNic> {
    return this.editor.edit(caller, systemId, 'create bridge', async (s) => {
      const [parent] = oneParent(s.nics, input.parents, 'bridge', null);
      const name = input.name === undefined ? `br-${parent!.name}`.slice(0, 15) : interfaceName(input.name);
      checkNameFree(s.nics, name);
      const vlanId = await this.childVlan(s, [parent!], input.vlan);
      const id = await insert(s.tx, s.machine.id, {
        name,
        type: 'bridge',
        mac: macField('mac_address', input.macAddress) ?? parent!.macAddress,
        vlanId,
        params: bridgeParams(input),
        tags: tagList(input.tags) ?? [],
      });
      await setParents(s.tx, id, [parent!]);
      // The bridge takes over its parent's addresses, as MAAS moves them.
      await s.tx.query(`UPDATE interface_links SET interface_id = $2 WHERE interface_id = $1`, [parent!.id, id]);
      await linkUp(s.tx, parent!.id);
      if (vlanId !== null) await linkUp(s.tx, id);
      return id;
    });
  }

  createVlan(caller: User, systemId: string, input: ChildInput): Promise<MachineNic> {
    return this.editor.edit(caller, systemId, 'create VLAN', async (s) => {
      const [parent] = oneParent(s.nics, input.parents, 'vlan', null);
      if (input.vlan === undefined) throw ValidationError.field('vlan', 'This field is required.');
      const vlan = await this.taggedVlanFor(parent!, input.vlan, s);
      const name = `${parent!.name}.${vlan.vid}`;
      const twin = s.nics.find((n) => n.type === 'vlan' && n.parentIds.includes(parent!.id) && n.vlan?.id === vlan.id);
      if (twin)
        throw ValidationError.field(
          'vlan',
          `A VLAN interface with parent ${parent!.name} and VLAN ${vlan.vid} already exists (${twin.name}).`,
        );
      checkNameFree(s.nics, name);
      const id = await insert(s.tx, s.machine.id, {
        name,
        type: 'vlan',
        mac: parent!.macAddress,
        vlanId: vlan.id,
        params: mtuParam(input.mtu),
        tags: tagList(input.tags) ?? [],
      });
      await setParents(s.tx, id, [parent!]);
      await linkUp(s.tx, id);
      return id;
    });
  }

  /** MAAS's update: every field of the interface's type; on a Deployed machine only name and MAC. */
  update(caller: User, systemId: string, id: number, input: UpdateInput): Promise<MachineNic> {
    return this.editor.edit(
      caller,
      systemId,
      'update interface',
      async (s) => {
        const nic = nicOf(s.nics, id);
        const given = Object.entries(input)
          .filter(([, v]) => v !== undefined)
          .map(([k]) => k);
        if (s.machine.status === S.DEPLOYED) {
          const other = given.find((k) => k !== 'name' && k !== 'macAddress');
          if (other)
            throw new ConflictError(
              `Only name and mac_address can be changed on a Deployed machine's interface (${apiName(other)} was given).`,
            );
        }
        refuseForeignParams(nic.type, input);
        refuseForType(nic.type, input);
        const set: Record<string, unknown> = {};
        if (input.name !== undefined) {
          const name = interfaceName(input.name);
          checkNameFree(s.nics, name, id);
          set.name = name;
        }
        const mac = macField('mac_address', input.macAddress);
        if (mac && mac !== nic.macAddress) {
          if (nic.type === 'physical') await assertMacsFree(s.tx, [mac], 'mac_address');
          set.mac_address = mac;
        }
        if (input.parents !== undefined) {
          const parents =
            nic.type === 'bond'
              ? bondParents(s.nics, input.parents, nic)
              : oneParent(s.nics, input.parents, nic.type, nic);
          await s.tx.query(`DELETE FROM interface_parents WHERE child_id = $1`, [id]);
          await setParents(s.tx, id, parents);
          if (nic.type === 'bond')
            await s.tx.query(`DELETE FROM interface_links WHERE interface_id = ANY($1::int[])`, [
              parents.map((p) => p.id),
            ]);
        }
        if (input.vlan !== undefined) {
          const vlan =
            nic.type === 'vlan'
              ? await this.taggedVlanFor(nicOf(s.nics, input.parents?.[0] ?? nic.parentIds[0] ?? -1), input.vlan, s)
              : await this.vlan(input.vlan, s.tx);
          const elsewhere: Array<{ cidr: string }> = await s.tx.query(
            `SELECT s.cidr::text AS cidr FROM interface_links l JOIN subnets s ON s.id = l.subnet_id
              WHERE l.interface_id = $1 AND s.vlan_id <> $2`,
            [id, vlan.id],
          );
          if (elsewhere[0])
            throw ValidationError.field(
              'vlan',
              `The interface is linked to subnet ${elsewhere[0].cidr} on another VLAN; unlink it first.`,
            );
          set.vlan_id = vlan.id;
          if (nic.type === 'vlan')
            set.name = `${nicOf(s.nics, input.parents?.[0] ?? nic.parentIds[0]!).name}.${vlan.vid}`;
        }
        const params =
          nic.type === 'bond'
            ? bondParams(input, nic.params)
            : nic.type === 'bridge'
              ? bridgeParams(input, nic.params)
              : { ...nic.params, ...mtuParam(input.mtu) };
        if (JSON.stringify(params) !== JSON.stringify(nic.params)) set.params = JSON.stringify(params);
        const tags = tagList(input.tags);
        if (tags) set.tags = tags;
        if (input.linkConnected !== undefined) set.link_connected = input.linkConnected;
        if (input.interfaceSpeed !== undefined) set.interface_speed = speed('interface_speed', input.interfaceSpeed);
        if (input.linkSpeed !== undefined) set.link_speed = speed('link_speed', input.linkSpeed);
        // MAAS: a link speed above what the interface can do is an error.
        const interfaceSpeed = (set.interface_speed as number | undefined) ?? nic.interfaceSpeed;
        const linkSpeed = (set.link_speed as number | undefined) ?? nic.linkSpeed;
        if (input.linkSpeed !== undefined && interfaceSpeed > 0 && linkSpeed > interfaceSpeed)
          throw ValidationError.field(
            'link_speed',
            `Link speed cannot be higher than interface speed (${interfaceSpeed}).`,
          );
        // A disconnected NIC has no link speed and no addresses (MAAS clears both).
        if (input.linkConnected === false) {
          set.link_speed = 0;
          await s.tx.query(`DELETE FROM interface_links WHERE interface_id = $1`, [id]);
        }
        const columns = Object.keys(set);
        if (columns.length)
          await s.tx.query(
            `UPDATE interfaces SET ${columns.map((c, i) => `${c} = $${i + 2}`).join(', ')} WHERE id = $1`,
            [id, ...columns.map((c) => set[c])],
          );
        return id;
      },
      [S.DEPLOYED],
    );
  }

  /** MAAS's delete: the interface, its links, and the children left without a parent. */
  async delete(caller: User, systemId: string, id: number): Promise<void> {
    await this.editor.run(caller, systemId, 'delete interface', [], async ({ tx, machine, nics }) => {
      nicOf(nics, id);
      await tx.query(`DELETE FROM interfaces WHERE id = $1`, [id]);
      // A VLAN interface, bond or bridge whose last parent went goes too, and so on down.
      for (let depth = 0; depth < 8; depth++) {
        const gone: unknown[] = await tx.query(
          `WITH gone AS (DELETE FROM interfaces i WHERE i.machine_id = $1 AND i.type <> 'physical'
              AND NOT EXISTS (SELECT 1 FROM interface_parents p WHERE p.child_id = i.id) RETURNING id) SELECT id FROM gone`,
          [machine.id],
        );
        if (gone.length === 0) break;
      }
    });
  }

  /** MAAS's disconnect: no links (so no addresses) and no VLAN. */
  disconnect(caller: User, systemId: string, id: number): Promise<MachineNic> {
    return this.editor.edit(caller, systemId, 'disconnect', async ({ tx, nics }) => {
      nicOf(nics, id);
      await tx.query(`DELETE FROM interface_links WHERE interface_id = $1`, [id]);
      await tx.query(`UPDATE interfaces SET vlan_id = NULL WHERE id = $1`, [id]);
      return id;
    });
  }

  /** MAAS's add_tag/remove_tag (no state rule, as in MAAS). */
  tag(caller: User, systemId: string, id: number, tag: string, add: boolean): Promise<MachineNic> {
    return this.editor.edit(
      caller,
      systemId,
      add ? 'add tag to' : 'remove tag from',
      async ({ tx, nics }) => {
        const nic = nicOf(nics, id);
        // One tag: a comma would make several, of which only the first would be kept.
        if (tag.includes(','))
          throw ValidationError.field('tag', `Invalid tag '${tag.slice(0, 64)}': one tag, no commas.`);
        const [t] = tagList([tag]) ?? [];
        if (!t) throw ValidationError.field('tag', 'This field is required.');
        const tags = add ? [...new Set([...nic.tags, t])] : nic.tags.filter((x) => x !== t);
        if (tags.length > MAX_INTERFACE_TAGS) throw ValidationError.field('tag', `At most ${MAX_INTERFACE_TAGS} tags.`);
        await tx.query(`UPDATE interfaces SET tags = $2 WHERE id = $1`, [id, tags]);
        return id;
      },
      Object.values(S) as never[],
    );
  }

  private async vlan(id: number, tx: EntityManager): Promise<VlanRow> {
    try {
      return await this.vlans.byId(id, tx);
    } catch (err) {
      if (err instanceof NotFoundError)
        throw ValidationError.field('vlan', `Select a valid choice. No VLAN with id ${id}.`);
      throw err;
    }
  }

  /** A bond's or bridge's VLAN: the given one, which must be its parents' when they have one. */
  private async childVlan(s: EditScope, parents: MachineNic[], requested: number | undefined): Promise<number | null> {
    const parentVlans = [...new Set(parents.map((p) => p.vlan?.id ?? null))];
    if (parentVlans.length > 1) throw ValidationError.field('parents', 'All parents must belong to the same VLAN.');
    const own = parentVlans[0] ?? null;
    if (requested === undefined) return own;
    const vlan = await this.vlan(requested, s.tx);
    if (own !== null && vlan.id !== own)
      throw ValidationError.field('vlan', `VLAN ${requested} is not its parents' VLAN (${own}).`);
    return vlan.id;
  }

  /** A VLAN interface's VLAN: tagged, and on the fabric of its parent's VLAN. */
  private async taggedVlanFor(parent: MachineNic, id: number, s: EditScope): Promise<VlanRow> {
    const vlan = await this.vlan(id, s.tx);
    if (vlan.vid === 0) throw ValidationError.field('vlan', 'A VLAN interface can only belong to a tagged VLAN.');
    if (!parent.vlan || parent.vlan.fabricId !== vlan.fabricId)
      throw ValidationError.field(
        'vlan',
        'A VLAN interface can only belong to a tagged VLAN on the same fabric as its parent interface.',
      );
    return vlan;
  }
}

async function insert(
  tx: EntityManager,
  machineId: number,
  r: {
    name: string;
    type: string;
    mac: string;
    vlanId: number | null;
    params: Record<string, unknown>;
    tags: string[];
  },
): Promise<number> {
  const [{ id }] = (await tx.query(
    `INSERT INTO interfaces (machine_id, name, type, mac_address, enabled, link_speed, is_boot, vlan_id, params, tags)
     VALUES ($1, $2, $3, $4, true, 0, false, $5, $6, $7) RETURNING id`,
    [machineId, r.name, r.type, r.mac, r.vlanId, JSON.stringify(r.params), r.tags],
  )) as [{ id: number }];
  return id;
}

async function setParents(tx: EntityManager, child: number, parents: MachineNic[]): Promise<void> {
  await tx.query(
    `INSERT INTO interface_parents (child_id, parent_id) SELECT $1, unnest($2::int[]) ON CONFLICT DO NOTHING`,
    [child, parents.map((p) => p.id)],
  );
}

/** MAAS's ensure_link_up: an interface on a VLAN with no link gets a LINK_UP one. */
export async function linkUp(tx: EntityManager, id: number): Promise<void> {
  await tx.query(
    `INSERT INTO interface_links (interface_id, mode)
     SELECT $1, 'link_up' WHERE NOT EXISTS (SELECT 1 FROM interface_links WHERE interface_id = $1)`,
    [id],
  );
}
