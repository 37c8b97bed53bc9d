// MAAS's static routes: from a source subnet to a destination subnet through a gateway on the
// source subnet, with a metric. Deployed machines on the source subnet get the route (once
// metalflow writes a deployed network configuration); here they are stored and checked as MAAS does.
import type { DataSource, EntityManager } from 'typeorm';
import { NotFoundError, ValidationError } from '../../errors';
import { cidrField, ipField } from './addresses';
import { STATIC_ROUTE_SELECT, SUBNET_SELECT, type StaticRouteRow, type SubnetRow } from './rows';

export interface StaticRouteInput {
  /** A subnet id or CIDR. */
  source?: string;
  destination?: string;
  gatewayIp?: string;
  metric?: number;
}

const NOT_FOUND = 'No StaticRoute matches the given query.';

export class StaticRouteService {
  constructor(private readonly db: DataSource) {}

  list(): Promise<StaticRouteRow[]> {
    return this.db.query(`${STATIC_ROUTE_SELECT} ORDER BY r.id`);
  }

  async get(id: number, manager: EntityManager = this.db.manager): Promise<StaticRouteRow> {
    const rows: StaticRouteRow[] = await manager.query(`${STATIC_ROUTE_SELECT} WHERE r.id = $1`, [id]);
    if (!rows[0]) throw new NotFoundError(NOT_FOUND);
    return rows[0];
  }

  create(input: StaticRouteInput): Promise<StaticRouteRow> {
    const missing = (['source', 'destination', 'gatewayIp'] as const).filter((k) => !input[k]);
    if (missing.length)
      throw new ValidationError(
        Object.fromEntries(missing.map((k) => [k === 'gatewayIp' ? 'gateway_ip' : k, ['This field is required.']])),
      );
    return this.db.transaction(async (tx) => {
      const route = await this.checked(tx, {
        sourceId: (await subnet(tx, 'source', input.source!)).id,
        destinationId: (await subnet(tx, 'destination', input.destination!)).id,
        gatewayIp: ipField('gateway_ip', input.gatewayIp, true),
        metric: input.metric ?? 0,
      });
      const [{ id }] = (await tx.query(
        `INSERT INTO static_routes (source_id, destination_id, gateway_ip, metric) VALUES ($1, $2, $3::inet, $4) RETURNING id`,
        [route.sourceId, route.destinationId, route.gatewayIp, route.metric],
      )) as [{ id: number }];
      return this.get(id, tx);
    });
  }

  update(id: number, input: StaticRouteInput): Promise<StaticRouteRow> {
    return this.db.transaction(async (tx) => {
      const current = await this.get(id, tx);
      await tx.query(`SELECT id FROM static_routes WHERE id = $1 FOR UPDATE`, [id]);
      const route = await this.checked(
        tx,
        {
          sourceId: input.source === undefined ? current.sourceId : (await subnet(tx, 'source', input.source)).id,
          destinationId:
            input.destination === undefined
              ? current.destinationId
              : (await subnet(tx, 'destination', input.destination)).id,
          gatewayIp: input.gatewayIp === undefined ? current.gatewayIp : ipField('gateway_ip', input.gatewayIp, true),
          metric: input.metric ?? current.metric,
        },
        id,
      );
      await tx.query(
        `UPDATE static_routes SET source_id = $2, destination_id = $3, gateway_ip = $4::inet, metric = $5, updated = now() WHERE id = $1`,
        [id, route.sourceId, route.destinationId, route.gatewayIp, route.metric],
      );
      return this.get(id, tx);
    });
  }

  async delete(id: number): Promise<void> {
    await this.get(id);
    await this.db.query(`DELETE FROM static_routes WHERE id = $1`, [id]);
  }

  /** MAAS's StaticRoute.clean and its unique_together, in MAAS's words. */
  private async checked(
    tx: EntityManager,
    r: Omit<StaticRouteRow, 'id'>,
    id = -1,
  ): Promise<Omit<StaticRouteRow, 'id'>> {
    if (r.metric < 0) throw ValidationError.field('metric', 'Ensure this value is greater than or equal to 0.');
    if (r.sourceId === r.destinationId)
      throw new ValidationError({ __all__: ['source and destination cannot be the same subnet.'] });
    const [check] = (await tx.query(
      `SELECT family(s.cidr) = family(d.cidr) AS "sameFamily", $3::inet <<= s.cidr AS "gatewayInSource"
         FROM subnets s, subnets d WHERE s.id = $1 AND d.id = $2`,
      [r.sourceId, r.destinationId, r.gatewayIp],
    )) as [{ sameFamily: boolean; gatewayInSource: boolean }];
    if (!check.sameFamily)
      throw new ValidationError({ __all__: ['source and destination must be the same IP version.'] });
    if (!check.gatewayInSource)
      throw new ValidationError({ __all__: ['gateway_ip must be with in the source subnet.'] });
    const taken: unknown[] = await tx.query(
      `SELECT 1 FROM static_routes WHERE source_id = $1 AND destination_id = $2 AND gateway_ip = $3::inet AND id <> $4`,
      [r.sourceId, r.destinationId, r.gatewayIp, id],
    );
    if (taken.length)
      throw new ValidationError({
        __all__: ['Static route with this Source, Destination and Gateway ip already exists.'],
      });
    return r;
  }
}

/** A subnet by id or CIDR; one that names none is a 400 on its field (MAAS's choice field). */
async function subnet(tx: EntityManager, field: string, key: string): Promise<SubnetRow> {
  const invalid = () =>
    ValidationError.field(field, `Select a valid choice. ${key} is not one of the available choices.`);
  let rows: SubnetRow[] = [];
  if (/^\d{1,9}$/.test(key)) rows = await tx.query(`${SUBNET_SELECT} WHERE s.id = $1`, [Number(key)]);
  else if (key.includes('/')) {
    const cidr = cidrField(field, key.replace(/^cidr:/, ''));
    rows = await tx.query(`${SUBNET_SELECT} WHERE s.cidr = network($1::inet)::cidr`, [cidr]);
  }
  if (!rows[0]) throw invalid();
  return rows[0];
}
