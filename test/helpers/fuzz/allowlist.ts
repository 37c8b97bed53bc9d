// Failures the fuzzer finds today, each keyed by finding and naming the issue-15 item whose fix
// removes it. The fuzz test fails on any failure not listed here AND on any entry that no longer
// matches a failure: when a fix lands, its entries must go, so this list only ever shrinks.
import type { CaseCategory } from './cases';
import type { Failure, FailureKind } from './runner';

export interface KnownFailure {
  /** What is wrong, and the issue-15 item (and branch) that fixes it. */
  finding: string;
  kind: FailureKind;
  method?: string;
  /** Matched against the path template, e.g. /MAAS/api/2.0/machines/{system_id}/ */
  path?: RegExp;
  /** null: the RESTful action (no op); undefined: any. */
  op?: string | null;
  param?: RegExp;
  categories?: readonly CaseCategory[];
}

const API = '/MAAS/api/2.0';
const at = (path: string) => new RegExp(`^${API}${path.replace(/[{}]/g, '\\$&')}$`);

/** Issue 15 item 3, must-have "every string parameter rejects NUL" (h1, input layer): PostgreSQL
 * refuses the NUL ("invalid byte sequence for encoding UTF8: 0x00") and the request ends in a 500. */
const nulTo500 = (finding: string, path: string, op?: string | null, method?: string): KnownFailure => ({
  finding: `NUL in ${finding} reaches PostgreSQL: 500, not a 400 naming the field (issue 15 #3; h1 input layer)`,
  kind: '5xx',
  categories: ['nul'],
  path: at(path),
  op,
  method,
});

/** Issue 15 item 3, must-have "every id is range-checked" (h1): an integer path id past int4 goes
 * to PostgreSQL ("value 99999999999 is out of range for type integer") and ends in a 500, not a 404. */
const idOutOfRange = (path: string, method?: string): KnownFailure => ({
  finding: `path id 99999999999 on ${path} ${method ?? ''}: 500 out of range for integer, not a 404 (issue 15 #3; h1)`,
  kind: '5xx',
  categories: ['path-id'],
  path: at(path),
  method,
});

export const KNOWN_FAILURES: readonly KnownFailure[] = [
  {
    // Every action that reads a body: the parser's recursion overflows the stack.
    finding:
      'A JSON body nested 50,000 deep is a 500 on every POST/PUT/DELETE (issue 15 #3, must-have "bodies have depth limits"; h1)',
    kind: '5xx',
    categories: ['json-deep'],
  },
  nulTo500('account token_key', '/account/', 'delete_authorisation_token'),
  nulTo500('events query filters (zone, agent_name)', '/events/', 'query'),
  nulTo500('comment (mark_broken, unlock)', '/machines/{system_id}/', undefined, 'POST'),
  nulTo500('allocate constraints (zone)', '/machines/', 'allocate'),
  nulTo500('resource pool description', '/resourcepool/{id}/', null, 'PUT'),
  nulTo500('tag definition / update_nodes remove', '/tags/{name}/'),
  nulTo500('user-group add_member/remove_member username', '/user-group/{id}/'),
  nulTo500('users DELETE transfer_resources_to', '/users/{username}/', null, 'DELETE'),
  nulTo500('VLAN update primary_rack', '/fabrics/{fabric_id}/vlans/{vid}/', null, 'PUT'),
  idOutOfRange('/fabrics/{id}/'),
  idOutOfRange('/fabrics/{fabric_id}/vlans/'),
  idOutOfRange('/fabrics/{fabric_id}/vlans/{vid}/'),
  idOutOfRange('/vlans/{id}/'),
  idOutOfRange('/subnets/{id}/'),
  idOutOfRange('/ipranges/{id}/'),
  {
    // The listing streams "[" before the query runs; the query then fails on the bad filter value.
    finding:
      'GET machines/ with a filter PostgreSQL refuses (NUL in id/pool/owner) sends a cut-off 200 (issue 15 #4; h2 listing filters)',
    kind: 'cut-off',
    method: 'GET',
    path: at('/machines/'),
    op: null,
  },
];

export function matches(k: KnownFailure, f: Failure): boolean {
  return (
    k.kind === f.kind &&
    (k.method === undefined || k.method === f.method) &&
    (k.path === undefined || k.path.test(f.template)) &&
    (k.op === undefined || k.op === f.op) &&
    (k.param === undefined || (f.param !== null && k.param.test(f.param))) &&
    (k.categories === undefined || k.categories.includes(f.category))
  );
}
