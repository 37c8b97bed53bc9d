// MAAS's devices (DevicesHandler/DeviceHandler): non-deployable nodes, such as the containers Juju
// registers on a machine it holds. Visibility first (a hidden device is a 404), then the policy
// (owner or admin), then the change, each in one transaction.
import type { DataSource, EntityManager } from 'typeorm';
import { authorizeDevice } from '../../policy';
import { ConflictError, NotFoundError, ValidationError } from '../../errors';
import { newSystemId } from '../../ids';
import { existingDomain } from '../domains';
import { generatedHostname, normaliseMac, validateDomain, validateHostname, validateMacs } from '../machine-validation';
import { assertHostnameFree, assertMacsFree, identityClash } from '../node-identity';
import type { Principal } from '../principal';
import { annotate } from '../workload-annotations';
import { DEVICE_SELECT, loadDeviceViews, type DeviceRow, type DeviceView } from './rows';
import { deviceVisibilitySql } from './visibility';

export interface CreateDeviceInput {
  hostname?: string;
  description?: string;
  domain?: string;
  macAddresses: string[];
  parent?: string;
  zone?: string;
}

export interface UpdateDeviceInput {
  hostname?: string;
  description?: string;
  domain?: string;
  parent?: string;
  zone?: string;
}

export interface DeviceFilter {
  hostname: string[];
  macAddress: string[];
  id: string[];
  domain?: string;
  zone?: string;
  pool?: string;
  agentName?: string;
}

type User = Extract<Principal, { kind: 'user' }>;

/**
 * Two requests taking the same hostname or MAC (a device's or a machine's) pass the checks
 * together; the database refuses the second, which gets the same 400 as a request that came later.
 * `m` reads who won, outside the failed transaction.
 */
export async function deviceRaceLoser(err: unknown, m: EntityManager): Promise<ValidationError | undefined> {
  const pg = err as { code?: string; constraint?: string };
  // The domain named was deleted (or renamed) between the check and the write.
  if (pg.code === '23503' && pg.constraint === 'devices_domain_fk')
    return ValidationError.field('domain', 'Select a valid choice. That choice is not one of the available choices.');
  return identityClash(err, m);
}

export class DeviceService {
  constructor(private readonly db: DataSource) {}

  async list(caller: User, filter: DeviceFilter): Promise<DeviceView[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => (args.push(v), `$${args.length}`);
    if (!caller.user.isSuperuser) where.push(deviceVisibilitySql(arg(caller.user.id)));
    if (filter.hostname.length) where.push(`d.hostname = ANY(${arg(filter.hostname.map((h) => h.toLowerCase()))})`);
    if (filter.id.length) where.push(`d.system_id = ANY(${arg(filter.id)})`);
    if (filter.macAddress.length) {
      const bad = filter.macAddress.filter((m) => !normaliseMac(m));
      if (bad.length) throw ValidationError.field('mac_address', `Invalid MAC address(es): ${bad.join(', ')}`);
      where.push(
        `d.id IN (SELECT device_id FROM device_interfaces WHERE mac_address = ANY(${arg(filter.macAddress.map((m) => normaliseMac(m)))}::macaddr[]))`,
      );
    }
    if (filter.domain !== undefined) where.push(`d.domain = ${arg(filter.domain.toLowerCase().replace(/\.$/, ''))}`);
    if (filter.zone !== undefined) where.push(`z.name = ${arg(filter.zone)}`);
    // Devices belong to no resource pool: a pool filter matches none of them.
    if (filter.pool !== undefined) where.push('false');
    if (filter.agentName !== undefined) where.push(`d.agent_name = ${arg(filter.agentName)}`);
    const rows: DeviceRow[] = await this.db.query(
      `${DEVICE_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.id`,
      args,
    );
    return loadDeviceViews(this.db.manager, rows);
  }

  /** A device the caller can see, or a 404. */
  async read(caller: User, systemId: string, m: EntityManager = this.db.manager): Promise<DeviceView> {
    const [view] = await loadDeviceViews(m, [await this.visible(caller, systemId, m)]);
    return view!;
  }

  /** The visible device's row (locked FOR UPDATE of the device row when `lock`), or a 404. */
  async visible(caller: User, systemId: string, m: EntityManager = this.db.manager, lock = false): Promise<DeviceRow> {
    const args: unknown[] = [systemId];
    let sql = `${DEVICE_SELECT} WHERE d.system_id = $1`;
    if (!caller.user.isSuperuser) {
      args.push(caller.user.id);
      sql += ` AND ${deviceVisibilitySql('$2')}`;
    }
    const rows: DeviceRow[] = await m.query(lock ? `${sql} FOR UPDATE OF d` : sql, args);
    if (!rows[0]) throw new NotFoundError('No Device matches the given query.');
    return rows[0];
  }

  /** A visible device the caller may change, its row locked until the transaction ends. */
  async editable(caller: User, systemId: string, tx: EntityManager): Promise<DeviceRow> {
    const device = await this.visible(caller, systemId, tx, true);
    authorizeDevice(caller, { systemId: device.systemId, ownerId: device.effectiveOwnerId });
    return device;
  }

  create(caller: User, input: CreateDeviceInput): Promise<DeviceView> {
    return this.mapRace(
      this.db.transaction(async (tx) => {
        const errors: Record<string, string[]> = {};
        const collect = <T>(f: () => T): T | undefined => {
          try {
            return f();
          } catch (e) {
            if (!(e instanceof ValidationError)) throw e;
            Object.assign(errors, e.fields);
            return undefined;
          }
        };
        const macs = collect(() => validateMacs(input.macAddresses)) ?? [];
        if (macs.length === 0 && !errors.mac_addresses) errors.mac_addresses = ['This field is required.'];
        const hostname = input.hostname ? collect(() => validateHostname(input.hostname!)) : undefined;
        if (input.domain) collect(() => validateDomain(input.domain!));
        if (Object.keys(errors).length) throw new ValidationError(errors);
        // None named: the default domain, filled in by the database (devices_default_domain).
        const domain = input.domain ? await existingDomain(tx, input.domain) : null;

        const parentId = input.parent === undefined ? null : await this.parentId(caller, input.parent, tx);
        const zoneId = await this.zoneId(input.zone, tx);
        await assertMacsFree(tx, macs);
        const systemId = await this.freeSystemId(tx);
        const name = hostname ?? generatedHostname(systemId);
        await assertHostnameFree(tx, name);
        const [{ id }] = (await tx.query(
          `INSERT INTO devices (system_id, hostname, description, domain, owner_id, parent_id, zone_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
          [systemId, name, input.description ?? '', domain, caller.user.id, parentId, zoneId],
        )) as [{ id: number }];
        for (const [index, mac] of macs.entries())
          await tx.query(`INSERT INTO device_interfaces (device_id, name, mac_address) VALUES ($1, $2, $3)`, [
            id,
            `eth${index}`,
            mac,
          ]);
        return this.read(caller, systemId, tx);
      }),
    );
  }

  update(caller: User, systemId: string, input: UpdateDeviceInput): Promise<DeviceView> {
    return this.mapRace(
      this.db.transaction(async (tx) => {
        const device = await this.editable(caller, systemId, tx);
        const sets: string[] = [];
        const args: unknown[] = [device.id];
        const set = (column: string, value: unknown) => (args.push(value), sets.push(`${column} = $${args.length}`));
        if (input.hostname !== undefined) {
          const name = validateHostname(input.hostname);
          await assertHostnameFree(tx, name, { table: 'devices', id: device.id });
          set('hostname', name);
        }
        if (input.domain !== undefined) set('domain', await existingDomain(tx, input.domain));
        if (input.description !== undefined) set('description', input.description);
        if (input.parent !== undefined) set('parent_id', await this.parentId(caller, input.parent, tx));
        if (input.zone !== undefined) set('zone_id', await this.zoneId(input.zone, tx));
        if (sets.length) await tx.query(`UPDATE devices SET ${sets.join(', ')}, updated = now() WHERE id = $1`, args);
        return this.read(caller, systemId, tx);
      }),
    );
  }

  async delete(caller: User, systemId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const device = await this.editable(caller, systemId, tx);
      // Interfaces and their addresses go with it (ON DELETE CASCADE).
      await tx.query(`DELETE FROM devices WHERE id = $1`, [device.id]);
    });
  }

  /** Set workload annotations (MAAS's owner data): an empty value removes the key. */
  annotate(caller: User, systemId: string, entries: Record<string, string>): Promise<DeviceView> {
    return this.db.transaction(async (tx) => {
      const device = await this.editable(caller, systemId, tx);
      const annotations = annotate(device.workloadAnnotations, Object.entries(entries));
      await tx.query(`UPDATE devices SET workload_annotations = $2, updated = now() WHERE id = $1`, [
        device.id,
        JSON.stringify(annotations),
      ]);
      return this.read(caller, systemId, tx);
    });
  }

  /**
   * A parent is a machine the caller holds (admins: any machine). Its row is share-locked, so a
   * release or delete of the parent running now waits for this transaction and then removes the
   * device with the machine's other children.
   */
  private async parentId(caller: User, systemId: string, tx: EntityManager): Promise<number | null> {
    if (systemId === '') return null;
    const rows: Array<{ id: number; ownerId: number | null }> = await tx.query(
      `SELECT id, owner_id AS "ownerId" FROM machines WHERE system_id = $1 FOR SHARE`,
      [systemId],
    );
    const parent = rows[0];
    if (!parent || (!caller.user.isSuperuser && parent.ownerId !== caller.user.id))
      throw ValidationError.field(
        'parent',
        `No machine ${systemId} that you hold: a device's parent must be a machine allocated to you.`,
      );
    return parent.id;
  }

  private async zoneId(zone: string | undefined, tx: EntityManager): Promise<number | null> {
    if (zone === undefined || zone === '') return null;
    const rows: Array<{ id: number }> = await tx.query(`SELECT id FROM zones WHERE name = $1`, [zone]);
    if (!rows[0]) throw ValidationError.field('zone', `No zone named ${zone}.`);
    return rows[0].id;
  }

  /** Lost races become MAAS's 400s. */
  private async mapRace<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      throw (await deviceRaceLoser(err, this.db.manager)) ?? err;
    }
  }

  /** A system_id no machine or device has (nodes/{system_id}/ must name one node). */
  private async freeSystemId(tx: EntityManager): Promise<string> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const candidate = newSystemId();
      const taken: unknown[] = await tx.query(
        `SELECT 1 FROM machines WHERE system_id = $1 UNION ALL SELECT 1 FROM devices WHERE system_id = $1`,
        [candidate],
      );
      if (taken.length === 0) return candidate;
    }
    throw new ConflictError('Could not pick a free system_id; try again.');
  }
}
