// MAAS's DHCP snippets (DHCPSnippetForm's rules): a name, a versioned value of ISC statements that
// contracts/dhcp-snippets.ts must accept (checked before anything is written), a description,
// enabled, and a scope: a machine, a subnet, or global (global_snippet clears both; setting one
// scope on a snippet that had the other moves it). Racks get them with their DHCP config.
import type { DataSource, EntityManager } from 'typeorm';
import {
  DhcpSnippetSyntaxError,
  mergeDhcpSnippetLayers,
  parseDhcpSnippet,
  type DhcpSnippetLayer,
} from '../../../contracts/dhcp-snippets';
import { NotFoundError, ValidationError } from '../../errors';
import type { SubnetService } from './subnets';

export interface DhcpSnippetRow {
  id: number;
  name: string;
  description: string;
  enabled: boolean;
  subnetId: number | null;
  node: { systemId: string; hostname: string } | null;
  /** Newest first: the value is the first. */
  history: Array<{ id: number; value: string; created: Date }>;
}

export interface DhcpSnippetInput {
  name?: string;
  value?: string;
  description?: string;
  enabled?: boolean;
  node?: string;
  subnet?: string;
  globalSnippet?: boolean;
}

const SELECT = `
  SELECT d.id, d.name, d.description, d.enabled, d.subnet_id AS "subnetId",
         CASE WHEN m.id IS NULL THEN NULL ELSE json_build_object('systemId', m.system_id, 'hostname', m.hostname) END AS node,
         (SELECT json_agg(json_build_object('id', v.id, 'value', v.data, 'created', v.created) ORDER BY v.id DESC)
            FROM dhcp_snippet_versions v WHERE v.snippet_id = d.id) AS history
    FROM dhcp_snippets d LEFT JOIN machines m ON m.id = d.machine_id`;

const MAX_VALUE_CHARS = 64 * 1024;

export class DhcpSnippetService {
  constructor(
    private readonly db: DataSource,
    private readonly subnets: SubnetService,
  ) {}

  async list(): Promise<DhcpSnippetRow[]> {
    return (await this.db.query(`${SELECT} ORDER BY d.id`)).map(toRow);
  }

  async get(id: number, manager: EntityManager = this.db.manager): Promise<DhcpSnippetRow> {
    const rows = id > 2_147_483_647 ? [] : await manager.query(`${SELECT} WHERE d.id = $1`, [id]);
    if (!rows[0]) throw new NotFoundError('No DHCPSnippet matches the given query.');
    return toRow(rows[0]);
  }

  create(input: DhcpSnippetInput): Promise<DhcpSnippetRow> {
    if (!input.name) throw ValidationError.field('name', 'This field is required.');
    if (input.value === undefined || input.value === '')
      throw ValidationError.field('value', 'This field is required.');
    return this.db.transaction(async (tx) => {
      checkValue(input.value!);
      const scope = await this.scope(tx, input, { machineId: null, subnetId: null });
      const [{ id }] = (await tx.query(
        `INSERT INTO dhcp_snippets (name, description, enabled, machine_id, subnet_id) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [input.name, input.description ?? '', input.enabled ?? true, scope.machineId, scope.subnetId],
      )) as [{ id: number }];
      await tx.query(`INSERT INTO dhcp_snippet_versions (snippet_id, data) VALUES ($1, $2)`, [id, unix(input.value!)]);
      return this.get(id, tx);
    });
  }

  update(id: number, input: DhcpSnippetInput): Promise<DhcpSnippetRow> {
    return this.db.transaction(async (tx) => {
      const [row] = (await tx.query(
        `SELECT machine_id AS "machineId", subnet_id AS "subnetId" FROM dhcp_snippets WHERE id = $1 FOR UPDATE`,
        [id],
      )) as Array<{ machineId: number | null; subnetId: number | null }>;
      if (!row) throw new NotFoundError('No DHCPSnippet matches the given query.');
      if (input.name === '') throw ValidationError.field('name', 'This field cannot be blank.');
      if (input.value !== undefined) checkValue(input.value);
      const scope = await this.scope(tx, input, row);
      await tx.query(
        `UPDATE dhcp_snippets SET name = COALESCE($2, name), description = COALESCE($3, description),
                enabled = COALESCE($4, enabled), machine_id = $5, subnet_id = $6, updated = now() WHERE id = $1`,
        [id, input.name ?? null, input.description ?? null, input.enabled ?? null, scope.machineId, scope.subnetId],
      );
      // VersionedTextFile.update: an unchanged value makes no new version.
      if (input.value !== undefined)
        await tx.query(
          `INSERT INTO dhcp_snippet_versions (snippet_id, data)
           SELECT $1, $2 WHERE $2 IS DISTINCT FROM (SELECT data FROM dhcp_snippet_versions WHERE snippet_id = $1 ORDER BY id DESC LIMIT 1)`,
          [id, unix(input.value)],
        );
      return this.get(id, tx);
    });
  }

  async delete(id: number): Promise<void> {
    const rows: unknown[] = await this.db.query(`DELETE FROM dhcp_snippets WHERE id = $1 RETURNING id`, [id]);
    if (!rows.length) throw new NotFoundError('No DHCPSnippet matches the given query.');
  }

  /**
   * MAAS's revert: `to` is a version id in the history or how far back to go (a negative number;
   * 0 stays); the versions after the one reverted to are deleted.
   */
  revert(id: number, to: string | undefined): Promise<DhcpSnippetRow> {
    if (to === undefined || to === '') throw new ValidationError({ __all__: ['You must specify where to revert to'] });
    if (!/^[-+]?\d+$/.test(to.trim())) throw new ValidationError({ __all__: [`${to} is an invalid 'to' value`] });
    const n = Number(to);
    return this.db.transaction(async (tx) => {
      const locked: unknown[] = await tx.query(`SELECT 1 FROM dhcp_snippets WHERE id = $1 FOR UPDATE`, [id]);
      if (!locked.length) throw new NotFoundError('No DHCPSnippet matches the given query.');
      const history = (await this.get(id, tx)).history;
      let target: number;
      if (n <= 0) {
        if (-n >= history.length) throw new ValidationError({ __all__: ['Goes too far back.'] });
        target = history[-n]!.id;
      } else {
        if (!history.some((v) => v.id === n)) throw new ValidationError({ __all__: [`${n} not found in history`] });
        target = n;
      }
      await tx.query(`DELETE FROM dhcp_snippet_versions WHERE snippet_id = $1 AND id > $2`, [id, target]);
      await tx.query(`UPDATE dhcp_snippets SET updated = now() WHERE id = $1`, [id]);
      return this.get(id, tx);
    });
  }

  /**
   * What the racks apply: the enabled snippets' current values parsed, merged per scope in id order
   * (stored values passed the same parser at write; one that no longer parses is left out, not fatal).
   */
  async layers(): Promise<{
    global: DhcpSnippetLayer;
    bySubnet: Map<number, DhcpSnippetLayer>;
    hosts: Array<{ mac: string; snippets: DhcpSnippetLayer }>;
  }> {
    const rows: Array<{ subnetId: number | null; macs: string[] | null; machineId: number | null; data: string }> =
      await this.db.query(
        `SELECT d.subnet_id AS "subnetId", d.machine_id AS "machineId",
                (SELECT array_agg(i.mac_address::text ORDER BY i.id) FROM interfaces i WHERE i.machine_id = d.machine_id) AS macs,
                (SELECT v.data FROM dhcp_snippet_versions v WHERE v.snippet_id = d.id ORDER BY v.id DESC LIMIT 1) AS data
           FROM dhcp_snippets d WHERE d.enabled ORDER BY d.id`,
      );
    const parse = (data: string): DhcpSnippetLayer | undefined => {
      try {
        return parseDhcpSnippet(data);
      } catch {
        return undefined;
      }
    };
    const global: DhcpSnippetLayer[] = [];
    const bySubnet = new Map<number, DhcpSnippetLayer[]>();
    const byMac = new Map<string, DhcpSnippetLayer[]>();
    for (const r of rows) {
      const layer = parse(r.data ?? '');
      if (!layer) continue;
      if (r.subnetId !== null) bySubnet.set(r.subnetId, [...(bySubnet.get(r.subnetId) ?? []), layer]);
      else if (r.machineId !== null) for (const mac of r.macs ?? []) byMac.set(mac, [...(byMac.get(mac) ?? []), layer]);
      else global.push(layer);
    }
    return {
      global: mergeDhcpSnippetLayers(global),
      bySubnet: new Map([...bySubnet].map(([id, ls]) => [id, mergeDhcpSnippetLayers(ls)])),
      hosts: [...byMac].map(([mac, ls]) => ({ mac, snippets: mergeDhcpSnippetLayers(ls) })),
    };
  }

  /** DHCPSnippetForm.clean: global_snippet clears both; a newly given node or subnet replaces the other. */
  private async scope(
    tx: EntityManager,
    input: DhcpSnippetInput,
    current: { machineId: number | null; subnetId: number | null },
  ): Promise<{ machineId: number | null; subnetId: number | null }> {
    if (input.globalSnippet) return { machineId: null, subnetId: null };
    const machineId = input.node ? await this.machineId(tx, input.node) : current.machineId;
    const subnetId = input.subnet ? await this.subnetId(tx, input.subnet) : current.subnetId;
    if (input.node && input.subnet)
      throw new ValidationError({
        __all__: ['A DHCP snippet cannot be enabled on a node and subnet at the same time.'],
      });
    if (input.node) return { machineId, subnetId: null };
    if (input.subnet) return { machineId: null, subnetId };
    return { machineId, subnetId };
  }

  private async machineId(tx: EntityManager, node: string): Promise<number> {
    const rows: Array<{ id: number }> = await tx.query(`SELECT id FROM machines WHERE system_id = $1`, [node]);
    if (!rows[0])
      throw ValidationError.field('node', `Select a valid choice. ${node} is not one of the available choices.`);
    return rows[0].id;
  }

  private async subnetId(tx: EntityManager, subnet: string): Promise<number> {
    try {
      return (await this.subnets.get(subnet, tx)).id;
    } catch (err) {
      if (err instanceof NotFoundError)
        throw ValidationError.field('subnet', `Select a valid choice. ${subnet} is not one of the available choices.`);
      throw err;
    }
  }
}

function checkValue(value: string): void {
  if (value.length > MAX_VALUE_CHARS)
    throw ValidationError.field('value', `A DHCP snippet is at most ${MAX_VALUE_CHARS} characters.`);
  try {
    parseDhcpSnippet(value);
  } catch (err) {
    if (err instanceof DhcpSnippetSyntaxError) throw ValidationError.field('value', err.message);
    throw err;
  }
}

/** VersionedTextFile stores Unix line endings. */
const unix = (value: string): string => value.replace(/\r\n/g, '\n');

function toRow(
  r: DhcpSnippetRow & { history: Array<{ id: number; value: string; created: string }> | null },
): DhcpSnippetRow {
  return { ...r, history: (r.history ?? []).map((v) => ({ ...v, created: new Date(v.created) })) };
}
