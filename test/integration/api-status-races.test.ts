// Deploy, release and abort racing on one machine, over real HTTP, PostgreSQL and Temporal
// (scripted rack): the machine's own record of its status changes, read from its events, must be
// one chain (each change starts where the one before ended), with one change to Deploying per
// deploy answered 200 and an end that matches the machine. Two serial cases pin the transitions
// that reading sees.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { canTransition, LIFECYCLE, MachineStatus as S, OPERATION_STATUSES } from '../../src/contracts/lifecycle';
import { labelOf, statusFromName } from '../../src/contracts/statuses';
import { MachineEntity } from '../../src/region/db/entities';
import type { ApiClient } from '../helpers/api';
import { startApiRegion } from '../helpers/api-region';
import { macAddress } from '../helpers/factories';
import { waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

describe('MAAS API: deploy, release and abort racing on one machine (real HTTP, PostgreSQL, Temporal)', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let alice: string;
  const rack = new ScriptedRack(50);

  before(async () => {
    ({ region, api, admin } = await startApiRegion(rack, { nodeTimeoutMs: 60_000 }));
    alice = await api.keyFor('alice');
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const post = (path: string, key: string, form: Record<string, string> = {}) =>
    api.call('POST', `/MAAS/api/2.0/${path}`, { key, form });
  const ready = async (hostname: string) => {
    const r = await post('machines/', admin, {
      hostname,
      architecture: 'amd64/generic',
      mac_addresses: macAddress(),
      power_type: 'manual',
    });
    assert.equal(r.status, 200, r.text);
    const id = (r.body as { system_id: string }).system_id;
    await waitForStatus(region.services, id, S.READY);
    return id;
  };

  /** The machine once no operation is in progress on it (none of the lifecycle table's in-progress statuses). */
  const settled = async (id: string) => {
    for (let i = 0; i < 300; i++) {
      const m = await region.services.db.getRepository(MachineEntity).findOneByOrFail({ systemId: id });
      if (!OPERATION_STATUSES.includes(m.status) && m.workflowId === null) return m;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`machine ${id} did not settle`);
  };

  /**
   * The machine's status changes after event `afterId`, in commit order, from its events: those
   * changeStatus writes (not AUDIT, typed with the label of the status entered). A start says
   * where from: "A -> B.", or "Allocated to <user>." (Ready -> Allocated). An outcome carries the
   * workflow's message ("Deployed bookworm.", "Aborted deployment.", a failure's reason) and its
   * type is one of the lifecycle table's destinations of deploy, release and disk erasing: its
   * from is taken as where the change before ended, and `linksAreTransitions` checks that the
   * table allows it from there. (Workflows' own events are typed with the operation's name,
   * Deploying, Releasing or Disk erasing, or with a power action's, never with an outcome.)
   */
  const transitions = async (id: string, afterId: number) => {
    const rows = (await region.services.db.query(
      `SELECT e.type, e.description FROM events e JOIN machines m ON m.id = e.machine_id
        WHERE m.system_id = $1 AND e.id > $2 AND e.level <> 'AUDIT' ORDER BY e.id`,
      [id, afterId],
    )) as Array<{ type: string; description: string }>;
    const outcomes = [LIFECYCLE.deploy, LIFECYCLE.release, LIFECYCLE.diskErase]
      .flatMap((op) => [...op.succeedTo, op.abortTo, op.failTo])
      .map(labelOf);
    const chain: Array<[string, string]> = [];
    for (const { type, description } of rows) {
      const arrow = /^(.+) -> (.+)\.$/.exec(description);
      if (arrow && arrow[2] === type) chain.push([arrow[1]!, type]);
      else if (type === 'Allocated' && /^Allocated to /.test(description)) chain.push(['Ready', 'Allocated']);
      else if (outcomes.includes(type)) chain.push([chain.at(-1)?.[1] ?? 'Allocated', type]);
    }
    return chain;
  };
  /** Each link is a transition MAAS's table allows (an outcome after the wrong operation is not). */
  const linksAreTransitions = (chain: Array<[string, string]>, trail: string) => {
    for (const [from, to] of chain)
      assert.ok(canTransition(statusFromName(from) ?? null, statusFromName(to)!), `${from} -> ${to}: ${trail}`);
  };
  const lastEventId = async (id: string) =>
    Number(
      (
        (await region.services.db.query(
          `SELECT coalesce(max(e.id), 0) AS id FROM events e JOIN machines m ON m.id = e.machine_id WHERE m.system_id = $1`,
          [id],
        )) as Array<{ id: string }>
      )[0]!.id,
    );

  it('a deploy, then a release, one after the other: the transitions the race case reads', async () => {
    const id = await ready('race-serial');
    assert.equal((await post('machines/op-allocate', alice, { system_id: id })).status, 200);
    const before = await lastEventId(id);
    assert.equal((await post(`machines/${id}/op-deploy`, alice)).status, 200);
    await waitForStatus(region.services, id, S.DEPLOYED);
    assert.equal((await post(`machines/${id}/op-release`, alice)).status, 200);
    await waitForStatus(region.services, id, S.READY);
    const chain = await transitions(id, before);
    assert.deepEqual(chain, [
      ['Allocated', 'Deploying'],
      ['Deploying', 'Deployed'],
      ['Deployed', 'Releasing'],
      ['Releasing', 'Ready'],
    ]);
    linksAreTransitions(chain, 'deploy, release');
  });

  it('an aborted deployment, a release with erase aborted while erasing, then a release whose power-off the BMC refuses: the transitions the race case reads', async () => {
    const id = await ready('race-aborts');
    assert.equal((await post('machines/op-allocate', alice, { system_id: id })).status, 200);
    const before = await lastEventId(id);
    // A machine that never answers its netboot stays in the operation until the abort.
    rack.behaviour.set(id, 'silent');
    assert.equal((await post(`machines/${id}/op-deploy`, alice)).status, 200);
    assert.equal((await post(`machines/${id}/op-abort`, alice)).status, 200);
    await waitForStatus(region.services, id, S.ALLOCATED);
    assert.equal((await post(`machines/${id}/op-release`, alice, { erase: 'true' })).status, 200);
    await waitForStatus(region.services, id, S.DISK_ERASING);
    assert.equal((await post(`machines/${id}/op-abort`, alice)).status, 200);
    await waitForStatus(region.services, id, S.FAILED_DISK_ERASING);
    rack.behaviour.set(id, 'bmc-rejects');
    assert.equal((await post(`machines/${id}/op-release`, alice, { erase: 'false' })).status, 200);
    await waitForStatus(region.services, id, S.FAILED_RELEASING);
    rack.behaviour.delete(id);
    const chain = await transitions(id, before);
    assert.deepEqual(chain, [
      ['Allocated', 'Deploying'],
      ['Deploying', 'Allocated'],
      ['Allocated', 'Releasing'],
      ['Releasing', 'Disk erasing'],
      ['Disk erasing', 'Failed disk erasing'],
      ['Failed disk erasing', 'Releasing'],
      ['Releasing', 'Releasing failed'],
    ]);
    linksAreTransitions(chain, 'aborts, a refused power-off');
  });

  it('concurrent deploy, release and abort on one machine: the status changes follow one another, one to Deploying per deploy answered 200, and the end state matches', async () => {
    for (let round = 0; round < 4; round++) {
      const id = await ready(`race-${round}`);
      assert.equal((await post('machines/op-allocate', alice, { system_id: id })).status, 200);
      const before = await lastEventId(id);
      const ops = ['deploy', 'release', 'deploy', 'release', 'abort'];
      const answers = await Promise.all(
        ops.map(async (op) => ({ op, r: await post(`machines/${id}/op-${op}`, alice) })),
      );
      const seen = answers.map((a) => `${a.op}:${a.r.status}`).join(' ');
      // 409: refused in the machine's state; 403: released meanwhile, so no longer the caller's.
      for (const a of answers) assert.ok([200, 403, 409].includes(a.r.status), `${a.op}: ${a.r.status} ${a.r.text}`);
      const m = await settled(id);
      // The server's own record, in commit order: every change starts from where the one before
      // ended. Two deploys that both won from Allocated would show "Allocated -> Deploying" twice
      // with nothing between. A later deploy may win once the machine is Allocated again (an
      // abort) or Ready (a release finished; the deploy allocates it to the caller first).
      const chain = await transitions(id, before);
      const trail = `${seen}: ${chain.map(([a, b]) => `${a} -> ${b}`).join(', ')}`;
      chain.forEach(([from], i) => assert.equal(from, i === 0 ? 'Allocated' : chain[i - 1]![1], trail));
      linksAreTransitions(chain, trail);
      assert.equal(chain.at(-1)?.[1] ?? 'Allocated', labelOf(m.status), trail);
      // Each deploy answered 200 started a deployment; a release answered 200 started one or
      // found the machine already releasing (MAAS's no-op success).
      const ok = (op: string) => answers.filter((a) => a.op === op && a.r.status === 200).length;
      assert.equal(chain.filter(([, to]) => to === 'Deploying').length, ok('deploy'), trail);
      const releases = chain.filter(([, to]) => to === 'Releasing').length;
      assert.ok(releases <= ok('release') && (ok('release') === 0 || releases >= 1), trail);
      assert.ok(ok('deploy') + ok('release') >= 1, trail);
      assert.ok(
        ([S.READY, S.ALLOCATED, S.DEPLOYED, S.FAILED_RELEASING] as number[]).includes(m.status),
        `${trail}: ended ${m.status}`,
      );
      // Owner and status agree whatever the order was.
      assert.equal(m.ownerId === null, m.status === S.READY, `${seen}: status ${m.status}, owner ${m.ownerId}`);
      if (m.status === S.DEPLOYED) {
        assert.equal((await post(`machines/${id}/op-release`, alice)).status, 200);
        await waitForStatus(region.services, id, S.READY);
      }
    }
  });
});
