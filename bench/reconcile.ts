// reconcile-pass: what one reconciler pass costs Temporal when many machines are in a long
// operation (their workflows running, e.g. a fleet deploying). 500 machines commissioning against
// a silent scripted rack, so each workflow waits for its machine; then passes with no grace
// (every machine a candidate) describing each workflow (as before the listing), and passes that
// list the running ones first (region/running-listing.ts), each with a new reconciler: a first
// pass, before any listed workflow's trust (5 minutes) runs out; once per trust period a pass asks
// them all again. The region runs in this process; the Temporal dev server's CPU is read from
// /proc (an external Temporal's needs METALFLOW_BENCH_TEMPORAL_PIDS, else it reads 0).
import { MachineStatus as S } from '../src/contracts/lifecycle';
import { Reconciler } from '../src/region/reconciler';
import type { WorkflowGateway } from '../src/region/services/workflow-gateway';
import { createAdmin, machineInput } from '../test/helpers/factories';
import { startTestRegion } from '../test/helpers/region';
import { ScriptedRack } from '../test/helpers/scripted-rack';
import { pool } from './lib/client';
import { infraCpuSeconds } from './lib/proc';
import { percentile, round } from './lib/stats';
import type { BenchOutcome, Log } from './lib/types';

const MACHINES = Number(process.env.METALFLOW_BENCH_RECONCILE_COUNT ?? 500);
/** Far beyond the bench: the workflows wait for their silent machines the whole time. */
const NODE_TIMEOUT_MS = 3_600_000;
const ROUNDS = 3;

interface Pass {
  ms: number;
  temporal_cpu_s: number;
  described: number;
  failed: number;
}

export async function reconcilePass(log: Log): Promise<BenchOutcome> {
  const rack = new ScriptedRack();
  const region = await startTestRegion({ nodeTimeoutMs: NODE_TIMEOUT_MS, rack: rack.activities() });
  rack.services = region.services;
  try {
    const s = region.services;
    const admin = await createAdmin(s);
    await pool(
      Array.from({ length: MACHINES }, (_, i) => i),
      20,
      async (i) => {
        const m = await s.machines.create(machineInput({ hostname: `reconcile-${i}` }));
        rack.behaviour.set(m.systemId, 'silent');
        await s.actions.commission(admin, m.systemId);
      },
    );
    // Every workflow past its power-on, waiting for its machine.
    const deadline = Date.now() + 10 * 60_000;
    for (;;) {
      if (Date.now() > deadline)
        throw new Error('reconcile-pass: the workflows did not all power on within 10 minutes');
      const [row] = (await s.db.query(
        `SELECT count(*)::int AS n FROM machines WHERE status = $1 AND power_state = 'on'`,
        [S.COMMISSIONING],
      )) as Array<{ n: number }>;
      if ((row?.n ?? 0) >= MACHINES) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    log(`reconcile-pass: ${MACHINES} workflows running; timing passes`);

    let described = 0;
    const counted = (g: WorkflowGateway, listing: boolean) =>
      new Proxy(g, {
        get: (target, key, receiver) =>
          key === 'state'
            ? (id: string) => (described++, target.state(id))
            : key === 'listedRunning' && !listing
              ? undefined
              : Reflect.get(target, key, receiver),
      });
    const pass = async (listing: boolean): Promise<Pass> => {
      described = 0;
      const reconciler = new Reconciler(s.db, counted(s.workflows, listing), { graceMs: 0, log });
      const cpu0 = infraCpuSeconds([]).temporal;
      const t0 = process.hrtime.bigint();
      const failed = await reconciler.reconcile();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      return {
        ms: round(ms),
        temporal_cpu_s: round(infraCpuSeconds([]).temporal - cpu0, 2),
        described,
        failed: failed.length,
      };
    };
    const eachDescribed: Pass[] = [];
    const listed: Pass[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      eachDescribed.push(await pass(false));
      listed.push(await pass(true));
    }
    const median = (xs: number[]) =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    const failedAny = [...eachDescribed, ...listed].some((p) => p.failed > 0);
    // A listing that fell back to describing each would measure the old way under the new name.
    const listingFellBack = listed.some((p) => p.described > 0);
    const summary = [
      `${MACHINES} running workflows, one pass: describe each ${median(eachDescribed.map((p) => p.ms))} ms, ` +
        `${median(eachDescribed.map((p) => p.temporal_cpu_s))} Temporal CPU-s; listed first ` +
        `${median(listed.map((p) => p.ms))} ms, ${median(listed.map((p) => p.temporal_cpu_s))} Temporal CPU-s (medians of ${ROUNDS})`,
    ];
    if (failedAny) summary.push('a pass failed a machine whose workflow was running');
    if (listingFellBack) summary.push('a listed pass described workflows: the listing fell back');
    return {
      name: 'reconcile-pass',
      ok: !failedAny && !listingFellBack,
      result: {
        benchmark: 'reconcile-pass',
        description: `One reconciler pass over ${MACHINES} running workflows. Machines commissioning against a silent rack, so each workflow waits; passes with no grace, each workflow described vs the running ones listed first`,
        machines: MACHINES,
        describe_each: eachDescribed,
        listed_first: listed,
      },
      summary,
    };
  } finally {
    await region.stop();
  }
}
