// MAAS API: tags/ over real HTTP on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tagResources } from '../../src/api/resources/tags';
import { ValidationError } from '../../src/region/errors';
import { populateTagsForMachine, TagService } from '../../src/region/services/tags';
import { PRESENT, startResourceApi, type ResourceApi } from '../helpers/resource-api';
import { deployedMachineInput } from '../helpers/factories';

type Json = Record<string, unknown>;
const TAGS = '/MAAS/api/2.0/tags/';

describe('MAAS API: tags', () => {
  let api: ResourceApi;
  let admin: string;
  let alice: { id: number; key: string };
  let bob: { id: number; key: string };
  const ids: Record<string, string> = {};
  const tagNames = async () =>
    ((await api.services.db.query('SELECT name FROM tags ORDER BY name')) as Array<{ name: string }>).map(
      (t) => t.name,
    );
  const machine = async (hostname: string, ownerId: number | null) => {
    const m = await api.services.machines.create(deployedMachineInput(hostname, ownerId));
    ids[hostname] = m.systemId;
  };

  before(async () => {
    api = await startResourceApi((services) => tagResources({ services, present: PRESENT }));
    admin = (await api.user('admin', true)).key;
    alice = await api.user('alice');
    bob = await api.user('bob');
    await machine('free', null);
    await machine('alices', alice.id);
    await machine('bobs', bob.id);
  });
  after(async () => api?.close());

  it('admins create tags; everyone reads them (MAAS shape)', async () => {
    const c = await api.call('POST', TAGS, {
      key: admin,
      form: { name: 'gpu', comment: 'has a GPU', definition: '//node[@class="display"]', kernel_opts: 'nomodeset' },
    });
    assert.equal(c.status, 200, c.text);
    assert.deepEqual(c.body, {
      name: 'gpu',
      definition: '//node[@class="display"]',
      comment: 'has a GPU',
      kernel_opts: 'nomodeset',
      resource_uri: `${TAGS}gpu/`,
    });
    assert.deepEqual((await api.call('GET', `${TAGS}gpu/`, { key: alice.key })).body, c.body);
    assert.deepEqual((await api.call('GET', TAGS, { key: alice.key })).body, [c.body]);
    assert.equal((await api.call('GET', `${TAGS}nope/`, { key: alice.key })).status, 404);
  });

  it('tag names follow MAAS (^[a-zA-Z0-9_-]+$): a 400 naming name, nothing written', async () => {
    const before = await tagNames();
    for (const name of ['', 'has space', 'dot.ted', 'slash/ed', 'ünï', 'gpu']) {
      const r = await api.call('POST', TAGS, { key: admin, form: name === '' ? {} : { name } });
      assert.equal(r.status, 400, `${name}: ${r.text}`);
      assert.ok('name' in (r.body as Json), r.text);
    }
    const rename = await api.call('PUT', `${TAGS}gpu/`, { key: admin, form: { name: 'bad name' } });
    assert.equal(rename.status, 400);
    assert.ok('name' in (rename.body as Json));
    assert.deepEqual(await tagNames(), before);
  });

  it('update_nodes tags and untags machines (admin only); op=machines lists those the caller may see', async () => {
    const r = await api.call('POST', `${TAGS}gpu/?op=update_nodes`, {
      key: admin,
      form: { add: [ids.free!, ids.alices!, ids.bobs!, 'nosuch'] },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { added: 3, removed: 0 });

    const seen = async (key: string) =>
      ((await api.call('GET', `${TAGS}gpu/?op=machines`, { key })).body as Json[]).map((m) => m.hostname).sort();
    assert.deepEqual(await seen(admin), ['alices', 'bobs', 'free']);
    assert.deepEqual(await seen(alice.key), ['alices', 'free']);
    assert.deepEqual(await seen(bob.key), ['bobs', 'free']);
    const listed = (await api.call('GET', `${TAGS}gpu/?op=machines`, { key: alice.key })).body as Json[];
    assert.ok(listed.every((m) => (m.tag_names as string[]).includes('gpu') && typeof m.system_id === 'string'));
    assert.equal((await api.call('GET', `${TAGS}nope/?op=machines`, { key: alice.key })).status, 404);

    const rm = await api.call('POST', `${TAGS}gpu/op-update_nodes`, { key: admin, form: { remove: ids.free! } });
    assert.deepEqual(rm.body, { added: 0, removed: 1 });
    assert.deepEqual(await seen(alice.key), ['alices']);

    const stale = await api.call('POST', `${TAGS}gpu/?op=update_nodes`, {
      key: admin,
      form: { add: ids.free!, definition: 'old' },
    });
    assert.equal(stale.status, 409);
    assert.deepEqual(await seen(admin), ['alices', 'bobs']);

    assert.equal(
      (await api.call('POST', `${TAGS}gpu/?op=update_nodes`, { key: alice.key, form: { add: ids.free! } })).status,
      403,
    );
    assert.deepEqual(await seen(admin), ['alices', 'bobs']);
  });

  it('admins update and delete tags; machines lose a deleted tag', async () => {
    const u = await api.call('PUT', `${TAGS}gpu/`, { key: admin, form: { name: 'accel', comment: 'accelerators' } });
    assert.equal(u.status, 200, u.text);
    assert.deepEqual(u.body, {
      name: 'accel',
      definition: '//node[@class="display"]',
      comment: 'accelerators',
      kernel_opts: 'nomodeset',
      resource_uri: `${TAGS}accel/`,
    });
    assert.equal((await api.call('GET', `${TAGS}gpu/`, { key: admin })).status, 404);
    assert.equal(
      ((await api.call('GET', `${TAGS}accel/?op=machines`, { key: admin })).body as Json[]).length,
      2,
      'the rename keeps the machines',
    );

    const del = await api.call('DELETE', `${TAGS}accel/`, { key: admin });
    assert.equal(del.status, 204, del.text);
    assert.deepEqual(await tagNames(), []);
    const rows = (await api.services.db.query('SELECT count(*)::int AS n FROM machine_tags')) as Array<{ n: number }>;
    assert.equal(rows[0]!.n, 0);
    assert.equal((await api.call('DELETE', `${TAGS}accel/`, { key: admin })).status, 404);
  });

  it('non-admins may not create, change or delete tags (403)', async () => {
    await api.call('POST', TAGS, { key: admin, form: { name: 'fixed' } });
    assert.equal((await api.call('POST', TAGS, { key: alice.key, form: { name: 'mine' } })).status, 403);
    assert.equal((await api.call('PUT', `${TAGS}fixed/`, { key: alice.key, form: { comment: 'x' } })).status, 403);
    assert.equal((await api.call('DELETE', `${TAGS}fixed/`, { key: alice.key })).status, 403);
    assert.deepEqual(await tagNames(), ['fixed']);
  });

  it('a defined tag over machines read in several batches gets exactly the matching ones; a slow definition writes nothing', async () => {
    const db = api.services.db;
    const lshw = (product: string) => `<list><node class="system"><product>${product}</product></node></list>`;
    /** A new machine's commissioning runs, oldest first, each with its lshw: [product, status (2 passed, 3 failed)]. */
    const commissioned = async (hostname: string, runs: Array<[string, number]>) => {
      const m = await api.services.machines.create(deployedMachineInput(hostname, null));
      const [{ id }] = (await db.query(`SELECT id FROM machines WHERE system_id = $1`, [m.systemId])) as [
        { id: number },
      ];
      for (const [product, status] of runs)
        await db.query(
          `WITH s AS (INSERT INTO script_sets (machine_id, result_type) VALUES ($1, 0) RETURNING id)
           INSERT INTO script_results (script_set_id, script_name, status, output)
           SELECT s.id, '00-maas-01-lshw', $2, $3 FROM s`,
          [id, status, Buffer.from(lshw(product))],
        );
      return id;
    };
    const boxes = [
      await commissioned('box-1', [['Box', 2]]),
      await commissioned('box-2', [['Box', 2]]),
      await commissioned('box-3', [
        ['Other', 2],
        ['Box', 2],
      ]), // the latest output counts
      await commissioned('box-4', [['Box', 2]]),
      await commissioned('box-5', [['Box', 2]]),
    ];
    const others = [
      await commissioned('other-1', [['Other', 2]]),
      await commissioned('other-2', [
        ['Box', 2],
        ['Other', 2],
      ]),
      await commissioned('other-3', [['Box', 3]]), // a failed run is not the machine's lshw
    ];
    const tagged = async (tag: string) =>
      (
        (await db.query(
          `SELECT mt.machine_id AS id FROM machine_tags mt JOIN tags t ON t.id = mt.tag_id WHERE t.name = $1 ORDER BY 1`,
          [tag],
        )) as Array<{ id: number }>
      ).map((r) => r.id);
    const byId = (ids: number[]) => [...ids].sort((a, b) => a - b);

    const tags = new TagService(db, { batch: 2, evaluationMs: 60_000 });
    await tags.create({ name: 'boxes', definition: '//product = "Box"' });
    assert.deepEqual(await tagged('boxes'), byId(boxes));
    await tags.update('boxes', { definition: '//product = "Other"' });
    assert.deepEqual(await tagged('boxes'), byId([others[0]!, others[1]!]));
    await db.query(`DELETE FROM machine_tags WHERE machine_id = $1`, [others[0]]);
    await tags.updateMachines('boxes', { add: [ids.free!], remove: [] });
    await tags.rebuild('boxes');
    assert.deepEqual(await tagged('boxes'), byId([others[0]!, others[1]!]), 'rebuild: the definition decides');

    // Every evaluation takes at least 0 ms: a 0 ms budget refuses any definition, naming it.
    const strict = new TagService(db, { batch: 2, evaluationMs: 0 });
    await assert.rejects(strict.create({ name: 'slow', definition: '//product' }), (e: unknown) => {
      assert.ok(e instanceof ValidationError);
      assert.match(JSON.stringify(e.fields), /definition.*took \d+ ms; at most 0 ms per machine/);
      return true;
    });
    assert.ok(!(await tagNames()).includes('slow'));
    await assert.rejects(strict.update('boxes', { definition: '//product = "Box"' }), ValidationError);
    assert.equal((await tags.get('boxes')).definition, '//product = "Other"');
    assert.deepEqual(await tagged('boxes'), byId([others[0]!, others[1]!]), 'a refused definition changes nothing');
  });

  it('a rebuild racing a commissioning that commits a new lshw meanwhile: the later writer wins with the newer lshw', async () => {
    const db = api.services.db;
    const lshw = (vendor: string) => `<list><node class="system"><vendor>${vendor}</vendor></node></list>`;
    const m = await api.services.machines.create(deployedMachineInput('racing', null));
    const [{ id }] = (await db.query(`SELECT id FROM machines WHERE system_id = $1`, [m.systemId])) as [{ id: number }];
    const storeLshw = (manager: { query: typeof db.query }, vendor: string) =>
      manager.query(
        `WITH s AS (INSERT INTO script_sets (machine_id, result_type) VALUES ($1, 0) RETURNING id)
         INSERT INTO script_results (script_set_id, script_name, status, output) SELECT s.id, '00-maas-01-lshw', 2, $2 FROM s`,
        [id, Buffer.from(lshw(vendor))],
      );
    await storeLshw(db, 'QEMU');
    const tags = new TagService(db);
    await tags.create({ name: 'qemu-racing', definition: '//node[@class="system"]/vendor = "QEMU"' });
    const tagged = async () =>
      (
        (await db.query(
          `SELECT 1 FROM machine_tags mt JOIN tags t ON t.id = mt.tag_id WHERE t.name = 'qemu-racing' AND mt.machine_id = $1`,
          [id],
        )) as unknown[]
      ).length === 1;
    assert.ok(await tagged());

    // The commissioning's transaction: the machine's lock, its new lshw (no longer QEMU), its tags
    // recomputed (the link deleted), not yet committed.
    const commissioning = db.createQueryRunner();
    await commissioning.connect();
    await commissioning.startTransaction();
    try {
      await commissioning.query(`SELECT id FROM machines WHERE id = $1 FOR UPDATE`, [id]);
      await storeLshw(commissioning.manager, 'Dell');
      await populateTagsForMachine(commissioning.manager, id);
      // The rebuild walks the committed (QEMU) lshw, then waits for the commissioning to commit.
      const rebuild = tags.rebuild('qemu-racing');
      for (;;) {
        const waiting = (await db.query(
          `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`,
        )) as unknown[];
        if (waiting.length > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await commissioning.commitTransaction();
      await rebuild;
    } finally {
      await commissioning.release();
    }
    assert.equal(await tagged(), false, 'the rebuild wrote after the commissioning, from its newer lshw');
  });
});
