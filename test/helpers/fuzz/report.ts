// The fuzzer's tallies: tries and failures per principal × value category × kind of failure, as
// one table for the test log (and the closing note), and the failures listed one a line.
import { VALUE_CATEGORIES } from './values';
import type { CaseCategory } from './cases';
import type { Failure, FailureKind, Outcome } from './runner';
import { PRINCIPALS, type PrincipalName } from './world';

const KINDS: readonly FailureKind[] = ['5xx', 'hang', 'cut-off', 'secret', 'half-write'];
const CATEGORIES: readonly CaseCategory[] = ['baseline', 'path-id', 'auth-header', ...VALUE_CATEGORIES];

export class Tally {
  private readonly tries = new Map<string, number>();
  private readonly failed = new Map<string, number>();
  readonly failures: Failure[] = [];
  requests = 0;
  restores = 0;
  requestMs = 0;
  restoreMs = 0;

  record(principal: PrincipalName, category: CaseCategory, o: Outcome): void {
    const { failures } = o;
    const key = `${principal}|${category}`;
    this.requests++;
    if (o.restored) this.restores++;
    this.requestMs += o.requestMs;
    this.restoreMs += o.restoreMs;
    this.tries.set(key, (this.tries.get(key) ?? 0) + 1);
    for (const f of failures) {
      this.failures.push(f);
      const k = `${key}|${f.kind}`;
      this.failed.set(k, (this.failed.get(k) ?? 0) + 1);
    }
  }

  /** One row per principal × category that was tried, then the totals. */
  table(): string {
    const head = ['principal', 'category', 'tries', ...KINDS];
    const rows: string[][] = [];
    const totals = new Map<string, number>();
    const add = (k: string, n: number) => totals.set(k, (totals.get(k) ?? 0) + n);
    for (const p of PRINCIPALS) {
      for (const cat of CATEGORIES) {
        const key = `${p}|${cat}`;
        const tries = this.tries.get(key) ?? 0;
        if (tries === 0) continue;
        add('tries', tries);
        const counts = KINDS.map((k) => this.failed.get(`${key}|${k}`) ?? 0);
        KINDS.forEach((k, i) => add(k, counts[i]!));
        rows.push([p, cat, String(tries), ...counts.map(String)]);
      }
    }
    rows.push(['ALL', '', String(totals.get('tries') ?? 0), ...KINDS.map((k) => String(totals.get(k) ?? 0))]);
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
    return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
  }
}

export function describeFailure(f: Failure): string {
  const op = f.op ? `?op=${f.op}` : '';
  const param = f.param
    ? ` ${f.param}=<${f.value}>`
    : f.category === 'auth-header'
      ? ` Authorization <${f.value}>`
      : f.value
        ? ` path id <${f.value}>`
        : '';
  return `[${f.kind}] ${f.principal} ${f.method} ${f.template}${op}${param} (${f.category}) → ${f.status ?? 'no status'}: ${f.detail}`;
}
