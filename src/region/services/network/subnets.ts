// MAAS's subnets: a CIDR on a VLAN, with the gateway and DNS servers DHCP hands out. Subnets are
// named by id or by CIDR in the API (`/subnets/3/`, `/subnets/10.0.0.0%2F24/`).
import type { DataSource, EntityManager } from 'typeorm';
import { ConflictError, NotFoundError, ValidationError } from '../../errors';
import { cidrField, ipField } from './addresses';
import { SUBNET_SELECT, type SubnetRow } from './rows';

export interface SubnetInput {
  cidr?: string;
  name?: string;
  description?: string;
  /** VLAN database id; or fabric + vid; default: fabric-0's untagged VLAN. */
  vlan?: number;
  fabric?: number;
  vid?: number;
  gatewayIp?: string;
  dnsServers?: string[];
  managed?: boolean;
}

export const SUBNET_CREATE_LOCK = 5240002;

export class SubnetService {
  constructor(private readonly db: DataSource) {}

  list(): Promise<SubnetRow[]> {
    return this.db.query(`${SUBNET_SELECT} ORDER BY s.id`);
  }

  /** `3` or `10.0.0.0/24`. */
  async get(key: string | number, manager: EntityManager = this.db.manager): Promise<SubnetRow> {
    const byId = typeof key === 'number' || /^\d+$/.test(key);
    let rows: SubnetRow[] = [];
    // An id past PostgreSQL's integer range names no subnet (and would be an SQL error).
    if (byId && Number(key) <= 2_147_483_647)
      rows = await manager.query(`${SUBNET_SELECT} WHERE s.id = $1`, [Number(key)]);
    else if (typeof key === 'string' && key.includes('/')) {
      const cidr = key.replace(/^cidr:/, '');
      cidrField('subnet', cidr);
      rows = await manager.query(`${SUBNET_SELECT} WHERE s.cidr = network($1::inet)::cidr`, [cidr]);
    }
    if (!rows[0]) throw new NotFoundError('No Subnet matches the given query.');
    return rows[0];
  }

  /** The subnet holding an address, if any (the most specific one). */
  async containing(ip: string, manager: EntityManager = this.db.manager): Promise<SubnetRow | undefined> {
    const rows: SubnetRow[] = await manager.query(
      `${SUBNET_SELECT} WHERE $1::inet <<= s.cidr ORDER BY masklen(s.cidr) DESC LIMIT 1`,
      [ip],
    );
    return rows[0];
  }

  create(input: SubnetInput, manager?: EntityManager): Promise<SubnetRow> {
    const run = async (tx: EntityManager) => {
      const cidr = cidrField('cidr', input.cidr);
      // The overlap check below must see every concurrent create (racks learning subnets take it too).
      await tx.query(`SELECT pg_advisory_xact_lock(${SUBNET_CREATE_LOCK})`);
      const [{ network }] = (await tx.query(`SELECT network($1::inet)::cidr::text AS network`, [cidr])) as [
        { network: string },
      ];
      const taken: unknown[] = await tx.query(`SELECT 1 FROM subnets WHERE cidr && $1::cidr`, [network]);
      if (taken.length) throw ValidationError.field('cidr', `Subnet ${network} overlaps an existing subnet.`);
      const vlanId = await this.vlanFor(tx, input);
      const gateway = await this.checkGateway(tx, network, input.gatewayIp);
      const [{ id }] = (await tx.query(
        `INSERT INTO subnets (name, cidr, vlan_id, gateway_ip, dns_servers, managed, description) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
        [
          input.name || network,
          network,
          vlanId,
          gateway ?? null,
          checkDns(input.dnsServers ?? []),
          input.managed ?? true,
          input.description ?? '',
        ],
      )) as [{ id: number }];
      return this.get(id, tx);
    };
    return manager ? run(manager) : this.db.transaction(run);
  }

  update(key: string, input: SubnetInput): Promise<SubnetRow> {
    return this.db.transaction(async (tx) => {
      const current = await this.get(key, tx);
      await tx.query(`SELECT 1 FROM subnets WHERE id = $1 FOR UPDATE`, [current.id]);
      if (input.cidr !== undefined) {
        const [{ same }] = (await tx.query(`SELECT network($1::inet)::cidr = $2::cidr AS same`, [
          cidrField('cidr', input.cidr),
          current.cidr,
        ])) as [{ same: boolean }];
        if (!same)
          throw ValidationError.field('cidr', "A subnet's CIDR cannot be changed; create a new subnet instead.");
      }
      const vlanId =
        input.vlan !== undefined || input.fabric !== undefined ? await this.vlanFor(tx, input) : current.vlanId;
      const gateway =
        input.gatewayIp === undefined ? current.gatewayIp : await this.checkGateway(tx, current.cidr, input.gatewayIp);
      await tx.query(
        `UPDATE subnets SET name = $2, vlan_id = $3, gateway_ip = $4, dns_servers = $5, managed = $6, description = $7, updated = now() WHERE id = $1`,
        [
          current.id,
          input.name ?? current.name,
          vlanId,
          gateway ?? null,
          input.dnsServers === undefined ? current.dnsServers : checkDns(input.dnsServers),
          input.managed ?? current.managed,
          input.description ?? current.description,
        ],
      );
      return this.get(current.id, tx);
    });
  }

  async delete(key: string): Promise<void> {
    const subnet = await this.get(key);
    const dhcp: unknown[] = await this.db.query(
      `SELECT 1 FROM vlans v WHERE v.id = $1 AND v.dhcp_on AND NOT EXISTS (
         SELECT 1 FROM ip_ranges r JOIN subnets s ON s.id = r.subnet_id WHERE s.vlan_id = v.id AND s.id <> $2 AND r.type = 'dynamic')`,
      [subnet.vlanId, subnet.id],
    );
    if (dhcp.length)
      throw new ConflictError('This subnet holds the last dynamic range of a VLAN with DHCP on; turn DHCP off first.');
    await this.db.query(`DELETE FROM subnets WHERE id = $1`, [subnet.id]);
  }

  private async vlanFor(tx: EntityManager, input: SubnetInput): Promise<number> {
    if (input.vlan !== undefined) {
      const rows: unknown[] = await tx.query(`SELECT 1 FROM vlans WHERE id = $1`, [input.vlan]);
      if (!rows.length)
        throw ValidationError.field(
          'vlan',
          `Select a valid choice. ${input.vlan} is not one of the available choices.`,
        );
      return input.vlan;
    }
    const rows: Array<{ id: number }> = await tx.query(`SELECT id FROM vlans WHERE fabric_id = $1 AND vid = $2`, [
      input.fabric ?? 0,
      input.vid ?? 0,
    ]);
    if (!rows[0])
      throw ValidationError.field(input.fabric === undefined ? 'vid' : 'fabric', 'No VLAN with this fabric and VID.');
    return rows[0].id;
  }

  private async checkGateway(
    tx: EntityManager,
    cidr: string,
    gatewayIp: string | undefined,
  ): Promise<string | undefined> {
    const gateway = ipField('gateway_ip', gatewayIp);
    if (gateway === undefined) return undefined;
    const [{ inside }] = (await tx.query(`SELECT $1::inet << $2::cidr AS inside`, [gateway, cidr])) as [
      { inside: boolean },
    ];
    if (!inside) throw ValidationError.field('gateway_ip', `Gateway IP must be within CIDR range ${cidr}.`);
    return gateway;
  }
}

function checkDns(servers: string[]): string[] {
  return servers
    .flatMap((s) => s.split(/[\s,]+/))
    .filter(Boolean)
    .map((s) => ipField('dns_servers', s, true));
}
