// Statements the region sends again and again are prepared once per connection (issue 17).
// PostgreSQL plans every unnamed statement anew; for the region's short statements, planning was
// about half of what PostgreSQL's statement time (pg_stat_statements over a commissioning bench:
// 6.8 s planning against 8.8 s executing, the machine view's eight-table joins ~3 ms each).
// A named statement is parsed and planned once per connection, then PostgreSQL reuses its plan
// (a generic one once it costs no more than the custom ones: plan_cache_mode auto).
//
// pg prepares a statement when a query carries a `name`; TypeORM never gives one, so the pool's
// client names a statement itself once the same text has come twice with parameters. One-off
// texts (a listing's filter, a bulk insert's row count) stay unnamed, and the named set is bounded.
import crypto from 'node:crypto';
import pg from 'pg';

/** Named texts per process at most: each connection that runs one keeps its plan. */
const MAX_NAMED = 1000;
/** Texts counted before the first sighting counts are dropped (one-off texts must not pile up). */
const MAX_SIGHTED = 5000;

/**
 * A statement whose result columns come from `*`: a column added by a migration while a region
 * runs changes its result type, which a prepared statement refuses ("cached plan must not change
 * result type"). Those stay unnamed. Only the statement's own columns count: a `*` inside
 * parentheses (a subquery's, a CTE's, count(*)) does not reach its result type.
 */
const STAR_COLUMNS = /(?:\bselect(?:\s+distinct(?:\s+on)?)?|\breturning|,)\s*(?:[\w"]+\.)?\*/i;

export function selectsStar(text: string): boolean {
  let outer = text;
  for (let before = ''; before !== outer;) {
    before = outer;
    outer = outer.replace(/\([^()]*\)/g, ' ');
  }
  return STAR_COLUMNS.test(outer);
}

export class StatementNames {
  private readonly named = new Map<string, string>();
  private sighted = new Map<string, number>();
  private readonly refused = new Set<string>();

  /** The name to prepare `text` under, or undefined to send it unnamed. */
  nameOf(text: string): string | undefined {
    const known = this.named.get(text);
    if (known !== undefined) return known;
    if (this.refused.has(text) || this.named.size >= MAX_NAMED) return undefined;
    const seen = (this.sighted.get(text) ?? 0) + 1;
    if (seen < 2) {
      if (this.sighted.size >= MAX_SIGHTED) this.sighted = new Map();
      this.sighted.set(text, seen);
      return undefined;
    }
    this.sighted.delete(text);
    if (selectsStar(text)) {
      this.refused.add(text);
      return undefined;
    }
    const name = `mf_${crypto.createHash('sha1').update(text).digest('base64url').slice(0, 24)}`;
    this.named.set(text, name);
    return name;
  }

  /**
   * A prepared statement PostgreSQL can no longer run as prepared (a table it reads changed under
   * it): from now on the text goes unnamed, so the failure happens once, not on every call.
   */
  refuse(text: string): void {
    this.named.delete(text);
    this.refused.add(text);
  }

  /** Texts named. */
  get size(): number {
    return this.named.size;
  }

  /** Texts seen once and counted, waiting for a second sighting. */
  get counting(): number {
    return this.sighted.size;
  }
}

/** PostgreSQL's words when a prepared statement's result columns changed under it (SQLSTATE 0A000). */
const isStalePlan = (err: unknown): boolean =>
  (err as { code?: string }).code === '0A000' && /cached plan must not change result type/.test(String(err));

type QueryCallback = (err: Error | null, result?: unknown) => void;

/**
 * pg's Client with named statements for texts that repeat (given to the pool as `Client`).
 * Only the (text, values) form TypeORM uses is named; a query config object passes as it is.
 */
export function preparingClient(names: StatementNames): typeof pg.Client {
  const query = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;
  class PreparingClient extends pg.Client {}
  Object.defineProperty(PreparingClient.prototype, 'query', {
    value: function (this: pg.Client, text: unknown, values?: unknown, callback?: unknown): unknown {
      const name =
        typeof text === 'string' && Array.isArray(values) && values.length > 0 ? names.nameOf(text) : undefined;
      if (name === undefined) return query.call(this, text, values, callback);
      const config = { name, text: text as string, values: values as unknown[] };
      if (typeof callback === 'function')
        return query.call(this, config, (err: Error | null, result?: unknown) => {
          if (err && isStalePlan(err)) names.refuse(text as string);
          (callback as QueryCallback)(err, result);
        });
      return (query.call(this, config) as Promise<unknown>).catch((err: unknown) => {
        if (isStalePlan(err)) names.refuse(text as string);
        throw err;
      });
    },
    writable: true,
    configurable: true,
  });
  return PreparingClient;
}
