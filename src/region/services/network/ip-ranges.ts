// MAAS's IP ranges: `dynamic` ranges are the DHCP pool, `reserved` ranges are never handed out.
// Ranges of one subnet never overlap; the check runs under the subnet's row lock, so two
// concurrent creates cannot both pass it.
import type { DataSource, EntityManager } from 'typeorm';
import { NotFoundError, ValidationError } from '../../errors';
import { ipField } from './addresses';
import { IP_RANGE_SELECT, type IpRangeRow, type IpRangeType } from './rows';
import type { SubnetService } from './subnets';

export interface IpRangeInput {
  type?: string;
  startIp?: string;
  endIp?: string;
  /** Subnet id or CIDR; found from start_ip when not given. */
  subnet?: string;
  comment?: string;
}

const TYPES: IpRangeType[] = ['dynamic', 'reserved'];

export class IpRangeService {
  constructor(
    private readonly db: DataSource,
    private readonly subnets: SubnetService,
  ) {}

  list(): Promise<IpRangeRow[]> {
    return this.db.query(`${IP_RANGE_SELECT} ORDER BY r.subnet_id, r.start_ip`);
  }

  async get(id: number, manager: EntityManager = this.db.manager): Promise<IpRangeRow> {
    const rows: IpRangeRow[] = await manager.query(`${IP_RANGE_SELECT} WHERE r.id = $1`, [id]);
    if (!rows[0]) throw new NotFoundError('No IPRange matches the given query.');
    return rows[0];
  }

  create(input: IpRangeInput, userId: number): Promise<IpRangeRow> {
    return this.db.transaction(async (tx) => {
      const type = input.type as IpRangeType;
      if (!TYPES.includes(type))
        throw ValidationError.field(
          'type',
          `Select a valid choice. ${input.type ?? ''} is not one of the available choices: dynamic, reserved.`,
        );
      const start = ipField('start_ip', input.startIp, true);
      const end = ipField('end_ip', input.endIp, true);
      const subnet = input.subnet ? await this.subnets.get(input.subnet, tx) : await this.subnets.containing(start, tx);
      if (!subnet)
        throw ValidationError.field('subnet', `No subnet contains ${start}; create the subnet first or name it.`);
      await this.check(tx, subnet.id, { type, start, end }, null);
      const [{ id }] = (await tx.query(
        `INSERT INTO ip_ranges (subnet_id, type, start_ip, end_ip, comment, user_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        [subnet.id, type, start, end, input.comment ?? '', userId],
      )) as [{ id: number }];
      return this.get(id, tx);
    });
  }

  update(id: number, input: IpRangeInput): Promise<IpRangeRow> {
    return this.db.transaction(async (tx) => {
      const current = await this.get(id, tx);
      const type = (input.type ?? current.type) as IpRangeType;
      if (!TYPES.includes(type))
        throw ValidationError.field(
          'type',
          `Select a valid choice. ${type} is not one of the available choices: dynamic, reserved.`,
        );
      const start = ipField('start_ip', input.startIp) ?? current.startIp;
      const end = ipField('end_ip', input.endIp) ?? current.endIp;
      if (current.type === 'dynamic' && type !== 'dynamic') await this.assertNotLastDynamic(tx, current);
      await this.check(tx, current.subnetId, { type, start, end }, id);
      await tx.query(
        `UPDATE ip_ranges SET type = $2, start_ip = $3, end_ip = $4, comment = $5, updated = now() WHERE id = $1`,
        [id, type, start, end, input.comment ?? current.comment],
      );
      return this.get(id, tx);
    });
  }

  delete(id: number): Promise<void> {
    return this.db.transaction(async (tx) => {
      const current = await this.get(id, tx);
      await tx.query(`SELECT 1 FROM subnets WHERE id = $1 FOR UPDATE`, [current.subnetId]);
      if (current.type === 'dynamic') await this.assertNotLastDynamic(tx, current);
      await tx.query(`DELETE FROM ip_ranges WHERE id = $1`, [id]);
    });
  }

  private async check(
    tx: EntityManager,
    subnetId: number,
    r: { type: IpRangeType; start: string; end: string },
    self: number | null,
  ): Promise<void> {
    const [s] = (await tx.query(
      `SELECT cidr::text AS cidr, $2::inet << cidr AS "startIn", $3::inet << cidr AS "endIn", $2::inet <= $3::inet AS ordered,
              family(cidr) = 4 AND (host($2::inet) = host(network(cidr)) OR host($3::inet) = host(broadcast(cidr))) AS "edges",
              gateway_ip IS NOT NULL AND gateway_ip BETWEEN $2::inet AND $3::inet AS "holdsGateway"
         FROM subnets WHERE id = $1 FOR UPDATE`,
      [subnetId, r.start, r.end],
    )) as [{ cidr: string; startIn: boolean; endIn: boolean; ordered: boolean; edges: boolean; holdsGateway: boolean }];
    if (!s.startIn) throw ValidationError.field('start_ip', `Start IP address must be within subnet: ${s.cidr}.`);
    if (!s.endIn) throw ValidationError.field('end_ip', `End IP address must be within subnet: ${s.cidr}.`);
    if (!s.ordered) throw ValidationError.field('end_ip', 'End IP address must not be less than Start IP address.');
    if (s.edges)
      throw ValidationError.field('start_ip', "A range may not hold the subnet's network or broadcast address.");
    if (r.type === 'dynamic' && s.holdsGateway)
      throw ValidationError.field('start_ip', "A dynamic range may not hold the subnet's gateway IP.");
    const clash: Array<{ type: string; start: string; end: string }> = await tx.query(
      `SELECT type, host(start_ip) AS start, host(end_ip) AS end FROM ip_ranges
        WHERE subnet_id = $1 AND id IS DISTINCT FROM $4 AND start_ip <= $3::inet AND end_ip >= $2::inet LIMIT 1`,
      [subnetId, r.start, r.end, self],
    );
    if (clash[0])
      throw ValidationError.field(
        '__all__',
        `Requested ${r.type} range conflicts with an existing ${clash[0].type} range: ${clash[0].start}-${clash[0].end}.`,
      );
    if (r.type === 'dynamic') {
      const fixed: Array<{ ip: string }> = await tx.query(
        `SELECT host(ip) AS ip FROM reserved_ips WHERE subnet_id = $1 AND ip BETWEEN $2::inet AND $3::inet LIMIT 1`,
        [subnetId, r.start, r.end],
      );
      if (fixed[0])
        throw ValidationError.field('__all__', `Requested dynamic range holds the reserved IP address ${fixed[0].ip}.`);
    }
  }

  /** MAAS refuses to take away the last dynamic range of a VLAN that serves DHCP. */
  private async assertNotLastDynamic(tx: EntityManager, range: IpRangeRow): Promise<void> {
    const rows: unknown[] = await tx.query(
      `SELECT 1 FROM subnets s JOIN vlans v ON v.id = s.vlan_id
        WHERE s.id = $1 AND v.dhcp_on AND NOT EXISTS (
          SELECT 1 FROM ip_ranges r JOIN subnets s2 ON s2.id = r.subnet_id WHERE s2.vlan_id = v.id AND r.type = 'dynamic' AND r.id <> $2)`,
      [range.subnetId, range.id],
    );
    if (rows.length)
      throw ValidationError.field(
        '__all__',
        'Cannot remove the last dynamic range of a VLAN with DHCP on; turn DHCP off first.',
      );
  }
}
