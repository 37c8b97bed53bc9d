// MAAS's fabrics and the VLANs on them. A fabric always has its untagged VLAN (vid 0); fabric-0
// always exists. DHCP is switched on per VLAN, with the racks that serve it.
import type { DataSource, EntityManager } from 'typeorm';
import { ConflictError, NotFoundError, ValidationError } from '../../errors';
import { VLAN_SELECT, type FabricRow, type VlanRow } from './rows';
import { spaceIdFor } from './spaces';

export interface VlanInput {
  vid?: number;
  name?: string;
  description?: string;
  mtu?: number;
  dhcpOn?: boolean;
  /** Rack system_id, '' to clear. */
  primaryRack?: string;
  secondaryRack?: string;
  /** A space id or name; '' or 'undefined' takes the VLAN out of its space. */
  space?: string;
}

export class FabricService {
  constructor(private readonly db: DataSource) {}

  list(): Promise<FabricRow[]> {
    return this.db.query(`SELECT id, name, description FROM fabrics ORDER BY id`);
  }

  async get(id: number, manager: EntityManager = this.db.manager): Promise<FabricRow> {
    const rows: FabricRow[] = await manager.query(`SELECT id, name, description FROM fabrics WHERE id = $1`, [id]);
    if (!rows[0]) throw new NotFoundError('No Fabric matches the given query.');
    return rows[0];
  }

  /** A new fabric with its untagged VLAN; named fabric-<id> unless a name is given (MAAS). */
  create(input: { name?: string; description?: string }, manager?: EntityManager): Promise<FabricRow> {
    const run = async (tx: EntityManager) => {
      if (input.name !== undefined && !/^[\w.-]{1,256}$/.test(input.name))
        throw ValidationError.field('name', 'Enter a valid name: letters, digits, ".", "_" or "-".');
      const [{ id }] = (await tx.query(`SELECT nextval('fabrics_id_seq')::int AS id`)) as [{ id: number }];
      const name = input.name ?? `fabric-${id}`;
      const taken: unknown[] = await tx.query(`SELECT 1 FROM fabrics WHERE name = $1`, [name]);
      if (taken.length) throw ValidationError.field('name', `Fabric with this Name already exists.`);
      await tx.query(`INSERT INTO fabrics (id, name, description) VALUES ($1, $2, $3)`, [
        id,
        name,
        input.description ?? '',
      ]);
      await tx.query(`INSERT INTO vlans (fabric_id, vid, name) VALUES ($1, 0, 'untagged')`, [id]);
      return this.get(id, tx);
    };
    return manager ? run(manager) : this.db.transaction(run);
  }

  async update(id: number, input: { name?: string; description?: string }): Promise<FabricRow> {
    await this.get(id);
    if (input.name !== undefined) {
      if (!/^[\w.-]{1,256}$/.test(input.name))
        throw ValidationError.field('name', 'Enter a valid name: letters, digits, ".", "_" or "-".');
      const taken: unknown[] = await this.db.query(`SELECT 1 FROM fabrics WHERE name = $1 AND id <> $2`, [
        input.name,
        id,
      ]);
      if (taken.length) throw ValidationError.field('name', `Fabric with this Name already exists.`);
    }
    await this.db.query(
      `UPDATE fabrics SET name = COALESCE($2, name), description = COALESCE($3, description), updated = now() WHERE id = $1`,
      [id, input.name ?? null, input.description ?? null],
    );
    return this.get(id);
  }

  async delete(id: number): Promise<void> {
    if (id === 0) throw new ConflictError('The default fabric (fabric-0) cannot be deleted.');
    await this.get(id);
    const used: unknown[] = await this.db.query(
      `SELECT 1 FROM subnets s JOIN vlans v ON v.id = s.vlan_id WHERE v.fabric_id = $1 LIMIT 1`,
      [id],
    );
    if (used.length)
      throw new ConflictError('Cannot delete a fabric that still has subnets; delete or move them first.');
    await this.db.query(`DELETE FROM fabrics WHERE id = $1`, [id]);
  }

  vlans(fabricId?: number): Promise<VlanRow[]> {
    return fabricId === undefined
      ? this.db.query(`${VLAN_SELECT} ORDER BY v.fabric_id, v.vid`)
      : this.db.query(`${VLAN_SELECT} WHERE v.fabric_id = $1 ORDER BY v.vid`, [fabricId]);
  }
}

export class VlanService {
  constructor(private readonly db: DataSource) {}

  /** By fabric and VID (`/fabrics/{fabric_id}/vlans/{vid}/`). */
  async get(fabricId: number, vid: number, manager: EntityManager = this.db.manager): Promise<VlanRow> {
    const rows: VlanRow[] = await manager.query(`${VLAN_SELECT} WHERE v.fabric_id = $1 AND v.vid = $2`, [
      fabricId,
      vid,
    ]);
    if (!rows[0]) throw new NotFoundError('No VLAN matches the given query.');
    return rows[0];
  }

  /** By database id (`/vlans/{id}/`, a subnet's `vlan`). */
  async byId(id: number, manager: EntityManager = this.db.manager): Promise<VlanRow> {
    const rows: VlanRow[] = await manager.query(`${VLAN_SELECT} WHERE v.id = $1`, [id]);
    if (!rows[0]) throw new NotFoundError('No VLAN matches the given query.');
    return rows[0];
  }

  async create(fabricId: number, input: VlanInput): Promise<VlanRow> {
    if (input.vid === undefined) throw ValidationError.field('vid', 'This field is required.');
    checkVid(input.vid);
    const fabric: unknown[] = await this.db.query(`SELECT 1 FROM fabrics WHERE id = $1`, [fabricId]);
    if (!fabric.length) throw new NotFoundError('No Fabric matches the given query.');
    const taken: unknown[] = await this.db.query(`SELECT 1 FROM vlans WHERE fabric_id = $1 AND vid = $2`, [
      fabricId,
      input.vid,
    ]);
    if (taken.length) throw ValidationError.field('vid', `VLAN with this Fabric and Vid already exists.`);
    const spaceId = input.space === undefined ? null : await spaceIdFor(this.db.manager, input.space);
    await this.db.query(
      `INSERT INTO vlans (fabric_id, vid, name, description, mtu, space_id) VALUES ($1, $2, $3, $4, $5, $6)`,
      [fabricId, input.vid, input.name ?? '', input.description ?? '', checkMtu(input.mtu ?? 1500), spaceId],
    );
    return this.get(fabricId, input.vid);
  }

  /**
   * MAAS's rules for DHCP: it needs a primary rack and a dynamic range on one of the VLAN's
   * subnets; the secondary must differ from the primary. Checked under the VLAN's row lock so
   * two updates cannot leave DHCP on without a primary.
   */
  update(fabricId: number, vid: number, input: VlanInput): Promise<VlanRow> {
    return this.db.transaction(async (tx) => {
      const current = await this.get(fabricId, vid, tx);
      const [locked] = (await tx.query(
        `SELECT primary_rack_id AS p, secondary_rack_id AS s FROM vlans WHERE id = $1 FOR UPDATE`,
        [current.id],
      )) as [{ p: number | null; s: number | null }];
      if (input.vid !== undefined && input.vid !== vid) {
        if (vid === 0) throw ValidationError.field('vid', 'The untagged VLAN of a fabric cannot be renumbered.');
        checkVid(input.vid);
        const taken: unknown[] = await tx.query(`SELECT 1 FROM vlans WHERE fabric_id = $1 AND vid = $2`, [
          fabricId,
          input.vid,
        ]);
        if (taken.length) throw ValidationError.field('vid', `VLAN with this Fabric and Vid already exists.`);
      }
      const after = {
        dhcpOn: input.dhcpOn ?? current.dhcpOn,
        primary: input.primaryRack === undefined ? locked.p : await this.rackId(tx, 'primary_rack', input.primaryRack),
        secondary:
          input.secondaryRack === undefined ? locked.s : await this.rackId(tx, 'secondary_rack', input.secondaryRack),
      };
      if (after.dhcpOn) {
        if (after.primary === null)
          throw ValidationError.field('dhcp_on', 'dhcp can only be turned on when a primary rack controller is set.');
        const dynamic: unknown[] = await tx.query(
          `SELECT 1 FROM ip_ranges r JOIN subnets s ON s.id = r.subnet_id WHERE s.vlan_id = $1 AND r.type = 'dynamic' LIMIT 1`,
          [current.id],
        );
        if (!dynamic.length)
          throw ValidationError.field('dhcp_on', 'dhcp can only be turned on when a dynamic IP range is defined.');
      }
      if (after.secondary !== null && after.secondary === after.primary) {
        throw ValidationError.field(
          'secondary_rack',
          'Primary rack controller cannot be the secondary rack controller.',
        );
      }
      const spaceId = input.space === undefined ? current.spaceId : await spaceIdFor(tx, input.space);
      await tx.query(
        `UPDATE vlans SET vid = $2, name = $3, description = $4, mtu = $5, dhcp_on = $6, primary_rack_id = $7, secondary_rack_id = $8, space_id = $9 WHERE id = $1`,
        [
          current.id,
          input.vid ?? vid,
          input.name ?? current.name,
          input.description ?? current.description,
          checkMtu(input.mtu ?? current.mtu),
          after.dhcpOn,
          after.primary,
          after.secondary,
          spaceId,
        ],
      );
      return this.byId(current.id, tx);
    });
  }

  async delete(fabricId: number, vid: number): Promise<void> {
    const vlan = await this.get(fabricId, vid);
    if (vid === 0) throw new ConflictError("A fabric's untagged VLAN cannot be deleted.");
    const used: unknown[] = await this.db.query(`SELECT 1 FROM subnets WHERE vlan_id = $1 LIMIT 1`, [vlan.id]);
    if (used.length) throw new ConflictError('Cannot delete a VLAN that still has subnets; delete or move them first.');
    await this.db.query(`DELETE FROM vlans WHERE id = $1`, [vlan.id]);
  }

  /** null clears; a system_id that names no rack is a 400 on that field. */
  private async rackId(tx: EntityManager, field: string, systemId: string): Promise<number | null> {
    if (systemId === '') return null;
    const rows: Array<{ id: number }> = await tx.query(`SELECT id FROM racks WHERE system_id = $1 OR name = $1`, [
      systemId,
    ]);
    if (!rows[0])
      throw ValidationError.field(field, `Select a valid choice. ${systemId} is not one of the available choices.`);
    return rows[0].id;
  }
}

function checkVid(vid: number): void {
  if (!Number.isInteger(vid) || vid < 0 || vid > 4094)
    throw ValidationError.field('vid', 'VID must be between 0 and 4094.');
}
function checkMtu(mtu: number): number {
  if (!Number.isInteger(mtu) || mtu < 552 || mtu > 65535)
    throw ValidationError.field('mtu', 'Ensure this value is between 552 and 65535.');
  return mtu;
}
