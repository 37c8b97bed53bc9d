// A device's interfaces and their links to subnets, as gomaasapi drives them under
// nodes/{system_id}/interfaces/: create_physical, update (name, MAC, VLAN), link_subnet
// (STATIC with a given or picked address, DHCP, LINK_UP), unlink_subnet, delete. Each call is one
// transaction under the device's row lock, after the device's visibility and policy checks.
import type { DataSource, EntityManager } from 'typeorm';
import { ConflictError, NotFoundError, ValidationError } from '../../errors';
import { macField } from '../network/addresses';
import type { SubnetService } from '../network/subnets';
import type { VlanService } from '../network/fabrics';
import type { Principal } from '../principal';
import { assertMacsFree } from '../node-identity';
import { deviceRaceLoser, type DeviceService } from './devices';
import type { DeviceInterface, LinkMode } from './rows';
import { linkAddress } from './static-addresses';

type User = Extract<Principal, { kind: 'user' }>;

export interface InterfaceInput {
  name?: string;
  macAddress?: string;
  vlan?: number;
}

export interface LinkInput {
  mode: string;
  subnet?: string;
  ipAddress?: string;
}

const INTERFACE_NAME = /^[A-Za-z0-9_.:-]{1,15}$/;
/** MAAS's link modes a device takes. AUTO is for machines: its address is assigned at deploy. */
const DEVICE_MODES: Readonly<Record<string, LinkMode>> = { static: 'static', dhcp: 'dhcp', link_up: 'link_up' };

function interfaceName(value: string): string {
  if (!INTERFACE_NAME.test(value))
    throw ValidationError.field(
      'name',
      `Invalid interface name '${value}': 1 to 15 letters, digits or any of _ . : -.`,
    );
  return value;
}

export class DeviceInterfaceService {
  constructor(
    private readonly db: DataSource,
    private readonly devices: DeviceService,
    private readonly subnets: SubnetService,
    private readonly vlans: VlanService,
  ) {}

  async list(caller: User, systemId: string): Promise<DeviceInterface[]> {
    return (await this.devices.read(caller, systemId)).interfaces;
  }

  async get(caller: User, systemId: string, id: number, m: EntityManager = this.db.manager): Promise<DeviceInterface> {
    const iface = (await this.devices.read(caller, systemId, m)).interfaces.find((i) => i.id === id);
    if (!iface) throw new NotFoundError('No Interface matches the given query.');
    return iface;
  }

  createPhysical(caller: User, systemId: string, input: InterfaceInput): Promise<DeviceInterface> {
    return this.change(caller, systemId, async (tx, deviceId) => {
      const mac = macField('mac_address', input.macAddress);
      if (!mac) throw ValidationError.field('mac_address', 'This field is required.');
      await assertMacsFree(tx, [mac], 'mac_address');
      const vlanId = input.vlan === undefined ? null : await this.vlanId(input.vlan, tx);
      const name = input.name === undefined ? await this.nextName(deviceId, tx) : interfaceName(input.name);
      await this.checkNameFree(deviceId, name, null, tx);
      const [{ id }] = (await tx.query(
        `INSERT INTO device_interfaces (device_id, name, mac_address, vlan_id) VALUES ($1, $2, $3, $4) RETURNING id`,
        [deviceId, name, mac, vlanId],
      )) as [{ id: number }];
      return id;
    });
  }

  update(caller: User, systemId: string, id: number, input: InterfaceInput): Promise<DeviceInterface> {
    return this.change(caller, systemId, async (tx, deviceId) => {
      const iface = await this.row(deviceId, id, tx);
      if (input.name !== undefined) {
        const name = interfaceName(input.name);
        await this.checkNameFree(deviceId, name, id, tx);
        await tx.query(`UPDATE device_interfaces SET name = $2 WHERE id = $1`, [id, name]);
      }
      const mac = macField('mac_address', input.macAddress);
      if (mac && mac !== iface.macAddress) {
        await assertMacsFree(tx, [mac], 'mac_address');
        await tx.query(`UPDATE device_interfaces SET mac_address = $2 WHERE id = $1`, [id, mac]);
      }
      if (input.vlan !== undefined) {
        const vlanId = await this.vlanId(input.vlan, tx);
        const elsewhere: Array<{ cidr: string }> = await tx.query(
          `SELECT s.cidr::text AS cidr FROM device_links dl JOIN subnets s ON s.id = dl.subnet_id
            WHERE dl.interface_id = $1 AND s.vlan_id <> $2`,
          [id, vlanId],
        );
        if (elsewhere[0])
          throw ValidationError.field(
            'vlan',
            `The interface is linked to subnet ${elsewhere[0].cidr} on another VLAN; unlink it first.`,
          );
        await tx.query(`UPDATE device_interfaces SET vlan_id = $2 WHERE id = $1`, [id, vlanId]);
      }
      return id;
    });
  }

  async delete(caller: User, systemId: string, id: number): Promise<void> {
    await this.inDevice(caller, systemId, async (tx, deviceId) => {
      await this.row(deviceId, id, tx);
      // Its links, and with them its addresses, go too (ON DELETE CASCADE).
      await tx.query(`DELETE FROM device_interfaces WHERE id = $1`, [id]);
    });
  }

  /**
   * MAAS's link_subnet for a device. The subnet must be on the interface's VLAN; an interface on
   * no VLAN joins the subnet's. A new link replaces a LINK_UP link, as in MAAS.
   */
  link(caller: User, systemId: string, id: number, input: LinkInput): Promise<DeviceInterface> {
    return this.change(caller, systemId, async (tx, deviceId) => {
      const iface = await this.row(deviceId, id, tx);
      const modeKey = input.mode.toLowerCase();
      if (modeKey === 'auto')
        throw ValidationError.field(
          'mode',
          'AUTO assigns an address when a machine deploys, and a device never deploys: use STATIC (without ip_address to have one picked).',
        );
      const mode = DEVICE_MODES[modeKey];
      if (!mode)
        throw ValidationError.field(
          'mode',
          `Select a valid choice. ${input.mode} is not one of the available choices (STATIC, DHCP, LINK_UP).`,
        );
      if (input.ipAddress !== undefined && mode !== 'static')
        throw ValidationError.field('ip_address', 'ip_address is only taken with mode STATIC.');
      const subnet =
        input.subnet === undefined || input.subnet === ''
          ? undefined
          : await this.subnets.get(input.subnet, tx).catch((err: unknown) => {
              if (err instanceof NotFoundError)
                throw ValidationError.field('subnet', `No subnet ${input.subnet}: select a valid choice.`);
              throw err;
            });
      if (!subnet && mode !== 'link_up') throw ValidationError.field('subnet', 'This field is required.');
      if (subnet) {
        if (iface.vlanId !== null && iface.vlanId !== subnet.vlanId)
          throw ValidationError.field('subnet', `Subnet ${subnet.cidr} is not on the interface's VLAN.`);
        if (iface.vlanId === null)
          await tx.query(`UPDATE device_interfaces SET vlan_id = $2 WHERE id = $1`, [id, subnet.vlanId]);
      }
      const links: Array<{ id: number; mode: LinkMode; subnetId: number | null }> = await tx.query(
        `SELECT id, mode, subnet_id AS "subnetId" FROM device_links WHERE interface_id = $1`,
        [id],
      );
      if (mode === 'link_up' && links.some((l) => l.mode !== 'link_up'))
        throw ValidationError.field('mode', 'The interface already has links; unlink them before linking it up.');
      if (subnet && links.some((l) => l.subnetId === subnet.id && l.mode !== 'link_up'))
        throw ValidationError.field('subnet', `The interface is already linked to subnet ${subnet.cidr}.`);
      const ip = await linkAddress(tx, mode, subnet?.id, input.ipAddress);
      await tx.query(`DELETE FROM device_links WHERE interface_id = $1 AND mode = 'link_up'`, [id]);
      await tx.query(`INSERT INTO device_links (interface_id, mode, subnet_id, ip) VALUES ($1, $2, $3, $4)`, [
        id,
        mode,
        subnet?.id ?? null,
        ip,
      ]);
      return id;
    });
  }

  /** MAAS's unlink_subnet: `linkId` is one of the interface's links; its address is freed. */
  unlink(caller: User, systemId: string, id: number, linkId: number): Promise<DeviceInterface> {
    return this.change(caller, systemId, async (tx, deviceId) => {
      await this.row(deviceId, id, tx);
      const gone: unknown[] = await tx.query(
        // Through a CTE: TypeORM answers a bare DELETE … RETURNING with [rows, count].
        `WITH gone AS (DELETE FROM device_links WHERE id = $1 AND interface_id = $2 RETURNING id) SELECT id FROM gone`,
        [linkId, id],
      );
      if (gone.length === 0)
        throw ValidationError.field('id', `Select a valid choice. ${linkId} is not one of the interface's links.`);
      return id;
    });
  }

  /** Runs a change of one interface in a transaction holding the editable device's lock; answers the interface after it. */
  private change(
    caller: User,
    systemId: string,
    work: (tx: EntityManager, deviceId: number) => Promise<number>,
  ): Promise<DeviceInterface> {
    return this.inDevice(caller, systemId, async (tx, deviceId) =>
      this.get(caller, systemId, await work(tx, deviceId), tx),
    );
  }

  /** A transaction holding the editable device's row lock; lost races become MAAS's errors. */
  private async inDevice<T>(
    caller: User,
    systemId: string,
    work: (tx: EntityManager, deviceId: number) => Promise<T>,
  ): Promise<T> {
    try {
      return await this.db.transaction(async (tx) => work(tx, (await this.devices.editable(caller, systemId, tx)).id));
    } catch (err) {
      const pg = err as { code?: string; constraint?: string };
      if (pg.code === '23505' && pg.constraint === 'device_links_ip_key')
        throw new ConflictError('The IP address was taken by another request at the same time; try again.');
      if (pg.code === '23505' && pg.constraint === 'device_interfaces_device_id_name_key')
        throw ValidationError.field('name', 'Another interface of this device has that name.');
      throw (await deviceRaceLoser(err, this.db.manager)) ?? err;
    }
  }

  private async row(
    deviceId: number,
    id: number,
    tx: EntityManager,
  ): Promise<{ id: number; macAddress: string; vlanId: number | null }> {
    const rows: Array<{ id: number; macAddress: string; vlanId: number | null }> = await tx.query(
      `SELECT id, mac_address::text AS "macAddress", vlan_id AS "vlanId" FROM device_interfaces
        WHERE id = $1 AND device_id = $2 FOR UPDATE`,
      [id, deviceId],
    );
    if (!rows[0]) throw new NotFoundError('No Interface matches the given query.');
    return rows[0];
  }

  private async vlanId(id: number, tx: EntityManager): Promise<number> {
    try {
      return (await this.vlans.byId(id, tx)).id;
    } catch (err) {
      if (err instanceof NotFoundError) throw ValidationError.field('vlan', `No VLAN with id ${id}.`);
      throw err;
    }
  }

  private async nextName(deviceId: number, tx: EntityManager): Promise<string> {
    const names: Array<{ name: string }> = await tx.query(`SELECT name FROM device_interfaces WHERE device_id = $1`, [
      deviceId,
    ]);
    const taken = new Set(names.map((n) => n.name));
    let n = 0;
    while (taken.has(`eth${n}`)) n++;
    return `eth${n}`;
  }

  private async checkNameFree(deviceId: number, name: string, self: number | null, tx: EntityManager): Promise<void> {
    const taken: unknown[] = await tx.query(
      `SELECT 1 FROM device_interfaces WHERE device_id = $1 AND name = $2 AND id IS DISTINCT FROM $3`,
      [deviceId, name, self],
    );
    if (taken.length) throw ValidationError.field('name', `Another interface of this device is named ${name}.`);
  }
}
