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
  {
    // tokenStore.findByTokenKey sends the percent-decoded oauth_token to PostgreSQL as is.
    finding:
      'A NUL in the OAuth header (oauth_token="a%00b") is a 500 on every resource, not a 401 (issue 15 #3 "OAuth header values"; h1)',
    kind: '5xx',
    categories: ['auth-header'],
  },
  {
    // One cause, one fix: no string parameter is checked for NUL, and PostgreSQL refuses it
    // ("invalid byte sequence for encoding UTF8: 0x00"). Seen on this branch in: account
    // create/delete_authorisation_token, events query (zone, agent_name), machines allocate (zone,
    // subnets), deploy (hwe_kernel), mark_broken/unlock/unreserve (comment),
    // set_workload_annotations, fabrics create, VLAN/subnet/zone/pool/tag update, user-group
    // add/remove_member, users DELETE transfer_resources_to.
    finding:
      'A NUL in a string parameter reaches PostgreSQL: 500, not a 400 naming the field (issue 15 #3, must-have "every string parameter rejects NUL"; h1)',
    kind: '5xx',
    categories: ['nul'],
  },
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
