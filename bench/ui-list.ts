// ui-list: the web UI's machine list (GET /MAAS/r/machines, issue 19 item 3) over 10,000 machines
// (inserted with SQL), signed in through the login form as an admin (sees all) and as a user who
// sees 100: the first page with each sort, with filters, the free text and a deep page. The
// budget is 200 ms server time for a first page; measured here as the full request on loopback.
import { MachineStatus as S, type MachineStatus } from '../src/contracts/lifecycle';
import { type Stack } from '../test/helpers/stack';
import { withApiStack } from './lib/api-stack';
import { connect, createRack, createUsers, ensureNamed, insertMachines, type MachineSpec } from './lib/seed';
import { ms, round, summarize, type Summary } from './lib/stats';
import type { BenchOutcome, Log } from './lib/types';

const MACHINES = 10_000;
const VISIBLE_TO_USER = 100;
const RUNS = 20;
const WARMUP = 2;
const FIRST_PAGE_BUDGET_MS = 200;

/** The views an operator opens: path and query after /MAAS/r. */
const VIEWS: Array<[string, string]> = [
  ['default (hostname)', '/machines'],
  ['sort status desc', '/machines?sort=status&dir=desc'],
  ['sort owner', '/machines?sort=owner'],
  ['sort pool', '/machines?sort=pool'],
  ['sort zone', '/machines?sort=zone'],
  ['sort cores desc', '/machines?sort=cores&dir=desc'],
  ['sort memory', '/machines?sort=memory'],
  ['sort storage desc', '/machines?sort=storage&dir=desc'],
  ['status=broken', '/machines?status=broken'],
  ['zone+pool+tags', '/machines?pool=compute&zone=az1&tags=gpu'],
  ['free text', '/machines?q=node-09'],
  ['free text (tag name)', '/machines?q=nvme&sort=memory'],
  ['page 50', '/machines?page=50'],
];

/** A signed-in UI session over fetch: the login form's CSRF token, then the session cookie. */
async function signIn(base: string, username: string, password: string): Promise<string> {
  const form = await fetch(`${base}/MAAS/r/login`);
  const cookie = form.headers.getSetCookie().map((c) => c.split(';')[0]!);
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!csrf) throw new Error('no CSRF token on the login form');
  const r = await fetch(`${base}/MAAS/r/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { Cookie: cookie.join('; ') },
    body: new URLSearchParams({ username, password, csrf }),
  });
  if (r.status !== 303) throw new Error(`login as ${username}: HTTP ${r.status}`);
  return r.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
}

export async function uiList(log: Log): Promise<BenchOutcome> {
  return withApiStack((stack) => run(stack, log));
}

async function run(stack: Stack, log: Log): Promise<BenchOutcome> {
  const base = new URL(stack.apiUrl).origin;
  const db = await connect(stack.dbUrl);
  const violations: string[] = [];
  let viewer: string;
  try {
    const t = process.hrtime.bigint();
    const [user] = await createUsers(db, ['viewer']);
    viewer = user!.username;
    await db.query(
      `UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = 'admin') WHERE id = $1`,
      [user!.id],
    );
    const tenants = await createUsers(
      db,
      Array.from({ length: 20 }, (_, i) => `tenant${i}`),
    );
    const zones = [...(await ensureNamed(db, 'zones', ['default', 'az1', 'az2', 'az3'])).values()];
    const pools = [...(await ensureNamed(db, 'resource_pools', ['default', 'compute', 'storage'])).values()];
    const tags = [...(await ensureNamed(db, 'tags', ['virtual', 'gpu', 'ssd', 'nvme', 'rack-a', '10g'])).values()];
    const rackId = await createRack(db, 'rack-bench');
    const specs: MachineSpec[] = Array.from({ length: MACHINES }, (_, i) => {
      let status: MachineStatus;
      let ownerId: number | null;
      if (i < 60) [status, ownerId] = [S.READY, null];
      else if (i < VISIBLE_TO_USER) [status, ownerId] = [S.DEPLOYED, user!.id];
      else {
        const r = i % 20;
        status = r < 16 ? S.DEPLOYED : r < 18 ? S.ALLOCATED : r < 19 ? S.BROKEN : S.FAILED_DEPLOYMENT;
        ownerId = tenants[i % tenants.length]!.id;
      }
      return {
        hostname: `node-${String((i * 7919) % MACHINES).padStart(5, '0')}`,
        status,
        ownerId,
        zoneId: zones[i % zones.length]!,
        poolId: pools[i % pools.length]!,
        rackId,
        tagIds: [tags[i % tags.length]!, tags[(i + 3) % tags.length]!],
        index: i,
      };
    });
    await insertMachines(db, specs);
    await db.query('ANALYZE');
    log(`ui-list: inserted ${MACHINES} machines (${round(ms(t) / 1000, 2)} s)`);
  } finally {
    await db.end();
  }

  const results: Record<string, Record<string, Summary>> = {};
  const summary: string[] = [];
  for (const [who, username] of [
    ['admin', 'admin'],
    ['user', viewer],
  ] as const) {
    const cookie = await signIn(base, username, 'pw');
    results[who] = {};
    for (const [label, path] of VIEWS) {
      const get = async () => {
        const t = process.hrtime.bigint();
        const r = await fetch(`${base}/MAAS/r${path}`, { headers: { Cookie: cookie }, redirect: 'manual' });
        const text = await r.text();
        const took = ms(t);
        if (r.status !== 200) violations.push(`${who} ${label}: HTTP ${r.status}: ${text.slice(0, 200)}`);
        else if (!/Machines \d+–\d+ of \d+/.test(text)) violations.push(`${who} ${label}: no list on the page`);
        return took;
      };
      for (let i = 0; i < WARMUP; i++) await get();
      const samples: number[] = [];
      for (let i = 0; i < RUNS; i++) samples.push(await get());
      const s = summarize(samples);
      results[who][label] = s;
      const over = s.p90 > FIRST_PAGE_BUDGET_MS ? ` (over the ${FIRST_PAGE_BUDGET_MS} ms budget)` : '';
      const line = `ui-list: ${who} ${label}: p50 ${s.p50} ms, p90 ${s.p90} ms${over}`;
      log(line);
      summary.push(line.replace('ui-list: ', ''));
    }
  }
  return {
    name: 'ui-list',
    ok: violations.length === 0,
    result: {
      machines: MACHINES,
      visible_to_user: VISIBLE_TO_USER,
      runs: RUNS,
      first_page_budget_ms: FIRST_PAGE_BUDGET_MS,
      latency_ms: results,
      violations,
    },
    summary,
  };
}
