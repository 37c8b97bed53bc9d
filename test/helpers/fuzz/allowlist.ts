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

/**
 * Empty: every failure the fuzzer found before the issue-15 fixes (JSON nested 50,000 deep, NUL in
 * the OAuth header and in string parameters, path ids past int4, a cut-off 200 from a bad listing
 * filter) is fixed at its cause. A new finding goes here only with the fix that will remove it.
 */
export const KNOWN_FAILURES: readonly KnownFailure[] = [];

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
