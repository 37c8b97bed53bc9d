// MAAS's scripts (NodeScriptsHandler/NodeScriptHandler): stored scripts with their metadata and the
// versions of their text. Admins change them (the policy checks that first); the built-in scripts
// (`is_default`) keep their text, and only their tags and timeout change, as in MAAS.
import type { DataSource, EntityManager } from 'typeorm';
import { NotFoundError, ValidationError } from '../../errors';
import { defineScript, type ScriptDefinition, type ScriptRequest } from './script-metadata';

export interface ScriptVersion {
  id: number;
  comment: string;
  created: Date;
  data: Buffer;
}

export interface ScriptRow extends ScriptDefinition {
  id: number;
  isDefault: boolean;
  /** Newest first: the first is the script's text. */
  history: ScriptVersion[];
}

export interface ScriptFilter {
  type?: number;
  hardwareType?: number;
  /** Script names or tags; undefined: every script. */
  filters?: string[];
}

const NO_SCRIPT = 'No Script matches the given query.';
const COLUMNS = `s.id, s.name, s.title, s.description, s.tags, s.script_type AS "scriptType",
  s.hardware_type AS "hardwareType", s.parallel, s.timeout_seconds AS "timeoutSeconds", s.destructive,
  s.parameters, s.results, s.packages, s.for_hardware AS "forHardware", s.may_reboot AS "mayReboot",
  s.recommission, s.apply_configured_networking AS "applyConfiguredNetworking", s.is_default AS "isDefault"`;

export class ScriptService {
  constructor(private readonly db: DataSource) {}

  async list(f: ScriptFilter): Promise<ScriptRow[]> {
    const params: unknown[] = [];
    const where: string[] = ['true'];
    if (f.type !== undefined) where.push(`s.script_type = $${params.push(f.type)}`);
    if (f.hardwareType !== undefined) where.push(`s.hardware_type = $${params.push(f.hardwareType)}`);
    if (f.filters !== undefined) {
      const i = params.push(f.filters);
      where.push(`(s.name = ANY($${i}::text[]) OR s.tags && $${i}::text[])`);
    }
    const rows: Array<Omit<ScriptRow, 'history'>> = await this.db.query(
      `SELECT ${COLUMNS} FROM scripts s WHERE ${where.join(' AND ')} ORDER BY s.id`,
      params,
    );
    return this.withHistory(this.db.manager, rows);
  }

  /** A script by name, or by id (a name is never a number). */
  async get(key: string, manager: EntityManager = this.db.manager, lock = false): Promise<ScriptRow> {
    const byId = /^\d{1,9}$/.test(key);
    const rows: Array<Omit<ScriptRow, 'history'>> = await manager.query(
      `SELECT ${COLUMNS} FROM scripts s WHERE ${byId ? 's.id = $1::int' : 's.name = $1'}${lock ? ' FOR UPDATE' : ''}`,
      [key],
    );
    if (rows.length === 0) throw new NotFoundError(NO_SCRIPT);
    return (await this.withHistory(manager, rows))[0]!;
  }

  create(req: ScriptRequest): Promise<ScriptRow> {
    const { definition: d, text, comment } = defineScript(req, undefined);
    return this.db.transaction(async (tx) => {
      await this.assertFree(tx, d.name);
      const [row] = (await tx.query(
        `INSERT INTO scripts (name, title, description, tags, script_type, hardware_type, parallel, timeout_seconds,
           destructive, parameters, results, packages, for_hardware, may_reboot, recommission, apply_configured_networking)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
        values(d),
      )) as Array<{ id: number }>;
      await tx.query(`INSERT INTO script_versions (script_id, data, comment) VALUES ($1, $2, $3)`, [
        row!.id,
        text!,
        comment,
      ]);
      return this.get(String(row!.id), tx);
    });
  }

  update(key: string, req: ScriptRequest): Promise<ScriptRow> {
    return this.db.transaction(async (tx) => {
      const current = await this.get(key, tx, true);
      const { definition: d, text, comment } = defineScript(req, current, current.isDefault);
      if (d.name !== current.name) await this.assertFree(tx, d.name);
      await tx.query(
        `UPDATE scripts SET name = $1, title = $2, description = $3, tags = $4, script_type = $5, hardware_type = $6,
           parallel = $7, timeout_seconds = $8, destructive = $9, parameters = $10, results = $11, packages = $12,
           for_hardware = $13, may_reboot = $14, recommission = $15, apply_configured_networking = $16, updated = now()
         WHERE id = $17`,
        [...values(d), current.id],
      );
      if (text !== undefined)
        await tx.query(`INSERT INTO script_versions (script_id, data, comment) VALUES ($1, $2, $3)`, [
          current.id,
          text,
          comment,
        ]);
      return this.get(String(current.id), tx);
    });
  }

  async delete(key: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const s = await this.get(key, tx, true);
      if (s.isDefault) throw ValidationError.field('__all__', 'Unable to delete default script');
      await tx.query(`DELETE FROM scripts WHERE id = $1`, [s.id]);
    });
  }

  /** The script's text, or that of `revision` (a version id in its history). */
  async download(key: string, revision?: number): Promise<Buffer> {
    const s = await this.get(key);
    if (revision === undefined) return s.history[0]!.data;
    const v = s.history.find((h) => h.id === revision);
    if (!v) throw ValidationError.field('__all__', `${revision} not found in history`);
    return v.data;
  }

  /**
   * MAAS's revert: `to` is a version id in the history or how far back to go (a negative number;
   * 0 stays); the versions after the one reverted to are deleted.
   */
  revert(key: string, to: string | undefined): Promise<ScriptRow> {
    if (to === undefined || to === '') throw ValidationError.field('__all__', 'You must specify where to revert to');
    if (!/^[-+]?\d{1,9}$/.test(to.trim())) throw ValidationError.field('__all__', `${to} is an invalid 'to' value`);
    const n = Number(to);
    return this.db.transaction(async (tx) => {
      const s = await this.get(key, tx, true);
      if (s.isDefault) throw ValidationError.field('__all__', 'Unable to revert default script');
      let target: number;
      if (n <= 0) {
        if (-n >= s.history.length) throw ValidationError.field('__all__', 'Goes too far back.');
        target = s.history[-n]!.id;
      } else {
        if (!s.history.some((v) => v.id === n)) throw ValidationError.field('__all__', `${n} not found in history`);
        target = n;
      }
      await tx.query(`DELETE FROM script_versions WHERE script_id = $1 AND id > $2`, [s.id, target]);
      await tx.query(`UPDATE scripts SET updated = now() WHERE id = $1`, [s.id]);
      return this.get(String(s.id), tx);
    });
  }

  /** MAAS's add_tag/remove_tag (allowed on built-in scripts too). */
  tag(key: string, tag: string | undefined, add: boolean): Promise<ScriptRow> {
    if (tag === undefined || tag === '') throw ValidationError.field('tag', 'This field is required.');
    if (add && tag.includes(',')) throw ValidationError.field('__all__', 'Tag may not contain a ",".');
    return this.db.transaction(async (tx) => {
      const s = await this.get(key, tx, true);
      const tags = add ? (s.tags.includes(tag) ? s.tags : [...s.tags, tag]) : s.tags.filter((t) => t !== tag);
      await tx.query(`UPDATE scripts SET tags = $1, updated = now() WHERE id = $2`, [tags, s.id]);
      return this.get(String(s.id), tx);
    });
  }

  private async assertFree(tx: EntityManager, name: string): Promise<void> {
    const rows: unknown[] = await tx.query(`SELECT 1 FROM scripts WHERE name = $1`, [name]);
    if (rows.length > 0) throw ValidationError.field('name', 'Script with this Name already exists.');
  }

  private async withHistory(manager: EntityManager, rows: Array<Omit<ScriptRow, 'history'>>): Promise<ScriptRow[]> {
    if (rows.length === 0) return [];
    const versions: Array<ScriptVersion & { scriptId: number }> = await manager.query(
      `SELECT id, script_id AS "scriptId", comment, created, data FROM script_versions
        WHERE script_id = ANY($1::int[]) ORDER BY id DESC`,
      [rows.map((r) => r.id)],
    );
    return rows.map((r) => ({ ...r, history: versions.filter((v) => v.scriptId === r.id) }));
  }
}

function values(d: ScriptDefinition): unknown[] {
  return [
    d.name,
    d.title,
    d.description,
    d.tags,
    d.scriptType,
    d.hardwareType,
    d.parallel,
    d.timeoutSeconds,
    d.destructive,
    JSON.stringify(d.parameters),
    JSON.stringify(d.results),
    JSON.stringify(d.packages),
    d.forHardware,
    d.mayReboot,
    d.recommission,
    d.applyConfiguredNetworking,
  ];
}
