// Independent queries at once where that is safe. On the pool (no transaction) each takes its own
// connection and they run in parallel; inside a transaction they share its one client, where pg 8
// warns of queries issued while another runs and pg 9 refuses them, so there they run in turn.
import type { EntityManager } from 'typeorm';

export async function queryAll<T extends readonly unknown[]>(
  manager: EntityManager,
  runs: { readonly [K in keyof T]: () => Promise<T[K]> },
): Promise<T> {
  if (!manager.queryRunner) return (await Promise.all(runs.map((run) => run()))) as unknown as T;
  const out: unknown[] = [];
  for (const run of runs) out.push(await run());
  return out as unknown as T;
}
