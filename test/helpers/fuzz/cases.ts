// The fuzz cases of one action, chosen deterministically (a fixed-seed PRNG per action) within a
// budget: every principal with real ids and no parameters, hostile path ids, and hostile values
// for the action's parameters, every value category at least once per action.
import type { FuzzAction } from './actions';
import {
  hostileAuthorizations,
  hostileValues,
  HOSTILE_PATH_IDS,
  VALUE_CATEGORIES,
  type HostileValue,
  type ValueCategory,
} from './values';
import { PRINCIPALS, type PrincipalName } from './world';

export interface FuzzCase {
  principal: PrincipalName;
  /** Index into the action's real ids for each placeholder, or a hostile raw last placeholder. */
  realIdIndex: number;
  hostilePathId: { label: string; raw: string } | null;
  param: string | null;
  value: HostileValue | null;
  /** A hostile Authorization header instead of the principal's credentials. */
  authorization: { label: string; header: string } | null;
}

/** Case category in the counts table: a value category, or the two that send no hostile value. */
export type CaseCategory = ValueCategory | 'baseline' | 'path-id' | 'auth-header';

export function categoryOf(c: FuzzCase): CaseCategory {
  if (c.value) return c.value.category;
  return c.hostilePathId ? 'path-id' : c.authorization ? 'auth-header' : 'baseline';
}

/**
 * Hostile values go mostly to admins, who reach deepest into the handlers; every principal gets
 * its share (a user's or a machine's hostile value often meets a different code path).
 */
const VALUE_PRINCIPALS: readonly PrincipalName[] = ['admin', 'user', 'admin', 'other', 'admin', 'machine', 'anonymous'];

/** mulberry32: small, fast, and the same sequence on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seedOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export interface CaseBudget {
  /** Hostile-value cases per action (the largest share of requests). */
  valuesPerAction: number;
  /**
   * Hostile Authorization headers, made from this real API key; authentication runs before
   * dispatch, the same for every action, so the test asks for them once per resource path.
   */
  authorizationsFrom?: string;
}

export function casesFor(action: FuzzAction, paramNames: readonly string[], budget: CaseBudget): FuzzCase[] {
  const random = prng(seedOf(`${action.method} ${action.template} ${action.op ?? ''}`));
  const hasPlaceholder = action.template.includes('{');
  const cases: FuzzCase[] = [];
  const base = { hostilePathId: null, param: null, value: null, authorization: null };

  // GET carries parameters in the query string: a JSON body is not something a GET can send.
  const categories = VALUE_CATEGORIES.filter((k) => action.method !== 'GET' || !k.startsWith('json'));
  const names = paramNames.length > 0 ? paramNames : ['name'];
  const queues = categories.map((k) => shuffled(names, random).map((n) => ({ k, n })));
  // Per-action offset: the same rotation in every action would pair each category with the
  // same principals everywhere.
  const offset = Math.floor(random() * VALUE_PRINCIPALS.length);
  let n = 0;
  for (let round = 0; n < budget.valuesPerAction && queues.some((q) => q.length > round); round++) {
    for (const q of queues) {
      const pick = q[round];
      if (!pick || n >= budget.valuesPerAction) continue;
      const values = hostileValues(pick.k, pick.n);
      cases.push({
        ...base,
        principal: VALUE_PRINCIPALS[(n + offset) % VALUE_PRINCIPALS.length]!,
        realIdIndex: n,
        param: pick.n,
        value: values[Math.floor(random() * values.length)]!,
      });
      n++;
    }
  }
  if (hasPlaceholder) {
    HOSTILE_PATH_IDS.forEach((hostilePathId, i) =>
      cases.push({ ...base, hostilePathId, principal: PRINCIPALS[i % PRINCIPALS.length]!, realIdIndex: 0 }),
    );
  }
  if (budget.authorizationsFrom) {
    for (const authorization of hostileAuthorizations(budget.authorizationsFrom))
      cases.push({ ...base, authorization, principal: 'anonymous', realIdIndex: 0 });
  }
  // Last, so a successful DELETE or state change by an admin affects no later case of the action
  // (the world is restored after every write anyway; this keeps the order readable).
  PRINCIPALS.forEach((principal, i) => cases.push({ ...base, principal, realIdIndex: i }));
  return cases;
}
