// Region HA (issue 18): two region processes (API + workers, `metalflow region`) on one PostgreSQL
// and one Temporal. One of them, the one the rack talks to, is kill -9ed again and again while a
// failover client commissions and deploys machines through both: every operation completes, no
// step records its event twice, and allocations racing on both regions never take a machine twice.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createFakeMachines,
  duplicateEvents,
  eventLog,
  settle,
  startOperation,
  type Operation,
  type Tally,
} from '../helpers/fleet';
import { freshDatabase, freshNamespace, testInfra } from '../helpers/infra';
import { startCluster, type Cluster } from '../helpers/region-cluster';

const MACHINES = 10;
/** The region that is killed; the rack talks to it too, so the rack's retries are exercised. */
const VICTIM = 1;

/** Kills the victim region every few seconds and restarts it, until paused or stopped. */
class RegionKiller {
  kills = 0;
  /** A restart that failed: the test reports it rather than an unhandled rejection. */
  error: Error | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  constructor(
    private readonly cluster: Cluster,
    private readonly everyMs: number,
  ) {}
  start(): void {
    this.stopped = false;
    this.running = (async () => {
      // The first kill soon after a phase starts, while its operations are in flight.
      let waitMs = 1500;
      while (!this.stopped) {
        await new Promise((r) => setTimeout(r, waitMs));
        waitMs = this.everyMs;
        if (this.stopped) break;
        await this.cluster.killRegion(VICTIM);
        this.kills++;
        await new Promise((r) => setTimeout(r, 1000));
        await this.cluster.startRegion(VICTIM);
      }
    })().catch((err: Error) => {
      this.error = err;
    });
  }
  /** Waits for the current cycle: the victim is up again when this returns. */
  async pause(): Promise<void> {
    this.stopped = true;
    await this.running;
    if (this.error) throw this.error;
  }
}

/**
 * What a region logged about failed allocations (the errors middleware logs each 5xx with its
 * cause). Only this test's allocation phase asks op-allocate, so the whole log can be searched
 * (the cluster keeps only the end of a long log, so an offset taken earlier could be stale).
 */
function allocationErrors(log: string): string[] {
  const lines = log.split('\n');
  return lines.flatMap((l, i) => (l.includes('op-allocate') ? lines.slice(i, i + 10) : [])).slice(0, 60);
}

describe('two regions, one killed repeatedly', () => {
  let cluster: Cluster;
  let killer: RegionKiller | undefined;
  let dbUrl: string;
  let drop: () => Promise<void>;
  let closeNamespace: () => Promise<void>;
  before(async () => {
    const database = await freshDatabase();
    await database.db.destroy();
    dbUrl = database.url;
    drop = database.drop;
    const ns = await freshNamespace();
    closeNamespace = () => ns.connection.close();
    cluster = await startCluster({
      databaseUrl: database.url,
      temporalAddress: testInfra().temporalAddress,
      namespace: ns.namespace,
      regions: 2,
      rackRegion: VICTIM,
    });
  });
  after(async () => {
    await killer?.pause().catch(() => undefined);
    await cluster?.stop();
    await closeNamespace?.();
    await drop?.();
  });

  const drive = async (label: string, ids: string[], op: Operation): Promise<Tally> => {
    for (const id of ids) await startOperation(cluster, id, op);
    return settle(cluster, label, ids, op, 300_000);
  };
  const assertAllCompleted = async (t: Tally) => {
    const details = await Promise.all(
      t.failed.map(async (f) => `${f.systemId} ${f.reason}\n  ${(await eventLog(dbUrl, f.systemId)).join('\n  ')}`),
    );
    assert.deepEqual(t.stuck, [], 'nothing stuck');
    assert.equal(t.failed.length, 0, details.join('\n'));
    assert.equal(t.completed.length, t.trials);
  };

  it('commissions and deploys through kill -9s of a region; allocations never collide', async () => {
    killer = new RegionKiller(cluster, 3000);
    // Slow machines (each step 1 s), so both phases outlast several kills.
    const ids = await createFakeMachines(cluster, 'ha', MACHINES, 1000);
    killer.start();
    const commissioned = await drive('region kill -9: commissioning', ids, 'commission');
    await killer.pause();
    await assertAllCompleted(commissioned);

    // Both regions up; every allocation at once, half on each: twice as many asks as machines.
    const asks = await Promise.all(
      Array.from({ length: 2 * MACHINES }, (_, i) => cluster.callRegion(i % 2, 'POST', '/machines/op-allocate', {})),
    );
    const won = asks.filter((r) => r.status === 200).map((r) => (r.body as { system_id: string }).system_id);
    const refused = asks.filter((r) => r.status === 409);
    console.log(
      `[outcomes] concurrent allocations on 2 regions: asks ${asks.length}, allocated ${won.length}, 409 ${refused.length}, other ${asks.length - won.length - refused.length}`,
    );
    // Anything but an allocation or "No machine available" is named first, with what the regions
    // logged of it: the failure's tail keeps only a few lines.
    const odd = asks.filter((r) => r.status !== 200 && r.status !== 409);
    assert.deepEqual(
      odd.map((r) => r.status),
      [],
      [
        ...odd.map((r) => `${r.status} from region-${r.region}: ${r.text.slice(0, 300)}`),
        ...[0, 1].flatMap((i) => allocationErrors(cluster.logs(`region-${i}`)).map((l) => `region-${i}: ${l}`)),
      ].join('\n'),
    );
    assert.equal(new Set(won).size, won.length, `a machine was allocated twice: ${won.sort().join(' ')}`);
    assert.equal(won.length, MACHINES, 'every machine was allocated once');
    assert.equal(refused.length, MACHINES, asks.map((r) => `${r.status} ${r.text.slice(0, 80)}`).join('\n'));

    killer.start();
    const deployed = await drive('region kill -9: deployment', ids, 'deploy');
    await killer.pause();
    console.log(`[outcomes] region kill -9s during the run: ${killer.kills}`);
    await assertAllCompleted(deployed);
    assert.ok(killer.kills >= 2, `the region was killed ${killer.kills} times`);
    const duplicates = await duplicateEvents(dbUrl, ids, 2);
    // What happened to a machine with a duplicate: its events and what the rack and regions said of it.
    const story = async (line: string) => {
      const id = line.split(' ')[0]!;
      const said = ['rack', 'region-0', 'region-1']
        .flatMap((p) =>
          cluster
            .logs(p)
            .split('\n')
            .filter((l) => l.includes(id))
            .map((l) => `${p}: ${l}`),
        )
        .slice(-80);
      return `${line}\n  ${(await eventLog(dbUrl, id)).join('\n  ')}\n  ${said.join('\n  ')}`;
    };
    assert.deepEqual(duplicates, [], (await Promise.all(duplicates.map(story))).join('\n'));
  });
});
