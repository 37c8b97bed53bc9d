// Statements the region sends again and again are prepared once per connection (issue 17).
// PostgreSQL plans every unnamed statement anew; for the region's short statements, planning was
// about two thirds of PostgreSQL's statement work (pg_stat_statements over a commissioning bench:
// 6.8 s planning against 8.8 s executing, 5.6 s of which waited for row locks; the machine view's
// eight-table joins took ~3 ms each to plan). A named statement is parsed once per connection,
// and on the main pool PostgreSQL reuses one generic plan for it (PreparingOptions.genericPlans).
//
// pg prepares a statement when a query carries a `name`; TypeORM never gives one, so the pool's
// client names a statement itself once the same text has come twice with parameters. One-off
// texts (a listing's filter, a bulk insert's row count) stay unnamed, and the named set is bounded:
// every connection that runs a named text keeps it (and its plan) for the connection's life.
import crypto from 'node:crypto';
import pg from 'pg';

/** Named texts per pool at most: each connection that runs one keeps its plan. */
const MAX_NAMED = 256;
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

/**
 * pg records a statement as prepared when PostgreSQL parsed it, but closes it again when a value
 * cannot be sent (pg's own error, no SQLSTATE); and a statement the server lost answers 26000.
 * Either way the connection must parse it again next time, or every later call fails.
 */
const needsParseAgain = (err: unknown): boolean => {
  const code = (err as { code?: unknown }).code;
  return code === undefined || code === '26000';
};

interface PgConnectionState {
  parsedStatements: Record<string, string>;
  submittedNamedStatements?: Record<string, string>;
}

type QueryCallback = (err: Error | null, result?: unknown) => void;

export interface PreparingOptions {
  /**
   * PostgreSQL reuses one generic plan for each prepared statement (plan_cache_mode
   * force_generic_plan, added to the connection's startup options, the URL's or PGOPTIONS' kept).
   * In its default mode it kept planning the machine view's joins for every call: `id = ANY($1)`
   * estimated for one machine looks cheaper than the generic plan, which is the same plan.
   * It also applies to the unnamed statements of those connections.
   */
  genericPlans: boolean;
}

/**
 * pg's Client with named statements for texts that repeat (given to the pool as `Client`).
 * Only the (text, values) form TypeORM uses is named; a query config object passes as it is.
 */
export function preparingClient(names: StatementNames, o: PreparingOptions): typeof pg.Client {
  const query = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;
  class PreparingClient extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super(config);
      if (o.genericPlans) {
        // pg's parsed connection parameters: the connection string's options win over the
        // config's, so the setting is added here, after pg has read them all.
        const params = (this as unknown as { connectionParameters: { options?: string } }).connectionParameters;
        params.options = [params.options, '-c plan_cache_mode=force_generic_plan'].filter(Boolean).join(' ');
      }
    }
  }
  const settle = (client: pg.Client, text: string, name: string, err: unknown): void => {
    const state = (client as unknown as { connection: PgConnectionState }).connection;
    if (isStalePlan(err)) names.refuse(text);
    else if ((err as { code?: unknown }).code === '42P05')
      // The server has it though pg forgot it (an error of pg's own after the server parsed it):
      // use it from now on rather than parse it again on every call.
      state.parsedStatements[name] = text;
    else if (needsParseAgain(err)) {
      delete state.parsedStatements[name];
      delete state.submittedNamedStatements?.[name];
    }
  };
  Object.defineProperty(PreparingClient.prototype, 'query', {
    value: function (this: pg.Client, text: unknown, values?: unknown, callback?: unknown): unknown {
      const name =
        typeof text === 'string' && Array.isArray(values) && values.length > 0 ? names.nameOf(text) : undefined;
      if (name === undefined) return query.call(this, text, values, callback);
      const run = (query.call(this, { name, text, values }) as Promise<unknown>).catch((err: unknown) => {
        settle(this, text as string, name, err);
        throw err;
      });
      if (typeof callback !== 'function') return run;
      // pg's callback form answers through the callback and returns nothing.
      run.then(
        (result) => (callback as QueryCallback)(null, result),
        (err: Error) => (callback as QueryCallback)(err),
      );
      return undefined;
    },
    writable: true,
    configurable: true,
  });
  return PreparingClient;
}
