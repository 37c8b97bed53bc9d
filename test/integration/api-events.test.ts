// MAAS API: events/?op=query over real HTTP on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventResources } from '../../src/api/resources/events';
import { recordEvent } from '../../src/region/services/events';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api';

type Json = Record<string, unknown>;
interface Page {
  count: number;
  events: Json[];
  next_uri: string;
  prev_uri: string | null;
}
const EVENTS = '/MAAS/api/2.0/events/';

describe('MAAS API: events', () => {
  let api: ResourceApi;
  let admin: string;
  let alice: { id: number; key: string };
  let bob: { id: number; key: string };
  const ids: Record<string, string> = {};
  const query = async (key: string, q = '') => {
    const r = await api.call('GET', `${EVENTS}?op=query${q}`, { key });
    assert.equal(r.status, 200, r.text);
    return r.body as Page;
  };
  const hosts = (p: Page) => [...new Set(p.events.map((e) => e.hostname as string))].sort();

  before(async () => {
    api = await startResourceApi((services) => eventResources({ services }));
    admin = (await api.user('admin', true)).key;
    alice = await api.user('alice');
    bob = await api.user('bob');
    const machine = async (hostname: string, ownerId: number | null, macs: string[] = []) => {
      const m = await api.services.machines.create({
        hostname,
        macAddresses: macs,
        powerParameters: {},
        deployed: true,
        ownerId,
        zone: 'default',
      });
      ids[hostname] = m.systemId;
      // Besides the creation event (INFO): one of each other level, in this order.
      for (const level of ['DEBUG', 'WARNING', 'ERROR', 'AUDIT'] as const) {
        await recordEvent(api.services.db.manager, m.id, {
          type: `${level} type`,
          description: `${hostname} ${level.toLowerCase()}`,
          level,
        });
      }
    };
    await machine('free', null, ['52:54:00:00:00:01']);
    await machine('alices', alice.id);
    await machine('bobs', bob.id);
  });
  after(async () => api?.close());

  it('answers in MAAS shape, newest first, INFO and above by default', async () => {
    const p = await query(admin);
    assert.deepEqual(Object.keys(p).sort(), ['count', 'events', 'next_uri', 'prev_uri']);
    assert.equal(p.count, 9, '3 machines × INFO, WARNING, ERROR');
    assert.equal(p.events.length, 9);
    const e = p.events[0]!;
    assert.deepEqual(Object.keys(e).sort(), [
      'created',
      'description',
      'hostname',
      'id',
      'level',
      'node',
      'type',
      'username',
    ]);
    assert.equal(e.node, ids.bobs);
    assert.equal(e.hostname, 'bobs');
    assert.equal(e.level, 'ERROR');
    assert.equal(e.type, 'ERROR type');
    assert.equal(e.description, 'bobs error');
    assert.match(
      String(e.created),
      /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\. \d{4} \d{2}:\d{2}:\d{2}$/,
    );
    const evIds = p.events.map((x) => x.id as number);
    assert.deepEqual(
      evIds,
      [...evIds].sort((a, b) => b - a),
    );
    assert.ok(p.events.every((x) => ['INFO', 'WARNING', 'ERROR'].includes(x.level as string)));
  });

  it("users see the events of their own and unowned machines, never another user's", async () => {
    assert.deepEqual(hosts(await query(admin)), ['alices', 'bobs', 'free']);
    assert.deepEqual(hosts(await query(alice.key)), ['alices', 'free']);
    assert.deepEqual(hosts(await query(bob.key)), ['bobs', 'free']);
    assert.equal((await query(alice.key, `&id=${ids.bobs!}`)).count, 0);
    assert.equal((await query(alice.key, '&hostname=bobs&level=DEBUG')).count, 0);
    assert.equal(
      (await query(alice.key, '&level=AUDIT')).events.some((e) => e.hostname === 'bobs'),
      false,
    );
  });

  it('filters by level (a minimum; AUDIT alone), id, hostname, mac_address and zone', async () => {
    const levels = async (q: string) =>
      [...new Set((await query(admin, q)).events.map((e) => e.level as string))].sort();
    assert.deepEqual(await levels('&level=DEBUG'), ['DEBUG', 'ERROR', 'INFO', 'WARNING']);
    assert.deepEqual(await levels('&level=WARNING'), ['ERROR', 'WARNING']);
    assert.deepEqual(await levels('&level=ERROR'), ['ERROR']);
    assert.deepEqual(await levels('&level=AUDIT'), ['AUDIT']);
    assert.equal((await query(admin, '&level=CRITICAL')).count, 0);
    assert.deepEqual(hosts(await query(admin, `&id=${ids.alices!}&id=${ids.free!}`)), ['alices', 'free']);
    assert.deepEqual(hosts(await query(admin, '&hostname=alices')), ['alices']);
    assert.deepEqual(hosts(await query(admin, '&mac_address=52-54-00-00-00-01')), ['free']);
    assert.equal((await query(admin, '&zone=default')).count, 9);
    assert.equal((await query(admin, '&zone=elsewhere')).count, 0);
  });

  it('pages with limit, before and after, and links the neighbouring pages as MAAS does', async () => {
    const all = (await query(admin, '&level=DEBUG')).events.map((e) => e.id as number);
    assert.equal(all.length, 12);
    const first = await query(admin, '&level=DEBUG&limit=5');
    assert.deepEqual(
      first.events.map((e) => e.id),
      all.slice(0, 5),
    );
    assert.equal(first.next_uri, `${EVENTS}?op=query&level=DEBUG&limit=5&after=${all[0]!}`);
    assert.equal(first.prev_uri, `${EVENTS}?op=query&level=DEBUG&limit=5&before=${all[4]!}`);

    const older = await query(admin, `&level=DEBUG&limit=5&before=${all[4]!}`);
    assert.deepEqual(
      older.events.map((e) => e.id),
      all.slice(5, 10),
    );
    const newer = await query(admin, `&level=DEBUG&limit=3&after=${all[8]!}`);
    assert.deepEqual(
      newer.events.map((e) => e.id),
      all.slice(5, 8),
      'the oldest 3 newer than `after`, newest first',
    );

    const none = await query(admin, `&level=DEBUG&after=${all[0]!}`);
    assert.equal(none.count, 0);
    assert.equal(none.prev_uri, `${EVENTS}?op=query&level=DEBUG&before=${all[0]! + 1}`);
    assert.equal((await query(admin, '&limit=0')).count, 1, 'a limit below 1 means 1');
  });

  it('bad input is a 400 naming the field', async () => {
    const cases: Array<[string, string]> = [
      ['&level=LOUD', 'level'],
      ['&limit=1001', 'limit'],
      ['&limit=many', 'limit'],
      ['&before=x', 'before'],
      ['&after=1.5', 'after'],
      ['&before=5&after=1', 'before'],
      ['&mac_address=zz:zz', 'mac_address'],
      ['&owner=alice', 'owner'],
    ];
    for (const [q, field] of cases) {
      const r = await api.call('GET', `${EVENTS}?op=query${q}`, { key: alice.key });
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      assert.ok(field in (r.body as Json), `${q} names ${field}: ${r.text}`);
    }
    assert.equal((await api.call('GET', `${EVENTS}?op=query`)).status, 401);
  });
});
