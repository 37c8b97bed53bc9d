// MAAS's `ipaddresses` reservations (USER_RESERVED): an address kept out of every pool, and, with
// a MAC, the fixed address the rack's DHCP server gives that MAC and no one else.
import type { DataSource } from 'typeorm';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../errors';
import { ipField, macField } from './addresses';
import { RESERVED_IP_SELECT, type ReservedIpRow } from './rows';
import type { SubnetService } from './subnets';

export interface ReserveInput {
  ip?: string;
  subnet?: string;
  macAddress?: string;
  hostname?: string;
  comment?: string;
}

export class ReservedIpService {
  constructor(
    private readonly db: DataSource,
    private readonly subnets: SubnetService,
  ) {}

  /** A user's own reservations; admins may ask for everyone's. */
  list(userId: number | null): Promise<ReservedIpRow[]> {
    return userId === null
      ? this.db.query(`${RESERVED_IP_SELECT} ORDER BY r.ip`)
      : this.db.query(`${RESERVED_IP_SELECT} WHERE r.user_id = $1 ORDER BY r.ip`, [userId]);
  }

  /** `admin`: may give a fixed address to any MAC; users only to MACs of no machine or their own. */
  reserve(input: ReserveInput, userId: number, admin = false): Promise<ReservedIpRow> {
    return this.db.transaction(async (tx) => {
      const ip = ipField('ip', input.ip, true);
      const mac = macField('mac', input.macAddress);
      const subnet = input.subnet ? await this.subnets.get(input.subnet, tx) : await this.subnets.containing(ip, tx);
      if (!subnet) throw ValidationError.field('ip', `No subnet contains ${ip}.`);
      const [row] = (await tx.query(
        `SELECT $1::inet << cidr AS inside, family(cidr) = 4 AND host($1::inet) IN (host(network(cidr)), host(broadcast(cidr))) AS edge,
                gateway_ip = $1::inet AS gateway FROM subnets WHERE id = $2 FOR UPDATE`,
        [ip, subnet.id],
      )) as [{ inside: boolean; edge: boolean; gateway: boolean | null }];
      if (!row.inside) throw ValidationError.field('ip', `IP address ${ip} is not within subnet ${subnet.cidr}.`);
      if (row.edge || row.gateway)
        throw ValidationError.field('ip', `IP address ${ip} is the subnet's network, broadcast or gateway address.`);
      const dynamic: unknown[] = await tx.query(
        `SELECT 1 FROM ip_ranges WHERE subnet_id = $1 AND type = 'dynamic' AND $2::inet BETWEEN start_ip AND end_ip`,
        [subnet.id, ip],
      );
      if (dynamic.length)
        throw ValidationError.field(
          'ip',
          `IP address ${ip} is inside a dynamic range; reserve an address outside the DHCP pool.`,
        );
      // A device's or a machine's static address is taken too (devices/static-addresses.ts picks under the same subnet lock).
      const taken: unknown[] = await tx.query(
        `SELECT 1 FROM reserved_ips WHERE ip = $1::inet UNION ALL SELECT 1 FROM device_links WHERE host(ip) = host($1::inet)
         UNION ALL SELECT 1 FROM interface_links WHERE host(ip) = host($1::inet)`,
        [ip],
      );
      if (taken.length) throw new ConflictError(`The IP address ${ip} is already in use.`);
      if (mac && !admin) {
        const others: unknown[] = await tx.query(
          `SELECT 1 FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE i.mac_address = $1::macaddr AND m.owner_id IS DISTINCT FROM $2`,
          [mac, userId],
        );
        if (others.length)
          throw new ForbiddenError(
            `MAC address ${mac} belongs to a machine that is not yours; only an administrator can reserve an address for it.`,
          );
      }
      if (mac) {
        const twice: unknown[] = await tx.query(
          `SELECT 1 FROM reserved_ips WHERE subnet_id = $1 AND mac_address = $2::macaddr`,
          [subnet.id, mac],
        );
        if (twice.length)
          throw new ConflictError(`MAC address ${mac} already has a reserved IP address on ${subnet.cidr}.`);
      }
      const [{ id }] = (await tx.query(
        `INSERT INTO reserved_ips (subnet_id, ip, mac_address, hostname, comment, user_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        [subnet.id, ip, mac ?? null, input.hostname ?? '', input.comment ?? '', userId],
      )) as [{ id: number }];
      const [created] = (await tx.query(`${RESERVED_IP_SELECT} WHERE r.id = $1`, [id])) as [ReservedIpRow];
      return created;
    });
  }

  /** MAAS 3.6's reservedips/{id}/: any reservation by id. */
  async get(id: number): Promise<ReservedIpRow> {
    const rows: ReservedIpRow[] =
      id <= 2_147_483_647 ? await this.db.query(`${RESERVED_IP_SELECT} WHERE r.id = $1`, [id]) : [];
    if (!rows[0]) throw new NotFoundError('No ReservedIP matches the given query.');
    return rows[0];
  }

  /** Changes a reservation's comment (its ip, MAC and subnet never change); its owner's or an admin's (`userId` null). */
  async setComment(id: number, comment: string, userId: number | null): Promise<ReservedIpRow> {
    const row = await this.owned(id, userId);
    await this.db.query(`UPDATE reserved_ips SET comment = $2 WHERE id = $1`, [row.id, comment]);
    return this.get(row.id);
  }

  /** Deletes a reservation by id; its owner's or an admin's (`userId` null). */
  async delete(id: number, userId: number | null): Promise<void> {
    const row = await this.owned(id, userId);
    await this.db.query(`DELETE FROM reserved_ips WHERE id = $1`, [row.id]);
  }

  private async owned(id: number, userId: number | null): Promise<ReservedIpRow> {
    const row = await this.get(id);
    if (userId !== null && row.userId !== userId)
      throw new ForbiddenError('Only the user who reserved this IP address, or an administrator, may change it.');
    return row;
  }

  /** Only the owner (or an admin, `userId` null) may release a reservation. */
  async release(ip: string | undefined, userId: number | null): Promise<void> {
    const addr = ipField('ip', ip, true);
    const rows: Array<{ id: number; userId: number | null }> = await this.db.query(
      `SELECT id, user_id AS "userId" FROM reserved_ips WHERE ip = $1::inet`,
      [addr],
    );
    const row = rows[0];
    if (!row || (userId !== null && row.userId !== userId))
      throw new NotFoundError(`No reserved IP address ${addr} belongs to you.`);
    await this.db.query(`DELETE FROM reserved_ips WHERE id = $1`, [row.id]);
  }
}
